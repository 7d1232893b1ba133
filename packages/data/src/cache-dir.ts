import { homedir } from 'node:os';
import path from 'node:path';

/** Environment variable that overrides the default cache directory. */
export const DATA_DIR_ENV = 'TINYTAPE_DATA_DIR';

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
