// A stacked layer's input projection as one tape entry against the engine-op composition it replaces:
// same values and gradients (float32 rounding apart) on every device, with and without b_hh; fewer
// dispatches on WebGPU.
import { afterAll, describe, expect, it } from 'vitest';
import { backward } from '@tinytape/autograd';
import { type Tensor, type WebGPUBackend, Generator, ShapeError, add, matmul, mul, sum, uniform } from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import { projectFeatures } from '../src/kernels/feature-projection.ts';

const devices = await testDevices({ reference: true });
afterAll(releaseTestDevices);

async function run(f: (xs: Tensor[]) => Tensor, xs: Tensor[]): Promise<number[][]> {
  const out = f(xs);
  const mix = uniform(out.shape, -1, 1, { device: out.device, generator: new Generator(9) });
  backward(sum(mul(out, mix)));
  const result = [Array.from(await out.toArray()), ...(await Promise.all(xs.map(async (x) => Array.from(await x.grad!.toArray()))))];
  for (const x of xs) x.grad = null;
  return result;
}

function expectClose(actual: number[][], expected: number[][]): void {
  actual.forEach((a, i) => a.forEach((v, j) => expect(Math.abs(v - expected[i]![j]!)).toBeLessThan(1e-5 * (1 + Math.abs(expected[i]![j]!)))));
}

describe.each(devices.map((d) => [d.kind, d] as const))('projectFeatures on %s', (_kind, device) => {
  const draw = (shape: number[], seed: number) => uniform(shape, -1, 1, { device, generator: new Generator(seed), requiresGrad: true });
  const x = draw([7, 5], 1);
  const w = draw([6, 5], 2);
  const bIh = draw([6], 3);
  const bHh = draw([6], 4);

  it('equals x·Wᵀ + (b_ih + b_hh), values and every gradient', async () => {
    const fused = await run(([a, b, c, d]) => projectFeatures(a!, b!, c!, d!), [x, w, bIh, bHh]);
    const ops = await run(([a, b, c, d]) => add(matmul(a!, b!, { transB: true }), add(c!, d!)), [x, w, bIh, bHh]);
    expectClose(fused, ops);
  });

  it('equals x·Wᵀ + b_ih without b_hh (the GRU)', async () => {
    const fused = await run(([a, b, c]) => projectFeatures(a!, b!, c!), [x, w, bIh]);
    const ops = await run(([a, b, c]) => add(matmul(a!, b!, { transB: true }), c!), [x, w, bIh]);
    expectClose(fused, ops);
  });

  it('refuses shapes that do not fit, naming them', () => {
    expect(() => projectFeatures(x, draw([6, 4], 5), bIh)).toThrow(ShapeError);
    expect(() => projectFeatures(x, w, draw([5], 6))).toThrow(/\[7,5\], \[6,5\], \[5\]/);
  });
});

describe.runIf(devices.some((d) => d.kind === 'webgpu'))('projectFeatures on WebGPU', () => {
  it('is two dispatches forward and three backward', async () => {
    const device = devices.find((d) => d.kind === 'webgpu')!;
    const dispatches = () => (device.backend as unknown as WebGPUBackend).stats().dispatches;
    const draw = (shape: number[], seed: number) => uniform(shape, -1, 1, { device, generator: new Generator(seed), requiresGrad: true });
    const [x, w, bIh, bHh] = [draw([7, 5], 1), draw([6, 5], 2), draw([6], 3), draw([6], 4)];
    let before = dispatches();
    const y = projectFeatures(x, w, bIh, bHh);
    expect(dispatches() - before).toBe(2);
    const upstream = uniform(y.shape, -1, 1, { device });
    before = dispatches();
    backward(y, { gradient: upstream });
    expect(dispatches() - before).toBe(3);
  });
});
