import { afterAll, describe, expect, it } from 'vitest';
import { backward } from '@tinytape/autograd';
import { type WebGPUBackend, memory, mul, scope, sum, tensor } from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import { adam } from '../src/index.ts';

const devices = await testDevices();
afterAll(releaseTestDevices);

/** PyTorch's Adam written out on the host for one parameter vector. */
function referenceAdam(p: number[], grads: number[][], lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
      const mHat = m[i]! / (1 - b1 ** t);
      const vHat = v[i]! / (1 - b2 ** t);
      p[i] = p[i]! - (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
  });
  return p;
}

describe.each(devices.map((d) => [d.kind, d] as const))('adam on %s', (_kind, device) => {
  it("matches PyTorch's update rule over several steps and zeroes the gradients", async () => {
    const start = [0.5, -1, 2, 0.001];
    const grads = [[1, -2, 0.5, 1e-4], [0.3, 0.1, -3, 0], [-1, -1, 2, 5]];
    const p = tensor(start, { device, requiresGrad: true });
    const updater = adam([p], 0.1);
    for (const g of grads) {
      const loss = scope(() => sum(mul(p, tensor(g, { device }))));
      backward(loss); // d loss / dp = g
      loss.dispose();
      updater.step(1);
      expect(Array.from(await p.grad!.toArray())).toEqual([0, 0, 0, 0]);
    }
    expect(updater.steps).toBe(3);
    const expected = referenceAdam([...start], grads, 0.1);
    Array.from(await p.toArray()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    const state = updater.state();
    expect(Object.keys(state)).toEqual(['exp_avg.0', 'exp_avg_sq.0']);
    expect(state['exp_avg.0']!.kept).toBe(true);
    updater.dispose();
  });

  it('updates in place without reading back or leaking tensors, and its moments survive step scopes', async () => {
    const p = tensor([1, 2, 3], { device, requiresGrad: true });
    const updater = adam([p], 0.01, { beta1: 0.5, beta2: 0.9, eps: 1e-6 });
    const step = () => {
      const loss = scope(() => sum(mul(p, p)));
      backward(loss);
      loss.dispose();
      scope(() => updater.step(1));
    };
    step(); // allocates p.grad
    const live = memory(device).liveTensors;
    const backend = device.kind === 'webgpu' ? (device.backend as WebGPUBackend) : null;
    const readbacks = backend?.stats().readbacks ?? 0;
    for (let i = 0; i < 5; i++) step();
    expect(memory(device).liveTensors).toBe(live);
    if (backend) expect(backend.stats().readbacks).toBe(readbacks);
    expect(Object.values(updater.state()).every((t) => !t.isDisposed)).toBe(true);
    updater.dispose();
    expect(memory(device).liveTensors).toBe(live - 2);
  });

  it('rejects bad hyper-parameters', () => {
    const p = tensor([1], { device, requiresGrad: true });
    expect(() => adam([p], 0)).toThrow(/lr must be > 0/);
    expect(() => adam([p], 0.1, { beta2: 1 })).toThrow(/beta2 must be in \[0, 1\)/);
  });
});
