// The Backend contract, reductions and the softmax family: reduce sum / max, argmax (ties, NaN),
// softmax, log-softmax, cross-entropy and its gradient, on every backend — against oracles written
// here (double precision, central differences) and against the reference backend.
import { describe, expect, it } from 'vitest';
import type { AxisParams } from '../../backend.ts';
import { againstReference, contiguousStrides, contractBackends, expectClose, f32, i32, prod, randF32, randI32, readF32, readI32, slack, unravel } from './support.ts';

const backends = await contractBackends();

/** Reduces axis `axis` of a row-major tensor of `shape`, the obvious way. */
function oracle(op: 'sum' | 'max' | 'argmax', x: Float32Array, shape: number[], axis: number): number[] {
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

const axisParams = (shape: number[], axis: number): AxisParams => ({
  outer: prod(shape.slice(0, axis)),
  axis: shape[axis]!,
  inner: prod(shape.slice(axis + 1)),
});

/** log softmax of one row in double precision, written the textbook way (with the max shift). */
function logSoftmaxRow(row: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(row));
  const lse = m + Math.log(Array.from(row).reduce((s, v) => s + Math.exp(v - m), 0));
  return Array.from(row, (v) => v - lse);
}

const REDUCE_CASES: [number[], number][] = [
  [[3, 4, 5], 0], [[3, 4, 5], 1], [[3, 4, 5], 2], [[257], 0], [[1, 33, 1], 1], [[33, 257], 0], [[33, 257], 1],
  [[2, 3, 4, 5], 2], [[1000], 0], [[2, 300, 3], 1], [[3, 257], 0], [[5000, 300], 1],
];
// [600, 28]: more rows than a workgroup has threads (the one-pass loss); [16400, 2]: past the one-pass limit.
const SOFTMAX_SHAPES: [number, number][] = [[1, 1], [3, 5], [33, 28], [600, 28], [16400, 2], [2, 257], [4, 65], [3, 1027]];

describe.each(backends.map((be) => [be.name, be] as const))('reductions and softmax on %s', (_name, be) => {
  const s = slack(be);

  it.each(REDUCE_CASES)('sum, max and argmax of %j over axis %i', async (shape, axis) => {
    const x = randF32(prod(shape), 40 + prod(shape) + axis);
    // Coarse values make ties common, so argmax's first-max rule is exercised.
    const q = x.map((v) => Math.round(v * 2) / 2);
    const p = axisParams(shape, axis);
    const n = p.outer * p.inner;
    const [ref, got] = await againstReference(be, [x, q], [f32(n), f32(n), i32(n)], (k, [xb, qb], [sum, max, arg]) => {
      k.reduce('sum', xb, sum, p);
      k.reduce('max', xb, max, p);
      k.argmax(qb, arg, p);
    });
    expectClose(ref[0]!, oracle('sum', x, shape, axis), 1e-5);
    expect(Array.from(ref[1]!)).toEqual(oracle('max', x, shape, axis));
    expect(Array.from(ref[2]!)).toEqual(oracle('argmax', q, shape, axis));
    expectClose(got[0]!, ref[0]!, 1e-5 * s);
    expect(got[1]).toEqual(ref[1]);
    expect(got[2]).toEqual(ref[2]);
  });

  it('argmax picks the first of equal maxima along a strided axis', async () => {
    const x = be.upload(new Float32Array([1, 5, 5, 2, 5, 5])); // [3, 2], reduce axis 0
    const out = be.alloc(2, 'int32');
    be.argmax(x, out, { outer: 1, axis: 3, inner: 2 });
    expect(Array.from(await readI32(be, out, 2))).toEqual([1, 0]);
    be.argmax(x, out, { outer: 2, axis: 3, inner: 1 });
    expect(Array.from(await readI32(be, out, 2))).toEqual([1, 1]);
  });

  it('an empty axis sums to 0 and maxes to -Infinity', async () => {
    const out = be.alloc(6, 'float32');
    be.reduce('sum', be.alloc(0, 'float32'), out, { outer: 2, axis: 0, inner: 3 });
    expect(Array.from(await readF32(be, out, 6))).toEqual([0, 0, 0, 0, 0, 0]);
    be.reduce('max', be.alloc(0, 'float32'), out, { outer: 2, axis: 0, inner: 3 });
    expect(Array.from(await readF32(be, out, 6))).toEqual(new Array(6).fill(-Infinity));
  });

  it('max and argmax let NaN win, contiguous and strided', async () => {
    const x = be.upload(new Float32Array([1, NaN, 3, 2, 0, 1]));
    const out = be.alloc(2, 'float32');
    be.reduce('max', x, out, { outer: 2, axis: 3, inner: 1 });
    const got = await readF32(be, out, 2);
    expect(got[0]).toBeNaN();
    expect(got[1]).toBe(2);
    be.reduce('max', x, out, { outer: 1, axis: 3, inner: 2 });
    const strided = await readF32(be, out, 2);
    expect(strided[0]).toBe(3);
    expect(strided[1]).toBeNaN();
    for (const p of [{ outer: 2, axis: 5, inner: 1 }, { outer: 1, axis: 600, inner: 2 }]) {
      const y = randF32(p.outer * p.axis * p.inner, 5);
      y[3] = NaN;
      y[y.length - 2] = NaN;
      const n = p.outer * p.inner;
      const [ref, mine] = await againstReference(be, [y], [f32(n), i32(n)], (k, [yb], [m, i]) => {
        k.reduce('max', yb, m, p);
        k.argmax(yb, i, p);
      });
      expect(mine).toEqual(ref);
    }
  });

  it.each(SOFTMAX_SHAPES)('softmax and logSoftmax of [%i, %i] match the textbook formula; rows sum to 1', async (rows, cols) => {
    const x = randF32(rows * cols, rows + cols, -8, 8);
    x[0] = 80; // large logits must not overflow
    const [ref, got] = await againstReference(be, [x], [f32(x.length), f32(x.length)], (k, [xb], [sm, lsm]) => {
      k.softmax(xb, sm, rows, cols, false);
      k.softmax(xb, lsm, rows, cols, true);
    });
    const expectedLog: number[] = [];
    for (let r = 0; r < rows; r++) expectedLog.push(...logSoftmaxRow(x.subarray(r * cols, (r + 1) * cols)));
    expectClose(ref[0]!, expectedLog.map(Math.exp), 1e-6);
    expectClose(ref[1]!, expectedLog, 1e-5);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += ref[0]![r * cols + c]!;
      expect(sum).toBeCloseTo(1, 5);
    }
    expectClose(got[0]!, ref[0]!, 1e-5 * s, 1e-6);
    expectClose(got[1]!, ref[1]!, 1e-5 * s, 1e-5);
  });

  it('softmax of huge logits does not overflow, and neither does cross-entropy', async () => {
    const x = be.upload(new Float32Array([1000, 999, -1000, 1000, 1000, 1000]));
    const sm = be.alloc(6, 'float32');
    be.softmax(x, sm, 2, 3, false);
    const e = Math.exp(-1);
    expectClose(await readF32(be, sm, 6), [1 / (1 + e), e / (1 + e), 0, 1 / 3, 1 / 3, 1 / 3], 1e-6 * s);
    be.softmax(x, sm, 2, 3, true);
    const logs = await readF32(be, sm, 6);
    expect(logs.every((v) => Number.isFinite(v))).toBe(true);
    expect(logs[0]).toBeCloseTo(-Math.log(1 + e), 5);
    const loss = be.alloc(1, 'float32');
    be.crossEntropy(x, be.upload(new Int32Array([1, 2])), loss, 2, 3);
    expect((await readF32(be, loss, 1))[0]).toBeCloseTo((1 + Math.log(1 + e) + Math.log(3)) / 2, 4);
  });

  it.each(SOFTMAX_SHAPES)('crossEntropy of [%i, %i] is −mean(log softmax[target]); its gradient is the formula and central differences', async (rows, cols) => {
    const x = randF32(rows * cols, 3 * rows + cols, -4, 4);
    const t = randI32(rows, rows, 0, cols);
    const g = 0.7;
    const [ref, got] = await againstReference(be, [x, t, Float32Array.from([g])], [f32(1), f32(rows * cols)], (k, [l, tb, go], [loss, grad]) => {
      k.crossEntropy(l, tb, loss, rows, cols);
      k.crossEntropyBackward(l, tb, go, grad, rows, cols);
    });
    let total = 0;
    const formula: number[] = [];
    for (let r = 0; r < rows; r++) {
      const ls = logSoftmaxRow(x.subarray(r * cols, (r + 1) * cols));
      total -= ls[t[r]!]!;
      ls.forEach((v, j) => formula.push((g * (Math.exp(v) - (j === t[r] ? 1 : 0))) / rows));
    }
    expectClose(ref[0]!, [total / rows], 1e-5);
    expectClose(ref[1]!, formula, 1e-5);
    expectClose(got[0]!, ref[0]!, 1e-5 * s);
    expectClose(got[1]!, ref[1]!, 1e-5 * s, 1e-7);

    // Central differences of this backend's own forward kernel, on a sample of positions.
    const tb = be.upload(t);
    const loss = async (xs: Float32Array) => {
      const out = be.alloc(1, 'float32');
      be.crossEntropy(be.upload(xs), tb, out, rows, cols);
      return (await readF32(be, out, 1))[0]!;
    };
    const eps = 1e-2;
    const step = Math.max(1, Math.floor((rows * cols) / 12));
    for (let i = 0; i < rows * cols; i += step) {
      const xp = x.slice();
      const xm = x.slice();
      xp[i]! += eps;
      xm[i]! -= eps;
      const fd = (g * ((await loss(xp)) - (await loss(xm)))) / (2 * eps);
      expect(Math.abs(got[1]![i]! - fd), `position ${i}: analytic ${got[1]![i]} vs numeric ${fd}`).toBeLessThan(2e-3);
    }
  });

  it('an out-of-range target poisons the loss and its row of the gradient with NaN', async () => {
    const [ref, got] = await againstReference(be, [randF32(6, 1), Int32Array.from([1, 3]), Float32Array.from([1])], [f32(1), f32(6)], (k, [l, t, go], [loss, grad]) => {
      k.crossEntropy(l, t, loss, 2, 3);
      k.crossEntropyBackward(l, t, go, grad, 2, 3);
    });
    expect(ref[0]![0]).toBeNaN();
    expect(Array.from(ref[1]!.subarray(3)).every(Number.isNaN)).toBe(true);
    expect(Array.from(ref[1]!.subarray(0, 3)).some(Number.isNaN)).toBe(false);
    expectClose(got[0]!, ref[0]!);
    expectClose(got[1]!, ref[1]!);
  });
});

describe.each(backends.filter((be) => be.name === 'webgpu').map((be) => [be.name, be] as const))('softmax at scale on %s', (_name, be) => {
  it('over more rows than one grid dimension holds (2-D dispatch)', async () => {
    const rows = 70000;
    const cols = 65; // one workgroup per row: 70000 > 65535 workgroups
    const x = randF32(rows * cols, 3, -3, 3);
    const [[ref], [got]] = await againstReference(be, [x], [f32(x.length)], (k, [xb], [out]) => k.softmax(xb, out, rows, cols, true));
    expectClose(got!, ref!, 1e-4, 1e-5);
  });
});
