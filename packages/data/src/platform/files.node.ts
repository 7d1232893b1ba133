// Data sets in Node: local files, a download cache with SHA-1 checks, atomic writes.

import type { DatasetBytes, DataSourceOptions } from '../dataset-source.ts';
import { readBytes, resolveDataFile } from '../source.ts';

export { download } from '../download.ts';
export { resolveCacheDir } from '../cache-dir.ts';
export { readBytes, resolveDataFile };

/** The bytes of data set `name`: a local file, or the cache (downloaded into when missing or wrong). */
export async function loadDatasetBytes(name: string, options: DataSourceOptions, caller: string): Promise<DatasetBytes> {
  const file = await resolveDataFile(name, options, caller);
  return { bytes: await readBytes(file, caller), label: file };
}
