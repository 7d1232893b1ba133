// A `.grad` marked as zeroed (Storage.markZeroed: zero_() and the optimizers' multi-tensor kernels
// leave the mark) is replaced by the next backward's gradient instead of added to: the same values,
// one dispatch fewer per parameter on WebGPU. A write after the mark must bring the addition back, and
// zeros written without the mark (fill_(0)) are added to as before.
import { afterAll, describe, expect, it } from 'vitest';
import { type Device, type Tensor, type WebGPUBackend, memory, mul, scope, sum, tensor } from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import { backward, noGrad } from './index.ts';

const devices = await testDevices({ reference: true });
afterAll(releaseTestDevices);

/** Runs backward on sum(x · c), whose gradient with respect to x is c. */
function backwardOfDot(x: Tensor, c: number[], device: Device): void {
  const loss = scope(() => sum(mul(x, tensor(c, { device }))));
  backward(loss);
  loss.dispose();
}

/** Zeroes x.grad with zero_(), which marks it. */
function zeroAndMark(x: Tensor): void {
  noGrad(() => x.grad!.zero_());
}

const dispatches = (device: Device): number => (device.backend as WebGPUBackend).stats().dispatches;

describe.each(devices.map((d) => [d.kind, d] as const))('a zeroed .grad on %s', (_kind, device) => {
  it('is replaced by the next gradient, which has the right values, and the old tensor is freed', async () => {
    const x = tensor([1, 2, 3], { device, requiresGrad: true });
    backwardOfDot(x, [0.5, -1, 2], device);
    zeroAndMark(x);
    const zeroed = x.grad!;
    expect(zeroed.storage.knownZero).toBe(true);
    const live = memory(device).liveTensors;
    backwardOfDot(x, [3, 0.25, -4], device);
    expect(Array.from(await x.grad!.toArray())).toEqual([3, 0.25, -4]);
    expect(x.grad).not.toBe(zeroed);
    expect(zeroed.isDisposed).toBe(true);
    expect(x.grad!.kept).toBe(true);
    expect(memory(device).liveTensors).toBe(live);
    // The new .grad is not marked: a further backward adds into it.
    backwardOfDot(x, [1, 1, 1], device);
    expect(Array.from(await x.grad!.toArray())).toEqual([4, 1.25, -3]);
    x.dispose();
  });

  it('is added to once something wrote it after the mark', async () => {
    const x = tensor([1, 2], { device, requiresGrad: true });
    backwardOfDot(x, [1, 2], device);
    zeroAndMark(x);
    const grad = x.grad!;
    noGrad(() => grad.add_(10));
    expect(grad.storage.knownZero).toBe(false);
    backwardOfDot(x, [0.5, -0.5], device);
    expect(x.grad).toBe(grad);
    expect(Array.from(await x.grad!.toArray())).toEqual([10.5, 9.5]);
    x.dispose();
  });

  it('without the mark (fill_(0)), the tensor stays and backward adds into the zeros (same values)', async () => {
    const x = tensor([1, 2], { device, requiresGrad: true });
    backwardOfDot(x, [1, 2], device);
    const grad = x.grad!;
    noGrad(() => grad.fill_(0));
    expect(grad.storage.knownZero).toBe(false);
    backwardOfDot(x, [-3, 0.125], device);
    expect(x.grad).toBe(grad);
    expect(Array.from(await x.grad!.toArray())).toEqual([-3, 0.125]);
    x.dispose();
  });

});

const gpu = devices.find((d) => d.kind === 'webgpu');

describe.runIf(gpu !== undefined)('a zeroed .grad on WebGPU', () => {
  it('costs one dispatch fewer than adding into an unmarked zero gradient', () => {
    const device = gpu!;
    const x = tensor([1, 2, 3, 4], { device, requiresGrad: true });
    const c = [1, -2, 3, -4];
    backwardOfDot(x, c, device);
    const cost = (mark: boolean): number => {
      if (mark) zeroAndMark(x);
      else noGrad(() => x.grad!.fill_(0));
      const before = dispatches(device);
      backwardOfDot(x, c, device);
      return dispatches(device) - before;
    };
    cost(false); // compiles and pools whatever the first walk needs
    cost(true);
    expect(cost(true)).toBe(cost(false) - 1);
    x.dispose();
  });
});
