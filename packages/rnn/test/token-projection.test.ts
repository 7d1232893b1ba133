// projectTokens (the one-hot input projection as a row gather) against the composition it replaces,
// add(matmul(oneHot(Xᵀ), W_ihᵀ), bias): the same xp — bit for bit on the CPU devices — and the same
// gradients of W_ih, b_ih and b_hh to 1e-6 relative, with and without b_hh, with repeated and
// out-of-range tokens, on every device; gradcheck; argument checks; and one dispatch each way on WebGPU.
import { afterAll, describe, expect, it } from 'vitest';
import { backward, formatTape, gradcheck } from '@tinytape/autograd';
import {
  DTypeError, type Device, Generator, cpu, reference, ShapeError, type Tensor, type WebGPUBackend, add, matmul, oneHot, reshape, tensor, transpose, uniform,
} from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import { projectTokens, projectTokensBackward } from '../src/kernels/token-projection.ts';

const devices = await testDevices({ reference: true });
afterAll(releaseTestDevices);

/** What the concise models compute today: one-hot rows, time-major, times W_ihᵀ, plus the bias. */
function oneHotProjection(X: Tensor, wIh: Tensor, bIh: Tensor, bHh?: Tensor): Tensor {
  const [batch, steps] = X.shape as [number, number];
  const vocab = wIh.shape[1]!;
  const x = reshape(oneHot(transpose(X), vocab), [steps * batch, vocab]);
  return add(matmul(x, wIh, { transB: true }), bHh === undefined ? bIh : add(bIh, bHh));
}

/** Deterministic tokens in [lo, hi), so that a short sequence repeats some of them. */
function tokens(batch: number, steps: number, lo: number, hi: number, seed: number): Int32Array {
  let s = seed;
  return Int32Array.from({ length: batch * steps }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return lo + ((s >>> 16) % (hi - lo));
  });
}

interface Case {
  batch: number;
  steps: number;
  rows: number;
  vocab: number;
}

// Small and misaligned: rows of W fewer than a workgroup's lanes and more (70 > 64), xp row counts that
// are not a multiple of the rows a workgroup takes (8 on a software adapter), a vocabulary of one.
// Rows that are a multiple of 4 take the CPU device's wasm row copies (72: into an xp buffer in the
// wasm memory, written in place; 4: a short xp, a plain array), the others its plain loop.
const CASES: Case[] = [
  { batch: 3, steps: 5, rows: 6, vocab: 7 },
  { batch: 4, steps: 9, rows: 70, vocab: 5 },
  { batch: 4, steps: 9, rows: 72, vocab: 5 },
  { batch: 1, steps: 3, rows: 4, vocab: 1 },
];

/** Host copies of freshly drawn parameters, so each path gets its own leaves. */
async function drawParams(device: Device, c: Case, seed: number): Promise<Float32Array[]> {
  const g = new Generator(seed);
  return Promise.all([[c.rows, c.vocab], [c.rows], [c.rows]].map((shape) => uniform(shape, -2, 2, { device, generator: g }).toArray() as Promise<Float32Array>));
}

/** Leaves that require grad, made from host values. */
function leaves(device: Device, c: Case, host: Float32Array[], withHh: boolean): Tensor[] {
  const shapes = [[c.rows, c.vocab], [c.rows], [c.rows]];
  return host.slice(0, withHh ? 3 : 2).map((v, i) => tensor(v, { shape: shapes[i]!, device, requiresGrad: true }));
}

/** |got − want| ≤ 1e-6 · max|want| elementwise (float32 sums in a different order). */
function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i]! - want[i]!) > 1e-6 * scale) expect.fail(`${what}[${i}]: ${got[i]} vs ${want[i]} (scale ${scale})`);
  }
}

async function expectSameValues(kind: string, got: Tensor, want: Tensor, what: string): Promise<void> {
  const [a, b] = [await got.toArray(), await want.toArray()];
  if (kind === 'webgpu') expectClose(a, b, what);
  else expect(Array.from(a), what).toEqual(Array.from(b));
}

/** xp and the three gradients through `project`, for an upstream gradient `up` (host values). */
async function run(
  device: Device, c: Case, X: Tensor, host: Float32Array[], withHh: boolean, up: Float32Array,
  project: (X: Tensor, w: Tensor, bi: Tensor, bh?: Tensor) => Tensor,
): Promise<{ xp: Float32Array; grads: Float32Array[] }> {
  const params = leaves(device, c, host, withHh);
  const xp = project(X, params[0]!, params[1]!, params[2]);
  const values = (await xp.toArray()) as Float32Array;
  backward(xp, { gradient: tensor(up, { shape: xp.shape, device }) });
  const grads = await Promise.all(params.map((p) => p.grad!.toArray() as Promise<Float32Array>));
  return { xp: values, grads };
}

describe.each(devices.map((d) => [d.kind, d] as const))('projectTokens on %s', (kind, device) => {
  it.each(CASES)('equals the one-hot composition forward, with and without b_hh (%o)', async (c) => {
    const X = tensor(tokens(c.batch, c.steps, 0, c.vocab, 3), { shape: [c.batch, c.steps], dtype: 'int32', device });
    const g = new Generator(4);
    const [w, bi, bh] = [uniform([c.rows, c.vocab], -2, 2, { device, generator: g }), uniform([c.rows], -2, 2, { device, generator: g }), uniform([c.rows], -2, 2, { device, generator: g })];
    const xp = projectTokens(X, w, bi, bh);
    expect(xp.shape).toEqual([c.steps * c.batch, c.rows]);
    await expectSameValues(kind, xp, oneHotProjection(X, w, bi, bh), 'xp (b_ih + b_hh)');
    await expectSameValues(kind, projectTokens(X, w, bi), oneHotProjection(X, w, bi), 'xp (b_ih)');
  });

  it.each(CASES)('gives the one-hot composition\'s gradients for W_ih, b_ih and b_hh (%o)', async (c) => {
    const X = tensor(tokens(c.batch, c.steps, 0, c.vocab, 5), { shape: [c.batch, c.steps], dtype: 'int32', device });
    const host = await drawParams(device, c, 6);
    const up = (await uniform([c.steps * c.batch, c.rows], -1, 1, { device, generator: new Generator(7) }).toArray()) as Float32Array;
    for (const withHh of [true, false]) {
      const got = await run(device, c, X, host, withHh, up, projectTokens);
      const want = await run(device, c, X, host, withHh, up, oneHotProjection);
      expect(got.grads.length).toBe(withHh ? 3 : 2);
      ['dW_ih', 'db_ih', 'db_hh'].slice(0, got.grads.length).forEach((name, i) => expectClose(got.grads[i]!, want.grads[i]!, `${name} (b_hh ${withHh})`));
    }
  });

  it.each([5, 24])('gives a token outside [0, vocab) the bias alone and no weight gradient, as its zero one-hot row does (%i rows)', async (rows) => {
    const c = { batch: 2, steps: 4, rows, vocab: 3 };
    const ints = Int32Array.from([0, -1, 2, 3, 1000, 1, -2147483648, 2]);
    const X = tensor(ints, { shape: [c.batch, c.steps], dtype: 'int32', device });
    const host = await drawParams(device, c, 8);
    const up = (await uniform([c.steps * c.batch, c.rows], -1, 1, { device, generator: new Generator(9) }).toArray()) as Float32Array;
    const got = await run(device, c, X, host, true, up, projectTokens);
    const want = await run(device, c, X, host, true, up, oneHotProjection);
    if (kind === 'webgpu') expectClose(got.xp, want.xp, 'xp');
    else expect(Array.from(got.xp)).toEqual(Array.from(want.xp));
    // Row r = t·batch + b; out-of-range tokens sit at X[0, 1], X[0, 3], X[1, 0], X[1, 2].
    const bias = host[1]!.map((v, k) => Math.fround(v + host[2]![k]!));
    for (const [b, t] of [[0, 1], [0, 3], [1, 0], [1, 2]] as const) {
      const r = t * c.batch + b;
      expect(Array.from(got.xp.subarray(r * c.rows, (r + 1) * c.rows)), `row ${r}`).toEqual(Array.from(bias));
    }
    ['dW_ih', 'db_ih', 'db_hh'].forEach((name, i) => expectClose(got.grads[i]!, want.grads[i]!, name));
  });

  it('sums each gradient in row order, so every vocabulary block size gives the same bits', async () => {
    const c = { batch: 5, steps: 7, rows: 9, vocab: 7 };
    const X = tensor(tokens(c.batch, c.steps, -1, c.vocab + 1, 10), { shape: [c.batch, c.steps], dtype: 'int32', device });
    const g = uniform([c.steps * c.batch, c.rows], -1, 1, { device, generator: new Generator(11) });
    const results = await Promise.all([0, 1, 3, 7].map(async (vocabBlock) =>
      Promise.all(projectTokensBackward(g, X, [c.rows, c.vocab], true, { vocabBlock }).map(async (t) => Array.from(await t.toArray())))));
    for (const r of results.slice(1)) expect(r).toEqual(results[0]);
    const [dW, dbIh, dbHh] = results[0]!;
    expect(dbHh).toEqual(dbIh);
    // The plain sums in float64 bound the float32 ones.
    const gs = await g.toArray();
    const ints = await X.toArray();
    const want = new Float64Array(c.rows * c.vocab);
    for (let t = 0; t < c.steps; t++) {
      for (let b = 0; b < c.batch; b++) {
        const v = ints[b * c.steps + t]!;
        if (v < 0 || v >= c.vocab) continue;
        for (let k = 0; k < c.rows; k++) want[k * c.vocab + v] += gs[(t * c.batch + b) * c.rows + k]!;
      }
    }
    dW!.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-5));
  });

  it('passes gradcheck, with and without b_hh', async () => {
    const c = { batch: 2, steps: 3, rows: 3, vocab: 4 };
    const X = tensor(Int32Array.from([1, 3, 1, 0, 1, 5]), { shape: [c.batch, c.steps], dtype: 'int32', device });
    const g = new Generator(12);
    const [w, bi, bh] = [uniform([c.rows, c.vocab], -1, 1, { device, generator: g }), uniform([c.rows], -1, 1, { device, generator: g }), uniform([c.rows], -1, 1, { device, generator: g })];
    const both = await gradcheck((x, a, b, d) => projectTokens(x!, a!, b!, d!), [X, w, bi, bh]);
    expect(both.failures).toEqual([]);
    expect(both.checked).toBe(c.rows * c.vocab + 2 * c.rows);
    const ih = await gradcheck((x, a, b) => projectTokens(x!, a!, b!), [X, w, bi]);
    expect(ih.failures).toEqual([]);
    expect(ih.checked).toBe(c.rows * c.vocab + c.rows);
  });

  it('is recorded on the tape under its kernel name, and gives b_ih and b_hh gradients of their own', () => {
    const X = tensor(Int32Array.from([0, 1, 1, 0]), { shape: [2, 2], dtype: 'int32', device });
    const [w, bi, bh] = [[3, 2], [3], [3]].map((shape) => uniform(shape, -1, 1, { device, requiresGrad: true })) as [Tensor, Tensor, Tensor];
    const xp = projectTokens(X, w, bi, bh);
    expect(formatTape()).toMatch(/tokenProjection\s/);
    backward(xp, { gradient: uniform(xp.shape, -1, 1, { device }) });
    expect(bi.grad!.storage).not.toBe(bh.grad!.storage);
    const xpIh = projectTokens(X, w, bi);
    expect(formatTape()).toMatch(/tokenProjectionIh\s/);
    backward(xpIh, { gradient: uniform(xpIh.shape, -1, 1, { device }) });
  });

  it('refuses float tokens and misshapen tokens, weights and biases, naming the shape', () => {
    const X = tensor(Int32Array.from([0, 1, 2, 0]), { shape: [2, 2], dtype: 'int32', device });
    const w = uniform([3, 4], -1, 1, { device });
    const b = uniform([3], -1, 1, { device });
    expect(() => projectTokens(tensor([0, 1, 2, 0], { shape: [2, 2], device }), w, b, b)).toThrow(DTypeError);
    expect(() => projectTokens(tensor([0, 1, 2, 0], { shape: [2, 2], device }), w, b, b)).toThrow(/int32.*\[2,2\]/);
    expect(() => projectTokens(reshape(X, [4]), w, b, b)).toThrow(ShapeError);
    expect(() => projectTokens(reshape(X, [4]), w, b, b)).toThrow(/\[4\]/);
    expect(() => projectTokens(X, reshape(w, [12]), b, b)).toThrow(/wIh.*\[12\]/);
    expect(() => projectTokens(X, uniform([3, 0], -1, 1, { device }), b, b)).toThrow(/wIh.*\[3,0\]/);
    expect(() => projectTokens(X, w, uniform([4], -1, 1, { device }), b)).toThrow(/bIh must be \[3\].*\[4\]/);
    expect(() => projectTokens(X, w, b, uniform([3, 1], -1, 1, { device }))).toThrow(/bHh must be \[3\].*\[3,1\]/);
    expect(() => projectTokens(X, w, b, uniform([3, 1], -1, 1, { device }))).toThrow(ShapeError);
    expect(() => projectTokensBackward(uniform([3, 3], -1, 1, { device }), X, [3, 4], true)).toThrow(/g must be \[4,3\].*\[3,3\]/);
  });
});

describe.runIf(devices.some((d) => d.kind === 'webgpu'))('dispatches of projectTokens on WebGPU', () => {
  it('is one forward and one for the whole gradient, with no zero fills', async () => {
    const device = devices.find((d) => d.kind === 'webgpu')!;
    const stats = () => (device.backend as unknown as WebGPUBackend).stats().dispatches;
    const c = { batch: 32, steps: 35, rows: 96, vocab: 28 };
    const X = tensor(tokens(c.batch, c.steps, 0, c.vocab, 13), { shape: [c.batch, c.steps], dtype: 'int32', device });
    for (const withHh of [true, false]) {
      const host = await drawParams(device, c, 14);
      const params = leaves(device, c, host, withHh);
      const upstream = uniform([c.steps * c.batch, c.rows], -1, 1, { device });
      const before = stats();
      const xp = projectTokens(X, params[0]!, params[1]!, params[2]);
      expect(stats() - before, 'forward').toBe(1);
      const mid = stats();
      // The rule's kernel writes every element of its outputs, and fresh gradients become the leaves'
      // .grad as they are, so the whole backward is the one dispatch.
      backward(xp, { gradient: upstream });
      expect(stats() - mid, 'backward').toBe(1);
      const direct = stats();
      projectTokensBackward(upstream, X, [c.rows, c.vocab], withHh);
      expect(stats() - direct, 'projectTokensBackward').toBe(1);
      expect((await params[0]!.grad!.toArray()).some((v) => v !== 0)).toBe(true);
    }
  });
});

describe('projectTokensBackward on the CPU device (sums in wasm)', () => {
  it('equals the reference loops bit for bit, out-of-range tokens included', async () => {
    const c = { batch: 6, steps: 5, rows: 12, vocab: 4 };
    const ints = tokens(c.batch, c.steps, -2, c.vocab + 2, 12);
    const results = await Promise.all([cpu(), reference()].map(async (device) => {
      const X = tensor(ints, { shape: [c.batch, c.steps], dtype: 'int32', device });
      const g = uniform([c.steps * c.batch, c.rows], -1, 1, { device, generator: new Generator(13) });
      return Promise.all(projectTokensBackward(g, X, [c.rows, c.vocab], true).map(async (t) => Array.from(await t.toArray())));
    }));
    expect(ints.some((t) => t < 0 || t >= c.vocab)).toBe(true);
    expect(results[0]).toEqual(results[1]);
  });
});
