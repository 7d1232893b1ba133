import { describe, expect, it } from 'vitest';
import { Generator, matmul, memory, uniform } from '@tinytape/tensor';
import { DeferredProducts, RowStacks } from './deferred-products.ts';

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

  it('shares one stack between two sums over the same rows, and frees it with the cache', async () => {
    const g = new Generator(5);
    const hs = [3, 3, 3].map((r) => uniform([r, 4], -1, 1, { generator: g }));
    const xs = [3, 3, 3].map((r) => uniform([r, 2], -1, 1, { generator: g }));
    const dz = [3, 3, 3].map((r) => uniform([r, 5], -1, 1, { generator: g }));
    const before = memory().liveTensors;
    const stacks = new RowStacks();
    const [wide, narrow] = [new DeferredProducts(), new DeferredProducts()];
    hs.forEach((h, i) => wide.add(h, dz[i]!));
    xs.forEach((x, i) => narrow.add(x, dz[i]!));
    const stacked = stacks.of(dz);
    const handles = dz.map((t) => t.view(t.shape)); // other handles, the same buffers
    expect(stacks.of(handles)).toBe(stacked);
    for (const t of handles) t.dispose();
    const [a, b] = [wide.evaluate(stacks), narrow.evaluate(stacks)];
    // The same sums as without the cache, bit for bit (the same product over the same rows).
    hs.forEach((h, i) => wide.add(h, dz[i]!));
    xs.forEach((x, i) => narrow.add(x, dz[i]!));
    const [a2, b2] = [wide.evaluate(), narrow.evaluate()];
    expect(Array.from(await a.toArray())).toEqual(Array.from(await a2.toArray()));
    expect(Array.from(await b.toArray())).toEqual(Array.from(await b2.toArray()));
    // A part written since is stacked again.
    dz[1]!.mul_(2);
    expect(stacks.of(dz)).not.toBe(stacked);
    stacks.dispose();
    for (const t of [a, b, a2, b2]) t.dispose();
    expect(memory().liveTensors).toBe(before);
  });
});
