import { DataError } from './errors.ts';

/**
 * The registry of downloadable data sets, mirroring d2l's `DATA_HUB` (name -> URL + SHA-1).
 * It is a plain mutable record, as in d2l, so a user (or a test) can register a mirror or a new file.
 */

/** One downloadable file: where it comes from, its expected SHA-1, and the name it is cached under. */
export interface DataHubEntry {
  /** Where {@link download} fetches the file from. */
  readonly url: string;
  /** Lower-case hex SHA-1 of the file's bytes; a download or cached file must match it. */
  readonly sha1: string;
  /** File name inside the cache directory (d2l uses the URL's last path segment). */
  readonly fileName: string;
  /** For zip archives: the entry holding the text. */
  readonly zipEntry?: string;
}

/** Known data sets by name (d2l's `DATA_HUB`). */
export const DATA_HUB: Record<string, DataHubEntry> = {
  /** H. G. Wells, *The Time Machine*: the corpus of d2l.ai chapter 8 (d2l's `time_machine` entry). */
  timemachine: {
    url: 'http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt',
    sha1: '090b5e7e70c295757f55df93cb0a180b9691891a',
    fileName: 'timemachine.txt',
  },
  /**
   * Jay Chou lyrics, the corpus of the Gluon (d2l-zh, 2018) edition of the chapter. The file is
   * `data/jaychou_lyrics.txt.zip` in the d2l-zh repository, fetched here from its v1.0.0 tag.
   */
  jaychou: {
    url: 'https://raw.githubusercontent.com/d2l-ai/d2l-zh/v1.0.0/data/jaychou_lyrics.txt.zip',
    sha1: '9529987e701a4f37048ab778270a5dde9a762a0b',
    fileName: 'jaychou_lyrics.txt.zip',
    zipEntry: 'jaychou_lyrics.txt',
  },
};

/** The registry entry for `name`, or a DataError listing the names that exist. */
export function lookupDataset(name: string): DataHubEntry {
  if (!Object.hasOwn(DATA_HUB, name)) {
    const known = Object.keys(DATA_HUB).join(', ');
    throw new DataError('unknown-dataset', `download: no data set named '${name}' in DATA_HUB (known: ${known})`);
  }
  return DATA_HUB[name]!;
}
