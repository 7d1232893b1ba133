import { afterAll, describe, expect, it } from 'vitest';
import { type Device, add, concat, matmul, mul, permute, slice, stack, tanh, tensor } from './index.ts';
import { POOL_MIN_ELEMENTS, createCpuBackend } from './backends/cpu/index.ts';
import { releaseTestDevices, testDevices } from './testing.ts';

// Ops whose kernel writes every element of their output allocate it without the zero fill
// (Backend.alloc's `overwritten`). These tests fill the pool with NaN buffers of each output's size
// first, so an element an op failed to write would show up as NaN (or as a wrong value). Every output
// has at least POOL_MIN_ELEMENTS elements, since the CPU pool keeps no smaller buffer, and poisonPool
// checks that the NaN buffers really come back.

const devices = await testDevices();
afterAll(releaseTestDevices);

/** Returns `count` NaN-filled buffers of `size` floats to the device's pool, and checks they come back. */
async function poisonPool(device: Device, size: number, count = 4): Promise<void> {
  expect(size).toBeGreaterThanOrEqual(POOL_MIN_ELEMENTS);
  const be = device.backend;
  const bufs = Array.from({ length: count }, () => be.alloc(size, 'float32'));
  for (const b of bufs) be.fill(b, size, Number.NaN, 'float32');
  for (const b of bufs) be.free(b);
  const probe = be.alloc(size, 'float32', true);
  expect((await be.read(probe, 'float32', size)).every(Number.isNaN), `a pooled buffer of ${size} floats is handed out again`).toBe(true);
  be.free(probe);
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
    const x = tensor(range(96), { device }).reshape([8, 12]);
    const b = tensor(range(12, 1), { device });
    await poisonPool(device, 96);
    const t = await tanh(x).toArray();
    const s = await mul(x, 3).toArray();
    const sum = await add(x, b).toArray();
    const xs = range(96);
    const bs = range(12, 1);
    xs.forEach((v, i) => {
      expect(t[i]).toBeCloseTo(Math.tanh(v), 5);
      expect(s[i]).toBeCloseTo(v * 3, 5);
      expect(sum[i]).toBeCloseTo(v + bs[i % 12]!, 5);
    });
  });

  it('matmul, also with a transposed operand', async () => {
    const a = tensor(range(70), { device }).reshape([10, 7]);
    const w = tensor(range(56, 0.3), { device }).reshape([7, 8]);
    const wT = w.transpose();
    await poisonPool(device, 80);
    const got = await matmul(a, w).toArray();
    const gotT = await matmul(a, wT, { transB: true }).toArray();
    const A = range(70);
    const W = range(56, 0.3);
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 8; j++) {
        let want = 0;
        for (let p = 0; p < 7; p++) want += A[i * 7 + p]! * W[p * 8 + j]!;
        expect(got[i * 8 + j]).toBeCloseTo(want, 4);
        expect(gotT[i * 8 + j]).toBeCloseTo(want, 4);
      }
    }
  });

  it('permute, slice, concat and stack', async () => {
    const x = tensor(range(96), { device }).reshape([8, 12]);
    const y = tensor(range(72, 0.5), { device }).reshape([6, 12]);
    for (const size of [96, 72, 168, 192]) await poisonPool(device, size);
    const X = range(96);
    const Y = range(72, 0.5);
    const columns = Array.from({ length: 12 }, (_, j) => j);
    const rows = Array.from({ length: 8 }, (_, i) => i);
    expect(Array.from(await permute(x, [1, 0]).toArray())).toEqual(columns.flatMap((j) => rows.map((i) => Math.fround(X[i * 12 + j]!))));
    expect(Array.from(await slice(x, 0, 1, 7).toArray())).toEqual(X.slice(12, 84).map(Math.fround));
    expect(Array.from(await concat([x, y], 0).toArray())).toEqual([...X, ...Y].map(Math.fround));
    expect(Array.from(await stack([x, x], 0).toArray())).toEqual([...X, ...X].map(Math.fround));
  });
});
