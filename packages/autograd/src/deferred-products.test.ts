import { describe, expect, it } from 'vitest';
import { Generator, matmul, memory, uniform } from '@tinytape/tensor';
import { DeferredProducts } from './deferred-products.ts';

describe('DeferredProducts', () => {
  it('evaluates Σ xᵢᵀ·yᵢ as one product over the stacked rows and releases every term', async () => {
    const g = new Generator(3);
    const xs = [2, 3, 1].map((r) => uniform([r, 4], -1, 1, { generator: g }));
    const ys = [2, 3, 1].map((r) => uniform([r, 5], -1, 1, { generator: g }));
    const before = memory().liveTensors;
    const terms = new DeferredProducts();
    xs.forEach((x, i) => terms.add(x, ys[i]!));
    expect(terms.count).toBe(3);
    expect(terms.rows).toBe(6);
    const got = await terms.evaluate().toArray();
    expect(terms.count).toBe(0);
    // Only the result is left alive: the views of the terms are gone.
    expect(memory().liveTensors).toBe(before + 1);
    const want = new Float64Array(20);
    for (let i = 0; i < 3; i++) {
      const p = await matmul(xs[i]!, ys[i]!, { transA: true }).toArray();
      p.forEach((v, j) => (want[j] = want[j]! + v));
    }
    got.forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 5));
  });

  it('refuses a term whose columns differ, naming the shapes; dispose releases held terms', () => {
    const terms = new DeferredProducts();
    const before = memory().liveTensors;
    terms.add(uniform([2, 4], 0, 1), uniform([2, 5], 0, 1));
    expect(() => terms.add(uniform([2, 3], 0, 1), uniform([2, 5], 0, 1))).toThrow(/\[2,3\].*\[2,5\]/);
    terms.dispose();
    expect(terms.count).toBe(0);
    expect(() => terms.evaluate()).toThrow(/nothing to evaluate/);
    expect(memory().liveTensors).toBe(before + 4); // the four operands made here, not the views
  });
});
