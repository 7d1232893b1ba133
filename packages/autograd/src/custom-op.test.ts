// A complete custom op, as docs/autograd.md walks through it: softplus with a sharpness β,
// y = log(1 + e^(βx)) / β (PyTorch's Softplus), whose derivative is σ(βx). One kernel with a
// TypeScript loop (the reference backend, and the wasm one) and a WGSL body (WebGPU), one gradient
// rule, and gradcheck on every device.
import { afterAll, describe, expect, it } from 'vitest';
import {
  DeviceError, Generator, StateError, type Tensor, ValueError, cpu, defineKernel, matmul, mul, runKernel, sigmoid, sum, tensor, uniform,
} from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import { backward, formatTape, gradcheck, noGrad, registerGradient } from './index.ts';

// 1. The kernel: one implementation per backend language. Both compute the stable form
//    max(βx, 0) + log(1 + e^(−|βx|)), which never overflows.
const softplusKernel = defineKernel<{ beta: number }>({
  name: 'softplus',
  inputs: ['x'],
  outputs: ['y'],
  writesAll: true,
  differentiable: true,
  reference({ inputs: [x], outputs: [y], sizes: [n], params: { beta } }) {
    for (let i = 0; i < n!; i++) {
      const bx = beta * x![i]!;
      y![i] = (Math.max(bx, 0) + Math.log1p(Math.exp(-Math.abs(bx)))) / beta;
    }
  },
  webgpu: {
    uniforms: { beta: 'f32' },
    body: `  let bx = beta * x[idx];
  y[idx] = (max(bx, 0.0) + log(1.0 + exp(-abs(bx)))) / beta;`,
  },
});

// 2. The op users call: checks nothing the kernel runner does not already check.
function softplus(x: Tensor, beta = 1): Tensor {
  return runKernel(softplusKernel, [x], [x.shape], { beta })[0]!;
}

// 3. The gradient rule, under the kernel's name: dy/dx = σ(βx), with β read back from the attributes.
registerGradient('softplus', (g, { inputs: [x], attrs }) => [mul(g, sigmoid(mul(x!, attrs.beta as number)))]);

const devices = await testDevices({ reference: true });
afterAll(releaseTestDevices);

describe.each(devices.map((d) => [d.kind, d] as const))('a custom op (softplus) on %s', (_kind, device) => {
  it('computes log(1 + e^(βx)) / β, without overflow at large |x|', async () => {
    const xs = [-30, -2, -0.5, 0, 0.5, 2, 30];
    for (const beta of [1, 2.5]) {
      const y = await softplus(tensor(xs, { device }), beta).toArray();
      xs.forEach((v, i) => expect(y[i]).toBeCloseTo(Math.log1p(Math.exp(beta * v)) / beta, 5));
    }
  });

  it('passes gradcheck against central differences, alone and inside a small model', async () => {
    const g = new Generator(21);
    const x = uniform([3, 4], -2, 2, { device, generator: g });
    const alone = await gradcheck((t) => softplus(t, 1.5), [x]);
    expect(alone.failures).toEqual([]);
    expect(alone.checked).toBe(12);
    const w = uniform([4, 2], -1, 1, { device, generator: g });
    const model = await gradcheck((a, b) => sum(softplus(matmul(a, b), 0.7)), [x, w]);
    expect(model.failures).toEqual([]);
    expect(model.checked).toBe(20);
  });

  it('is recorded on the tape under its name, with β as an attribute', () => {
    const x = uniform([2, 3], -1, 1, { device, requiresGrad: true });
    const y = sum(softplus(x, 2));
    expect(formatTape()).toMatch(/softplus\s+\[2,3\] #\d+ {2}\{beta=2\}\s+->\s+\[2,3\]/);
    backward(y);
    expect(x.grad?.shape).toEqual([2, 3]);
  });
});

describe('defining and running kernels', () => {
  it('refuses a duplicate name, a reserved buffer name and a differentiable kernel with two outputs', () => {
    const loop = () => {};
    expect(() => defineKernel({ name: 'softplus', inputs: ['x'], outputs: ['y'], reference: loop })).toThrow(ValueError);
    expect(() => defineKernel({ name: 'reservedName', inputs: ['idx'], outputs: ['y'], reference: loop })).toThrow(/'idx' is not a valid/);
    expect(() => defineKernel({ name: 'twoOut', inputs: ['x'], outputs: ['y', 'z'], differentiable: true, reference: loop })).toThrow(/one output/);
  });

  it('a kernel that is not differentiable refuses an input that needs a gradient, unless in noGrad', async () => {
    const double = defineKernel<{ n: number }>({
      name: 'doubleForTest',
      inputs: ['x'],
      outputs: ['y'],
      reference: ({ inputs: [x], outputs: [y], params: { n } }) => {
        for (let i = 0; i < n; i++) y![i] = 2 * x![i]!;
      },
    });
    const x = tensor([1, 2, 3], { device: cpu(), requiresGrad: true });
    expect(() => runKernel(double, [x], [[3]], { n: 3 })).toThrow(StateError);
    const [y] = noGrad(() => runKernel(double, [x], [[3]], { n: 3 }));
    expect(Array.from(await y!.toArray())).toEqual([2, 4, 6]);
    const gpu = devices.find((d) => d.kind === 'webgpu');
    if (gpu !== undefined) expect(() => noGrad(() => runKernel(double, [tensor([1], { device: gpu })], [[1]], { n: 1 }))).toThrow(DeviceError);
  });
});
