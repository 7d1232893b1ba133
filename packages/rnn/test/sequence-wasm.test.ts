// The CPU device's wasm whole-sequence kernels (src/kernels/sequence-wasm.ts) against the plain loops
// they replace (sequence-host.ts), kernel by kernel on random inputs: both directions, a state row
// other than the first, an odd batch split between the two threads, the LSTM with and without a
// final cell gradient, and operands both copied through the kernels' scratch and used in place. (The layer-level agreement with the step-by-step ops is in sequence-kernel.test.ts.)
import type { HostKernel, HostKernelArgs, KernelParams } from '@tinytape/tensor';
import { cpu, reference, wasmRuntime, zeros } from '@tinytape/tensor';
import { recurrencePath } from '../src/layers/recurrent-forward.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  gruBackwardHost, gruForwardHost, lstmBackwardHost, lstmForwardHost, rnnBackwardHost, rnnForwardHost, weightGradHost,
} from '../src/kernels/sequence-host.ts';
import {
  gruBackwardWasm, gruForwardWasm, lstmBackwardWasm, lstmForwardWasm, rnnBackwardWasm, rnnForwardWasm, sequenceThreading, wasmSequenceAvailable,
  weightGradWasm,
} from '../src/kernels/sequence-wasm.ts';

const T = 4;
const B = 11;
const H = 12;
const ROWS = 2; // h0 and c0 hold two layers' states; the runs start from the second

let seed = 7;
function random(n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    out[i] = (seed / 2 ** 31 - 0.5) * 2 * scale;
  }
  return out;
}

/**
 * Where a test's arrays live: 'copied' in plain arrays, which the wasm kernels copy through their
 * scratch; 'in place' as views into CPU buffers in the wasm memory (heap.ts), which they read and
 * write where they are. Each view has GUARD floats of a sentinel on either side.
 */
type Placement = 'copied' | 'in place';
const GUARD = 4;
const SENTINEL = -12345.5;
const placements: Placement[] = ['copied', 'in place'];

/** An array of n floats (a copy of `init` when given) placed as `place` says. */
function placed(n: number, place: Placement, init?: Float32Array): Float32Array {
  if (place === 'copied') return init?.slice() ?? new Float32Array(n).fill(Number.NaN);
  // At least HEAP_MIN_FLOATS (64): shorter buffers stay plain arrays.
  const whole = cpu().backend.alloc(Math.max(64, n + 2 * GUARD), 'float32') as Float32Array;
  whole.fill(SENTINEL);
  const view = whole.subarray(GUARD, GUARD + n);
  if (init === undefined) view.fill(Number.NaN);
  else view.set(init);
  expect(wasmRuntime()!.addressOf(view), 'a CPU buffer lies in the wasm memory here').toBeGreaterThanOrEqual(0);
  return view;
}

/** The guards around an 'in place' view still hold the sentinel. */
function expectGuards(view: Float32Array, what: string): void {
  const whole = new Float32Array(view.buffer, view.byteOffset - 4 * GUARD, view.length + 2 * GUARD);
  for (let i = 0; i < GUARD; i++) {
    expect(whole[i], `${what}: float ${i - GUARD} of a buffer of ${view.length}`).toBe(SENTINEL);
    expect(whole[GUARD + view.length + i], `${what}: float ${view.length + i} of a buffer of ${view.length}`).toBe(SENTINEL);
  }
}

/**
 * Runs a kernel on copies of `inputs` with fresh outputs of `sizes`; returns the outputs. Placed in
 * the wasm memory, the inputs must come back unchanged and nothing around any array may be written.
 */
function runWith<P extends KernelParams>(
  kernel: HostKernel<P>, inputs: Float32Array[], sizes: number[], params: P, place: Placement = 'copied',
): Float32Array[] {
  const outputs = sizes.map((n) => placed(n, place));
  const ins = inputs.map((x) => placed(x.length, place, x));
  const args: HostKernelArgs<P> = {
    inputs: ins, ints: [], updates: [], outputs, sizes, params,
    unary: () => { throw new Error('unused'); }, axpy: () => { throw new Error('unused'); },
  };
  kernel(args);
  if (place === 'in place') {
    ins.forEach((x, i) => {
      expect(Array.from(x), `input ${i} unchanged`).toEqual(Array.from(inputs[i]!));
      expectGuards(x, `input ${i}`);
    });
    outputs.forEach((x, i) => expectGuards(x, `output ${i}`));
  }
  return outputs.map((x) => x.slice());
}

function expectClose(actual: Float32Array[], expected: Float32Array[], what: string): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    const scale = e.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
    let worst = 0;
    for (let j = 0; j < e.length; j++) worst = Math.max(worst, Math.abs(a[j]! - e[j]!) / scale);
    expect(worst, `${what}: output ${i}`).toBeLessThan(1e-5);
  });
}

async function helperStarted(): Promise<void> {
  const rt = wasmRuntime();
  for (let i = 0; i < 200 && rt !== null && rt.threads === 2 && !rt.helperReady(); i++) await new Promise((r) => setTimeout(r, 25));
}

describe('wasm whole-sequence kernels', () => {
  // Split every batch between the threads, however small the product (see sequenceThreading).
  const threshold = sequenceThreading.minStepMacs;
  beforeAll(() => { sequenceThreading.minStepMacs = 0; });
  afterAll(() => { sequenceThreading.minStepMacs = threshold; });

  it('run in wasm here (Node has WebAssembly SIMD), on two threads where there are two cores', async () => {
    expect(wasmSequenceAvailable(H)).toBe(true);
    expect(wasmSequenceAvailable(6)).toBe(false); // H not a multiple of 4: the plain loops
    expect(wasmSequenceAvailable(256, 35 * 32)).toBe(true);
    expect(wasmSequenceAvailable(4096, 100 * 64)).toBe(false); // over 512 MiB of buffers: the per-step path
    await helperStarted();
    const rt = wasmRuntime()!;
    if (rt.threads === 2) expect(rt.helperReady()).toBe(true);
  });

  it('are the CPU device\'s default path for a training batch, not for one character at a time', () => {
    const tokens = (batch: number, steps: number, device = cpu()) => zeros([batch, steps], { dtype: 'int32', device });
    expect(recurrencePath({}, tokens(32, 35), 256)).toBe('kernel');
    expect(recurrencePath({}, tokens(1, 1), 256)).toBe('sequence'); // predict: W_hh stays packed between calls there
    expect(recurrencePath({}, tokens(32, 35), 6)).toBe('sequence');
    expect(recurrencePath({}, zeros([35, 32, 28], { device: cpu() }), 256)).toBe('kernel');
    expect(recurrencePath({}, tokens(32, 35, reference()), 256)).toBe('sequence');
    expect(recurrencePath({ path: 'kernel' }, tokens(1, 1), 256)).toBe('kernel');
  });

  for (const reverse of [0, 1]) {
    const params = { steps: T, batch: B, hidden: H, reverse, relu: 0, origin: B * H };
    const dir = reverse ? 'reverse' : 'forward';

    it.each(placements)(`RNN (tanh and relu), ${dir}, operands %s`, async (place) => {
      await helperStarted();
      for (const relu of [0, 1]) {
        const p = { ...params, relu };
        const inputs = [random(T * B * H), random(H * H, 0.5), random(ROWS * B * H)];
        const sizes = [T * B * H, B * H];
        expectClose(runWith(rnnForwardWasm, inputs, sizes, p, place), runWith(rnnForwardHost, inputs, sizes, p), `forward relu ${relu}`);
        const [states] = runWith(rnnForwardHost, inputs, sizes, p);
        const back = [random(T * B * H), random(H * H, 0.5), states!];
        expectClose(runWith(rnnBackwardWasm, back, sizes, p, place), runWith(rnnBackwardHost, back, sizes, p), `backward relu ${relu}`);
      }
    });

    it.each(placements)(`GRU, ${dir}, operands %s`, async (place) => {
      await helperStarted();
      const inputs = [random(T * B * 3 * H), random(H * 3 * H, 0.5), random(3 * H), random(ROWS * B * H)];
      const sizes = [T * B * H, T * B * 4 * H, B * H];
      expectClose(runWith(gruForwardWasm, inputs, sizes, params, place), runWith(gruForwardHost, inputs, sizes, params), 'forward');
      const [states, saved] = runWith(gruForwardHost, inputs, sizes, params);
      const back = [random(T * B * H), random(3 * H * H, 0.5), states!, saved!, inputs[3]!];
      const backSizes = [T * B * 3 * H, T * B * 3 * H, B * H];
      expectClose(runWith(gruBackwardWasm, back, backSizes, params, place), runWith(gruBackwardHost, back, backSizes, params), 'backward');
    });

    it.each(placements)(`LSTM, ${dir}, with and without the final cell's gradient, operands %s`, async (place) => {
      await helperStarted();
      const inputs = [random(T * B * 4 * H), random(H * 4 * H, 0.5), random(ROWS * B * H), random(ROWS * B * H)];
      const sizes = [T * B * H, T * B * 5 * H, B * H, B * H];
      expectClose(runWith(lstmForwardWasm, inputs, sizes, params, place), runWith(lstmForwardHost, inputs, sizes, params), 'forward');
      const [, saved] = runWith(lstmForwardHost, inputs, sizes, params);
      for (const finalCell of [0, 1]) {
        const p = { ...params, finalCell };
        const back = [random(T * B * H), random(4 * H * H, 0.5), saved!, inputs[3]!, random(B * H)];
        const backSizes = [T * B * 4 * H, B * H, B * H];
        expectClose(runWith(lstmBackwardWasm, back, backSizes, p, place), runWith(lstmBackwardHost, back, backSizes, p), `backward, finalCell ${finalCell}`);
      }
    });

    it(`the recurrent weight's gradient, ${dir}`, () => {
      for (const [gates, steps] of [[1, T], [3, T], [4, 1]] as const) {
        const p = { ...params, steps, gates };
        const inputs = [random(steps * B * gates * H), random(steps * B * H), random(ROWS * B * H)];
        const sizes = [gates * H * H, gates * H];
        expectClose(runWith(weightGradWasm, inputs, sizes, p), runWith(weightGradHost, inputs, sizes, p), `gates ${gates}, ${steps} steps`);
      }
    });
  }
});
