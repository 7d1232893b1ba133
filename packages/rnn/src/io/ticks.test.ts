import { describe, expect, it } from 'vitest';
import { formatTick, linearScale, logScale, niceStep } from './ticks.ts';

/** True when v is 1, 2 or 5 times a power of ten. */
const isNice = (v: number): boolean => {
  const m = Number((v / 10 ** Math.floor(Math.log10(v))).toPrecision(6));
  return m === 1 || m === 2 || m === 5;
};

describe('niceStep', () => {
  it.each([
    [500, 100],
    [1, 0.2],
    [27, 5],
    [0.003, 0.0005],
    [7e6, 1e6],
  ])('span %d -> %d', (span, step) => {
    expect(niceStep(span)).toBeCloseTo(step, 12);
  });

  it('always returns a 1-2-5 value', () => {
    for (let span = 0.0013; span < 1e7; span *= 1.37) expect(isNice(niceStep(span))).toBe(true);
  });
});

describe('linearScale', () => {
  it('covers 1..500 epochs with ticks every 100', () => {
    expect(linearScale(1, 500)).toEqual({ lo: 0, hi: 500, ticks: [0, 100, 200, 300, 400, 500], log: false });
  });

  it('prints fractional ticks without binary noise', () => {
    const s = linearScale(0.1, 0.7);
    expect(s.ticks).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
  });

  it('widens a constant range instead of dividing by zero', () => {
    const s = linearScale(20, 20);
    expect(s.hi).toBeGreaterThan(s.lo);
    expect(s.lo).toBeLessThanOrEqual(20);
    expect(s.hi).toBeGreaterThanOrEqual(20);
    expect(linearScale(0, 0).hi).toBeGreaterThan(linearScale(0, 0).lo);
  });

  it('keeps the exact domain when asked and only makes the ticks nice', () => {
    const s = linearScale(10, 500, true);
    expect([s.lo, s.hi]).toEqual([10, 500]);
    expect(s.ticks).toEqual([100, 200, 300, 400, 500]);
  });

  it('handles negative ranges', () => {
    expect(linearScale(-3, 2).ticks).toEqual([-3, -2, -1, 0, 1, 2]);
  });
});

describe('logScale', () => {
  it('uses 1-2-5 ticks over a few decades (perplexity 27 -> 1.02)', () => {
    expect(logScale(1.02, 27)).toEqual({ lo: 1, hi: 50, ticks: [1, 2, 5, 10, 20, 50], log: true });
  });

  it('uses thinned powers of ten over many decades', () => {
    const s = logScale(1e-9, 1e9);
    expect(s.ticks.length).toBeLessThanOrEqual(10);
    for (const t of s.ticks) expect(Math.log10(t) % 1).toBeCloseTo(0, 9);
    expect(s.lo).toBeLessThanOrEqual(1e-9);
    expect(s.hi).toBeGreaterThanOrEqual(1e9);
  });

  it('widens a constant value', () => {
    expect(logScale(5, 5).ticks).toEqual([2, 5, 10]);
  });
});

describe('formatTick', () => {
  it.each([
    [0, '0'],
    [100, '100'],
    [0.30000000000000004, '0.3'],
    [-2.5, '-2.5'],
    [1e7, '1e7'],
    [2e-5, '2e-5'],
  ])('%d -> %s', (v, text) => {
    expect(formatTick(v)).toBe(text);
  });
});
