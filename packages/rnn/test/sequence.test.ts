// The fused recurrence (`recurrentSequence`, one tape entry per layer and direction) against the
// step-by-step composition of tensor ops it replaces: same outputs, same final states, same gradients
// for every weight, the input and the initial states, for every cell × depth × direction, on each device.
import { afterAll, describe, expect, it } from 'vitest';
import { backward, formatTape, zeroGrad } from '@tinytape/autograd';
import { type Device, type Tensor, Generator, concat, mul, reshape, sum, uniform } from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import { GRU, LSTM, RNN, type RecurrentLayer, recurrentForward } from '../src/index.ts';

const devices = await testDevices();
afterAll(releaseTestDevices);

type Mode = 'rnn' | 'gru' | 'lstm';
const CASES = (['rnn', 'gru', 'lstm'] as Mode[]).flatMap((mode) =>
  [1, 2].flatMap((numLayers) => [false, true].map((bidirectional) => ({ mode, numLayers, bidirectional }))),
);

function makeLayer(mode: Mode, inputSize: number, hidden: number, opts: ConstructorParameters<typeof RNN>[2]): RecurrentLayer<unknown> {
  const Layer = mode === 'rnn' ? RNN : mode === 'gru' ? GRU : LSTM;
  return new Layer(inputSize, hidden, opts) as RecurrentLayer<unknown>;
}

interface Run {
  values: Float32Array[];
  grads: Float32Array[];
}

/**
 * Runs the layer's recurrence fused or step by step on fixed inputs, backpropagates a weighted sum of
 * everything it returns (random weights, so every output element gets a distinct gradient) and
 * collects the outputs and every input's gradient.
 */
async function run(device: Device, mode: Mode, numLayers: number, bidirectional: boolean, fused: boolean, nonlinearity?: 'relu'): Promise<Run> {
  const numSteps = 5, batch = 3, inputSize = 4, hidden = 6;
  const g = new Generator(7);
  const layer = makeLayer(mode, inputSize, hidden, { numLayers, bidirectional, device, generator: g, ...(nonlinearity ? { nonlinearity } : {}) });
  const draw = (shape: readonly number[]) => uniform(shape, -1, 1, { device, generator: g, requiresGrad: true });
  const x = draw([numSteps, batch, inputSize]);
  const rowsOfState = numLayers * (bidirectional ? 2 : 1);
  const states = (mode === 'lstm' ? [0, 1] : [0]).map(() => draw([rowsOfState, batch, hidden]));
  const weights = layer.parameters();
  const { output, h, c } = recurrentForward(layer.spec, weights, x, states[0]!, states[1], { fused });
  const everything = concat([output, h, ...(c ? [c] : [])].map((t) => reshape(t, [-1])));
  const mix = uniform(everything.shape, -1, 1, { device, generator: new Generator(3) });
  backward(sum(mul(everything, mix)));
  const leaves: Tensor[] = [...weights, x, ...states];
  const result: Run = {
    values: await Promise.all([output, h, ...(c ? [c] : [])].map((t) => t.toArray() as Promise<Float32Array>)),
    grads: await Promise.all(leaves.map((t) => t.grad!.toArray() as Promise<Float32Array>)),
  };
  zeroGrad(leaves);
  return result;
}

function expectSame(actual: Float32Array[], expected: Float32Array[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    expect(a.length).toBe(e.length);
    let worst = 0;
    for (let j = 0; j < e.length; j++) worst = Math.max(worst, Math.abs(a[j]! - e[j]!) / (1e-3 + Math.abs(e[j]!)));
    // Float32 sums taken in a different order (one matmul over all steps vs one per step).
    expect(worst).toBeLessThan(1e-4);
  });
}

describe.each(devices.map((d) => [d.kind, d] as const))('fused recurrence on %s', (_kind, device) => {
  it.each(CASES)('$mode, $numLayers layer(s), bidirectional $bidirectional: equals the step-by-step ops', async ({ mode, numLayers, bidirectional }) => {
    const fused = await run(device, mode, numLayers, bidirectional, true);
    const stepwise = await run(device, mode, numLayers, bidirectional, false);
    expectSame(fused.values, stepwise.values);
    expectSame(fused.grads, stepwise.grads);
  });

  it('relu RNN: equals the step-by-step ops', async () => {
    const fused = await run(device, 'rnn', 1, true, true, 'relu');
    const stepwise = await run(device, 'rnn', 1, true, false, 'relu');
    expectSame(fused.values, stepwise.values);
    expectSame(fused.grads, stepwise.grads);
  });
});

describe('fused recurrence on the tape', () => {
  it('records one entry per layer and direction instead of a dozen per step', () => {
    const device = devices[0]!;
    const layer = new LSTM(3, 4, { numLayers: 2, bidirectional: true, device, path: 'sequence' });
    const x = uniform([10, 2, 3], -1, 1, { device, requiresGrad: true });
    const [out] = layer.forward(x);
    const tape = formatTape();
    expect(tape.match(/recurrentSequence/g)?.length).toBe(4);
    expect(tape).not.toMatch(/sigmoid/);
    out.dispose();
  });
});
