import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxisParams, Backend, BackendBuffer, BinaryOp, BroadcastLayout, CopyParams, MatmulParams, ScalarOp, UnaryOp } from '../../backend.ts';
import type { DType, TypedArray } from '../../dtype.ts';
import { createCpuBackend } from '../cpu/index.ts';
import { sizeClass } from './context.ts';
import type { WebGPUBackend } from './index.ts';
import { requireWebGPU } from './test-support.ts';
import { rng } from '../../test-random.ts';

// Every WebGPU kernel is compared against the CPU backend on seeded random inputs, on small and odd
// sizes that hit the fast paths and the ragged edges of tiles and workgroups. Lavapipe (software
// Vulkan) is slow, so sizes stay small.

let gpu: WebGPUBackend | null = null;
const cpu = createCpuBackend();

beforeAll(async () => {
  gpu = await requireWebGPU();
});

afterAll(() => {
  if (gpu !== null) {
    expect(gpu.errors).toEqual([]);
    gpu.destroy();
  }
});

/** The backend, or skips the test when there is no adapter (requireWebGPU already warned). */
function G(ctx: { skip: () => void }): WebGPUBackend {
  if (gpu === null) ctx.skip();
  return gpu!;
}

function randF32(n: number, seed: number, lo = -2, hi = 2): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

function randI32(n: number, seed: number, lo: number, hi: number): Int32Array {
  const r = rng(seed);
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + Math.floor((hi - lo) * r());
  return a;
}

const prod = (s: readonly number[]): number => s.reduce((p, q) => p * q, 1);

function contiguousStrides(shape: readonly number[]): number[] {
  const st: number[] = [];
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = s;
    s *= shape[d]!;
  }
  return st;
}

/** NumPy broadcasting layout of a op b (shapes right-aligned). */
function layoutOf(aShape: number[], bShape: number[]): BroadcastLayout {
  const rank = Math.max(aShape.length, bShape.length);
  const pad = (s: number[]): number[] => [...Array(rank - s.length).fill(1), ...s];
  const a = pad(aShape);
  const b = pad(bShape);
  const outShape = a.map((n, i) => Math.max(n, b[i]!));
  const strides = (s: number[]): number[] => {
    const c = contiguousStrides(s);
    return s.map((n, i) => (n === 1 && outShape[i] !== 1 ? 0 : c[i]!));
  };
  return { outShape, aStrides: strides(a), bStrides: strides(b), size: prod(outShape) };
}

/** Element-by-element comparison with a mixed absolute/relative tolerance; names the first mismatch. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      if (!Number.isNaN(a)) expect.fail(`element ${i}: got ${a}, expected NaN`);
      continue;
    }
    if (a === e) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      expect.fail(`element ${i} of ${expected.length}: got ${a}, expected ${e} (diff ${Math.abs(a - e)})`);
    }
  }
}

type OutSpec = { size: number; dtype: DType; init?: TypedArray };

/**
 * Runs `kernel` on both backends with the same inputs (uploaded) and outputs (alloc'd, or uploaded
 * from `init`), then reads every output back: [cpu results, gpu results].
 */
async function onBoth(
  g: WebGPUBackend,
  inputs: TypedArray[],
  outs: OutSpec[],
  kernel: (be: Backend, ins: BackendBuffer[], outs: BackendBuffer[]) => void,
): Promise<[TypedArray[], TypedArray[]]> {
  const results: TypedArray[][] = [];
  for (const be of [cpu, g] as Backend[]) {
    const ins = inputs.map((x) => be.upload(x));
    const os = outs.map((o) => (o.init ? be.upload(o.init) : be.alloc(o.size, o.dtype)));
    kernel(be, ins, os);
    results.push(await Promise.all(os.map((b, i) => be.read(b, outs[i]!.dtype, outs[i]!.size))));
    for (const b of [...ins, ...os]) be.free(b);
  }
  return [results[0]!, results[1]!];
}

const f32 = (size: number): OutSpec => ({ size, dtype: 'float32' });
const i32 = (size: number): OutSpec => ({ size, dtype: 'int32' });

const SIZES = [1, 3, 33, 257, 1000];

describe('webgpu backend', () => {
  it('reports the adapter and its name', (ctx) => {
    const g = G(ctx);
    expect(g.name).toBe('webgpu');
    expect(typeof g.adapterInfo.description).toBe('string');
    expect(g.adapterInfo.description + g.adapterInfo.device + g.adapterInfo.vendor).not.toBe('');
  });

  it('uploads, reads back and allocates zeros (both dtypes)', async (ctx) => {
    const g = G(ctx);
    for (const n of [0, 1, 3, 257]) {
      const x = randF32(n, n);
      const b = g.upload(x);
      expect(await g.read(b, 'float32', n)).toEqual(x);
      g.free(b);
      const ints = randI32(n, n + 1, -1000, 1000);
      const c = g.upload(ints);
      expect(await g.read(c, 'int32', n)).toEqual(ints);
      g.free(c);
      const z = g.alloc(n, 'float32');
      expect(await g.read(z, 'float32', n)).toEqual(new Float32Array(n));
      g.free(z);
    }
  });

  it('fill', async (ctx) => {
    const g = G(ctx);
    for (const n of SIZES) {
      const [c, w] = await onBoth(g, [], [f32(n), i32(n)], (be, _, [a, b]) => {
        be.fill(a, n, -1.25, 'float32');
        be.fill(b, n, -7, 'int32');
      });
      expect(w).toEqual(c);
    }
  });

  const UNARY: UnaryOp[] = ['neg', 'exp', 'log', 'tanh', 'sigmoid', 'relu', 'sqrt', 'square', 'abs', 'step', 'oneMinusSquare', 'sigmoidGradFromOutput'];
  for (const op of UNARY) it(`unary ${op}`, async (ctx) => {
    const g = G(ctx);
    for (const n of SIZES) {
      const positive = op === 'log' || op === 'sqrt';
      const x = positive ? randF32(n, n, 0.01, 5) : randF32(n, n, -6, 6);
      if (op === 'tanh' && n >= 33) x.set([0, 1e-4, -1e-3, 20, -30, 9.5]);
      const [[c], [w]] = await onBoth(g, [x], [f32(n)], (be, [a], [o]) => be.unary(op, a, o, n));
      expectClose(w!, c!, 1e-5, 1e-6);
    }
  });

  const SCALAR: ScalarOp[] = ['add', 'sub', 'rsub', 'mul', 'div', 'rdiv', 'pow', 'maximum', 'minimum'];
  for (const op of SCALAR) it(`scalar ${op}`, async (ctx) => {
    const g = G(ctx);
    const scalars = op === 'pow' ? [2, 3, 0.5, -1, 1.7, 0] : [0.75, -3];
    for (const s of scalars) {
      for (const n of SIZES) {
        const fractional = op === 'pow' && !Number.isInteger(s);
        const x = fractional ? randF32(n, n + 3, 0.1, 3) : randF32(n, n + 3, -3, 3);
        if (op === 'rdiv' || op === 'pow') for (let i = 0; i < n; i++) if (Math.abs(x[i]!) < 0.05) x[i] = 0.5;
        const [[c], [w]] = await onBoth(g, [x], [f32(n)], (be, [a], [o]) => be.scalar(op, a, s, o, n));
        expectClose(w!, c!, 1e-5, 1e-6);
      }
    }
  });

  const SHAPES: Array<[number[], number[]]> = [
    [[1], [1]],
    [[257], [257]],
    [[33, 5], [1]],
    [[4, 33], [33]],
    [[4, 1], [4, 5]],
    [[3, 1, 5], [1, 4, 1]],
    [[2, 3, 1, 4, 1, 3], [1, 3, 2, 1, 5, 1]],
    [[5], [3, 1]],
    [[35, 4, 12], [12]],
  ];
  const BINARY: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'];
  for (const op of BINARY) it(`binary ${op} with broadcasting`, async (ctx) => {
    const g = G(ctx);
    for (const [as, bs] of SHAPES) {
      const layout = layoutOf(as, bs);
      const a = randF32(prod(as), 11);
      const b = randF32(prod(bs), 12, 0.5, 3);
      const [[c], [w]] = await onBoth(g, [a, b], [f32(layout.size)], (be, [x, y], [o]) => be.binary(op, x, y, o, layout));
      expectClose(w!, c!);
    }
  });

  it('binaryInPlace (broadcast b into a, and a op= a)', async (ctx) => {
    const g = G(ctx);
    for (const op of BINARY) {
      for (const [as, bs] of [[[4, 33], [33]], [[7], [7]], [[3, 4, 5], [4, 1]], [[6], [1]]] as Array<[number[], number[]]>) {
        const layout = layoutOf(as, bs);
        const a = randF32(prod(as), 21);
        const b = randF32(prod(bs), 22, 0.5, 3);
        const [[c], [w]] = await onBoth(g, [b], [{ size: a.length, dtype: 'float32', init: a }], (be, [y], [x]) =>
          be.binaryInPlace(op, x, y, layout),
        );
        expectClose(w!, c!);
      }
    }
    const a = randF32(100, 23);
    const layout = layoutOf([100], [100]);
    const [[c], [w]] = await onBoth(g, [], [{ size: 100, dtype: 'float32', init: a }], (be, _, [x]) => be.binaryInPlace('mul', x, x, layout));
    expectClose(w!, c!);
  });

  it('axpy', async (ctx) => {
    const g = G(ctx);
    for (const n of SIZES) {
      const y = randF32(n, 31);
      const x = randF32(n, 32);
      const [[c], [w]] = await onBoth(g, [x], [{ size: n, dtype: 'float32', init: y }], (be, [xb], [yb]) => be.axpy(yb, xb, -0.3, n));
      expectClose(w!, c!);
    }
  });

  for (const kernel of ['tiled', 'registers'] as const) it(`matmul (${kernel} kernel): odd sizes, all transposes, batched with broadcast strides`, async (ctx) => {
    const g = G(ctx);
    const saved = g.matmulKernel;
    g.matmulKernel = kernel;
    const cases: Array<Partial<MatmulParams> & { m: number; k: number; n: number }> = [
      { m: 1, k: 1, n: 1 },
      { m: 33, k: 17, n: 65 },
      { m: 64, k: 64, n: 64 },
      { m: 3, k: 0, n: 5 },
      { m: 130, k: 70, n: 129 },
      { m: 32, k: 28, n: 40 },
      // 4 x 5 tiles of 64: batch 1 runs the 32x32 tile, batches 2 and 3 the 64x64 tile.
      { m: 197, k: 19, n: 259 },
    ];
    for (const base of cases) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const { m, k, n } = base;
          for (const [batch, aBS, bBS] of [
            [1, m * k, k * n],
            [3, m * k, k * n],
            [3, 0, k * n],
            [2, m * k, 0],
          ] as const) {
            const p: MatmulParams = { batch, m, k, n, transA, transB, aBatchStride: aBS, bBatchStride: bBS };
            const a = randF32(Math.max(1, aBS * batch, m * k), m + k);
            const b = randF32(Math.max(1, bBS * batch, k * n), k + n);
            const [[c], [w]] = await onBoth(g, [a, b], [f32(batch * m * n)], (be, [x, y], [o]) => be.matmul(x, y, o, p));
            expectClose(w!, c!, 1e-4, 1e-5);
          }
        }
      }
    }
    g.matmulKernel = saved;
  });

  const AXES: AxisParams[] = [
    { outer: 1, axis: 1, inner: 1 },
    { outer: 3, axis: 5, inner: 7 },
    { outer: 33, axis: 28, inner: 1 },
    { outer: 1, axis: 1000, inner: 1 },
    { outer: 2, axis: 300, inner: 3 },
    { outer: 1, axis: 3, inner: 257 },
    { outer: 5000, axis: 300, inner: 1 },
  ];
  it('reduce sum / max and argmax (thread-per-output and workgroup-per-output)', async (ctx) => {
    const g = G(ctx);
    for (const p of AXES) {
      const n = p.outer * p.axis * p.inner;
      const x = randF32(n, n);
      // Ties: quantised values make equal maxima common, so argmax must pick the first.
      const q = x.map((v) => Math.round(v * 2) / 2);
      const out = p.outer * p.inner;
      const [c, w] = await onBoth(g, [x, q], [f32(out), f32(out), i32(out), i32(out)], (be, [xb, qb], [s, m, i, j]) => {
        be.reduce('sum', xb, s, p);
        be.reduce('max', xb, m, p);
        be.argmax(xb, i, p);
        be.argmax(qb, j, p);
      });
      expectClose(w[0]!, c[0]!, 1e-4, 1e-4);
      expect(w[1]).toEqual(c[1]);
      expect(w[2]).toEqual(c[2]);
      expect(w[3]).toEqual(c[3]);
    }
  });

  it('max and argmax let NaN win, as on the CPU', async (ctx) => {
    const g = G(ctx);
    for (const p of [{ outer: 2, axis: 5, inner: 1 }, { outer: 1, axis: 600, inner: 2 }]) {
      const x = randF32(p.outer * p.axis * p.inner, 5);
      x[3] = NaN;
      x[x.length - 2] = NaN;
      const out = p.outer * p.inner;
      const [c, w] = await onBoth(g, [x], [f32(out), i32(out)], (be, [xb], [m, i]) => {
        be.reduce('max', xb, m, p);
        be.argmax(xb, i, p);
      });
      expectClose(w[0]!, c[0]!);
      expect(w[1]).toEqual(c[1]);
    }
  });

  it('strided copy: permute, slice, concat, rank 6 and 7, int32', async (ctx) => {
    const g = G(ctx);
    const cases: Array<{ srcSize: number; dstSize: number; p: CopyParams }> = [];
    // Transpose [5, 33] -> [33, 5].
    cases.push({ srcSize: 165, dstSize: 165, p: { shape: [33, 5], srcStrides: [1, 33], dstStrides: [5, 1], srcOffset: 0, dstOffset: 0, size: 165 } });
    // Slice rows 2..6, cols 3..10 of [8, 12].
    cases.push({ srcSize: 96, dstSize: 28, p: { shape: [4, 7], srcStrides: [12, 1], dstStrides: [7, 1], srcOffset: 27, dstOffset: 0, size: 28 } });
    // Concat: write [3, 4] into columns 2..6 of [3, 10].
    cases.push({ srcSize: 12, dstSize: 30, p: { shape: [3, 4], srcStrides: [4, 1], dstStrides: [10, 1], srcOffset: 0, dstOffset: 2, size: 12 } });
    // Contiguous copy with offsets.
    cases.push({ srcSize: 300, dstSize: 300, p: { shape: [257], srcStrides: [1], dstStrides: [1], srcOffset: 40, dstOffset: 3, size: 257 } });
    // Rank-6 permutation.
    const s6 = [2, 3, 2, 4, 3, 2];
    const perm = [5, 3, 0, 4, 1, 2];
    const cs = contiguousStrides(s6);
    const shape6 = perm.map((i) => s6[i]!);
    cases.push({ srcSize: prod(s6), dstSize: prod(s6), p: { shape: shape6, srcStrides: perm.map((i) => cs[i]!), dstStrides: contiguousStrides(shape6), srcOffset: 0, dstOffset: 0, size: prod(s6) } });
    // Rank-7 permutation (more axes than one shader handles).
    const s7 = [2, 3, 2, 2, 3, 2, 2];
    const perm7 = [6, 0, 5, 1, 4, 2, 3];
    const c7 = contiguousStrides(s7);
    const shape7 = perm7.map((i) => s7[i]!);
    cases.push({ srcSize: prod(s7), dstSize: prod(s7), p: { shape: shape7, srcStrides: perm7.map((i) => c7[i]!), dstStrides: contiguousStrides(shape7), srcOffset: 0, dstOffset: 0, size: prod(s7) } });
    // Scalar (rank 0).
    cases.push({ srcSize: 4, dstSize: 2, p: { shape: [], srcStrides: [], dstStrides: [], srcOffset: 3, dstOffset: 1, size: 1 } });
    for (const { srcSize, dstSize, p } of cases) {
      const src = randF32(srcSize, srcSize);
      const [[c], [w]] = await onBoth(g, [src], [f32(dstSize)], (be, [s], [d]) => be.copy(s, d, p));
      expect(w).toEqual(c);
      const ints = randI32(srcSize, 7, -1e6, 1e6);
      const [[ci], [wi]] = await onBoth(g, [ints], [i32(dstSize)], (be, [s], [d]) => be.copy(s, d, p));
      expect(wi).toEqual(ci);
    }
  });

  it('gather (both dtypes, out-of-range index gives zeros)', async (ctx) => {
    const g = G(ctx);
    for (const [rows, rowSize, num] of [[5, 1, 3], [28, 33, 70], [7, 300, 4]]) {
      const table = randF32(rows * rowSize, rows);
      const ints = randI32(rows * rowSize, rows, -50, 50);
      const indices = randI32(num, num, 0, rows);
      indices[0] = rows; // out of range
      const p = { numIndices: num, tableRows: rows, rowSize };
      const [c, w] = await onBoth(g, [table, ints, indices], [f32(num * rowSize), i32(num * rowSize)], (be, [t, ti, ix], [o, oi]) => {
        be.gather(t, ix, o, p);
        be.gather(ti, ix, oi, p);
      });
      expect(w).toEqual(c);
    }
  });

  it('scatterAdd sums duplicate indices into a pre-filled output', async (ctx) => {
    const g = G(ctx);
    for (const [rows, rowSize, num] of [[3, 1, 10], [28, 33, 100], [6, 257, 9]]) {
      const src = randF32(num * rowSize, num);
      const indices = randI32(num, rows, 0, 3); // many duplicates of rows 0..2
      indices[1] = -1; // skipped
      const init = randF32(rows * rowSize, 99);
      const p = { numIndices: num, tableRows: rows, rowSize };
      const [[c], [w]] = await onBoth(g, [src, indices], [{ size: init.length, dtype: 'float32', init }], (be, [s, ix], [o]) =>
        be.scatterAdd(s, ix, o, p),
      );
      expectClose(w!, c!, 1e-5, 1e-5);
      // Into a zeroed buffer, as the front end does for a fresh gradient.
      const [[c2], [w2]] = await onBoth(g, [src, indices], [f32(rows * rowSize)], (be, [s, ix], [o]) => be.scatterAdd(s, ix, o, p));
      expectClose(w2!, c2!, 1e-5, 1e-5);
    }
  });

  it('oneHot', async (ctx) => {
    const g = G(ctx);
    const indices = Int32Array.from([0, 3, 27, -1, 28, 5]);
    const [[c], [w]] = await onBoth(g, [indices], [f32(6 * 28)], (be, [ix], [o]) => be.oneHot(ix, o, 6, 28));
    expect(w).toEqual(c);
  });

  it('softmax and logSoftmax (short and long rows)', async (ctx) => {
    const g = G(ctx);
    for (const [rows, cols] of [[1, 1], [3, 5], [33, 28], [4, 65], [3, 1027]]) {
      const x = randF32(rows * cols, cols, -8, 8);
      x[0] = 80; // large logits must not overflow
      const [c, w] = await onBoth(g, [x], [f32(x.length), f32(x.length)], (be, [xb], [s, l]) => {
        be.softmax(xb, s, rows, cols, false);
        be.softmax(xb, l, rows, cols, true);
      });
      expectClose(w[0]!, c[0]!, 1e-4, 1e-6);
      expectClose(w[1]!, c[1]!, 1e-4, 1e-5);
    }
  });

  it('softmax over more rows than one grid dimension holds (2-D dispatch)', async (ctx) => {
    const g = G(ctx);
    const rows = 70000;
    const cols = 65; // one workgroup per row: 70000 > 65535 workgroups
    const x = randF32(rows * cols, 3, -3, 3);
    const [[c], [w]] = await onBoth(g, [x], [f32(x.length)], (be, [xb], [s]) => be.softmax(xb, s, rows, cols, true));
    expectClose(w!, c!, 1e-4, 1e-5);
  });

  it('crossEntropy and crossEntropyBackward (g read on the device)', async (ctx) => {
    const g = G(ctx);
    for (const [rows, cols] of [[1, 3], [33, 28], [5, 300]]) {
      const logits = randF32(rows * cols, rows + cols, -4, 4);
      const targets = randI32(rows, cols, 0, cols);
      const gradOut = Float32Array.from([2.5]);
      const [c, w] = await onBoth(g, [logits, targets, gradOut], [f32(1), f32(rows * cols)], (be, [l, t, go], [loss, grad]) => {
        be.crossEntropy(l, t, loss, rows, cols);
        be.crossEntropyBackward(l, t, go, grad, rows, cols);
      });
      expectClose(w[0]!, c[0]!, 1e-4, 1e-6);
      expectClose(w[1]!, c[1]!, 1e-4, 1e-7);
    }
    // An out-of-range target poisons the loss and its row of the gradient with NaN.
    const [c, w] = await onBoth(g, [randF32(6, 1), Int32Array.from([1, 3]), Float32Array.from([1])], [f32(1), f32(6)], (be, [l, t, go], [loss, grad]) => {
      be.crossEntropy(l, t, loss, 2, 3);
      be.crossEntropyBackward(l, t, go, grad, 2, 3);
    });
    expectClose(w[0]!, c[0]!);
    expectClose(w[1]!, c[1]!);
  });

  it('cast between dtypes (float -> int truncates toward zero)', async (ctx) => {
    const g = G(ctx);
    const x = Float32Array.from([0, 1.9, -1.9, 2.5, -2.5, 1e6, -7, 0.49]);
    const n = x.length;
    const ints = Int32Array.from([0, -3, 7, 123456, -99, 1, 2, 3]);
    const [c, w] = await onBoth(g, [x, ints], [i32(n), f32(n), f32(n), i32(n)], (be, [xf, xi], [a, b, d, e]) => {
      be.cast(xf, a, n, 'float32', 'int32');
      be.cast(xi, b, n, 'int32', 'float32');
      be.cast(xf, d, n, 'float32', 'float32');
      be.cast(xi, e, n, 'int32', 'int32');
    });
    expect(w).toEqual(c);
  });

  it('handles a kernel whose input is also its output (unary in place)', async (ctx) => {
    const g = G(ctx);
    const x = randF32(300, 8);
    const [[c], [w]] = await onBoth(g, [], [{ size: 300, dtype: 'float32', init: x }], (be, _, [o]) => be.unary('tanh', o, o, 300));
    expectClose(w!, c!);
  });

  describe('memory, batching and ordering', () => {
    it('buckets sizes into classes', () => {
      expect(sizeClass(1)).toBe(16);
      expect(sizeClass(16)).toBe(16);
      expect(sizeClass(17)).toBe(32);
      expect(sizeClass(65536)).toBe(65536);
      expect(sizeClass(65537)).toBe(65536 + 8192);
      for (const b of [100, 5000, 70000, 1e6, 3e7]) {
        expect(sizeClass(b)).toBeGreaterThanOrEqual(b);
        expect(sizeClass(b)).toBeLessThan(b * 2);
      }
    });

    it('re-uses pooled buffers: alloc/free/alloc does not grow the buffer count', async (ctx) => {
      const g = G(ctx);
      g.flush();
      const a = g.alloc(1000, 'float32');
      g.free(a);
      const before = g.memory();
      const total0 = before.liveBuffers + before.pooledBuffers;
      for (let i = 0; i < 10; i++) {
        const b = g.alloc(1000, 'float32');
        const c = g.alloc(990, 'float32'); // same size class
        g.free(b);
        g.free(c);
      }
      const after = g.memory();
      expect(after.liveBuffers).toBe(before.liveBuffers);
      expect(after.liveBuffers + after.pooledBuffers).toBeLessThanOrEqual(total0 + 1);
    });

    it('a re-used buffer still reads as zeros after alloc, even under a partial write', async (ctx) => {
      const g = G(ctx);
      const dirty = g.upload(randF32(500, 1, 1, 2));
      g.free(dirty);
      const z = g.alloc(500, 'float32');
      expect(await g.read(z, 'float32', 500)).toEqual(new Float32Array(500));
      g.free(z);
      const d2 = g.upload(randF32(500, 2, 1, 2));
      g.free(d2);
      const y = g.alloc(500, 'float32');
      const src = g.upload(Float32Array.from([7, 8]));
      g.copy(src, y, { shape: [2], srcStrides: [1], dstStrides: [1], srcOffset: 0, dstOffset: 10, size: 2 });
      const expected = new Float32Array(500);
      expected[10] = 7;
      expected[11] = 8;
      expect(await g.read(y, 'float32', 500)).toEqual(expected);
      g.free(y);
      g.free(src);
    });

    it('1,000 small dispatches, one read: right answer, few submits, one readback', async (ctx) => {
      const g = G(ctx);
      g.flush();
      const s0 = g.stats();
      const m0 = g.memory();
      const acc = g.upload(new Float32Array(33));
      const one = g.upload(new Float32Array(33).fill(1));
      for (let i = 0; i < 1000; i++) {
        // Allocate and free a temporary each step, as an unrolled RNN does.
        const t = g.alloc(33, 'float32');
        g.scalar('mul', one, 2, t, 33);
        g.axpy(acc, t, 0.5, 33);
        g.free(t);
      }
      const out = await g.read(acc, 'float32', 33);
      expect(out).toEqual(new Float32Array(33).fill(1000));
      const s1 = g.stats();
      const dispatches = s1.dispatches - s0.dispatches;
      const submits = s1.submits - s0.submits;
      expect(dispatches).toBe(2000);
      expect(submits).toBeLessThanOrEqual(Math.ceil(dispatches / 64) + 1);
      expect(s1.readbacks - s0.readbacks).toBe(1);
      // Temporaries were recycled within the batch: at most a few new buffers in all.
      const m1 = g.memory();
      expect(m1.liveBuffers + m1.pooledBuffers - (m0.liveBuffers + m0.pooledBuffers)).toBeLessThanOrEqual(4);
      g.free(acc);
      g.free(one);
    });

    it('a repeated training-like step creates no new bind groups, keeps memory flat and matches the CPU', async (ctx) => {
      const g = G(ctx);
      g.flush();
      // Shaped like an unrolled RNN step: per-step uploads, a carried state, a weight gradient that
      // accumulates one product per time step (a pooled temporary inside matmul), temporaries freed in
      // allocation order (a LIFO pool then hands them back permuted), and one loss per step kept until
      // the end, as trainEpoch does. 5 time steps of 4 dispatches plus 3 make 23 dispatches a step, so
      // submits (every 128) fall at a different point of each step.
      const B = 4;
      const H = 24;
      const T = 5;
      const makeRun = (be: Backend) => {
        const W = be.upload(randF32(H * H, 70, -0.3, 0.3));
        const dW = be.alloc(H * H, 'float32');
        let h = be.upload(randF32(B * H, 71));
        const losses: BackendBuffer[] = [];
        const flat = { batch: 1, transB: false, aBatchStride: 0, bBatchStride: 0 };
        // z = cur·W ([B,H]x[H,H]) and dW += curᵀ·y ([H,B]x[B,H]).
        const forward = (cur: BackendBuffer, z: BackendBuffer): void => be.matmul(cur, W, z, { ...flat, m: B, k: H, n: H, transA: false });
        const gradW = (cur: BackendBuffer, y: BackendBuffer): void =>
          be.matmul(cur, y, dW, { ...flat, m: H, k: B, n: H, transA: true, accumulate: true });
        const step = (i: number): void => {
          const x = be.upload(randF32(B * H, 100 + i));
          const temps: BackendBuffer[] = [];
          let cur = h;
          for (let t = 0; t < T; t++) {
            const z = be.alloc(B * H, 'float32');
            forward(cur, z);
            const a = be.alloc(B * H, 'float32');
            be.binary('add', z, x, a, layoutOf([B, H], [B, H]));
            const y = be.alloc(B * H, 'float32');
            be.unary('tanh', a, y, B * H);
            gradW(cur, y);
            temps.push(z, a);
            if (cur !== h) temps.push(cur);
            cur = y;
          }
          const sq = be.alloc(B * H, 'float32');
          be.unary('square', cur, sq, B * H);
          const loss = be.alloc(1, 'float32');
          be.reduce('sum', sq, loss, { outer: 1, axis: B * H, inner: 1 });
          be.axpy(W, dW, -0.01, H * H);
          losses.push(loss);
          for (const t of [...temps, sq, x, h]) be.free(t);
          h = cur;
        };
        const finish = async (): Promise<Float32Array> => {
          const out = new Float32Array(losses.length);
          for (let i = 0; i < losses.length; i++) out[i] = (await be.read(losses[i]!, 'float32', 1))[0]!;
          for (const b of [...losses, W, dW, h]) be.free(b);
          return out;
        };
        return { step, finish };
      };
      const m0 = g.memory();
      const gpuRun = makeRun(g);
      const created: number[] = [];
      const held: number[] = [];
      for (let i = 0; i < 6; i++) {
        const before = g.stats().bindGroups;
        gpuRun.step(i);
        created.push(g.stats().bindGroups - before);
        const m = g.memory();
        held.push(m.liveBuffers + m.pooledBuffers);
      }
      // The first steps make their bind groups (the set of free buffers settles over the first three: the
      // state carried in from the previous step is one of them); the later ones get the same buffers and
      // so the same groups. With LIFO reuse, most dispatches of every step made a new one (19 of 23). The
      // one exception: each step's loss is a new buffer, since the earlier losses are still held, so its
      // reduce needs a new group.
      expect(created[0]).toBeGreaterThan(15);
      expect(created.slice(3)).toEqual([1, 1, 1]);
      // No buffer piles up: from the second step on, the step's buffers come from the pool (plus one
      // 16-byte buffer for each kept loss).
      for (let i = 2; i < held.length; i++) expect(held[i]! - held[i - 1]!).toBeLessThanOrEqual(1);
      console.log(`[tinytape] bind groups created per training-like step: ${created.join(', ')}`);
      const got = await gpuRun.finish();
      const cpuRun = makeRun(cpu);
      for (let i = 0; i < 6; i++) cpuRun.step(i);
      expectClose(got, await cpuRun.finish(), 1e-4, 1e-5);
      expect(g.memory().liveBuffers).toBe(m0.liveBuffers);
    });

    it('pipelines are cached: repeating an op compiles nothing new', async (ctx) => {
      const g = G(ctx);
      const x = g.upload(randF32(64, 1));
      const o = g.alloc(64, 'float32');
      g.unary('exp', x, o, 64);
      const p0 = g.stats().pipelines;
      for (let i = 0; i < 20; i++) g.unary('exp', x, o, 64 - i);
      g.flush();
      expect(g.stats().pipelines).toBe(p0);
      g.free(x);
      g.free(o);
    });

    it('free-while-queued: a queued kernel still reads the ORIGINAL data of a freed buffer', async (ctx) => {
      const g = G(ctx);
      g.flush();
      const n = 777;
      const original = randF32(n, 41);
      const x = g.upload(original);
      const out = g.alloc(n, 'float32');
      g.scalar('mul', x, 3, out, n); // queued, not submitted
      g.free(x);
      // Same size class: a naive pool would hand x's buffer back and overwrite it before the kernel runs.
      const y = g.upload(new Float32Array(n).fill(-1));
      const z = g.alloc(n, 'float32');
      g.fill(z, n, 5, 'float32');
      const got = await g.read(out, 'float32', n);
      expectClose(got, original.map((v) => v * 3));
      expect(await g.read(y, 'float32', n)).toEqual(new Float32Array(n).fill(-1));
      for (const b of [out, y, z]) g.free(b);
    });

    it('free-while-queued: a buffer recycled within the batch and freed unused stays off-limits to upload', async (ctx) => {
      const g = G(ctx);
      g.flush();
      const n = 555;
      const original = randF32(n, 42);
      const x = g.upload(original);
      const out = g.alloc(n, 'float32');
      g.unary('neg', x, out, n);
      g.free(x);
      const y = g.alloc(n, 'float32'); // may be x's buffer, recycled inside the batch
      g.free(y); // freed without any use
      const z = g.upload(new Float32Array(n).fill(9)); // must not be written into x's buffer now
      expectClose(await g.read(out, 'float32', n), original.map((v) => -v));
      expect(await g.read(z, 'float32', n)).toEqual(new Float32Array(n).fill(9));
      g.free(out);
      g.free(z);
    });

    it('reports memory per live buffer and frees into the pool', (ctx) => {
      const g = G(ctx);
      const m0 = g.memory();
      const a = g.alloc(100, 'float32');
      const m1 = g.memory();
      expect(m1.liveBuffers).toBe(m0.liveBuffers + 1);
      expect(m1.liveBytes - m0.liveBytes).toBeGreaterThanOrEqual(400);
      g.free(a);
      const m2 = g.memory();
      expect(m2.liveBuffers).toBe(m0.liveBuffers);
      expect(m2.pooledBuffers).toBeGreaterThanOrEqual(1);
    });
  });
});
