import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from './errors.ts';
import { loadDataTimeMachine } from './load-time-machine.ts';
import { Rng } from './rng.ts';
import { sha1Hex } from './sha1.ts';
import { SHARED_DATA_DIR, withTempDir } from './testing/shared-data.ts';
import { loadCorpusTimeMachine, readTimeMachine } from './time-machine.ts';

// The shared directory already holds the file, so nothing is downloaded.
const source = { dataDir: SHARED_DATA_DIR, progress: false as const };

describe('readTimeMachine (published facts)', () => {
  it('the shared file has the published SHA-1', async () => {
    expect(await sha1Hex(await readFile(path.join(SHARED_DATA_DIR, 'timemachine.txt')))).toBe(
      '090b5e7e70c295757f55df93cb0a180b9691891a',
    );
  });

  it('gives 3,221 cleaned lines', async () => {
    const lines = await readTimeMachine(source);
    expect(lines).toHaveLength(3221);
    expect(lines[0]).toBe('the time machine by h g wells');
    for (const line of lines) expect(line).toMatch(/^([a-z]+( [a-z]+)*)?$/);
  });

  it('reads a file path or a directory given as path', async () => {
    const byFile = await readTimeMachine({ path: path.join(SHARED_DATA_DIR, 'timemachine.txt') });
    const byDir = await readTimeMachine({ path: SHARED_DATA_DIR, progress: false });
    expect(byFile).toHaveLength(3221);
    expect(byDir).toEqual(byFile);
  });
});

describe('loadCorpusTimeMachine (published facts)', () => {
  it('has 170,580 char tokens, a vocabulary of 28 and the published top counts', async () => {
    const { corpus, vocab } = await loadCorpusTimeMachine(-1, source);
    expect(corpus).toHaveLength(170_580);
    expect(vocab.length).toBe(28);
    expect(vocab.idxToToken[0]).toBe('<unk>');
    expect([...vocab.idxToToken].slice(1).sort()).toEqual([' ', ...'abcdefghijklmnopqrstuvwxyz'.split('')]);
    expect(vocab.tokenFreqs.slice(0, 5)).toEqual([
      [' ', 29_927],
      ['e', 17_838],
      ['t', 13_515],
      ['a', 11_704],
      ['i', 10_138],
    ]);
    expect(vocab.toTokens([1, 2, 3])).toEqual([' ', 'e', 't']);
    // Unknown characters (digits, capitals, punctuation never survive cleaning) map to <unk>.
    expect(vocab.get(['Z', '3', '!'])).toEqual([0, 0, 0]);
  });

  it('joins lines with no separator and cuts to maxTokens after building the vocabulary', async () => {
    const lines = await readTimeMachine(source);
    const { corpus, vocab } = await loadCorpusTimeMachine(10_000, source);
    expect(corpus).toHaveLength(10_000);
    expect(vocab.length).toBe(28);
    expect(vocab.toTokens(corpus).join('')).toBe(lines.join('').slice(0, 10_000));
  });
});

describe('readTimeMachine on local files', () => {
  it('handles a BOM and CRLF line ends', async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'crlf.txt');
      await writeFile(file, '\uFEFFHello, World!\r\n\r\nThe 2nd LINE\r\n');
      expect(await readTimeMachine({ path: file })).toEqual(['hello world', '', 'the nd line']);
    });
  });

  it('a missing file is a DataError naming the path', async () => {
    const missing = path.join(SHARED_DATA_DIR, 'no-such-file.txt');
    const err = await readTimeMachine({ path: missing }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).code).toBe('missing-file');
    expect((err as Error).message).toContain(`no file at ${missing}`);
  });

  it('a non-UTF-8 file is a DataError naming the path', async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'latin1.txt');
      await writeFile(file, Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x0a])); // "café\n" in Latin-1
      const err = await readTimeMachine({ path: file }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as DataError).code).toBe('not-utf8');
      expect((err as Error).message).toContain(`${file} is not valid UTF-8`);
    });
  });
});

describe('loadDataTimeMachine', () => {
  it('yields [batchSize, numSteps] batches from the first 10,000 tokens, Y = X shifted', async () => {
    const { corpus } = await loadCorpusTimeMachine(10_000, source);
    const { trainIter, vocab } = await loadDataTimeMachine(32, 35, { ...source, seed: 0 });
    expect(vocab.length).toBe(28);
    const batches = [...trainIter];
    // Sequential: rows of floor((10000 - offset - 1) / 32) = 312 or 311 tokens -> 8 batches of 35.
    expect(batches).toHaveLength(8);
    const text = Array.from(corpus).join(',');
    for (const b of batches) {
      expect(b.shape).toEqual([32, 35]);
      for (let r = 0; r < 32; r++) {
        const x = Array.from(b.X.subarray(r * 35, r * 35 + 35));
        const y = Array.from(b.Y.subarray(r * 35, r * 35 + 35));
        expect(y.slice(0, 34)).toEqual(x.slice(1));
        // X followed by Y's last token is a real stretch of the corpus.
        expect(`,${text},`).toContain(`,${[...x, y[34]].join(',')},`);
      }
    }
  });

  it('is re-iterable: each epoch gets a fresh offset, and a seed reproduces the epochs', async () => {
    const first = async (seed: number, useRandomIter: boolean): Promise<string[]> => {
      const { trainIter } = await loadDataTimeMachine(4, 10, { ...source, seed, useRandomIter });
      return Array.from({ length: 8 }, () => Array.from([...trainIter][0]!.X).join());
    };
    for (const useRandomIter of [false, true]) {
      const a = await first(3, useRandomIter);
      expect(new Set(a).size).toBeGreaterThan(1);
      expect(await first(3, useRandomIter)).toEqual(a);
    }
  });

  it('resumes from a saved generator state', async () => {
    const { trainIter } = await loadDataTimeMachine(4, 10, { ...source, rng: new Rng(9), useRandomIter: true });
    [...trainIter];
    const state = trainIter.rng.getState();
    const next = [...trainIter];
    const resumed = await loadDataTimeMachine(4, 10, { ...source, rng: new Rng(0), useRandomIter: true });
    resumed.trainIter.rng.setState(state);
    expect([...resumed.trainIter]).toEqual(next);
  });

  it('rejects bad sizes before reading, and a corpus too short for them', async () => {
    await expect(loadDataTimeMachine(0, 35, { path: '/does/not/exist' })).rejects.toThrow(
      'loadDataTimeMachine: batchSize must be an integer >= 1, got 0',
    );
    await expect(loadDataTimeMachine(32, 2.5, source)).rejects.toThrow(/numSteps must be an integer >= 1, got 2.5/);
    await expect(loadDataTimeMachine(32, 35, { ...source, maxTokens: 100 })).rejects.toThrow(
      /seqDataIterSequential: corpus of 100 tokens is too short for batchSize 32 and numSteps 35: need at least 1156 tokens/,
    );
  });

  it('an empty file is a too-short corpus, not a crash', async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'empty.txt');
      await writeFile(file, '');
      const err = await loadDataTimeMachine(2, 5, { path: file }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as DataError).code).toBe('too-short');
      expect((err as Error).message).toContain('corpus of 0 tokens');
    });
  });
});
