// gradClipping, sgd and adam on the multi-tensor kernels (kernels/multi-tensor.ts), on every device,
// against the op-by-op code they replace, written out here as the oracle and run on the same device.
// The updates must match bit for bit on the CPU backends (the host kernels round as the ops did) and
// within 1e-6 on WebGPU; the norm is summed in another order, so it and the clipped gradients are
// held to a tolerance. On WebGPU the dispatches of each call are counted, and nothing is read back.
import { afterAll, describe, expect, it } from 'vitest';
import { backward, noGrad } from '@tinytape/autograd';
import {
  type Device, type Tensor, type WebGPUBackend, add, div, keep, memory, minimum, mul, scope, sqrt, square, sum, tensor, zeros,
} from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import { adam, gradClipping, sgd } from '../src/index.ts';
import { bufferBudget } from '../src/kernels/multi-tensor.ts';

const devices = await testDevices({ reference: true });
afterAll(releaseTestDevices);

/** Seven parameters of odd sizes: more than one chunk of every kernel but the first stage of clipping. */
const SHAPES = [[1], [3], [257], [2, 5], [5], [8, 8], [7]];
/** Eighteen parameters: several chunks of every kernel. */
const MANY = Array.from({ length: 18 }, (_, i) => [1 + ((i * 37) % 29)]);

/** Deterministic values in [−scale, scale): a small LCG, so every device sees the same numbers. */
function values(n: number, seed: number, scale = 1): number[] {
  let s = seed * 2654435761 + 12345;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}

const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/** Parameters of the given shapes, each with the gradient `gradSeed` gives (scaled by `gradScale`). */
function paramsWithGrads(device: Device, shapes: number[][], gradSeed: number, gradScale = 1): Tensor[] {
  return shapes.map((shape, i) => {
    const p = tensor(values(sizeOf(shape), 100 + i), { shape, device, requiresGrad: true });
    p.grad = keep(tensor(values(sizeOf(shape), gradSeed + i, gradScale), { shape, device }));
    return p;
  });
}

/** The clipping this file's kernels replace, op by op (d2l's grad_clipping as tinytape wrote it). */
function oldClipping(grads: Tensor[], theta: number): Tensor {
  return noGrad(() =>
    scope(() => {
      const norm = sqrt(grads.map((g) => sum(square(g))).reduce((acc, s) => add(acc, s)));
      const scale = minimum(div(theta, norm), 1);
      for (const g of grads) g.mul_(scale);
      return norm;
    }),
  );
}

/** The old Adam step, op by op, for parameter tensors and their moments. */
function oldAdamStep(params: Tensor[], m: Tensor[], v: Tensor[], t: number, lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): void {
  const c1 = 1 - b1 ** t;
  const c2 = 1 - b2 ** t;
  noGrad(() =>
    params.forEach((p, i) => {
      const g = p.grad!;
      m[i]!.mul_(b1).axpy_(g, 1 - b1);
      scope(() => {
        v[i]!.mul_(b2).axpy_(square(g), 1 - b2);
        p.axpy_(div(m[i]!, add(mul(sqrt(v[i]!), 1 / Math.sqrt(c2)), eps)), -lr / c1);
      });
      g.zero_();
    }),
  );
}

const read = async (ts: Tensor[]): Promise<number[][]> => Promise.all(ts.map(async (t) => Array.from(await t.toArray())));

/** Equal bit for bit on the CPU backends, within 1e-6 (relative, absolute below 1) on WebGPU. */
function expectMatch(device: Device, got: number[][], want: number[][], tol = 1e-6): void {
  if (device.kind !== 'webgpu') {
    expect(got).toEqual(want);
    return;
  }
  expectClose(got, want, tol);
}

/** Within `tol` relative to max(|want|, 1), element by element. */
function expectClose(got: number[][], want: number[][], tol: number): void {
  expect(got.map((t) => t.length)).toEqual(want.map((t) => t.length));
  got.forEach((t, i) =>
    t.forEach((x, k) => {
      const w = want[i]![k]!;
      if (Math.abs(x - w) > tol * Math.max(Math.abs(w), 1)) expect.fail(`tensor ${i}[${k}]: ${x} vs ${w}`);
    }),
  );
}

/** Runs backward on Σ sum(p · c), whose gradient for each p is its c (step-dependent values). */
function backwardOfDot(params: Tensor[], device: Device, seed: number): void {
  const term = (p: Tensor, i: number): Tensor => sum(mul(p, tensor(values(p.size, seed + i), { shape: p.shape, device })));
  const loss = scope(() => params.map(term).reduce((a, b) => add(a, b)));
  backward(loss);
  loss.dispose();
}

const dispose = (ts: Tensor[]): void => ts.forEach((t) => t.dispose());

describe.each(devices.map((d) => [d.kind, d] as const))('multi-tensor kernels on %s', (_kind, device) => {

  describe.each([
    ['7 parameters', SHAPES],
    ['18 parameters', MANY],
  ] as const)('gradClipping, %s', (_name, shapes) => {
    it.each([
      ['clips when the norm exceeds θ', 1, 1],
      ['leaves the gradients as they are when the norm is below θ', 1e3, 1],
      ['leaves all-zero gradients at zero', 1, 0],
    ])('%s', async (_what, theta, gradScale) => {
      const ours = paramsWithGrads(device, shapes as number[][], 7, gradScale);
      const theirs = paramsWithGrads(device, shapes as number[][], 7, gradScale);
      const before = await read(ours.map((p) => p.grad!));
      const norm = gradClipping(ours, theta);
      const oldNorm = oldClipping(theirs.map((p) => p.grad!), theta);
      const [got, want] = [await norm.item(), await oldNorm.item()];
      expect(norm.shape).toEqual([]);
      expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-6 * want);
      const grads = await read(ours.map((p) => p.grad!));
      if (got > theta) expectClose(grads, await read(theirs.map((p) => p.grad!)), 1e-6);
      else expect(grads).toEqual(before); // untouched, bit for bit, on every device
      if (gradScale === 0) expect(got).toBe(0);
      dispose([...ours, ...theirs, norm, oldNorm]);
    });
  });

  it('clips one tensor exactly as the old ops did on the CPU backends', async () => {
    const [ours, theirs] = [paramsWithGrads(device, [[257]], 3, 2), paramsWithGrads(device, [[257]], 3, 2)];
    const norm = gradClipping(ours, 1.5);
    const oldNorm = oldClipping(theirs.map((p) => p.grad!), 1.5);
    const got = [[await norm.item()], ...(await read(ours.map((p) => p.grad!)))];
    expectMatch(device, got, [[await oldNorm.item()], ...(await read(theirs.map((p) => p.grad!)))]);
    dispose([...ours, ...theirs, norm, oldNorm]);
  });

  it('skips parameters without a gradient', async () => {
    const ours = paramsWithGrads(device, SHAPES, 11);
    const theirs = paramsWithGrads(device, SHAPES, 11);
    for (const ps of [ours, theirs]) {
      ps[2]!.grad!.dispose();
      ps[2]!.grad = null;
    }
    const norm = gradClipping(ours, 0.5);
    const oldNorm = oldClipping(theirs.flatMap((p) => (p.grad === null ? [] : [p.grad])), 0.5);
    expect(Math.abs((await norm.item()) - (await oldNorm.item()))).toBeLessThanOrEqual(1e-6 * (await oldNorm.item()));
    expect(ours[2]!.grad).toBeNull();
    const grads = (ps: Tensor[]): Promise<number[][]> => read(ps.flatMap((p) => (p.grad === null ? [] : [p.grad])));
    expectClose(await grads(ours), await grads(theirs), 1e-6);
    sgd(ours, 0.1, 2); // the same for the update: the parameter without a gradient is left alone
    expect(Array.from(await ours[2]!.toArray())).toEqual(Array.from(await theirs[2]!.toArray()));
    dispose([...ours, ...theirs, norm, oldNorm]);
  });

  it('sgd matches axpy_ and zero_ over several steps, with gradients from backward', async () => {
    const ours = paramsWithGrads(device, SHAPES, 0);
    const theirs = paramsWithGrads(device, SHAPES, 0);
    for (let step = 0; step < 3; step++) {
      for (const ps of [ours, theirs]) backwardOfDot(ps, device, 50 + step * 10);
      sgd(ours, 0.3, 4);
      noGrad(() => theirs.forEach((p) => {
        p.axpy_(p.grad!, -0.3 / 4);
        p.grad!.zero_();
      }));
      expectMatch(device, await read(ours), await read(theirs));
      expect(await read(ours.map((p) => p.grad!))).toEqual(await read(theirs.map((p) => p.grad!)));
    }
    dispose([...ours, ...theirs]);
  });

  it('adam matches the op-by-op update over several steps, moments included', async () => {
    const ours = paramsWithGrads(device, SHAPES, 0);
    const theirs = paramsWithGrads(device, SHAPES, 0);
    const updater = adam(ours, 0.05);
    const [m, v] = [theirs.map((p) => keep(zeros(p.shape, { device }))), theirs.map((p) => keep(zeros(p.shape, { device })))];
    for (let step = 1; step <= 4; step++) {
      for (const ps of [ours, theirs]) backwardOfDot(ps, device, 20 + step * 10);
      updater.step(1);
      oldAdamStep(theirs, m, v, step, 0.05);
      expectMatch(device, await read(ours), await read(theirs));
      const state = updater.state();
      expectMatch(device, await read(ours.map((_, i) => state[`exp_avg.${i}`]!)), await read(m));
      expectMatch(device, await read(ours.map((_, i) => state[`exp_avg_sq.${i}`]!)), await read(v));
      expect(await read(ours.map((p) => p.grad!))).toEqual(await read(theirs.map((p) => p.grad!)));
    }
    updater.dispose();
    dispose([...ours, ...theirs, ...m, ...v]);
  });

});

const gpu = devices.find((d) => d.kind === 'webgpu');

describe.runIf(gpu !== undefined)('multi-tensor kernels on WebGPU', () => {
  const device = gpu!;
  const backend = device.backend as WebGPUBackend;
  // Dispatches by the device's buffer budget: 8 is every adapter's minimum, 16 what Dawn grants on
  // lavapipe. Clipping: squares then scaling, (budget − 1) and (budget − 2) tensors at a time;
  // SGD budget/2 parameters a dispatch, Adam budget/4.
  const WANT: Record<number, Record<number, { clip: number; sgd: number; adam: number }>> = {
    8: { 6: { clip: 2, sgd: 2, adam: 3 }, 18: { clip: 6, sgd: 5, adam: 9 } },
    16: { 6: { clip: 2, sgd: 1, adam: 2 }, 18: { clip: 4, sgd: 3, adam: 5 } },
  };

  it('uses the device\'s storage-buffer limit, between 8 and 16', () => {
    const limit = backend.device.limits.maxStorageBuffersPerShaderStage;
    expect(bufferBudget(device)).toBe(Math.max(8, Math.min(16, limit)));
    expect(Object.keys(WANT)).toContain(String(bufferBudget(device)));
  });

  it.each([6, 18])('on WebGPU, %i parameters cost a fixed few dispatches and no readback', (count) => {
    const want = WANT[bufferBudget(device)]![count]!;
    const shapes = Array.from({ length: count }, (_, i) => [3 + ((i * 53) % 41)]);
    const params = paramsWithGrads(device, shapes, 5);
    const updater = adam(params, 0.01);
    const cost = (run: () => void): number => {
      const before = backend.stats().dispatches;
      scope(run);
      return backend.stats().dispatches - before;
    };
    const step = (): { clip: number; sgd: number; adam: number } => {
      backwardOfDot(params, device, 9);
      const clip = cost(() => void gradClipping(params, 0.5));
      const sgdCost = cost(() => sgd(params, 0.1, 1));
      backwardOfDot(params, device, 9);
      return { clip, sgd: sgdCost, adam: cost(() => updater.step(1)) };
    };
    step(); // the moments' first use zero-fills them
    const readbacks = backend.stats().readbacks;
    const live = memory(device).liveTensors;
    expect(step()).toEqual(want);
    expect(step()).toEqual(want);
    expect(backend.stats().readbacks).toBe(readbacks);
    expect(memory(device).liveTensors).toBe(live);
    updater.dispose();
    dispose(params);
  });

  it('on WebGPU, backward after sgd spends no dispatch on adding into the zeroed gradients', () => {
    const params = paramsWithGrads(device, SHAPES, 5);
    const backwardCost = (zero: () => void): number => {
      zero();
      const before = backend.stats().dispatches;
      backwardOfDot(params, device, 9);
      return backend.stats().dispatches - before;
    };
    // fill_(0) zeroes without the mark that zero_() and the optimizers leave.
    const plainZero = () => noGrad(() => params.forEach((p) => p.grad!.fill_(0)));
    backwardCost(plainZero);
    const afterZero = backwardCost(plainZero);
    const afterSgd = backwardCost(() => sgd(params, 0.1, 1));
    expect(afterSgd).toBe(afterZero - params.length);
    dispose(params);
  });
});
