/**
 * Failure injection for writeFileAtomic: the rename that should publish the new file fails after the
 * temp file was fully written. The previous file must survive untouched and the temp must be removed.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';

const failRename = vi.hoisted(() => ({ on: false }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    rename: async (from: string, to: string) => {
      if (failRename.on) throw Object.assign(new Error('injected: no space left'), { code: 'ENOSPC' });
      return real.rename(from, to);
    },
  };
});

const { writeFileAtomic } = await import('./atomic.ts');
const { saveSafetensors } = await import('./safetensors.ts');
const { CheckpointError } = await import('./errors.ts');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tinytape-atomic-fail-'));
  failRename.on = false;
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

it('keeps the previous file and removes the temp when rename fails', async () => {
  const path = join(dir, 'log.csv');
  writeFileSync(path, 'previous');
  failRename.on = true;
  await expect(writeFileAtomic(path, 'new content')).rejects.toThrow(`cannot write "${path}": no space left on device`);
  expect(readFileSync(path, 'utf8')).toBe('previous');
  expect(readdirSync(dir)).toEqual(['log.csv']);
});

it('saveSafetensors reports the failure as a CheckpointError and keeps the old checkpoint', async () => {
  const path = join(dir, 'model.safetensors');
  await saveSafetensors(path, { w: { dtype: 'float32', shape: [1], data: Float32Array.of(1) } });
  const before = readFileSync(path);
  failRename.on = true;
  const err = await saveSafetensors(path, { w: { dtype: 'float32', shape: [1], data: Float32Array.of(2) } }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CheckpointError);
  expect((err as Error).message).toBe(`cannot save checkpoint: cannot write "${path}": no space left on device`);
  expect(readFileSync(path).equals(before)).toBe(true);
  expect(readdirSync(dir)).toEqual(['model.safetensors']);
});
