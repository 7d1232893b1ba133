// The one-dispatch joins of recurrent layers' parts against the engine's stack and concat: same values,
// same gradients, on every device; one dispatch each way on WebGPU.
import { afterAll, describe, expect, it } from 'vitest';
import { backward } from '@tinytape/autograd';
import { type Tensor, type WebGPUBackend, Generator, ShapeError, concat, mul, stack, sum, uniform } from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import { joinFeatures, stackRows } from '../src/kernels/join.ts';

const devices = await testDevices({ reference: true });
afterAll(releaseTestDevices);

/** Values and input gradients of `f` under a random upstream gradient. */
async function run(f: (xs: Tensor[]) => Tensor, xs: Tensor[]): Promise<{ value: number[]; grads: number[][] }> {
  const out = f(xs);
  const mix = uniform(out.shape, -1, 1, { device: out.device, generator: new Generator(9) });
  backward(sum(mul(out, mix)));
  const result = { value: Array.from(await out.toArray()), grads: await Promise.all(xs.map(async (x) => Array.from(await x.grad!.toArray()))) };
  for (const x of xs) x.grad = null;
  return result;
}

describe.each(devices.map((d) => [d.kind, d] as const))('joins on %s', (_kind, device) => {
  const draw = (shape: number[], seed: number) => uniform(shape, -1, 1, { device, generator: new Generator(seed), requiresGrad: true });

  it.each([1, 2, 4, 7, 9])('stackRows of %i parts equals stack, values and gradients', async (n) => {
    const parts = Array.from({ length: n }, (_, i) => draw([3, 5], i + 1));
    expect(await run(stackRows, parts)).toEqual(await run((xs) => stack(xs), parts));
  });

  it('joinFeatures equals concat along the last axis, also for unequal widths', async () => {
    const a = draw([4, 3, 5], 1);
    const b = draw([4, 3, 2], 2);
    expect(await run(([x, y]) => joinFeatures(x!, y!), [a, b])).toEqual(await run((xs) => concat(xs, 2), [a, b]));
  });

  it('refuses parts that do not fit', () => {
    expect(() => stackRows([draw([2, 3], 1), draw([3, 2], 2)])).toThrow(ShapeError);
    expect(() => joinFeatures(draw([2, 3], 1), draw([3, 3], 2))).toThrow(/\[2,3\] and \[3,3\]/);
  });
});

describe.runIf(devices.some((d) => d.kind === 'webgpu'))('joins on WebGPU', () => {
  it('take one dispatch forward and one backward', async () => {
    const device = devices.find((d) => d.kind === 'webgpu')!;
    const dispatches = () => (device.backend as unknown as WebGPUBackend).stats().dispatches;
    const parts = Array.from({ length: 4 }, (_, i) => uniform([3, 5], -1, 1, { device, generator: new Generator(i), requiresGrad: true }));
    let before = dispatches();
    const stacked = stackRows(parts);
    expect(dispatches() - before).toBe(1);
    const upstream = uniform(stacked.shape, -1, 1, { device });
    before = dispatches();
    backward(stacked, { gradient: upstream });
    expect(dispatches() - before).toBe(1);
    for (const p of parts) p.grad = null; // a fresh gradient is adopted, not added into an old one
    const [a, b] = parts;
    before = dispatches();
    const joined = joinFeatures(a!, b!);
    expect(dispatches() - before).toBe(1);
    before = dispatches();
    backward(joined, { gradient: uniform(joined.shape, -1, 1, { device }) });
    expect(dispatches() - before).toBe(1);
  });
});
