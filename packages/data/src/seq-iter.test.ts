import { describe, expect, it } from 'vitest';
import type { Batch } from './batch.ts';
import { DataError } from './errors.ts';
import { Rng } from './rng.ts';
import { seqDataIterRandom, seqDataIterSequential } from './seq-iter.ts';

/** The book's toy sequence 0..34: each token equals its own position, so X values are positions. */
const toy = Array.from({ length: 35 }, (_, i) => i);

/** Row r of a batch's X or Y as a plain array. */
function row(data: Int32Array, shape: readonly [number, number], r: number): number[] {
  return Array.from(data.subarray(r * shape[1], (r + 1) * shape[1]));
}

/** Checks shape and that Y is X moved one token on, both read against the corpus. */
function expectWellFormed(batch: Batch, corpus: ArrayLike<number>, batchSize: number, numSteps: number): void {
  expect(batch.shape).toEqual([batchSize, numSteps]);
  expect(batch.X.length).toBe(batchSize * numSteps);
  expect(batch.Y.length).toBe(batchSize * numSteps);
  for (let r = 0; r < batchSize; r++) {
    const x = row(batch.X, batch.shape, r);
    const y = row(batch.Y, batch.shape, r);
    // On a position-valued corpus the row's first value is its start.
    const start = x[0]!;
    expect(x).toEqual(Array.from({ length: numSteps }, (_, t) => corpus[start + t]));
    expect(y).toEqual(Array.from({ length: numSteps }, (_, t) => corpus[start + t + 1]));
  }
}

describe('seqDataIterRandom', () => {
  it("book toy example: 6 subsequences of 5 -> 3 batches of 2, each start once", () => {
    for (let seed = 0; seed < 20; seed++) {
      const batches = [...seqDataIterRandom(toy, 2, 5, new Rng(seed))];
      expect(batches).toHaveLength(3);
      for (const b of batches) expectWellFormed(b, toy, 2, 5);
      const starts = batches.flatMap((b) => [b.X[0]!, b.X[5]!]).sort((a, c) => a - c);
      const offset = starts[0]!;
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThanOrEqual(4);
      expect(starts).toEqual([0, 1, 2, 3, 4, 5].map((k) => offset + k * 5));
    }
  });

  it('covers every subsequence start after the offset exactly once per epoch', () => {
    const corpus = Array.from({ length: 1001 }, (_, i) => i);
    const rng = new Rng(5);
    for (let epoch = 0; epoch < 10; epoch++) {
      const batches = [...seqDataIterRandom(corpus, 4, 10, rng)];
      const starts = batches.flatMap((b) => [0, 1, 2, 3].map((r) => b.X[r * 10]!));
      const offset = Math.min(...starts);
      expect(offset).toBeLessThanOrEqual(9);
      const numSubseqs = Math.floor((corpus.length - offset - 1) / 10);
      const used = Math.floor(numSubseqs / 4) * 4;
      expect(new Set(starts).size).toBe(starts.length);
      expect(starts).toHaveLength(used);
      for (const s of starts) expect((s - offset) % 10).toBe(0);
      // Only a remainder smaller than one batch can be left out.
      expect(numSubseqs - used).toBeLessThan(4);
      for (const b of batches) expectWellFormed(b, corpus, 4, 10);
    }
  });

  it('draws the offset anew each epoch, within 0..numSteps-1, and shuffles the order', () => {
    const corpus = Array.from({ length: 500 }, (_, i) => i);
    const rng = new Rng(2024);
    const offsets = new Set<number>();
    const orders = new Set<string>();
    for (let epoch = 0; epoch < 40; epoch++) {
      const batches = [...seqDataIterRandom(corpus, 2, 7, rng)];
      const firsts = batches.map((b) => b.X[0]!);
      offsets.add(Math.min(...batches.flatMap((b) => [b.X[0]!, b.X[7]!])) % 7);
      orders.add(firsts.join(','));
    }
    for (const o of offsets) expect(o >= 0 && o <= 6).toBe(true);
    expect(offsets.size).toBeGreaterThan(3);
    expect(orders.size).toBeGreaterThan(30);
  });

  it('is deterministic under a seed', () => {
    const a = [...seqDataIterRandom(toy, 2, 5, new Rng(8))];
    const b = [...seqDataIterRandom(toy, 2, 5, new Rng(8))];
    expect(a).toEqual(b);
  });

  it('rejects a corpus too short for one batch at the largest offset, and accepts the minimum', () => {
    // Minimum: batchSize*numSteps + numSteps = 25 for (4, 5).
    const corpus = Array.from({ length: 24 }, (_, i) => i);
    expect(() => seqDataIterRandom(corpus, 4, 5, new Rng(0))).toThrow(DataError);
    expect(() => seqDataIterRandom(corpus, 4, 5, new Rng(0))).toThrow(
      'seqDataIterRandom: corpus of 24 tokens is too short for batchSize 4 and numSteps 5: need at least 25 tokens',
    );
    const enough = Array.from({ length: 25 }, (_, i) => i);
    for (let seed = 0; seed < 30; seed++) {
      expect([...seqDataIterRandom(enough, 4, 5, new Rng(seed))]).toHaveLength(1);
    }
  });

  it('rejects bad batchSize and numSteps', () => {
    expect(() => seqDataIterRandom(toy, 0, 5)).toThrow(/batchSize must be an integer >= 1, got 0/);
    expect(() => seqDataIterRandom(toy, 2.5, 5)).toThrow(/batchSize must be an integer >= 1, got 2.5/);
    expect(() => seqDataIterRandom(toy, 2, -1)).toThrow(/numSteps must be an integer >= 1, got -1/);
    expect(() => seqDataIterRandom([], 1, 1)).toThrow(/corpus of 0 tokens/);
  });
});

describe('seqDataIterSequential', () => {
  it('book toy example: rows are consecutive and batches follow each row', () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 30; seed++) {
      const batches = [...seqDataIterSequential(toy, 2, 5, new Rng(seed))];
      const offset = batches[0]!.X[0]!;
      seen.add(offset);
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThanOrEqual(5);
      const rowLength = Math.floor((35 - offset - 1) / 2);
      expect(batches).toHaveLength(Math.floor(rowLength / 5));
      // 34 usable tokens at offset 0 -> rows of 17 -> 3 batches; at offset 5, rows of 14 -> 2.
      if (offset === 0) expect(batches).toHaveLength(3);
      if (offset === 5) expect(batches).toHaveLength(2);
      batches.forEach((b, k) => {
        expectWellFormed(b, toy, 2, 5);
        expect(row(b.X, b.shape, 0)[0]).toBe(offset + k * 5);
        expect(row(b.X, b.shape, 1)[0]).toBe(offset + rowLength + k * 5);
      });
    }
    // 30 seeds should hit every offset 0..5 (one wider than the random iterator).
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('row i of batch k+1 continues row i of batch k', () => {
    const corpus = Array.from({ length: 2000 }, (_, i) => (i * 7919) % 97);
    const rng = new Rng(77);
    for (let epoch = 0; epoch < 3; epoch++) {
      const batches = [...seqDataIterSequential(corpus, 8, 13, rng)];
      expect(batches.length).toBeGreaterThan(1);
      for (let k = 0; k + 1 < batches.length; k++) {
        const cur = batches[k]!;
        const next = batches[k + 1]!;
        for (let r = 0; r < 8; r++) {
          // The next X row starts with the token that followed the current X row: the current Y row's last.
          expect(next.X[r * 13]).toBe(cur.Y[r * 13 + 12]);
          expect(Array.from(cur.Y.subarray(r * 13, r * 13 + 12))).toEqual(
            Array.from(cur.X.subarray(r * 13 + 1, r * 13 + 13)),
          );
        }
      }
    }
  });

  it('is deterministic under a seed and varies across epochs', () => {
    const corpus = Array.from({ length: 300 }, (_, i) => i);
    expect([...seqDataIterSequential(corpus, 3, 4, new Rng(1))]).toEqual([
      ...seqDataIterSequential(corpus, 3, 4, new Rng(1)),
    ]);
    const rng = new Rng(1);
    const offsets = new Set(Array.from({ length: 30 }, () => [...seqDataIterSequential(corpus, 3, 4, rng)][0]!.X[0]));
    expect(offsets.size).toBeGreaterThan(2);
  });

  it('rejects a corpus too short for one batch at the largest offset, and accepts the minimum', () => {
    // Minimum: batchSize*numSteps + numSteps + 1 = 26 for (4, 5).
    const corpus = Array.from({ length: 20 }, (_, i) => i);
    expect(() => seqDataIterSequential(corpus, 4, 5, new Rng(0))).toThrow(
      'seqDataIterSequential: corpus of 20 tokens is too short for batchSize 4 and numSteps 5: need at least 26 tokens',
    );
    expect(() => seqDataIterSequential(Array.from({ length: 25 }, (_, i) => i), 4, 5)).toThrow(DataError);
    const enough = Array.from({ length: 26 }, (_, i) => i);
    for (let seed = 0; seed < 30; seed++) {
      expect([...seqDataIterSequential(enough, 4, 5, new Rng(seed))]).toHaveLength(1);
    }
  });

  it('rejects bad batchSize and numSteps', () => {
    expect(() => seqDataIterSequential(toy, -2, 5)).toThrow(/batchSize must be an integer >= 1, got -2/);
    expect(() => seqDataIterSequential(toy, 2, Number.NaN)).toThrow(/numSteps must be an integer >= 1/);
  });
});
