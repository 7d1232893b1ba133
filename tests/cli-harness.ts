/*
 * What the CLI tests share: where the test data is, a temporary directory per test file, and `run`,
 * which calls the CLI's `main` in-process and collects its output lines.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { main } from '../packages/rnn/src/cli/main.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The shared data folder: $TINYTAPE_DATA_DIR, else ../shared/data beside the project. */
export const dataDir = process.env.TINYTAPE_DATA_DIR ?? path.resolve(here, '../../shared/data');

/**
 * Creates a fresh temporary directory before the file's tests and removes it after them; call at the
 * top level of a test file. Returns a getter, since the directory exists only once `beforeAll` ran.
 */
export function useTempDir(prefix: string): () => string {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return () => dir;
}

/** Runs `tinytape <argv>` in this process: exit status and the lines written to stdout and stderr. */
export async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), tty: false });
  return { code, out, err };
}
