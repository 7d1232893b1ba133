import { DataError } from './errors.ts';
import { loadDatasetBytes } from '#platform/files';
import type { DownloadOptions } from './download.ts';

/**
 * Where a loader gets a data set's bytes. Which fields apply depends on where it runs:
 * - anywhere: `bytes` (the file's contents, used as they are: no SHA-1 check, so any text works);
 * - Node: `path` (a local file, or a directory holding the data set) and `dataDir` (the download cache);
 * - browsers: nothing but `url`/`bytes`; the file is fetched (from the registry's URL or `url`) and
 *   checked against its SHA-1, with no cache.
 */
export interface DataSourceOptions extends Omit<DownloadOptions, 'cacheDir'> {
  /** The data set's file contents, e.g. a file the user picked in a page. */
  bytes?: Uint8Array;
  /**
   * Node: a local file to read as-is (no SHA-1 check, so any text file works), or a directory holding
   * the data set's file (then treated like `dataDir`).
   */
  path?: string;
  /**
   * Node: directory where the data set's file already sits, or where it is downloaded to. Default:
   * `$TINYTAPE_DATA_DIR`, else `~/.cache/tinytape`.
   */
  dataDir?: string;
}

/** A data set's bytes and how to name them in messages (a path, a URL). */
export interface DatasetBytes {
  bytes: Uint8Array;
  label: string;
}

/**
 * The bytes of data set `name` from wherever `options` say: given bytes win; otherwise the platform's
 * way (Node: a local file or the download cache; browsers: a fetch, SHA-1 checked).
 *
 * @param caller - the public function's name, for error messages.
 */
export async function readDataset(name: string, options: DataSourceOptions, caller: string): Promise<DatasetBytes> {
  if (options.bytes !== undefined) {
    if (!(options.bytes instanceof Uint8Array)) {
      throw new DataError('bad-argument', `${caller}: 'bytes' must be a Uint8Array, got ${typeof options.bytes}`);
    }
    return { bytes: options.bytes, label: `the given bytes` };
  }
  return loadDatasetBytes(name, options, caller);
}
