// The whole-sequence kernel path ('kernel': two dispatches per layer and direction forward, two
// backward) and the looped sequence op ('sequence') against the step-by-step composition ('steps'):
// same outputs, final states and gradients of every weight, the input and the initial states, to
// 1e-5 relative, for every cell, depth and direction, on every device. Hidden sizes are chosen to
// cover the kernel's layouts: fewer units than a warp, several warps, and more units than threads
// (two units per thread); batches that leave part of a workgroup idle.
import { afterAll, describe, expect, it } from 'vitest';
import { backward, zeroGrad } from '@tinytape/autograd';
import { type Device, type Tensor, type WebGPUBackend, Generator, concat, mul, reshape, sum, uniform } from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import { GRU, LSTM, RNN, type RecurrencePath, type RecurrentLayer, recurrentForward } from '../src/index.ts';
import { recurrencePath } from '../src/layers/recurrent-forward.ts';

const devices = await testDevices({ reference: true });
afterAll(releaseTestDevices);

type Mode = 'rnn' | 'gru' | 'lstm';

interface Case {
  mode: Mode;
  numLayers: number;
  bidirectional: boolean;
  hidden: number;
  batch: number;
  relu?: boolean;
}

const CASES: Case[] = [
  ...(['rnn', 'gru', 'lstm'] as Mode[]).flatMap((mode) =>
    [1, 2].flatMap((numLayers) => [false, true].map((bidirectional) => ({ mode, numLayers, bidirectional, hidden: 6, batch: 3 }))),
  ),
  { mode: 'rnn', numLayers: 1, bidirectional: true, hidden: 6, batch: 3, relu: true },
  ...(['rnn', 'gru', 'lstm'] as Mode[]).map((mode) => ({ mode, numLayers: 1, bidirectional: false, hidden: 40, batch: 5 })),
  // The CPU device's wasm recurrences (H a multiple of 4) with the batch rows split between two threads.
  ...(['rnn', 'gru', 'lstm'] as Mode[]).map((mode) => ({ mode, numLayers: 2, bidirectional: true, hidden: 8, batch: 13 })),
  { mode: 'rnn', numLayers: 1, bidirectional: true, hidden: 12, batch: 9, relu: true },
];

/**
 * Two units per thread on every adapter (256 threads per row at most), and a layer past 1,024 units
 * (five per thread on a GPU, thirty-three on a software adapter; its state fills 4 KiB of workgroup memory).
 */
const WIDE: Case[] = [
  ...(['rnn', 'gru', 'lstm'] as Mode[]).map((mode) => ({ mode, numLayers: 1, bidirectional: true, hidden: 300, batch: 2 })),
  { mode: 'rnn', numLayers: 1, bidirectional: false, hidden: 1030, batch: 2 },
];

function makeLayer(c: Case, inputSize: number, device: Device, g: Generator): RecurrentLayer<unknown> {
  const opts = { numLayers: c.numLayers, bidirectional: c.bidirectional, device, generator: g, ...(c.relu ? { nonlinearity: 'relu' as const } : {}) };
  const Layer = c.mode === 'rnn' ? RNN : c.mode === 'gru' ? GRU : LSTM;
  return new Layer(inputSize, c.hidden, opts) as RecurrentLayer<unknown>;
}

/**
 * Runs the recurrence on fixed inputs along `path`, backpropagates a random mix of everything it
 * returns (so every output element gets its own gradient), and collects values and gradients.
 */
async function run(device: Device, c: Case, path: RecurrencePath, numSteps = 5): Promise<{ values: Float32Array[]; grads: Float32Array[] }> {
  const g = new Generator(11);
  const inputSize = 4;
  const layer = makeLayer(c, inputSize, device, g);
  const draw = (shape: readonly number[]) => uniform(shape, -1, 1, { device, generator: g, requiresGrad: true });
  const x = draw([numSteps, c.batch, inputSize]);
  const rows = c.numLayers * (c.bidirectional ? 2 : 1);
  const states = (c.mode === 'lstm' ? [0, 1] : [0]).map(() => draw([rows, c.batch, c.hidden]));
  const weights = layer.parameters();
  const { output, h, c: cN } = recurrentForward(layer.spec, weights, x, states[0]!, states[1], { path });
  const everything = concat([output, h, ...(cN ? [cN] : [])].map((t) => reshape(t, [-1])));
  const mix = uniform(everything.shape, -1, 1, { device, generator: new Generator(3) });
  backward(sum(mul(everything, mix)));
  const leaves: Tensor[] = [...weights, x, ...states];
  const values = await Promise.all([output, h, ...(cN ? [cN] : [])].map((t) => t.toArray() as Promise<Float32Array>));
  const grads = await Promise.all(leaves.map((t) => t.grad!.toArray() as Promise<Float32Array>));
  zeroGrad(leaves);
  return { values, grads };
}

/** Largest error relative to each tensor's own scale: |a − e| / max|e|, elementwise. */
function expectAgree(actual: Float32Array[], expected: Float32Array[], tolerance = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    expect(a.length).toBe(e.length);
    const scale = e.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
    let worst = 0;
    for (let j = 0; j < e.length; j++) worst = Math.max(worst, Math.abs(a[j]! - e[j]!) / scale);
    expect(worst, `tensor ${i}`).toBeLessThan(tolerance);
  });
}

const label = (c: Case) => `${c.mode}${c.relu ? ' relu' : ''}, ${c.numLayers} layer(s)${c.bidirectional ? ', bidirectional' : ''}, hidden ${c.hidden}, batch ${c.batch}`;

describe.each(devices.map((d) => [d.kind, d] as const))('whole-sequence recurrence on %s', (kind, device) => {
  it.each(CASES.map((c) => [label(c), c] as const))('%s: kernel and sequence paths equal the step-by-step ops', async (_l, c) => {
    const steps = await run(device, c, 'steps');
    for (const path of ['kernel', 'sequence'] as const) {
      const fused = await run(device, c, path);
      expectAgree(fused.values, steps.values);
      expectAgree(fused.grads, steps.grads);
    }
  });

  it.each(WIDE.map((c) => [label(c), c] as const))('%s (several units per thread): the kernel path equals the sequence op', async (_l, c) => {
    if (kind === 'reference') return; // the plain loops are the same code at any width; keep the oracle's run short
    const sequence = await run(device, c, 'sequence', 3);
    const kernel = await run(device, c, 'kernel', 3);
    expectAgree(kernel.values, sequence.values);
    expectAgree(kernel.grads, sequence.grads);
  });

  it('one time step, and a single batch row', async () => {
    for (const c of [{ mode: 'lstm', numLayers: 1, bidirectional: true, hidden: 6, batch: 1 }, { mode: 'gru', numLayers: 1, bidirectional: false, hidden: 6, batch: 1 }] as Case[]) {
      const steps = await run(device, c, 'steps', 1);
      const kernel = await run(device, c, 'kernel', 1);
      expectAgree(kernel.values, steps.values);
      expectAgree(kernel.grads, steps.grads);
    }
  });
});

/**
 * The layout a GPU gets (one batch row per workgroup, up to 256 threads; the weight gradient in 16
 * row shares), whatever this adapter is: a software adapter would otherwise run only its own. Batches of
 * 1, 3 and 5 leave shares empty, 18 fills every share and gives two of them a second row; hidden 300
 * and 1,030 give 2 and 5 units per thread.
 */
const GPU_LAYOUT: Case[] = [
  ...(['rnn', 'gru', 'lstm'] as Mode[]).map((mode) => ({ mode, numLayers: 2, bidirectional: true, hidden: 40, batch: 5 })),
  ...(['rnn', 'gru', 'lstm'] as Mode[]).map((mode) => ({ mode, numLayers: 1, bidirectional: false, hidden: 300, batch: 3 })),
  { mode: 'rnn', numLayers: 1, bidirectional: true, hidden: 1030, batch: 1, relu: true },
  { mode: 'lstm', numLayers: 1, bidirectional: false, hidden: 6, batch: 1 },
  { mode: 'gru', numLayers: 1, bidirectional: true, hidden: 12, batch: 18 },
];

const gpuDevice = devices.find((d) => d.kind === 'webgpu');

/** Runs `fn` with the WebGPU backend tuning its kernels as for a GPU (`software` false) or a software adapter. */
async function asAdapter<T>(software: boolean, fn: () => T | Promise<T>): Promise<T> {
  const backend = gpuDevice!.backend as unknown as WebGPUBackend;
  const own = backend.target;
  backend.target = { ...own, software };
  try {
    return await fn();
  } finally {
    backend.target = own;
  }
}

describe.runIf(gpuDevice !== undefined)('the GPU thread layout on this adapter', () => {
  it.each(GPU_LAYOUT.map((c) => [label(c), c] as const))('%s: the kernel path equals the sequence op', async (_l, c) => {
    const sequence = await run(gpuDevice!, c, 'sequence', 3);
    const kernel = await asAdapter(false, () => run(gpuDevice!, c, 'kernel', 3));
    expectAgree(kernel.values, sequence.values);
    expectAgree(kernel.grads, sequence.grads);
  });
});

describe.runIf(gpuDevice !== undefined)('the default path on WebGPU', () => {
  it('is the kernel on a GPU up to 2^18 recurrent weights (G·H²), and on a software adapter at any size', async () => {
    const x = uniform([35, 2, 4], -1, 1, { device: gpuDevice! });
    const sizes: [number, number][] = [[256, 1], [256, 3], [256, 4], [512, 1], [512, 3], [300, 4], [1024, 1], [2048, 4], [4097, 1]];
    const paths = () => sizes.map(([hidden, gates]) => recurrencePath({}, x, hidden, gates));
    expect(await asAdapter(false, paths)).toEqual(['kernel', 'kernel', 'kernel', 'kernel', 'sequence', 'sequence', 'sequence', 'sequence', 'sequence']);
    expect(await asAdapter(true, paths)).toEqual([...Array(8).fill('kernel'), 'sequence']);
    expect(await asAdapter(false, () => recurrencePath({ path: 'kernel' }, x, 2048, 4))).toBe('kernel');
    x.dispose();
  });
});

describe.runIf(devices.some((d) => d.kind === 'webgpu'))('dispatches of the kernel path on WebGPU', () => {
  it('is two per layer and direction forward (transpose W_hh, run), and two backward', async () => {
    const device = devices.find((d) => d.kind === 'webgpu')!;
    const stats = () => (device.backend as unknown as WebGPUBackend).stats().dispatches;
    for (const mode of ['rnn', 'gru', 'lstm'] as Mode[]) {
      const layer = makeLayer({ mode, numLayers: 1, bidirectional: false, hidden: 8, batch: 2 }, 4, device, new Generator(1));
      const xp = uniform([3 * 2, (mode === 'rnn' ? 1 : mode === 'gru' ? 3 : 4) * 8], -1, 1, { device, requiresGrad: true });
      const h0 = uniform([2, 8], -1, 1, { device });
      const c0 = uniform([2, 8], -1, 1, { device });
      const { recurrentKernelSequence } = await import('../src/layers/sequence-kernel.ts');
      const [, wHh, , bHh] = layer.parameters() as [Tensor, Tensor, Tensor, Tensor];
      const before = stats();
      const { states } = recurrentKernelSequence({ mode, nonlinearity: 'tanh', reverse: false }, xp, { wHh, bHh }, h0, mode === 'lstm' ? c0 : undefined);
      // W_hh transposed (the layout the forward kernel reads), then the kernel.
      expect(stats() - before, `${mode} forward`).toBe(2);
      const upstream = uniform(states.shape, -1, 1, { device });
      const mid = stats();
      // The upstream gradient given directly: backward runs the rule and hands its results to the leaves.
      backward(states, { gradient: upstream });
      expect(stats() - mid, `${mode} backward`).toBe(2);
      expect((await xp.grad!.toArray()).some((v) => v !== 0)).toBe(true);
      zeroGrad([...layer.parameters(), xp]);
    }
  });
});
