import { afterAll, describe, expect, it } from 'vitest';
import { gradcheck, noGrad } from '@tinytape/autograd';
import {
  type Device, type Tensor, Generator, concat, cpu, manualSeed, reshape, slice, tensor, uniform, zeros,
} from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import { GRU, LSTM, Linear, RNN, type RecurrentLayer, recurrentForward } from '../src/index.ts';
import { type HostWeights, hostGru, hostLstm, hostRnn, matVec, rows } from './host-cells.ts';

const devices = await testDevices();
afterAll(releaseTestDevices);

type Mode = 'rnn' | 'gru' | 'lstm';
const MODES: Mode[] = ['rnn', 'gru', 'lstm'];
const OPTIONS = MODES.flatMap((mode) => [1, 2].flatMap((numLayers) => [false, true].map((bidirectional) => ({ mode, numLayers, bidirectional }))));

function makeLayer(mode: Mode, inputSize: number, hidden: number, opts: ConstructorParameters<typeof RNN>[2] = {}): RecurrentLayer<unknown> {
  const Layer = mode === 'rnn' ? RNN : mode === 'gru' ? GRU : LSTM;
  return new Layer(inputSize, hidden, opts) as RecurrentLayer<unknown>;
}

/** The layer's state as a list, whatever its PyTorch shape. */
function stateList(layer: RecurrentLayer<unknown>, s: unknown): Tensor[] {
  return layer.toState(s);
}

async function hostWeights(layer: RecurrentLayer<unknown>, k: number): Promise<HostWeights> {
  const [wIh, wHh, bIh, bHh] = layer.allWeights[k]!;
  return {
    wIh: rows(await wIh!.toArray(), wIh!.shape[1]!),
    wHh: rows(await wHh!.toArray(), wHh!.shape[1]!),
    bIh: Array.from(await bIh!.toArray()),
    bHh: Array.from(await bHh!.toArray()),
  };
}

/** Reverses a [numSteps, ...] tensor in time. */
function reverseTime(x: Tensor): Tensor {
  return concat(Array.from({ length: x.shape[0]! }, (_, t) => slice(x, 0, x.shape[0]! - 1 - t, x.shape[0]! - t)), 0);
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, digits = 5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]!).toBeCloseTo(expected[i]!, digits);
}

describe('PyTorch parameter layout and initialisation (CPU)', () => {
  it('a 2-layer bidirectional LSTM has weight_ih/hh, bias_ih/hh per layer and direction, in PyTorch order', () => {
    manualSeed(0);
    const layer = new LSTM(5, 3, { numLayers: 2, bidirectional: true });
    expect(layer.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ['weight_ih_l0', [12, 5]], ['weight_hh_l0', [12, 3]], ['bias_ih_l0', [12]], ['bias_hh_l0', [12]],
      ['weight_ih_l0_reverse', [12, 5]], ['weight_hh_l0_reverse', [12, 3]], ['bias_ih_l0_reverse', [12]], ['bias_hh_l0_reverse', [12]],
      ['weight_ih_l1', [12, 6]], ['weight_hh_l1', [12, 3]], ['bias_ih_l1', [12]], ['bias_hh_l1', [12]],
      ['weight_ih_l1_reverse', [12, 6]], ['weight_hh_l1_reverse', [12, 3]], ['bias_ih_l1_reverse', [12]], ['bias_hh_l1_reverse', [12]],
    ]);
    expect(layer.allWeights).toHaveLength(4);
    expect(layer.parameters().every((p) => p.requiresGrad && p.kept)).toBe(true);
  });

  it.each([['rnn', 1], ['gru', 3], ['lstm', 4]] as const)('%s stacks %i gate blocks of hidden rows', (mode, gates) => {
    const layer = makeLayer(mode, 4, 6);
    expect(layer.namedParameters().map(([n, p]) => [n, p.shape])).toEqual([
      ['weight_ih_l0', [gates * 6, 4]], ['weight_hh_l0', [gates * 6, 6]], ['bias_ih_l0', [gates * 6]], ['bias_hh_l0', [gates * 6]],
    ]);
  });

  it('every recurrent weight and bias is U(±1/√hidden), Linear U(±1/√in); a seed fixes them all', async () => {
    const draw = async (seed: number) => {
      const layer = new GRU(7, 16, { generator: new Generator(seed), numLayers: 2 });
      return Promise.all(layer.parameters().map(async (p) => Array.from(await p.toArray())));
    };
    const values = (await draw(3)).flat();
    const bound = 1 / Math.sqrt(16);
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...values)).toBeGreaterThan(0.95 * bound);
    expect(Math.min(...values)).toBeLessThan(-0.95 * bound);
    expect(await draw(3)).toEqual(await draw(3));
    expect((await draw(4)).flat()).not.toEqual(values);
    const linear = new Linear(25, 10, { generator: new Generator(1) });
    expect(linear.weight.shape).toEqual([10, 25]);
    expect(linear.bias.shape).toEqual([10]);
    const w = Array.from(await linear.weight.toArray());
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(0.2);
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.19);
  });

  it("d2l's shape check: [35,32,28] into RNN(28 -> 256) gives Y [35,32,256] and a state [1,32,256]", () => {
    manualSeed(0);
    const layer = new RNN(28, 256);
    const state = zeros([1, 32, 256]);
    const X = uniform([35, 32, 28], 0, 1);
    const [Y, next] = layer.forward(X, state);
    expect(Y.shape).toEqual([35, 32, 256]);
    expect(next.shape).toEqual([1, 32, 256]);
  });

  it('rejects inputs and states of the wrong shape with the expected shape in the message', () => {
    const layer = new LSTM(3, 2, { numLayers: 2 });
    expect(() => layer.forward(zeros([4, 5, 2]))).toThrow(/input must be \[numSteps, batch, 3\], got \[4,5,2\]/);
    expect(() => layer.forward(zeros([4, 5, 3]), [zeros([1, 5, 2]), zeros([2, 5, 2])])).toThrow(/hidden state must be \[2,5,2\]/);
    expect(() => layer.fromState([zeros([2, 5, 2])])).toThrow(/pair \[h, c\]/);
    expect(() => new GRU(3, 0)).toThrow(/hiddenSize must be a positive integer/);
  });
});

describe.each(devices.map((d) => [d.kind, d] as const))('recurrent layers on %s', (_kind, device) => {
  it('Linear computes x Wᵀ + b', async () => {
    const linear = new Linear(3, 2, { device, generator: new Generator(2) });
    const x = tensor([[1, 2, 3], [-1, 0, 0.5]], { device });
    const W = rows(await linear.weight.toArray(), 3);
    const b = Array.from(await linear.bias.toArray());
    const expected = [[1, 2, 3], [-1, 0, 0.5]].flatMap((row) => matVec(W, row).map((v, i) => v + b[i]!));
    expectClose(await linear.forward(x).toArray(), expected);
  });

  it.each(OPTIONS)('$mode, $numLayers layer(s), bidirectional $bidirectional: output and state shapes', ({ mode, numLayers, bidirectional }) => {
    const layer = makeLayer(mode, 3, 2, { numLayers, bidirectional, device, generator: new Generator(1) });
    const directions = bidirectional ? 2 : 1;
    const [output, state] = layer.forward(uniform([4, 5, 3], -1, 1, { device }));
    expect(output.shape).toEqual([4, 5, directions * 2]);
    const list = stateList(layer, state);
    expect(list).toHaveLength(mode === 'lstm' ? 2 : 1);
    for (const s of list) expect(s.shape).toEqual([numLayers * directions, 5, 2]);
  });

  it.each([['tanh'], ['relu']] as const)('an RNN (%s) step is act(W_ih x + b_ih + W_hh h + b_hh)', async (nonlinearity) => {
    const layer = new RNN(3, 4, { nonlinearity, device, generator: new Generator(5) });
    const x = [[0.5, -1, 2], [1, 0.25, -0.5]];
    const h = [[0.1, -0.2, 0.3, 0.4], [-0.5, 0.6, 0, 0.2]];
    const [out, hN] = layer.forward(tensor([x], { device }), tensor([h], { device }));
    const w = await hostWeights(layer, 0);
    const act = nonlinearity === 'relu' ? (v: number) => Math.max(v, 0) : Math.tanh;
    const expected = x.flatMap((xb, b) => hostRnn(w, xb, h[b]!, act));
    expectClose(await out.toArray(), expected);
    expectClose(await hN.toArray(), expected);
  });

  it('a GRU step is PyTorch\'s: n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h\' = (1 − z) ⊙ n + z ⊙ h', async () => {
    const layer = new GRU(3, 4, { device, generator: new Generator(6) });
    const x = [[0.5, -1, 2], [1, 0.25, -0.5]];
    const h = [[0.1, -0.2, 0.3, 0.4], [-0.5, 0.6, 0, 0.2]];
    const [out] = layer.forward(tensor([x], { device }), tensor([h], { device }));
    const w = await hostWeights(layer, 0);
    expectClose(await out.toArray(), x.flatMap((xb, b) => hostGru(w, xb, h[b]!)));
  });

  it('an LSTM step is PyTorch\'s: gates i, f, g, o; c\' = f ⊙ c + i ⊙ g, h\' = o ⊙ tanh(c\')', async () => {
    const layer = new LSTM(3, 4, { device, generator: new Generator(7) });
    const x = [[0.5, -1, 2], [1, 0.25, -0.5]];
    const h = [[0.1, -0.2, 0.3, 0.4], [-0.5, 0.6, 0, 0.2]];
    const c = [[1, -0.5, 0.25, 0], [0.3, 0.3, -1, 2]];
    const [out, [hN, cN]] = layer.forward(tensor([x], { device }), [tensor([h], { device }), tensor([c], { device })]);
    const w = await hostWeights(layer, 0);
    const expected = x.map((xb, b) => hostLstm(w, xb, h[b]!, c[b]!));
    expectClose(await out.toArray(), expected.flatMap(([hb]) => hb));
    expectClose(await hN.toArray(), expected.flatMap(([hb]) => hb));
    expectClose(await cN.toArray(), expected.flatMap(([, cb]) => cb));
  });

  it.each(MODES)('%s: the backward direction reads the sequence reversed; its state rows follow the forward ones', async (mode) => {
    const bi = makeLayer(mode, 3, 2, { bidirectional: true, device, generator: new Generator(8) });
    const fwd = makeLayer(mode, 3, 2, { device });
    const bwd = makeLayer(mode, 3, 2, { device });
    noGrad(() => {
      fwd.parameters().forEach((p, i) => p.assign_(bi.parameters()[i]!));
      bwd.parameters().forEach((p, i) => p.assign_(bi.parameters()[4 + i]!));
    });
    const x = uniform([3, 2, 3], -1, 1, { device });
    const [out, state] = bi.forward(x);
    const [outF, stateF] = fwd.forward(x);
    const [outB, stateB] = bwd.forward(reverseTime(x));
    expectClose(await out.toArray(), await concat([outF, reverseTime(outB)], 2).toArray());
    const biList = stateList(bi, state);
    const rowsF = await Promise.all(stateList(fwd, stateF).map((s) => s.toArray()));
    const rowsB = await Promise.all(stateList(bwd, stateB).map((s) => s.toArray()));
    for (let j = 0; j < biList.length; j++) {
      expectClose(await biList[j]!.toArray(), [...rowsF[j]!, ...rowsB[j]!]);
    }
  });

  it.each(MODES)('%s: layer 1 reads the concatenated outputs of layer 0 (stacking equals composing)', async (mode) => {
    const deep = makeLayer(mode, 3, 2, { numLayers: 2, bidirectional: true, device, generator: new Generator(9) });
    const first = makeLayer(mode, 3, 2, { bidirectional: true, device });
    const second = makeLayer(mode, 4, 2, { bidirectional: true, device });
    noGrad(() => {
      first.parameters().forEach((p, i) => p.assign_(deep.parameters()[i]!));
      second.parameters().forEach((p, i) => p.assign_(deep.parameters()[8 + i]!));
    });
    const x = uniform([3, 2, 3], -1, 1, { device });
    const [out, state] = deep.forward(x);
    const [mid, state0] = first.forward(x);
    const [top, state1] = second.forward(mid);
    expectClose(await out.toArray(), await top.toArray());
    const deepList = stateList(deep, state);
    const list0 = stateList(first, state0);
    const list1 = stateList(second, state1);
    for (let j = 0; j < deepList.length; j++) {
      expectClose(await deepList[j]!.toArray(), await concat([list0[j]!, list1[j]!], 0).toArray());
    }
  });

  it.each(OPTIONS)('gradcheck: $mode, $numLayers layer(s), bidirectional $bidirectional', async ({ mode, numLayers, bidirectional }) => {
    const hidden = 2, inputSize = 3, numSteps = 2, batch = 2;
    const layer = makeLayer(mode, inputSize, hidden, { numLayers, bidirectional, device: cpu() });
    const spec = layer.spec;
    const g = new Generator(42);
    // U(-0.5, 0.5) rather than U(±1/√2)-ish small values: every term stays far above float32 round-off.
    const draw = (shape: readonly number[]) => uniform(shape, -0.5, 0.5, { device, generator: g });
    const weights = layer.parameters().map((p) => draw(p.shape));
    const rowsOfState = numLayers * (bidirectional ? 2 : 1);
    const x = draw([numSteps, batch, inputSize]);
    const states = (mode === 'lstm' ? [0, 1] : [0]).map(() => draw([rowsOfState, batch, hidden]));
    const n = weights.length;
    const result = await gradcheck((...inputs) => {
      const { output, h, c } = recurrentForward(spec, inputs.slice(0, n), inputs[n]!, inputs[n + 1]!, inputs[n + 2]);
      // Everything the layer returns, so the check covers the output and both final states.
      return concat([output, h, ...(c ? [c] : [])].map((t) => reshape(t, [-1])));
    }, [...weights, x, ...states]);
    expect(result.failures).toEqual([]);
    expect(result.checked).toBe([...weights, x, ...states].reduce((s, t) => s + t.size, 0));
  });
});
