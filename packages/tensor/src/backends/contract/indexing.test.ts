// The Backend contract, copies and row indexing: strided copy (permute, slice, concat, rank 0 to 7,
// both dtypes), gather, scatterAdd and oneHot, on every backend — against oracles written here and
// against the reference backend.
import { describe, expect, it } from 'vitest';
import type { CopyParams } from '../../backend.ts';
import { againstReference, contiguousStrides, contractBackends, expectClose, f32, i32, prod, randF32, randI32, readF32, unravel } from './support.ts';

const backends = await contractBackends();

/** dst[dstOffset + i·dstStrides] = src[srcOffset + i·srcStrides], one index tuple at a time. */
function copyOracle(src: ArrayLike<number>, dst: number[], p: CopyParams): number[] {
  const out = [...dst];
  for (let f = 0; f < prod(p.shape); f++) {
    const idx = unravel(f, p.shape);
    let s = p.srcOffset;
    let d = p.dstOffset;
    for (let k = 0; k < idx.length; k++) {
      s += idx[k]! * p.srcStrides[k]!;
      d += idx[k]! * p.dstStrides[k]!;
    }
    out[d] = src[s]!;
  }
  return out;
}

/** The copy that permutes a contiguous tensor of `shape` by `perm`. */
function permutation(shape: number[], perm: number[]): CopyParams {
  const st = contiguousStrides(shape);
  const outShape = perm.map((q) => shape[q]!);
  return { shape: outShape, srcStrides: perm.map((q) => st[q]!), dstStrides: contiguousStrides(outShape), srcOffset: 0, dstOffset: 0, size: prod(shape) };
}

/** The copy that slices `shape` along `axis` from `start` to `end`. */
function slicing(shape: number[], axis: number, start: number, end: number): CopyParams {
  const st = contiguousStrides(shape);
  const outShape = shape.map((d, i) => (i === axis ? end - start : d));
  return { shape: outShape, srcStrides: st, dstStrides: contiguousStrides(outShape), srcOffset: start * st[axis]!, dstOffset: 0, size: prod(outShape) };
}

const COPIES: [string, CopyParams, number][] = [
  ['transpose [3, 5]', permutation([3, 5], [1, 0]), 15],
  ['transpose [5, 33]', permutation([5, 33], [1, 0]), 165],
  ...([[[2, 3, 4], [2, 0, 1]], [[2, 3, 4], [0, 2, 1]], [[33, 1, 5], [1, 2, 0]], [[2, 3, 4, 5], [3, 1, 0, 2]], [[2, 3, 40, 5], [0, 1, 3, 2]],
    [[4, 1, 6, 2], [0, 1, 2, 3]], [[2, 3, 2, 4, 3, 2], [5, 3, 0, 4, 1, 2]], [[2, 3, 2, 2, 3, 2, 2], [6, 0, 5, 1, 4, 2, 3]]] as [number[], number[]][])
    .map(([s, p]): [string, CopyParams, number] => [`permute ${JSON.stringify(s)} by ${JSON.stringify(p)}`, permutation(s, p), prod(s)]),
  ...([[[4, 40, 3], 1, 5, 37], [[4, 40, 3], 1, 2, 4], [[257], 0, 3, 250], [[6, 7], 0, 1, 4], [[6, 7], 1, 2, 5], [[3, 100], 1, 10, 90]] as [number[], number, number, number][])
    .map(([s, a, b, e]): [string, CopyParams, number] => [`slice ${JSON.stringify(s)} axis ${a} ${b}..${e}`, slicing(s, a, b, e), prod(s)]),
  ['rows 2..6, columns 3..10 of [8, 12]', { shape: [4, 7], srcStrides: [12, 1], dstStrides: [7, 1], srcOffset: 27, dstOffset: 0, size: 28 }, 96],
  ['[3, 4] into columns 2..6 of [3, 10]', { shape: [3, 4], srcStrides: [4, 1], dstStrides: [10, 1], srcOffset: 0, dstOffset: 2, size: 12 }, 12],
  ['contiguous with offsets', { shape: [257], srcStrides: [1], dstStrides: [1], srcOffset: 40, dstOffset: 3, size: 257 }, 300],
  ['a rank-0 element between offsets', { shape: [], srcStrides: [], dstStrides: [], srcOffset: 3, dstOffset: 1, size: 1 }, 4],
];

describe.each(backends.map((be) => [be.name, be] as const))('copy and indexing on %s', (_name, be) => {
  it.each(COPIES)('copy: %s (float32 and int32)', async (_what, p, srcSize) => {
    // One past the last element written, and two more that must stay untouched.
    const dstSize = p.dstOffset + 1 + p.shape.reduce((s, d, i) => s + (d - 1) * p.dstStrides[i]!, 0) + 2;
    const src = randF32(srcSize, srcSize);
    const ints = randI32(srcSize, 7, -1e6, 1e6);
    const [ref, got] = await againstReference(be, [src, ints], [f32(dstSize), i32(dstSize)], (k, [s, si], [d, di]) => {
      k.copy(s, d, p);
      k.copy(si, di, p);
    });
    expect(Array.from(ref[0]!)).toEqual(copyOracle(src, new Array(dstSize).fill(0), p));
    expect(Array.from(ref[1]!)).toEqual(copyOracle(ints, new Array(dstSize).fill(0), p));
    expect(got).toEqual(ref);
  });

  it('concatenating two parts writes every element once', async () => {
    for (const [s1, s2, axis] of [[[3, 2], [3, 40], 1], [[2, 5, 3], [4, 5, 3], 0], [[2, 5, 3], [2, 1, 3], 1]] as [number[], number[], number][]) {
      const outShape = s1.map((d, i) => (i === axis ? d + s2[i]! : d));
      const dstStrides = contiguousStrides(outShape);
      const out = be.alloc(prod(outShape), 'int32');
      let expected = new Array<number>(prod(outShape)).fill(0);
      let offset = 0;
      for (const [i, shape] of [s1, s2].entries()) {
        const x = randI32(prod(shape), 60 + i, -1000, 1000);
        const p = { shape, srcStrides: contiguousStrides(shape), dstStrides, srcOffset: 0, dstOffset: offset * dstStrides[axis]!, size: prod(shape) };
        be.copy(be.upload(x), out, p);
        expected = copyOracle(x, expected, p);
        offset += shape[axis]!;
      }
      expect(Array.from(await be.read(out, 'int32', prod(outShape)))).toEqual(expected);
      expect(expected.filter((v) => v === 0).length).toBeLessThan(3);
    }
  });

  it.each([[9, 1, 5], [9, 5, 5], [9, 40, 5], [28, 33, 70], [7, 300, 4]])('gather %i rows of %i (float and int tables), an out-of-range index giving zeros', async (rows, rowSize, num) => {
    const table = randF32(rows * rowSize, rows);
    const ints = randI32(rows * rowSize, rows, -50, 50);
    const indices = randI32(num, num, 0, rows);
    indices[0] = rows; // out of range
    const p = { numIndices: num, tableRows: rows, rowSize };
    const [ref, got] = await againstReference(be, [table, ints, indices], [f32(num * rowSize), i32(num * rowSize)], (k, [t, ti, ix], [o, oi]) => {
      k.gather(t, ix, o, p);
      k.gather(ti, ix, oi, p);
    });
    const expected = (src: ArrayLike<number>) =>
      Array.from(indices).flatMap((r) => Array.from({ length: rowSize }, (_, c) => (r < rows ? src[r * rowSize + c]! : 0)));
    expect(Array.from(ref[0]!)).toEqual(expected(table));
    expect(Array.from(ref[1]!)).toEqual(expected(ints));
    expect(got).toEqual(ref);
  });

  it.each([[6, 1, 40], [6, 3, 40], [6, 33, 40], [28, 33, 100], [6, 257, 9]])('scatterAdd into %i rows of %i sums %i repeated indices, skipping out-of-range ones', async (rows, rowSize, num) => {
    const src = randF32(num * rowSize, num);
    const indices = randI32(num, rows, 0, Math.min(rows, 3)); // many duplicates
    indices[1] = -1; // skipped
    const init = randF32(rows * rowSize, 99);
    const p = { numIndices: num, tableRows: rows, rowSize };
    const [[ref], [got]] = await againstReference(be, [src, indices], [{ size: init.length, dtype: 'float32', init }], (k, [s, ix], [o]) =>
      k.scatterAdd(s, ix, o, p));
    const expected = Float64Array.from(init);
    for (let r = 0; r < num; r++) {
      if (indices[r]! < 0) continue;
      for (let c = 0; c < rowSize; c++) expected[indices[r]! * rowSize + c]! += src[r * rowSize + c]!;
    }
    expectClose(ref!, expected, 1e-5);
    expectClose(got!, ref!, 1e-5);
    // Into a zeroed buffer, as the front end does for a fresh gradient.
    const [[ref2], [got2]] = await againstReference(be, [src, indices], [f32(rows * rowSize)], (k, [s, ix], [o]) => k.scatterAdd(s, ix, o, p));
    expectClose(got2!, ref2!, 1e-5);
  });

  it('oneHot sets one 1 per row and leaves out-of-range rows zero, over what the buffer held', async () => {
    const indices = Int32Array.from([0, 3, 27, -1, 28, 5]);
    const depth = 28;
    const [[ref], [got]] = await againstReference(be, [indices], [{ size: 6 * depth, dtype: 'float32', init: randF32(6 * depth, 1) }], (k, [ix], [o]) =>
      k.oneHot(ix, o, 6, depth));
    const expected = Array.from(indices).flatMap((i) => Array.from({ length: depth }, (_, j) => (i === j ? 1 : 0)));
    expect(Array.from(ref!)).toEqual(expected);
    expect(got).toEqual(ref);
    expect(Array.from(await readF32(be, be.alloc(2, 'float32'), 2))).toEqual([0, 0]);
  });
});
