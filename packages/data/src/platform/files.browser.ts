// Data sets in a browser: fetched over HTTP and checked against the registry's SHA-1. There is no file
// system, so the Node-only functions exist (the package has one API) but say what to use instead.

import type { DatasetBytes, DataSourceOptions } from '../dataset-source.ts';
import type { DownloadOptions } from '../download.ts';
import { DataError } from '../errors.ts';
import { fetchBytes } from '../fetch-bytes.ts';
import { lookupDataset } from '../hub.ts';
import { sha1Hex } from '../sha1.ts';

const needsNode = (fn: string): DataError =>
  new DataError('needs-node', `${fn}: files and the download cache need Node; in a browser, pass 'url' or 'bytes' to the loader`);

/** Node only: throws a `needs-node` DataError in a browser. */
export async function download(_name: string, _options?: DownloadOptions): Promise<string> {
  throw needsNode('download');
}

/** Node only: throws a `needs-node` DataError in a browser. */
export function resolveCacheDir(_cacheDir?: string): string {
  throw needsNode('resolveCacheDir');
}

/** Node only: throws a `needs-node` DataError in a browser. */
export async function resolveDataFile(_name: string, _options: DataSourceOptions, caller: string): Promise<string> {
  throw needsNode(caller);
}

/** Node only: throws a `needs-node` DataError in a browser. */
export async function readBytes(_file: string, caller: string): Promise<Uint8Array> {
  throw needsNode(caller);
}

/**
 * Fetches data set `name` (from `options.url`, else the registry's URL; a page usually serves the file
 * itself, since the registry's hosts may not allow cross-origin reads) and checks its SHA-1.
 */
export async function loadDatasetBytes(name: string, options: DataSourceOptions, caller: string): Promise<DatasetBytes> {
  if (options.path !== undefined || options.dataDir !== undefined) throw needsNode(caller);
  const entry = lookupDataset(name);
  const url = options.url ?? entry.url;
  const sink = options.progress === undefined ? null : options.progress || null;
  const fix = `Serve ${entry.fileName} (SHA-1 ${entry.sha1}) from this page's origin and pass its URL as 'url', or pass its contents as 'bytes'.`;
  const bytes = await fetchBytes(url, entry.fileName, fix, sink, options.timeoutMs ?? 120_000);
  const actual = await sha1Hex(bytes);
  if (actual !== entry.sha1) {
    throw new DataError(
      'hash-mismatch',
      `${caller}: ${url} gave ${bytes.length} bytes with SHA-1 ${actual}, expected ${entry.sha1} for '${name}'. ${fix}`,
    );
  }
  return { bytes, label: url };
}
