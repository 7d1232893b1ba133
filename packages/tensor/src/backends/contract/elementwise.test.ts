// The Backend contract, elementwise kernels and buffers: fill, unary, scalar, binary (broadcasting,
// in place), axpy and cast, on every backend — against oracles written here, and against the
// reference backend on the same inputs (see support.ts).
import { describe, expect, it } from 'vitest';
import type { BinaryOp, ScalarOp, UnaryOp } from '../../backend.ts';
import {
  againstReference, contiguousStrides, contractBackends, expectClose, f32, i32, layoutOf, prod, randF32, randI32, readF32, readI32,
  slack, unravel,
} from './support.ts';

const backends = await contractBackends();
const SIZES = [1, 3, 33, 257, 1000];

const UNARY: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: (x) => Math.exp(x),
  log: (x) => Math.log(x),
  tanh: (x) => Math.tanh(x),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (x > 0 ? x : 0),
  sqrt: (x) => Math.sqrt(x),
  square: (x) => x * x,
  abs: (x) => Math.abs(x),
  step: (x) => (x > 0 ? 1 : 0),
  oneMinusSquare: (x) => 1 - x * x,
  sigmoidGradFromOutput: (x) => x * (1 - x),
};

const SCALAR: Record<ScalarOp, (x: number, s: number) => number> = {
  add: (x, s) => x + s,
  sub: (x, s) => x - s,
  rsub: (x, s) => s - x,
  mul: (x, s) => x * s,
  div: (x, s) => x / s,
  rdiv: (x, s) => s / x,
  pow: (x, s) => Math.pow(x, s),
  maximum: (x, s) => (x > s ? x : s),
  minimum: (x, s) => (x < s ? x : s),
};

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => (a > b ? a : b),
  minimum: (a, b) => (a < b ? a : b),
};

/** out[idx] = a[idx mod aShape] (op) b[idx mod bShape], one output element at a time, in doubles. */
function binaryOracle(op: BinaryOp, a: Float32Array, pa: readonly number[], b: Float32Array, pb: readonly number[], outShape: readonly number[]): Float64Array {
  const out = new Float64Array(prod(outShape));
  const sa = contiguousStrides(pa);
  const sb = contiguousStrides(pb);
  for (let f = 0; f < out.length; f++) {
    const idx = unravel(f, outShape);
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < idx.length; d++) {
      ia += (pa[d] === 1 ? 0 : idx[d]!) * sa[d]!;
      ib += (pb[d] === 1 ? 0 : idx[d]!) * sb[d]!;
    }
    out[f] = BINARY[op](a[ia]!, b[ib]!);
  }
  return out;
}

// [a shape, b shape, which path it is meant to exercise]
const SHAPE_PAIRS: [number[], number[], string][] = [
  [[257], [257], 'same shape'],
  [[3, 33], [3, 33], 'same shape rank 2'],
  [[3, 33], [1], 'single-element b'],
  [[2, 3, 5], [], 'rank-0 b'],
  [[33, 7], [7], 'row vector b (bias)'],
  [[6, 5], [1, 5], 'row vector b with leading 1'],
  [[2, 3, 5], [5], 'row vector b over rank 3'],
  [[33, 7], [33, 1], 'column b'],
  [[1], [5], 'single-element a'],
  [[3, 1], [1, 4], 'outer product'],
  [[2, 3, 4], [3, 1], 'rank 3 middle'],
  [[2, 1, 4, 3], [5, 1, 1], 'rank 4 mixed'],
  [[2, 3, 4, 5], [2, 1, 4, 1], 'rank 4 alternating'],
  [[4, 1, 3], [4, 5, 1], 'both broadcast'],
  [[2, 3, 1, 4, 1, 3], [1, 3, 2, 1, 5, 1], 'rank 6'],
  [[35, 4, 12], [12], 'long bias rows'],
];

describe.each(backends.map((be) => [be.name, be] as const))('buffers and elementwise kernels on %s', (_name, be) => {
  const tol = 1e-6 * slack(be);

  it('alloc zeroes, upload copies, read returns a copy of the first size words, memory counts live buffers', async () => {
    const before = be.memory();
    const z = be.alloc(5, 'float32');
    expect(Array.from(await readF32(be, z, 5))).toEqual([0, 0, 0, 0, 0]);
    const src = new Int32Array([1, 2, 3]);
    const u = be.upload(src);
    src[0] = 99;
    const got = await readI32(be, u, 3);
    expect(got).toBeInstanceOf(Int32Array);
    expect(Array.from(got)).toEqual([1, 2, 3]);
    got[1] = -7;
    expect(Array.from(await readI32(be, u, 3))).toEqual([1, 2, 3]);
    expect(Array.from(await readI32(be, u, 2))).toEqual([1, 2]);
    expect(be.memory().liveBuffers).toBe(before.liveBuffers + 2);
    be.free(z);
    be.free(u);
    expect(be.memory().liveBuffers).toBe(before.liveBuffers);
    expect(be.memory().liveBytes).toBe(before.liveBytes);
  });

  it('uploads and reads back both dtypes at every size, empty included', async () => {
    for (const n of [0, 1, 3, 257]) {
      const x = randF32(n, n);
      const b = be.upload(x);
      expect(await be.read(b, 'float32', n)).toEqual(x);
      const ints = randI32(n, n + 1, -1000, 1000);
      const c = be.upload(ints);
      expect(await be.read(c, 'int32', n)).toEqual(ints);
      for (const t of [b, c]) be.free(t);
    }
  });

  it('fill writes float and int values over the first size elements', async () => {
    const f = be.alloc(4, 'float32');
    be.fill(f, 3, 2.5, 'float32');
    expect(Array.from(await readF32(be, f, 4))).toEqual([2.5, 2.5, 2.5, 0]);
    const i = be.alloc(3, 'int32');
    be.fill(i, 3, -4, 'int32');
    expect(Array.from(await readI32(be, i, 3))).toEqual([-4, -4, -4]);
    for (const n of SIZES) {
      const [ref, got] = await againstReference(be, [], [f32(n), i32(n)], (b, _, [x, y]) => {
        b.fill(x, n, -1.25, 'float32');
        b.fill(y, n, -7, 'int32');
      });
      expect(got).toEqual(ref);
    }
  });

  const unaryCases = (Object.keys(UNARY) as UnaryOp[]).flatMap((op) => SIZES.map((n) => [op, n] as const));
  it.each(unaryCases)('unary %s on %i elements matches its formula and the reference', async (op, n) => {
    const positive = op === 'log' || op === 'sqrt';
    const x = randF32(n, 17 + n, positive ? 0.01 : -6, 6);
    if (op === 'tanh' && n >= 33) x.set([0, 1e-4, -1e-3, 20, -30, 9.5]);
    const [[ref], [got]] = await againstReference(be, [x], [f32(n)], (b, [xb], [out]) => b.unary(op, xb, out, n));
    expectClose(ref!, Array.from(x, UNARY[op]), 1e-6);
    expectClose(got!, ref!, tol);
  });

  it('sigmoid saturates without overflow or NaN for huge inputs; step is 0 at 0; relu keeps negatives at 0', async () => {
    const x = be.upload(new Float32Array([-1000, -100, 0, 100, 1000]));
    const out = be.alloc(5, 'float32');
    be.unary('sigmoid', x, out, 5);
    // σ(−100) is a float32 subnormal, which a GPU may flush to zero.
    expectClose(await readF32(be, out, 5), [0, Math.fround(1 / (1 + Math.exp(100))), 0.5, 1, 1], tol, be.name === 'webgpu' ? 1e-37 : 0);
    const y = be.upload(new Float32Array([-1, 0, 2]));
    const o = be.alloc(3, 'float32');
    be.unary('step', y, o, 3);
    expect(Array.from(await readF32(be, o, 3))).toEqual([0, 0, 1]);
    be.unary('relu', y, o, 3);
    expect(Array.from(await readF32(be, o, 3))).toEqual([0, 0, 2]);
  });

  it('a kernel whose input is also its output (unary in place)', async () => {
    const x = randF32(300, 8);
    const [[ref], [got]] = await againstReference(be, [], [{ size: 300, dtype: 'float32', init: x }], (b, _, [o]) => b.unary('tanh', o, o, 300));
    expectClose(ref!, Array.from(x, Math.tanh), 1e-6);
    expectClose(got!, ref!, tol);
  });

  const scalarCases = (Object.keys(SCALAR) as ScalarOp[]).flatMap((op) => SIZES.map((n) => [op, n] as const));
  it.each(scalarCases)('scalar %s on %i elements matches its formula and the reference', async (op, n) => {
    const scalars = op === 'pow' ? [2, 3, 0.5, -1, 2.5, 0] : [0.75, -3];
    for (const s of scalars) {
      const fractional = op === 'pow' && !Number.isInteger(s);
      const x = randF32(n, 5 + n, fractional ? 0.1 : -3, 3);
      if (op === 'rdiv' || op === 'pow') for (let i = 0; i < n; i++) if (Math.abs(x[i]!) < 0.05) x[i] = 0.5;
      const [[ref], [got]] = await againstReference(be, [x], [f32(n)], (b, [xb], [out]) => b.scalar(op, xb, s, out, n));
      expectClose(ref!, Array.from(x, (v) => SCALAR[op](v, s)), 1e-6);
      expectClose(got!, ref!, tol);
    }
  });

  it('rsub and rdiv put the scalar on the left', async () => {
    const x = be.upload(new Float32Array([4]));
    const out = be.alloc(1, 'float32');
    be.scalar('rsub', x, 10, out, 1);
    expect((await readF32(be, out, 1))[0]).toBe(6);
    be.scalar('rdiv', x, 10, out, 1);
    expect((await readF32(be, out, 1))[0]).toBe(2.5);
    be.scalar('pow', x, 0.5, out, 1);
    expect((await readF32(be, out, 1))[0]).toBe(2);
  });

  const binaryCases = SHAPE_PAIRS.flatMap(([as, bs, why]) => (Object.keys(BINARY) as BinaryOp[]).map((op) => [op, as, bs, why] as const));
  it.each(binaryCases)('binary %s %j with %j (%s)', async (op, aShape, bShape) => {
    const L = layoutOf(aShape, bShape);
    const a = randF32(prod(aShape), 100 + prod(aShape));
    const b = randF32(prod(bShape), 200 + prod(bShape), 0.5, 2);
    const [[ref], [got]] = await againstReference(be, [a, b], [f32(L.size)], (k, [x, y], [o]) => k.binary(op, x, y, o, L));
    expectClose(ref!, binaryOracle(op, a, L.pa, b, L.pb, L.outShape), 1e-6);
    expectClose(got!, ref!, tol);
  });

  // In place needs b to broadcast into a's own shape.
  const inPlace = SHAPE_PAIRS.filter(([as, bs]) => as.length >= bs.length && layoutOf(as, bs).size === prod(as)).map(([as, bs]) => [as, bs]);
  it.each(inPlace)('binaryInPlace sub %j -= %j mutates a', async (aShape, bShape) => {
    const L = layoutOf(aShape, bShape);
    const layout = { ...L, aStrides: contiguousStrides(L.outShape) };
    const a = randF32(L.size, 7);
    const b = randF32(prod(bShape), 8);
    const [[ref], [got]] = await againstReference(be, [b], [{ size: a.length, dtype: 'float32', init: a }], (k, [y], [x]) =>
      k.binaryInPlace('sub', x, y, layout));
    expectClose(ref!, binaryOracle('sub', a, L.pa, b, L.pb, L.outShape), 1e-6);
    expectClose(got!, ref!, tol);
  });

  it('binaryInPlace of a with itself (a *= a)', async () => {
    const a = randF32(100, 23);
    const layout = layoutOf([100], [100]);
    const [[ref], [got]] = await againstReference(be, [], [{ size: 100, dtype: 'float32', init: a }], (k, _, [x]) => k.binaryInPlace('mul', x, x, layout));
    expectClose(ref!, Array.from(a, (v) => v * v), 1e-6);
    expectClose(got!, ref!, tol);
  });

  it('binary follows arbitrary strides (a read transposed) on the general path', async () => {
    const a = randF32(15, 3); // stored [5, 3], read as its transpose [3, 5]
    const b = randF32(5, 4);
    const layout = { outShape: [3, 5], aStrides: [1, 3], bStrides: [0, 1], size: 15 };
    const [[ref], [got]] = await againstReference(be, [a, b], [f32(15)], (k, [x, y], [o]) => k.binary('mul', x, y, o, layout));
    const expected: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) expected.push(a[j * 3 + i]! * b[j]!);
    expectClose(ref!, expected, 1e-6);
    expectClose(got!, ref!, tol);
  });

  it('axpy adds alpha * x into y in place', async () => {
    for (const n of SIZES) {
      const y = randF32(n, 1 + n);
      const x = randF32(n, 2 + n);
      const [[ref], [got]] = await againstReference(be, [x], [{ size: n, dtype: 'float32', init: y }], (k, [xb], [yb]) => k.axpy(yb, xb, -0.3, n));
      expectClose(ref!, Array.from(y, (v, i) => v - 0.3 * x[i]!), 1e-6);
      expectClose(got!, ref!, tol);
    }
  });

  it('cast: float32 -> int32 truncates toward zero; int32 -> float32 is exact; same-dtype copies', async () => {
    const x = Float32Array.from([2.7, -2.7, 0.5, -0.5, 3, -1e6, 1.9, -1.9]);
    const ints = Int32Array.from([-16777216, 5, 16777216, 0, -3, 7, 123456, -99]);
    const n = x.length;
    const [ref, got] = await againstReference(be, [x, ints], [i32(n), f32(n), f32(n), i32(n)], (k, [xf, xi], [a, b, d, e]) => {
      k.cast(xf, a, n, 'float32', 'int32');
      k.cast(xi, b, n, 'int32', 'float32');
      k.cast(xf, d, n, 'float32', 'float32');
      k.cast(xi, e, n, 'int32', 'int32');
    });
    expect(Array.from(ref[0]!)).toEqual([2, -2, 0, 0, 3, -1000000, 1, -1]);
    expect(Array.from(ref[1]!)).toEqual(Array.from(ints));
    expect(ref[2]).toEqual(x);
    expect(ref[3]).toEqual(ints);
    expect(got).toEqual(ref);
  });
});
