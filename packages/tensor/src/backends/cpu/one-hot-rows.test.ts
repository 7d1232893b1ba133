import { describe, expect, it } from 'vitest';
import type { MatmulParams } from '../../backend.ts';
import { matmul as referenceMatmul } from '../reference/matmul.ts';
import { markWritten } from './buffer-versions.ts';
import { oneHotRowsMatmul, oneHotRowsTransposedMatmul } from './one-hot-rows.ts';
import { WASM_MIN_MACS, sharedHeapAlloc, sharedHeapRelease, wasmMatmul } from './wasm/wasm-matmul.ts';

// The one-hot rows path must give what the reference triple loop and the wasm kernels give, bit for
// bit (Object.is per element, so −0 and +0 differ), and must turn away every product it cannot do so.

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5);
}

/** m one-hot rows of width k: row i has `value(i)` at column (7i mod k), and rows in `zero` are all zero. */
function oneHot(m: number, k: number, value: (i: number) => number, zero: number[] = []): Float32Array {
  const A = new Float32Array(m * k);
  for (let i = 0; i < m; i++) if (!zero.includes(i)) A[i * k + ((7 * i) % k)] = value(i);
  return A;
}

const params = (m: number, k: number, n: number, transB = false, accumulate = false): MatmulParams =>
  ({ batch: 1, m, k, n, transA: false, transB, aBatchStride: 0, bBatchStride: 0, accumulate });

function expectSameBits(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) expect.fail(`element ${i}: ${got[i]} against ${want[i]}`);
  }
}

describe('matmul of one-hot rows as row copies', () => {
  const cases: [string, (i: number) => number, number[]][] = [
    ['ones (one-hot tokens)', () => 1, []],
    ['other values, and zero rows', (i) => (i % 3) - 1.75, [0, 5]],
    ['every row zero but one', () => 1, Array.from({ length: 31 }, (_, i) => i + 1)],
  ];
  describe.each(cases)('%s', (_name, value, zero) => {
    it.each([
      [false, false, false], [true, false, false], [false, true, false], [true, true, false],
      [false, false, true], [true, false, true], [false, true, true], [true, true, true],
    ])('transB %s, accumulate %s, a −0 in B %s: the same bits as the reference and the wasm kernels', (transB, accumulate, negativeZero) => {
      const [m, k, n] = [32, 28, 44];
      const A = oneHot(m, k, value, zero);
      const B = random(k * n, 3);
      // A −0 in B: the sums from +0 give +0 there, so rows are not copied as they are. Untransposed,
      // B[5] lies in row 0, which rows 0, 4, 8, ... of A select.
      if (negativeZero) B[5] = -0;
      const start = random(m * n, 4);
      const got = start.slice();
      expect(oneHotRowsMatmul(A, B, got, params(m, k, n, transB, accumulate))).toBe(true);
      const want = start.slice();
      referenceMatmul(A, B, want, params(m, k, n, transB, accumulate));
      expectSameBits(got, want);
      const wasm = start.slice();
      expect(wasmMatmul(A, B, wasm, params(m, k, n, transB, accumulate))).toBe(true);
      expectSameBits(got, wasm);
    });
  });

  it('turns away a dense A, a transposed A, a batch and an all-zero A, writing nothing', () => {
    const B = random(28 * 16, 5);
    const C = new Float32Array(32 * 16).fill(7);
    const A = oneHot(32, 28, () => 1);
    A[28 * 9 + 3] = 0.5; // row 9 has two nonzeros
    expect(oneHotRowsMatmul(A, B, C, params(32, 28, 16))).toBe(false);
    const clean = oneHot(32, 28, () => 1);
    expect(oneHotRowsMatmul(clean, B, C, { ...params(28, 32, 16), transA: true })).toBe(false);
    expect(oneHotRowsMatmul(clean, B, C, { ...params(16, 28, 16), batch: 2, aBatchStride: 16 * 28, bBatchStride: 0 })).toBe(false);
    expect(oneHotRowsMatmul(new Float32Array(32 * 28), B, C, params(32, 28, 16))).toBe(false); // all zero: a zero state
    expect(C.every((x) => x === 7)).toBe(true);
  });

  it.each([NaN, Infinity, -Infinity])('leaves a B holding %s to the kernels, whose 0·x poisons its column', (bad) => {
    const A = oneHot(8, 12, () => 1);
    const B = random(12 * 8, 6);
    const C = new Float32Array(8 * 8);
    expect(oneHotRowsMatmul(A, B, C, params(8, 12, 8))).toBe(true);
    B[12 * 8 - 1] = bad; // row 11, column 7: a row no token selects
    markWritten(B); // as any backend write would
    expect(oneHotRowsMatmul(A, B, C, params(8, 12, 8))).toBe(false);
    const want = new Float32Array(8 * 8);
    referenceMatmul(A, B, want, params(8, 12, 8));
    expect(Number.isNaN(want[7])).toBe(true); // what the path must not hide
  });
});

// The transposed product (a weight's gradient, Xᵀ·dZ, with X of one-hot rows) as sums of B's rows: the
// wasm kernels' bits, since it runs only where they would, on plain arrays and on heap buffers (where
// the rows are added by the wasm add).
describe('the transposed product of one-hot rows as row sums', () => {
  const tparams = (m: number, k: number, n: number, accumulate = false): MatmulParams =>
    ({ batch: 1, m, k, n, transA: true, transB: false, aBatchStride: 0, bBatchStride: 0, accumulate });

  /** Copies `x` into a heap buffer, or returns it as it is. */
  function placed(x: Float32Array, heap: boolean): Float32Array {
    if (!heap) return x;
    const buf = sharedHeapAlloc(x.length, false);
    if (buf === null) throw new Error('no shared wasm heap on this engine');
    buf.set(x);
    return buf;
  }

  it.each([
    ['plain arrays, n a multiple of 4', false, 44],
    ['heap buffers, n a multiple of 4', true, 44],
    ['heap buffers, n not a multiple of 4 (added in TypeScript)', true, 42],
    ['heap buffers, the scratch RNN\'s shape', true, 512],
  ])('%s: the same bits as the wasm kernels', (_name, heap, n) => {
    const [k, m] = n === 512 ? [1120, 28] : [100, 12];
    const A = oneHot(k, m, () => 1, [0, 3, 4]); // zero rows too, as a zero state would give
    const Bdata = random(k * n, 8);
    Bdata[5] = -0; // row 0, whose A row is zero
    Bdata[n + 2] = -0; // row 1, the only row of A with its 1 in column 7
    const B = placed(Bdata, heap);
    const C = placed(new Float32Array(m * n).fill(5), heap);
    expect(oneHotRowsTransposedMatmul(A, B, C, tparams(m, k, n))).toBe(true);
    const want = new Float32Array(m * n);
    expect(wasmMatmul(A, Bdata, want, tparams(m, k, n))).toBe(true);
    expectSameBits(C, want);
    const reference = new Float32Array(m * n);
    referenceMatmul(A, Bdata, reference, tparams(m, k, n));
    for (let i = 0; i < m * n; i++) expect(Math.abs(C[i]! - reference[i]!)).toBeLessThanOrEqual(1e-5);
    if (heap) {
      sharedHeapRelease(B);
      sharedHeapRelease(C);
    }
  });

  it('turns away values other than 1, two nonzeros in a row, accumulation, a transposed B and small products', () => {
    const [k, m, n] = [64, 10, 16];
    const B = random(k * n, 9);
    const C = new Float32Array(m * n).fill(7);
    const twos = oneHot(k, m, () => 2);
    expect(oneHotRowsTransposedMatmul(twos, B, C, tparams(m, k, n))).toBe(false);
    const double = oneHot(k, m, () => 1);
    double[5 * m + 9] = 1;
    double[5 * m + 5 * 7 % m] = 1;
    expect(oneHotRowsTransposedMatmul(double, B, C, tparams(m, k, n))).toBe(false);
    const ones = oneHot(k, m, () => 1);
    expect(oneHotRowsTransposedMatmul(ones, B, C, tparams(m, k, n, true))).toBe(false);
    expect(oneHotRowsTransposedMatmul(ones, B, C, { ...tparams(m, k, n), transB: true })).toBe(false);
    expect(oneHotRowsTransposedMatmul(ones, B, C, { ...tparams(m, k, n), transA: false })).toBe(false);
    expect(oneHotRowsTransposedMatmul(new Float32Array(k * m), B, C, tparams(m, k, n))).toBe(false); // all zero
    expect(m * 4 * 8).toBeLessThan(WASM_MIN_MACS); // below it the reference loop runs, summing in doubles
    expect(oneHotRowsTransposedMatmul(oneHot(8, m, () => 1), B, C, tparams(m, 8, 4))).toBe(false);
    expect(C.every((x) => x === 7)).toBe(true);
  });

  it.each([NaN, Infinity, -Infinity])('leaves a B holding %s to the kernels, whose 0·x poisons its column', (bad) => {
    const [k, m, n] = [64, 10, 16];
    const A = oneHot(k, m, () => 1);
    const B = random(k * n, 10);
    B[3 * n + 6] = bad;
    const C = new Float32Array(m * n);
    expect(oneHotRowsTransposedMatmul(A, B, C, tparams(m, k, n))).toBe(false);
    const want = new Float32Array(m * n);
    expect(wasmMatmul(A, B, want, tparams(m, k, n))).toBe(true);
    expect(Number.isNaN(want[6])).toBe(true); // column 6 of a row that row 3 of A does not select
  });
});
