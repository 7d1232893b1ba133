// The kernel-extension API's larger kernels: workgroup kernels with workgroup memory, barriers and
// compiled-in constants, int32 inputs, and buffers updated in place, on every device against plain
// expectations computed here.
import { afterAll, describe, expect, it } from 'vitest';
import { defineKernel } from './custom-kernel.ts';
import { StateError, ValueError } from './errors.ts';
import { runKernel } from './ops/custom.ts';
import { tensor } from './ops/creation.ts';
import { releaseTestDevices, testDevices } from './testing.ts';

/** Row sums of x [rows, cols], one workgroup per row: a tree reduction in workgroup memory. */
const rowSums = defineKernel<{ rows: number; cols: number }>({
  name: 'testRowSums',
  inputs: ['x'],
  outputs: ['y'],
  writesAll: true,
  reference: ({ inputs: [x], outputs: [y], params: { rows, cols } }) => {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += x![r * cols + c]!;
      y![r] = s;
    }
  },
  webgpu: {
    uniforms: { cols: 'u32' },
    constants: (_p, target) => ({ LANES: target.software ? 16 : 64 }),
    workgroups: ({ rows }) => rows,
    workgroupSize: (_p, target) => (target.software ? 16 : 64),
    functions: 'var<workgroup> part: array<f32, LANES>;',
    body: `  var s = 0.0;
  for (var c = lid; c < cols; c += LANES) { s += x[group * cols + c]; }
  part[lid] = s;
  workgroupBarrier();
  for (var half = LANES / 2u; half > 0u; half /= 2u) {
    if (lid < half) { part[lid] += part[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) { y[group] = part[0]; }`,
  },
});

/** out[i] = table[idx[i]] + shift, with int32 indices. */
const lookup = defineKernel<{ shift: number }>({
  name: 'testLookup',
  inputs: ['table', 'indices'],
  intInputs: ['indices'],
  outputs: ['out'],
  writesAll: true,
  reference: ({ inputs: [table], ints: [indices], outputs: [out], sizes: [n], params: { shift } }) => {
    for (let i = 0; i < n!; i++) out![i] = table![indices![i]!]! + shift;
  },
  webgpu: { uniforms: { shift: 'f32' }, body: 'out[idx] = table[u32(indices[idx])] + shift;' },
});

/** p -= lr * g and g = 0, in place; also writes how many elements it saw. */
const descend = defineKernel<{ lr: number; size: number }>({
  name: 'testDescend',
  inputs: [],
  updates: ['w', 'g'],
  outputs: [],
  reference: ({ updates: [w, g], params: { lr, size } }) => {
    for (let i = 0; i < size; i++) {
      w![i] = w![i]! - lr * g![i]!;
      g![i] = 0;
    }
  },
  webgpu: {
    uniforms: { lr: 'f32' },
    threads: ({ size }) => size,
    body: `  w[idx] = w[idx] - lr * g[idx];
  g[idx] = 0.0;`,
  },
});

const devices = await testDevices({ reference: true });
afterAll(releaseTestDevices);

describe.each(devices.map((d) => [d.kind, d] as const))('custom kernels on %s', (_kind, device) => {
  it('runs a workgroup kernel with workgroup memory and barriers (row sums, cols not a multiple of the lanes)', async () => {
    const rows = 5;
    const cols = 300;
    const values = Array.from({ length: rows * cols }, (_, i) => ((i * 37) % 11) - 5);
    const x = tensor(values, { shape: [rows, cols], device });
    const [y] = runKernel(rowSums, [x], [[rows]], { rows, cols });
    const want = Array.from({ length: rows }, (_, r) => values.slice(r * cols, (r + 1) * cols).reduce((a, b) => a + b, 0));
    expect(Array.from(await y!.toArray())).toEqual(want);
  });

  it('reads int32 inputs', async () => {
    const table = tensor([10, 20, 30, 40], { device });
    const indices = tensor([3, 0, 0, 2, 1], { dtype: 'int32', device });
    const [out] = runKernel(lookup, [table, indices], [[5]], { shift: 0.5 });
    expect(Array.from(await out!.toArray())).toEqual([40.5, 10.5, 10.5, 30.5, 20.5]);
  });

  it('updates tensors in place and bumps their versions', async () => {
    const w = tensor([1, 2, 3], { device });
    const g = tensor([10, -10, 20], { device });
    const before = w.storage.version;
    const outs = runKernel(descend, [], [], { lr: 0.1, size: 3 }, [w, g]);
    expect(outs).toEqual([]);
    expect(w.storage.version).toBe(before + 1);
    expect(Array.from(await w.toArray())).toEqual([0, 3, 1].map((v) => Math.fround(v)));
    expect(Array.from(await g.toArray())).toEqual([0, 0, 0]);
  });

  it('refuses a float tensor for an int32 input and a wrong number of updated tensors', () => {
    const table = tensor([1, 2], { device });
    expect(() => runKernel(lookup, [table, table], [[2]], { shift: 0 })).toThrow(/indices/);
    expect(() => runKernel(descend, [], [], { lr: 1, size: 2 }, [table])).toThrow(ValueError);
  });

  it('refuses to update a tensor that requires grad while recording', () => {
    const w = tensor([1, 2], { device, requiresGrad: true });
    const g = tensor([1, 2], { device });
    expect(() => runKernel(descend, [], [], { lr: 1, size: 2 }, [w, g])).toThrow(StateError);
  });
});

/** A kernel reading more buffers than any WebGPU device binds in one dispatch. */
const tooWide = defineKernel<{ size: number }>({
  name: 'testTooWide',
  inputs: Array.from({ length: 40 }, (_, i) => `in${i}`),
  outputs: ['out'],
  writesAll: true,
  reference: ({ inputs, outputs: [out], sizes: [n] }) => {
    for (let i = 0; i < n!; i++) out![i] = inputs.reduce((sum, x) => sum + x[i]!, 0);
  },
  webgpu: { body: 'out[idx] = in0[idx];' },
});

describe.runIf(devices.some((d) => d.kind === 'webgpu'))('custom kernels on webgpu, beyond the device', () => {
  it('refuses a kernel that binds more storage buffers than the device allows, naming both counts', () => {
    const device = devices.find((d) => d.kind === 'webgpu')!;
    const parts = Array.from({ length: 40 }, () => tensor([1, 2], { device }));
    expect(() => runKernel(tooWide, parts, [[2]], { size: 2 })).toThrow(/testTooWide: binds 41 storage buffers, but this WebGPU device allows \d+/);
  });
});

describe('defineKernel', () => {
  it('refuses an int input that is not an input, and an in-place kernel that is differentiable', () => {
    const base = { inputs: ['x'], outputs: ['y'], reference: () => {} };
    expect(() => defineKernel({ ...base, name: 'testBadInt', intInputs: ['z'] })).toThrow(/int input 'z'/);
    expect(() => defineKernel({ ...base, name: 'testBadUpdate', updates: ['w'], differentiable: true })).toThrow(/in place/);
  });
});
