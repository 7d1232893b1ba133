import { describe, expect, it } from 'vitest';
import { DataError } from './errors.ts';
import { dataIterConsecutive, dataIterRandom } from './gluon-iter.ts';
import { Rng } from './rng.ts';

const toy = Array.from({ length: 30 }, (_, i) => i);

describe('dataIterRandom (Gluon edition)', () => {
  it('no offset: examples start at multiples of numSteps, each once, (len-1)//numSteps of them', () => {
    // (30-1)//6 = 4 examples -> 2 batches of 2 (the book's toy run: my_seq = range(30), 2, 6).
    for (let seed = 0; seed < 10; seed++) {
      const batches = [...dataIterRandom(toy, 2, 6, new Rng(seed))];
      expect(batches).toHaveLength(2);
      const starts = batches.flatMap((b) => [b.X[0]!, b.X[6]!]).sort((a, c) => a - c);
      expect(starts).toEqual([0, 6, 12, 18]);
      for (const b of batches) {
        expect(b.shape).toEqual([2, 6]);
        for (let i = 0; i < 12; i++) expect(b.Y[i]).toBe(b.X[i]! + 1);
      }
    }
  });

  it('is deterministic under a seed and shuffles differently across epochs', () => {
    const corpus = Array.from({ length: 400 }, (_, i) => i);
    expect([...dataIterRandom(corpus, 3, 5, new Rng(4))]).toEqual([...dataIterRandom(corpus, 3, 5, new Rng(4))]);
    const rng = new Rng(4);
    const a = [...dataIterRandom(corpus, 3, 5, rng)].map((b) => b.X[0]).join();
    const b = [...dataIterRandom(corpus, 3, 5, rng)].map((b) => b.X[0]).join();
    expect(a).not.toBe(b);
  });

  it('needs batchSize*numSteps + 1 tokens', () => {
    expect([...dataIterRandom(Array.from({ length: 13 }, (_, i) => i), 2, 6, new Rng(0))]).toHaveLength(1);
    expect(() => dataIterRandom(Array.from({ length: 12 }, (_, i) => i), 2, 6)).toThrow(
      'dataIterRandom: corpus of 12 tokens is too short for batchSize 2 and numSteps 6: need at least 13 tokens',
    );
    expect(() => dataIterRandom(toy, 0, 6)).toThrow(DataError);
  });
});

describe('dataIterConsecutive (Gluon edition)', () => {
  it('lays the corpus out as batchSize rows and walks along them', () => {
    // batchLen = 30//2 = 15, epochSize = (15-1)//6 = 2.
    const batches = [...dataIterConsecutive(toy, 2, 6)];
    expect(batches).toHaveLength(2);
    expect(Array.from(batches[0]!.X)).toEqual([0, 1, 2, 3, 4, 5, 15, 16, 17, 18, 19, 20]);
    expect(Array.from(batches[1]!.X)).toEqual([6, 7, 8, 9, 10, 11, 21, 22, 23, 24, 25, 26]);
    for (const b of batches) for (let i = 0; i < 12; i++) expect(b.Y[i]).toBe(b.X[i]! + 1);
  });

  it('keeps one column back so Y never runs into the next row', () => {
    // batchLen = 24//2 = 12 is a multiple of numSteps: (12-1)//6 = 1 batch, not 2.
    const corpus = Array.from({ length: 24 }, (_, i) => i);
    const batches = [...dataIterConsecutive(corpus, 2, 6)];
    expect(batches).toHaveLength(1);
    expect(Array.from(batches[0]!.Y)).toEqual([1, 2, 3, 4, 5, 6, 13, 14, 15, 16, 17, 18]);
  });

  it('has no randomness: the generator argument changes nothing', () => {
    const corpus = Array.from({ length: 200 }, (_, i) => (i * 31) % 17);
    expect([...dataIterConsecutive(corpus, 4, 5, new Rng(1))]).toEqual([...dataIterConsecutive(corpus, 4, 5, new Rng(2))]);
  });

  it('needs batchSize*(numSteps + 1) tokens', () => {
    expect([...dataIterConsecutive(Array.from({ length: 14 }, (_, i) => i), 2, 6)]).toHaveLength(1);
    expect(() => dataIterConsecutive(Array.from({ length: 13 }, (_, i) => i), 2, 6)).toThrow(
      'dataIterConsecutive: corpus of 13 tokens is too short for batchSize 2 and numSteps 6: need at least 14 tokens',
    );
    expect(() => dataIterConsecutive(toy, 2, 1.5)).toThrow(/numSteps must be an integer >= 1, got 1.5/);
  });
});
