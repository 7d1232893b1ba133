import { describe, expect, it } from 'vitest';
import type { BinaryOp, MatmulParams, ScalarOp, UnaryOp } from '../../backend.ts';
import { createCpuBackend } from './index.ts';
import { rng } from '../../test-random.ts';

// Every kernel is checked against a reference written here as the most obvious nested loops, in
// double precision, on small and odd sizes that hit both the fast paths and their ragged edges.

const be = createCpuBackend();

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

/** Multi-index of flat position `flat` in row-major `shape`. */
function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = flat % shape[d]!;
    flat = Math.floor(flat / shape[d]!);
  }
  return idx;
}

/** Element-by-element comparison with a mixed absolute/relative tolerance; names the first mismatch. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e)) {
      expect(a, `index ${i}`).toBeNaN();
      continue;
    }
    if (a === e) continue;
    const err = Math.abs(a - e);
    if (!(err <= tol * Math.max(1, Math.abs(e)))) {
      expect.fail(`index ${i}: got ${a}, expected ${e} (|diff| ${err} > tol ${tol})`);
    }
  }
}

async function readF32(buf: unknown, size: number): Promise<Float32Array> {
  return (await be.read(buf, 'float32', size)) as Float32Array;
}

async function readI32(buf: unknown, size: number): Promise<Int32Array> {
  return (await be.read(buf, 'int32', size)) as Int32Array;
}

const SIZES = [1, 3, 33, 257];

describe('cpu backend buffers', () => {
  it('alloc zeroes, upload copies, read returns a copy, memory counts live buffers', async () => {
    const local = createCpuBackend();
    const z = local.alloc(5, 'float32');
    expect(Array.from(await local.read(z, 'float32', 5))).toEqual([0, 0, 0, 0, 0]);
    const src = new Int32Array([1, 2, 3]);
    const u = local.upload(src);
    src[0] = 99;
    const got = await local.read(u, 'int32', 3);
    expect(got).toBeInstanceOf(Int32Array);
    expect(Array.from(got)).toEqual([1, 2, 3]);
    got[1] = -7;
    expect(Array.from(await local.read(u, 'int32', 3))).toEqual([1, 2, 3]);
    expect(Array.from(await local.read(u, 'int32', 2))).toEqual([1, 2]);
    expect(local.memory()).toEqual({ liveBuffers: 2, liveBytes: 32, pooledBuffers: 0, pooledBytes: 0 });
    local.free(z);
    expect(local.memory()).toMatchObject({ liveBuffers: 1, liveBytes: 12 });
    local.free(u);
    expect(local.memory()).toMatchObject({ liveBuffers: 0, liveBytes: 0 });
    local.flush();
    local.destroy();
  });

  it('reuses a freed buffer of the same dtype and size, zeroed, and reports it as pooled meanwhile', async () => {
    const local = createCpuBackend();
    const a = local.alloc(100, 'float32');
    local.fill(a, 100, 3, 'float32');
    local.free(a);
    expect(local.memory()).toEqual({ liveBuffers: 0, liveBytes: 0, pooledBuffers: 1, pooledBytes: 400 });
    // Another dtype or size does not take it.
    const other = local.alloc(100, 'int32');
    const bigger = local.alloc(101, 'float32');
    expect(other).not.toBe(a);
    expect(bigger).not.toBe(a);
    const again = local.alloc(100, 'float32');
    expect(again).toBe(a);
    expect(Array.from(await local.read(again, 'float32', 100)).every((v) => v === 0)).toBe(true);
    expect(local.memory()).toMatchObject({ liveBuffers: 3, pooledBuffers: 0, pooledBytes: 0 });
    local.destroy();
  });

  it('fill writes float and int values over the first size elements', async () => {
    const f = be.alloc(4, 'float32');
    be.fill(f, 3, 2.5, 'float32');
    expect(Array.from(await readF32(f, 4))).toEqual([2.5, 2.5, 2.5, 0]);
    const i = be.alloc(3, 'int32');
    be.fill(i, 3, -4, 'int32');
    expect(Array.from(await readI32(i, 3))).toEqual([-4, -4, -4]);
  });
});

describe('cpu unary', () => {
  const refs: Record<UnaryOp, (x: number) => number> = {
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
  const cases = (Object.keys(refs) as UnaryOp[]).flatMap((op) => SIZES.map((n) => [op, n] as const));

  it.each(cases)('%s on %i elements matches the reference', async (op, n) => {
    const positive = op === 'log' || op === 'sqrt';
    const x = randF32(n, 17 + n, positive ? 0.01 : -3, 3);
    const xb = be.upload(x);
    const out = be.alloc(n, 'float32');
    be.unary(op, xb, out, n);
    expectClose(await readF32(out, n), Array.from(x, refs[op]), 1e-6);
  });

  it('sigmoid saturates without overflow or NaN for huge inputs', async () => {
    const x = be.upload(new Float32Array([-1000, -100, 0, 100, 1000]));
    const out = be.alloc(5, 'float32');
    be.unary('sigmoid', x, out, 5);
    const got = await readF32(out, 5);
    expect(Array.from(got)).toEqual([0, Math.fround(1 / (1 + Math.exp(100))), 0.5, 1, 1]);
  });

  it('step is 0 at exactly 0 and relu keeps negatives at 0', async () => {
    const x = be.upload(new Float32Array([-1, 0, 2]));
    const out = be.alloc(3, 'float32');
    be.unary('step', x, out, 3);
    expect(Array.from(await readF32(out, 3))).toEqual([0, 0, 1]);
    be.unary('relu', x, out, 3);
    expect(Array.from(await readF32(out, 3))).toEqual([0, 0, 2]);
  });
});

describe('cpu scalar', () => {
  const refs: Record<ScalarOp, (x: number, s: number) => number> = {
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
  const cases = (Object.keys(refs) as ScalarOp[]).flatMap((op) => SIZES.map((n) => [op, n] as const));

  it.each(cases)('%s on %i elements matches the reference', async (op, n) => {
    const x = randF32(n, 5 + n, op === 'pow' || op === 'rdiv' ? 0.1 : -3, 3);
    const s = op === 'pow' ? 2.5 : 0.75;
    const out = be.alloc(n, 'float32');
    be.scalar(op, be.upload(x), s, out, n);
    expectClose(await readF32(out, n), Array.from(x, (v) => refs[op](v, s)), 1e-6);
  });

  it('rsub and rdiv put the scalar on the left', async () => {
    const x = be.upload(new Float32Array([4]));
    const out = be.alloc(1, 'float32');
    be.scalar('rsub', x, 10, out, 1);
    expect((await readF32(out, 1))[0]).toBe(6);
    be.scalar('rdiv', x, 10, out, 1);
    expect((await readF32(out, 1))[0]).toBe(2.5);
    be.scalar('pow', x, 0.5, out, 1);
    expect((await readF32(out, 1))[0]).toBe(2);
  });
});

describe('cpu binary broadcasting', () => {
  const refs: Record<BinaryOp, (a: number, b: number) => number> = {
    add: (a, b) => a + b,
    sub: (a, b) => a - b,
    mul: (a, b) => a * b,
    div: (a, b) => a / b,
    maximum: (a, b) => (a > b ? a : b),
    minimum: (a, b) => (a < b ? a : b),
  };
  const ops = Object.keys(refs) as BinaryOp[];

  /** NumPy broadcasting, spelled out: the out shape and 0-strides on broadcast axes. */
  function layoutFor(aShape: number[], bShape: number[]) {
    const rank = Math.max(aShape.length, bShape.length);
    const pa = [...new Array<number>(rank - aShape.length).fill(1), ...aShape];
    const pb = [...new Array<number>(rank - bShape.length).fill(1), ...bShape];
    const outShape = pa.map((d, i) => Math.max(d, pb[i]!));
    const ca = contiguousStrides(pa);
    const cb = contiguousStrides(pb);
    return {
      outShape,
      aStrides: pa.map((d, i) => (d === 1 ? 0 : ca[i]!)),
      bStrides: pb.map((d, i) => (d === 1 ? 0 : cb[i]!)),
      size: prod(outShape),
      pa,
      pb,
    };
  }

  /** out[idx] = a[idx mod aShape] (op) b[idx mod bShape], one output element at a time. */
  function reference(op: BinaryOp, a: Float32Array, pa: number[], b: Float32Array, pb: number[], outShape: number[]) {
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
      out[f] = refs[op](a[ia]!, b[ib]!);
    }
    return out;
  }

  // [a shape, b shape, which path it is meant to exercise]
  const shapePairs: [number[], number[], string][] = [
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
    [[7], [1], 'rank 1 scalar'],
  ];
  const cases = shapePairs.flatMap(([as, bs, why]) => ops.map((op) => [op, as, bs, why] as const));

  it.each(cases)('%s %j with %j (%s)', async (op, aShape, bShape, _why) => {
    const L = layoutFor(aShape, bShape);
    const a = randF32(prod(aShape), 100 + prod(aShape));
    const b = randF32(prod(bShape), 200 + prod(bShape), 0.5, 2);
    const out = be.alloc(L.size, 'float32');
    be.binary(op, be.upload(a), be.upload(b), out, L);
    expectClose(await readF32(out, L.size), reference(op, a, L.pa, b, L.pb, L.outShape), 1e-6);
  });

  // In place needs b to broadcast into a's own shape.
  const inPlacePairs = shapePairs
    .filter(([as, bs]) => as.length >= bs.length && layoutFor(as, bs).size === prod(as))
    .map(([as, bs]) => [as, bs]);
  it.each(inPlacePairs)(
    'binaryInPlace sub %j -= %j mutates a',
    async (aShape, bShape) => {
      const L = layoutFor(aShape, bShape);
      const a = randF32(L.size, 7);
      const b = randF32(prod(bShape), 8);
      const ab = be.upload(a);
      be.binaryInPlace('sub', ab, be.upload(b), { ...L, aStrides: contiguousStrides(L.outShape) });
      expectClose(await readF32(ab, L.size), reference('sub', a, L.pa, b, L.pb, L.outShape), 1e-6);
    },
  );

  it('follows arbitrary strides (a read transposed) on the general path', async () => {
    const a = randF32(15, 3); // stored [5, 3], read as its transpose [3, 5]
    const b = randF32(5, 4);
    const out = be.alloc(15, 'float32');
    be.binary('mul', be.upload(a), be.upload(b), out, { outShape: [3, 5], aStrides: [1, 3], bStrides: [0, 1], size: 15 });
    const expected: number[] = [];
    for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) expected.push(a[j * 3 + i]! * b[j]!);
    expectClose(await readF32(out, 15), expected, 1e-6);
  });

  it('axpy adds alpha * x into y in place', async () => {
    for (const n of SIZES) {
      const y = randF32(n, 1 + n);
      const x = randF32(n, 2 + n);
      const yb = be.upload(y);
      be.axpy(yb, be.upload(x), -0.3, n);
      expectClose(await readF32(yb, n), Array.from(y, (v, i) => v - 0.3 * x[i]!), 1e-6);
    }
  });
});

describe('cpu matmul', () => {
  /** out[b][i][j] = sum_p op(A)[i][p] * op(B)[p][j], reading A and B by their stored layouts. */
  function reference(a: Float32Array, b: Float32Array, p: MatmulParams): Float64Array {
    const { batch, m, k, n, transA, transB, aBatchStride, bBatchStride } = p;
    const out = new Float64Array(batch * m * n);
    for (let bi = 0; bi < batch; bi++) {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let q = 0; q < k; q++) {
            const av = transA ? a[bi * aBatchStride + q * m + i]! : a[bi * aBatchStride + i * k + q]!;
            const bv = transB ? b[bi * bBatchStride + j * k + q]! : b[bi * bBatchStride + q * n + j]!;
            s += av * bv;
          }
          out[bi * m * n + i * n + j] = s;
        }
      }
    }
    return out;
  }

  const dims: [number, number, number][] = [
    [1, 1, 1], [3, 5, 7], [4, 4, 4], [5, 3, 9], [8, 33, 12], [33, 17, 6], [1, 64, 33], [13, 1, 5], [36, 20, 28],
  ];
  const combos = [[false, false], [true, false], [false, true], [true, true]] as const;
  const cases = dims.flatMap(([m, k, n]) => combos.map(([ta, tb]) => [m, k, n, ta, tb] as const));

  it.each(cases)('[%i x %i] @ [.. x %i] transA=%s transB=%s', async (m, k, n, transA, transB) => {
    const p: MatmulParams = { batch: 1, m, k, n, transA, transB, aBatchStride: 0, bBatchStride: 0 };
    const a = randF32(m * k, m * 31 + k);
    const b = randF32(k * n, n * 17 + k);
    const out = be.alloc(m * n, 'float32');
    be.fill(out, m * n, 123, 'float32');
    be.matmul(be.upload(a), be.upload(b), out, p);
    expectClose(await readF32(out, m * n), reference(a, b, p), 1e-5);
  });

  const batchCases = combos.flatMap(([ta, tb]) =>
    [[true, true], [false, true], [true, false]].map(([sa, sb]) => [ta, tb, sa!, sb!] as const),
  );
  it.each(batchCases)('batched x3, transA=%s transB=%s, a batched=%s b batched=%s', async (transA, transB, aB, bB) => {
    const [batch, m, k, n] = [3, 6, 7, 5];
    const p: MatmulParams = {
      batch, m, k, n, transA, transB, aBatchStride: aB ? m * k : 0, bBatchStride: bB ? k * n : 0,
    };
    const a = randF32((aB ? batch : 1) * m * k, 11);
    const b = randF32((bB ? batch : 1) * k * n, 12);
    const out = be.alloc(batch * m * n, 'float32');
    be.matmul(be.upload(a), be.upload(b), out, p);
    expectClose(await readF32(out, batch * m * n), reference(a, b, p), 1e-5);
  });

  it('k = 0 gives zeros, overwriting what was in out', async () => {
    const out = be.alloc(6, 'float32');
    be.fill(out, 6, 9, 'float32');
    const p: MatmulParams = { batch: 1, m: 2, k: 0, n: 3, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 };
    be.matmul(be.alloc(0, 'float32'), be.alloc(0, 'float32'), out, p);
    expect(Array.from(await readF32(out, 6))).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

describe('cpu reduce and argmax', () => {
  /** Reduces axis `axis` of a row-major tensor of `shape`, the obvious way. */
  function reference(op: 'sum' | 'max' | 'argmax', x: Float32Array, shape: number[], axis: number): number[] {
    const outShape = shape.filter((_, d) => d !== axis);
    const st = contiguousStrides(shape);
    const out: number[] = [];
    for (let f = 0; f < prod(outShape); f++) {
      const oi = unravel(f, outShape);
      const idx = [...oi.slice(0, axis), 0, ...oi.slice(axis)];
      let acc = op === 'sum' ? 0 : -Infinity;
      let at = 0;
      for (let a = 0; a < shape[axis]!; a++) {
        idx[axis] = a;
        const v = x[idx.reduce((s, i, d) => s + i * st[d]!, 0)]!;
        if (op === 'sum') acc += v;
        else if (v > acc) {
          acc = v;
          at = a;
        }
      }
      out.push(op === 'argmax' ? at : acc);
    }
    return out;
  }

  const params = (shape: number[], axis: number) => ({
    outer: prod(shape.slice(0, axis)),
    axis: shape[axis]!,
    inner: prod(shape.slice(axis + 1)),
  });

  const cases: [number[], number][] = [
    [[3, 4, 5], 0], [[3, 4, 5], 1], [[3, 4, 5], 2], [[257], 0], [[1, 33, 1], 1], [[33, 257], 0], [[33, 257], 1],
    [[2, 3, 4, 5], 2],
  ];
  const ops = ['sum', 'max', 'argmax'] as const;

  it.each(cases.flatMap(([s, ax]) => ops.map((op) => [op, s, ax] as const)))('%s of %j over axis %i', async (op, shape, axis) => {
    const x = randF32(prod(shape), 40 + prod(shape) + axis);
    // Coarse values make ties common, so argmax's first-max rule is exercised.
    if (op === 'argmax') for (let i = 0; i < x.length; i++) x[i] = Math.round(x[i]!);
    const p = params(shape, axis);
    const out = be.alloc(p.outer * p.inner, op === 'argmax' ? 'int32' : 'float32');
    if (op === 'argmax') be.argmax(be.upload(x), out, p);
    else be.reduce(op, be.upload(x), out, p);
    const got = op === 'argmax' ? await readI32(out, p.outer * p.inner) : await readF32(out, p.outer * p.inner);
    expectClose(got, reference(op, x, shape, axis), 1e-5);
  });

  it('argmax picks the first of equal maxima along a strided axis', async () => {
    const x = be.upload(new Float32Array([1, 5, 5, 2, 5, 5])); // [3, 2], reduce axis 0
    const out = be.alloc(2, 'int32');
    be.argmax(x, out, { outer: 1, axis: 3, inner: 2 });
    expect(Array.from(await readI32(out, 2))).toEqual([1, 0]);
    be.argmax(x, out, { outer: 2, axis: 3, inner: 1 });
    expect(Array.from(await readI32(out, 2))).toEqual([1, 1]);
  });

  it('an empty axis sums to 0 and maxes to -Infinity', async () => {
    const out = be.alloc(6, 'float32');
    be.reduce('sum', be.alloc(0, 'float32'), out, { outer: 2, axis: 0, inner: 3 });
    expect(Array.from(await readF32(out, 6))).toEqual([0, 0, 0, 0, 0, 0]);
    be.reduce('max', be.alloc(0, 'float32'), out, { outer: 2, axis: 0, inner: 3 });
    expect(Array.from(await readF32(out, 6))).toEqual(new Array(6).fill(-Infinity));
  });

  it('max propagates NaN', async () => {
    const x = be.upload(new Float32Array([1, NaN, 3, 2, 0, 1]));
    const out = be.alloc(2, 'float32');
    be.reduce('max', x, out, { outer: 2, axis: 3, inner: 1 });
    const got = await readF32(out, 2);
    expect(got[0]).toBeNaN();
    expect(got[1]).toBe(2);
    be.reduce('max', x, out, { outer: 1, axis: 3, inner: 2 });
    const strided = await readF32(out, 2);
    expect(strided[0]).toBe(3);
    expect(strided[1]).toBeNaN();
  });
});

describe('cpu copy', () => {
  /** dst[dstOffset + i·dstStrides] = src[srcOffset + i·srcStrides], one index tuple at a time. */
  function reference(src: ArrayLike<number>, dst: number[], p: {
    shape: number[]; srcStrides: number[]; dstStrides: number[]; srcOffset: number; dstOffset: number;
  }): number[] {
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

  async function runPermute(shape: number[], perm: number[]) {
    const x = randF32(prod(shape), prod(shape) + perm[0]!);
    const st = contiguousStrides(shape);
    const outShape = perm.map((q) => shape[q]!);
    const p = {
      shape: outShape, srcStrides: perm.map((q) => st[q]!), dstStrides: contiguousStrides(outShape),
      srcOffset: 0, dstOffset: 0, size: prod(shape),
    };
    const out = be.alloc(p.size, 'float32');
    be.copy(be.upload(x), out, p);
    return { got: await readF32(out, p.size), x, outShape };
  }

  it('transposes [3, 5] into [5, 3]', async () => {
    const { got, x } = await runPermute([3, 5], [1, 0]);
    const expected: number[] = [];
    for (let j = 0; j < 5; j++) for (let i = 0; i < 3; i++) expected.push(x[i * 5 + j]!);
    expect(Array.from(got)).toEqual(expected);
  });

  it.each([
    [[2, 3, 4], [2, 0, 1]], [[2, 3, 4], [0, 2, 1]], [[33, 1, 5], [1, 2, 0]], [[2, 3, 4, 5], [3, 1, 0, 2]],
    [[2, 3, 40, 5], [0, 1, 3, 2]], [[4, 1, 6, 2], [0, 1, 2, 3]],
  ])('permutes %j by %j', async (shape, perm) => {
    const { got, x, outShape } = await runPermute(shape, perm);
    const st = contiguousStrides(shape);
    const expected: number[] = [];
    for (let f = 0; f < prod(outShape); f++) {
      const oi = unravel(f, outShape);
      let s = 0;
      for (let d = 0; d < perm.length; d++) s += oi[d]! * st[perm[d]!]!;
      expected.push(x[s]!);
    }
    expect(Array.from(got)).toEqual(expected);
  });

  it.each([
    [[4, 40, 3], 1, 5, 37], [[4, 40, 3], 1, 2, 4], [[257], 0, 3, 250], [[6, 7], 0, 1, 4], [[6, 7], 1, 2, 5],
    [[3, 100], 1, 10, 90],
  ])('slices %j along axis %i from %i to %i', async (shape, axis, start, end) => {
    const x = randF32(prod(shape), 9);
    const st = contiguousStrides(shape);
    const outShape = shape.map((d, i) => (i === axis ? end - start : d));
    const p = {
      shape: outShape, srcStrides: st, dstStrides: contiguousStrides(outShape),
      srcOffset: start * st[axis]!, dstOffset: 0, size: prod(outShape),
    };
    const out = be.alloc(p.size, 'float32');
    be.copy(be.upload(x), out, p);
    expect(Array.from(await readF32(out, p.size))).toEqual(reference(x, new Array(p.size).fill(0), p));
  });

  it.each([
    [[3, 2], [3, 40], 1], [[2, 5, 3], [4, 5, 3], 0], [[2, 5, 3], [2, 1, 3], 1], [[1, 4], [1, 50], 1],
  ])('concatenates %j and %j along axis %i', async (s1, s2, axis) => {
    const outShape = s1.map((d, i) => (i === axis ? d + s2[i]! : d));
    const dstStrides = contiguousStrides(outShape);
    const out = be.alloc(prod(outShape), 'int32');
    let expected = new Array<number>(prod(outShape)).fill(0);
    let offset = 0;
    for (const [i, shape] of [s1, s2].entries()) {
      const x = randI32(prod(shape), 60 + i, -1000, 1000);
      const p = {
        shape, srcStrides: contiguousStrides(shape), dstStrides, srcOffset: 0,
        dstOffset: offset * dstStrides[axis]!, size: prod(shape),
      };
      be.copy(be.upload(x), out, p);
      expected = reference(x, expected, p);
      offset += shape[axis]!;
    }
    const got = await readI32(out, prod(outShape));
    expect(Array.from(got)).toEqual(expected);
    // Every element was written by exactly one part, so none of the initial zeros survive by accident.
    expect(expected.filter((v) => v === 0).length).toBeLessThan(3);
  });

  it('copies a rank-0 element between offsets', async () => {
    const out = be.alloc(4, 'float32');
    be.copy(be.upload(new Float32Array([7, 8, 9])), out, {
      shape: [], srcStrides: [], dstStrides: [], srcOffset: 2, dstOffset: 3, size: 1,
    });
    expect(Array.from(await readF32(out, 4))).toEqual([0, 0, 0, 9]);
  });
});

describe('cpu gather, scatterAdd, oneHot', () => {
  it.each([1, 5, 40])('gather rows of size %i (float and int tables)', async (rowSize) => {
    const tableRows = 9;
    const idx = new Int32Array([3, 0, 8, 3, 5]);
    for (const dtype of ['float32', 'int32'] as const) {
      const table = dtype === 'float32' ? randF32(tableRows * rowSize, rowSize) : randI32(tableRows * rowSize, rowSize, -50, 50);
      const out = be.alloc(idx.length * rowSize, dtype);
      be.gather(be.upload(table), be.upload(idx), out, { numIndices: idx.length, tableRows, rowSize });
      const expected: number[] = [];
      for (const r of idx) for (let c = 0; c < rowSize; c++) expected.push(table[r * rowSize + c]!);
      const got = await be.read(out, dtype, idx.length * rowSize);
      expect(Array.from(got)).toEqual(expected);
    }
  });

  it('gather gives a zero row for an out-of-range index', async () => {
    const out = be.alloc(4, 'float32');
    be.fill(out, 4, 5, 'float32');
    be.gather(be.upload(new Float32Array([1, 2, 3, 4])), be.upload(new Int32Array([1, 2])), out, {
      numIndices: 2, tableRows: 2, rowSize: 2,
    });
    expect(Array.from(await readF32(out, 4))).toEqual([3, 4, 0, 0]);
  });

  it.each([1, 3, 33])('scatterAdd accumulates repeated indices (row size %i)', async (rowSize) => {
    const tableRows = 6;
    const idx = randI32(40, rowSize, 0, tableRows);
    const src = randF32(40 * rowSize, 77);
    const base = randF32(tableRows * rowSize, 78);
    const out = be.upload(base);
    be.scatterAdd(be.upload(src), be.upload(idx), out, { numIndices: 40, tableRows, rowSize });
    const expected = Float64Array.from(base);
    for (let r = 0; r < 40; r++) for (let c = 0; c < rowSize; c++) expected[idx[r]! * rowSize + c]! += src[r * rowSize + c]!;
    expectClose(await readF32(out, tableRows * rowSize), expected, 1e-5);
  });

  it('oneHot sets one 1 per row and leaves out-of-range rows zero', async () => {
    const idx = new Int32Array([2, 0, -1, 4, 3]);
    const depth = 4;
    const out = be.alloc(idx.length * depth, 'float32');
    be.oneHot(be.upload(idx), out, idx.length, depth);
    const expected: number[] = [];
    for (const i of idx) for (let j = 0; j < depth; j++) expected.push(i === j ? 1 : 0);
    expect(Array.from(await readF32(out, idx.length * depth))).toEqual(expected);
  });
});

describe('cpu softmax and cross-entropy', () => {
  /** log softmax of one row in double precision, written the textbook way (with the max shift). */
  function logSoftmaxRow(row: ArrayLike<number>): number[] {
    const m = Math.max(...Array.from(row));
    const lse = m + Math.log(Array.from(row).reduce((s, v) => s + Math.exp(v - m), 0));
    return Array.from(row, (v) => v - lse);
  }

  const shapes: [number, number][] = [[1, 1], [3, 5], [33, 28], [2, 257]];

  it.each(shapes)('softmax and logSoftmax of [%i, %i] match the reference; rows sum to 1', async (rows, cols) => {
    const x = randF32(rows * cols, rows + cols, -5, 5);
    const xb = be.upload(x);
    const sm = be.alloc(rows * cols, 'float32');
    const lsm = be.alloc(rows * cols, 'float32');
    be.softmax(xb, sm, rows, cols, false);
    be.softmax(xb, lsm, rows, cols, true);
    const expectedLog: number[] = [];
    for (let r = 0; r < rows; r++) expectedLog.push(...logSoftmaxRow(x.subarray(r * cols, (r + 1) * cols)));
    const got = await readF32(sm, rows * cols);
    expectClose(got, expectedLog.map(Math.exp), 1e-6);
    expectClose(await readF32(lsm, rows * cols), expectedLog, 1e-5);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += got[r * cols + c]!;
      expect(s).toBeCloseTo(1, 5);
    }
  });

  it('huge logits do not overflow', async () => {
    const x = be.upload(new Float32Array([1000, 999, -1000, 1000, 1000, 1000]));
    const sm = be.alloc(6, 'float32');
    be.softmax(x, sm, 2, 3, false);
    const e = Math.exp(-1);
    expectClose(await readF32(sm, 6), [1 / (1 + e), e / (1 + e), 0, 1 / 3, 1 / 3, 1 / 3], 1e-6);
    be.softmax(x, sm, 2, 3, true);
    const logs = await readF32(sm, 6);
    expect(logs.every((v) => Number.isFinite(v))).toBe(true);
    expect(logs[0]).toBeCloseTo(-Math.log(1 + e), 5);
    const loss = be.alloc(1, 'float32');
    be.crossEntropy(x, be.upload(new Int32Array([1, 2])), loss, 2, 3);
    expect((await readF32(loss, 1))[0]).toBeCloseTo((1 + Math.log(1 + e) + Math.log(3)) / 2, 4);
  });

  it.each(shapes)('crossEntropy of [%i, %i] equals -mean(log softmax[target])', async (rows, cols) => {
    const x = randF32(rows * cols, 3 * rows + cols, -4, 4);
    const t = randI32(rows, rows, 0, cols);
    const out = be.alloc(1, 'float32');
    be.crossEntropy(be.upload(x), be.upload(t), out, rows, cols);
    let total = 0;
    for (let r = 0; r < rows; r++) total -= logSoftmaxRow(x.subarray(r * cols, (r + 1) * cols))[t[r]!]!;
    expectClose(await readF32(out, 1), [total / rows], 1e-5);
  });

  it.each(shapes)('crossEntropyBackward of [%i, %i] matches the formula and central differences', async (rows, cols) => {
    const x = randF32(rows * cols, 5 * rows + cols, -3, 3);
    const t = randI32(rows, 2 * rows, 0, cols);
    const g = 0.7;
    const tb = be.upload(t);
    const grad = be.alloc(rows * cols, 'float32');
    be.crossEntropyBackward(be.upload(x), tb, be.upload(new Float32Array([g])), grad, rows, cols);
    const got = await readF32(grad, rows * cols);

    const formula: number[] = [];
    for (let r = 0; r < rows; r++) {
      const ls = logSoftmaxRow(x.subarray(r * cols, (r + 1) * cols));
      ls.forEach((v, j) => formula.push((g * (Math.exp(v) - (j === t[r] ? 1 : 0))) / rows));
    }
    expectClose(got, formula, 1e-5);

    // Central differences of the backend's own forward kernel, on a sample of positions.
    const loss = async (xs: Float32Array) => {
      const out = be.alloc(1, 'float32');
      be.crossEntropy(be.upload(xs), tb, out, rows, cols);
      return (await readF32(out, 1))[0]!;
    };
    const eps = 1e-2;
    const step = Math.max(1, Math.floor((rows * cols) / 40));
    for (let i = 0; i < rows * cols; i += step) {
      const xp = x.slice();
      const xm = x.slice();
      xp[i]! += eps;
      xm[i]! -= eps;
      const fd = (g * ((await loss(xp)) - (await loss(xm)))) / (2 * eps);
      expect(Math.abs(got[i]! - fd), `position ${i}: analytic ${got[i]} vs numeric ${fd}`).toBeLessThan(2e-3);
    }
  });
});

describe('cpu cast', () => {
  it('float32 -> int32 truncates toward zero; int32 -> float32 is exact', async () => {
    const f = be.upload(new Float32Array([2.7, -2.7, 0.5, -0.5, 3, -1e6]));
    const i = be.alloc(6, 'int32');
    be.cast(f, i, 6, 'float32', 'int32');
    expect(Array.from(await readI32(i, 6))).toEqual([2, -2, 0, 0, 3, -1000000]);
    const back = be.alloc(3, 'float32');
    be.cast(be.upload(new Int32Array([-16777216, 5, 16777216])), back, 3, 'int32', 'float32');
    expect(Array.from(await readF32(back, 3))).toEqual([-16777216, 5, 16777216]);
  });
});
