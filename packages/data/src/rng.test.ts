import { describe, expect, it } from 'vitest';
import { DataError } from './errors.ts';
import { Rng } from './rng.ts';

describe('Rng', () => {
  it('repeats its sequence for the same seed and differs for another', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 20 }, () => a.nextUint32());
    const sb = Array.from({ length: 20 }, () => b.nextUint32());
    const sc = Array.from({ length: 20 }, () => c.nextUint32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    for (const x of sa) expect(Number.isInteger(x) && x >= 0 && x < 2 ** 32).toBe(true);
  });

  it('nextFloat stays in [0, 1) and averages about 1/2', () => {
    const r = new Rng(1);
    let sum = 0;
    for (let i = 0; i < 10_000; i++) {
      const f = r.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
      sum += f;
    }
    expect(Math.abs(sum / 10_000 - 0.5)).toBeLessThan(0.02);
  });

  it('randint covers both ends of an inclusive range, roughly uniformly', () => {
    const r = new Rng(7);
    const counts = new Map<number, number>();
    for (let i = 0; i < 6000; i++) {
      const v = r.randint(-2, 3);
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((x, y) => x - y)).toEqual([-2, -1, 0, 1, 2, 3]);
    for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(150);
    expect(r.randint(5, 5)).toBe(5);
  });

  it('randint rejects bad ranges', () => {
    const r = new Rng(0);
    expect(() => r.randint(3, 2)).toThrow(DataError);
    expect(() => r.randint(0.5, 2)).toThrow(/integers/);
  });

  it('shuffle returns a permutation and depends on the seed', () => {
    const base = Array.from({ length: 50 }, (_, i) => i);
    const s1 = new Rng(3).shuffle([...base]);
    const s2 = new Rng(3).shuffle([...base]);
    const s3 = new Rng(4).shuffle([...base]);
    expect([...s1].sort((a, b) => a - b)).toEqual(base);
    expect(s1).toEqual(s2);
    expect(s1).not.toEqual(s3);
    expect(s1).not.toEqual(base);
  });

  it('shuffle puts each element in each position about equally often', () => {
    const r = new Rng(11);
    const firstCounts = [0, 0, 0, 0];
    for (let i = 0; i < 8000; i++) firstCounts[r.shuffle([0, 1, 2, 3])[0]!]!++;
    for (const n of firstCounts) expect(Math.abs(n - 2000)).toBeLessThan(200);
  });

  it('getState/setState resume the exact sequence', () => {
    const r = new Rng(99);
    r.nextUint32();
    const state = r.getState();
    const ahead = [r.nextUint32(), r.randint(0, 9), r.nextFloat()];
    r.setState(state);
    expect([r.nextUint32(), r.randint(0, 9), r.nextFloat()]).toEqual(ahead);
    const other = new Rng(0);
    other.setState(state);
    expect(other.nextUint32()).toBe(ahead[0]);
    expect(() => r.setState(-1)).toThrow(DataError);
  });

  it('an unseeded generator works and rejects non-finite seeds', () => {
    expect(new Rng().randint(0, 10)).toBeLessThanOrEqual(10);
    expect(() => new Rng(Number.NaN)).toThrow(/finite/);
  });
});
