// Node only (imported through platform/files.node.ts): data sets as local files.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DataSourceOptions } from './dataset-source.ts';
import { download } from './download.ts';
import { lookupDataset } from './hub.ts';
import { DataError } from './errors.ts';

/**
 * Resolves the file for data set `name`: an explicit file path wins; a directory (via `path` or
 * `dataDir`) is searched for the registry's file name, checked against its SHA-1, and downloaded into
 * when the file is missing or wrong.
 *
 * @param caller - the public function's name, for error messages.
 * @throws DataError `missing-file` when `path` names nothing, or any error of {@link download}.
 */
export async function resolveDataFile(name: string, options: DataSourceOptions, caller: string): Promise<string> {
  const { path: given, dataDir, ...downloadOptions } = options;
  if (given !== undefined) {
    const resolved = path.resolve(given);
    const info = await stat(resolved).catch(() => null);
    if (info === null) {
      const entry = lookupDataset(name);
      throw new DataError(
        'missing-file',
        `${caller}: no file at ${resolved}; pass the path of a local copy of ${entry.fileName}, ` +
          `or leave out 'path' to download it`,
      );
    }
    if (!info.isDirectory()) return resolved;
    return download(name, { ...downloadOptions, cacheDir: resolved });
  }
  return download(name, { ...downloadOptions, cacheDir: dataDir });
}

/** Reads a whole file, turning "no such file" into a DataError that names the path. */
export async function readBytes(file: string, caller: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError('missing-file', `${caller}: no file at ${file}; pass an existing path`);
    if (code === 'EISDIR') throw new DataError('missing-file', `${caller}: ${file} is a directory, not a file`);
    throw err;
  }
}
