import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic.ts';
import { FileWriteError, TinytapeUserError } from './errors.ts';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tinytape-atomic-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes text and bytes, replacing an existing file', async () => {
    const path = join(dir, 'log.csv');
    await writeFileAtomic(path, 'old\n');
    await writeFileAtomic(path, 'époque,perplexité\n');
    expect(readFileSync(path, 'utf8')).toBe('époque,perplexité\n');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect(Array.from(readFileSync(path))).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(['log.csv']);
  });

  it('fails with a clear error when the directory is missing, leaving nothing behind', async () => {
    const path = join(dir, 'no', 'such', 'plot.svg');
    const err = await writeFileAtomic(path, '<svg/>').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileWriteError);
    expect(err).toBeInstanceOf(TinytapeUserError);
    expect((err as Error).message).toBe(`cannot write "${path}": directory "${join(dir, 'no', 'such')}" does not exist`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes the temp file when the final rename fails (target is a non-empty directory)', async () => {
    const target = join(dir, 'model.safetensors');
    mkdirSync(target);
    writeFileSync(join(target, 'keep.txt'), 'keep');
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow(/is a directory, expected a file path/);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    expect(readFileSync(join(target, 'keep.txt'), 'utf8')).toBe('keep');
  });

  it('rejects a bad path or data type before touching the disk', async () => {
    await expect(writeFileAtomic('', 'x')).rejects.toThrow('writeFileAtomic: expected a non-empty file path, got ""');
    await expect(writeFileAtomic(join(dir, 'a'), 5 as unknown as string)).rejects.toThrow(/expected a string or Uint8Array .* got number/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
