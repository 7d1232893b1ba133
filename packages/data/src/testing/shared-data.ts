import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// This file sits at packages/data/src/testing/, four levels below the repository root.
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/**
 * Directory holding the shared data files for tests (timemachine.txt, jaychou_lyrics.txt.zip,
 * jaychou_lyrics.txt): `$TINYTAPE_DATA_DIR`, else `../shared/data` beside the repository root.
 */
export const SHARED_DATA_DIR = process.env.TINYTAPE_DATA_DIR ?? path.resolve(REPO_ROOT, '../shared/data');

/** Runs `fn` with a fresh temporary directory that is removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'tinytape-data-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
