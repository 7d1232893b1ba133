// Node only (imported through platform/files.node.ts).
import { homedir } from 'node:os';
import path from 'node:path';

import { DATA_DIR_ENV } from './cache-dir-env.ts';

export { DATA_DIR_ENV };

/**
 * The directory downloads are cached in: the explicit argument if given, else `$TINYTAPE_DATA_DIR`,
 * else `~/.cache/tinytape`. An argument wins so that a script's choice is never silently overridden.
 */
export function resolveCacheDir(cacheDir?: string): string {
  if (cacheDir !== undefined && cacheDir !== '') return path.resolve(cacheDir);
  const fromEnv = process.env[DATA_DIR_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return path.resolve(fromEnv);
  return path.join(homedir(), '.cache', 'tinytape');
}
