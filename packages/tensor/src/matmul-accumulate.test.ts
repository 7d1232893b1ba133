// matmulAccumulate_ (out += op(a)·op(b)) on every device and transpose case, at sizes that take the
// reference triple loop (tiny), the wasm outer-product kernels with and without row padding and the wasm
// dot kernel: the result must equal the product added to out by a separate add, exactly, since both
// paths round the same two float32 values once.
import { afterAll, describe, expect, it } from 'vitest';
import { Generator, ShapeError, StateError, add, matmul, matmulAccumulate_, uniform, zeros } from './index.ts';
import { releaseTestDevices, testDevices } from './testing.ts';

const devices = await testDevices({ reference: true });
afterAll(releaseTestDevices);

const SHAPES: [number, number, number][] = [
  [2, 3, 2], // below the wasm threshold: the reference loop
  [8, 32, 64], // wasm, n a multiple of 64 with enough work: padded rows of B
  [5, 17, 7], // wasm, n not a multiple of 4: padded C rows
  [32, 40, 28],
  [6, 70, 7], // with transB, k > 64: the dot kernel, narrow blocks at the row ends
  [33, 96, 12], // ... and full 4-column blocks, an odd row at the end
];
const CASES = SHAPES.flatMap(([m, k, n]) =>
  [false, true].flatMap((transA) => [false, true].map((transB) => ({ m, k, n, transA, transB }))));

describe.each(devices.map((d) => [d.kind, d] as const))('matmulAccumulate_ on %s', (_kind, device) => {
  it.each(CASES)('[$m,$k]x[$k,$n] transA $transA transB $transB equals out + matmul', async ({ m, k, n, transA, transB }) => {
    const g = new Generator(m * 1000 + k * 10 + n);
    const a = uniform(transA ? [k, m] : [m, k], -1, 1, { device, generator: g });
    const b = uniform(transB ? [n, k] : [k, n], -1, 1, { device, generator: g });
    const out = uniform([m, n], -1, 1, { device, generator: g });
    const expected = await add(out, matmul(a, b, { transA, transB })).toArray();
    const version = out.storage.version;
    expect(matmulAccumulate_(out, a, b, { transA, transB })).toBe(out);
    expect(Array.from(await out.toArray())).toEqual(Array.from(expected));
    expect(out.storage.version).toBe(version + 1);
  });

  it('refuses an out of another shape and a tensor that requires grad', () => {
    const a = zeros([2, 3], { device });
    const b = zeros([3, 4], { device });
    expect(() => matmulAccumulate_(zeros([4, 2], { device }), a, b)).toThrow(ShapeError);
    expect(() => matmulAccumulate_(zeros([4, 2], { device }), a, b)).toThrow(/product is \[2,4\] but out is \[4,2\]/);
    expect(() => matmulAccumulate_(zeros([2, 4], { device, requiresGrad: true }), a, b)).toThrow(StateError);
  });
});
