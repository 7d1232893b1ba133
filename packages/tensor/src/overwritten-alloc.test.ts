import { afterAll, describe, expect, it } from 'vitest';
import { type Device, add, concat, matmul, mul, permute, slice, stack, tanh, tensor } from './index.ts';
import { createCpuBackend } from './backends/cpu/index.ts';
import { releaseTestDevices, testDevices } from './testing.ts';

// Ops whose kernel writes every element of their output allocate it without the zero fill
// (Backend.alloc's `overwritten`). These tests fill the pool with NaN buffers of each output's size
// first, so an element an op failed to write would show up as NaN (or as a wrong value).

const devices = await testDevices();
afterAll(releaseTestDevices);

/** Returns `count` NaN-filled buffers of `size` floats to the device's pool. */
function poisonPool(device: Device, size: number, count = 4): void {
  const be = device.backend;
  const bufs = Array.from({ length: count }, () => be.alloc(size, 'float32'));
  for (const b of bufs) be.fill(b, size, Number.NaN, 'float32');
  for (const b of bufs) be.free(b);
}

const range = (n: number, scale = 0.1): number[] => Array.from({ length: n }, (_, i) => (i - n / 2) * scale);

describe('the CPU backend skips the zero fill only when told', () => {
  it('a pooled buffer comes back zeroed by default, as it was left with `overwritten`', () => {
    const be = createCpuBackend();
    const b = be.alloc(100, 'float32');
    be.fill(b, 100, 7, 'float32');
    be.free(b);
    const again = be.alloc(100, 'float32', true);
    expect(again).toBe(b);
    expect((again as Float32Array)[99]).toBe(7);
    be.free(again);
    const zeroed = be.alloc(100, 'float32');
    expect(zeroed).toBe(b);
    expect(Array.from(zeroed as Float32Array).every((v) => v === 0)).toBe(true);
  });
});

describe.each(devices.map((d) => [d.kind, d] as const))('ops write all of an output allocated unzeroed, on %s', (_kind, device) => {
  it('unary, scalar and broadcasting binary ops', async () => {
    const x = tensor(range(24), { device }).reshape([4, 6]);
    const b = tensor(range(6, 1), { device });
    poisonPool(device, 24);
    const t = await tanh(x).toArray();
    const s = await mul(x, 3).toArray();
    const sum = await add(x, b).toArray();
    const xs = range(24);
    const bs = range(6, 1);
    xs.forEach((v, i) => {
      expect(t[i]).toBeCloseTo(Math.tanh(v), 5);
      expect(s[i]).toBeCloseTo(v * 3, 5);
      expect(sum[i]).toBeCloseTo(v + bs[i % 6]!, 5);
    });
  });

  it('matmul, also with a transposed operand', async () => {
    const a = tensor(range(35), { device }).reshape([5, 7]);
    const w = tensor(range(21, 0.3), { device }).reshape([7, 3]);
    poisonPool(device, 15);
    const got = await matmul(a, w).toArray();
    const gotT = await matmul(a, w.transpose(), { transB: true }).toArray();
    const A = range(35);
    const W = range(21, 0.3);
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 3; j++) {
        let want = 0;
        for (let p = 0; p < 7; p++) want += A[i * 7 + p]! * W[p * 3 + j]!;
        expect(got[i * 3 + j]).toBeCloseTo(want, 4);
        expect(gotT[i * 3 + j]).toBeCloseTo(want, 4);
      }
    }
  });

  it('permute, slice, concat and stack', async () => {
    const x = tensor(range(12), { device }).reshape([3, 4]);
    const y = tensor(range(8, 0.5), { device }).reshape([2, 4]);
    for (const size of [12, 8, 20, 24]) poisonPool(device, size);
    const X = range(12);
    const Y = range(8, 0.5);
    expect(Array.from(await permute(x, [1, 0]).toArray())).toEqual([0, 1, 2, 3].flatMap((j) => [0, 1, 2].map((i) => Math.fround(X[i * 4 + j]!))));
    expect(Array.from(await slice(x, 0, 1, 3).toArray())).toEqual(X.slice(4).map(Math.fround));
    expect(Array.from(await concat([x, y], 0).toArray())).toEqual([...X, ...Y].map(Math.fround));
    expect(Array.from(await stack([x, x], 0).toArray())).toEqual([...X, ...X].map(Math.fround));
  });
});
