import { readDataset, type DataSourceOptions } from './dataset-source.ts';
import { decodeUtf8, splitLines } from './text.ts';
import { tokenize } from './tokenize.ts';
import { Vocab } from './vocab.ts';

/**
 * d2l's per-line cleaning: every run of non-letters becomes one space, then trim and lower-case
 * (`re.sub('[^A-Za-z]+', ' ', line).strip().lower()`).
 */
export function cleanLine(line: string): string {
  return line.replace(/[^A-Za-z]+/g, ' ').trim().toLowerCase();
}

/**
 * Reads *The Time Machine* as cleaned lines (d2l's `read_time_machine`): 3,221 lines for the published
 * file. With `path` set to a file (or `bytes` given), any UTF-8 text is read the same way. A BOM is dropped and
 * CRLF / CR line ends are accepted.
 *
 * @throws DataError `missing-file`, `not-utf8`, or a download error.
 */
export async function readTimeMachine(options: DataSourceOptions = {}): Promise<string[]> {
  const { bytes, label } = await readDataset('timemachine', options, 'readTimeMachine');
  const text = decodeUtf8(bytes, label);
  return splitLines(text).map(cleanLine);
}

/** What {@link loadCorpusTimeMachine} returns. */
export interface TimeMachineCorpus {
  /** Character token indices of the whole book, lines joined with no separator. */
  corpus: Int32Array;
  /** Character vocabulary built over the whole book (28 tokens for the published file). */
  vocab: Vocab;
}

/**
 * Character-level corpus of *The Time Machine* (d2l's `load_corpus_time_machine`): the vocabulary is
 * built over all 170,580 character tokens, then the corpus is cut to `maxTokens` when that is > 0.
 */
export async function loadCorpusTimeMachine(
  maxTokens = -1,
  options: DataSourceOptions = {},
): Promise<TimeMachineCorpus> {
  const tokens = tokenize(await readTimeMachine(options), 'char');
  const vocab = new Vocab(tokens);
  const flat = tokens.flat();
  const n = maxTokens > 0 ? Math.min(maxTokens, flat.length) : flat.length;
  const corpus = new Int32Array(n);
  for (let i = 0; i < n; i++) corpus[i] = vocab.get(flat[i]!);
  return { corpus, vocab };
}
