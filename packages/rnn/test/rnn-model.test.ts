import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataTimeMachine } from '@tinytape/data';
import { type Device, Generator, cpu, manualSeed, memory, tensor } from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import { clearTape } from '@tinytape/autograd';
import { GRU, LSTM, RNN, RNNModel, adam, createModel, parameters, predict, train } from '../src/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.TINYTAPE_DATA_DIR ?? path.resolve(here, '../../../../shared/data');
const devices = await testDevices();
afterAll(releaseTestDevices);

describe("d2l's concise RNNModel (CPU)", () => {
  it("the book's check: an untrained RNNModel(RNN(28 -> 256)) predicts, and its logits are [numSteps*batch, V]", async () => {
    manualSeed(0);
    const { vocab } = await loadDataTimeMachine(32, 35, { dataDir });
    const net = new RNNModel(new RNN(vocab.length, 256), vocab.length);
    const text = await predict('time traveller', 10, net, vocab, cpu());
    expect(text.startsWith('time traveller')).toBe(true);
    expect(Array.from(text)).toHaveLength(24);
    const X = tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'int32' });
    const [Y, state] = net.forward(X, net.beginState(2, cpu()));
    expect(Y.shape).toEqual([6, vocab.length]);
    expect(state.map((s) => s.shape)).toEqual([[1, 2, 256]]);
  });

  it('names its parameters as PyTorch names the book model\'s state_dict', () => {
    const net = new RNNModel(new GRU(10, 4, { bidirectional: true, numLayers: 2 }), 10);
    const names = net.namedParameters().map(([n]) => n);
    const per = (suffix: string) => ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'].map((w) => `rnn.${w}${suffix}`);
    expect(names).toEqual([...per('_l0'), ...per('_l0_reverse'), ...per('_l1'), ...per('_l1_reverse'), 'linear.weight', 'linear.bias']);
    expect(net.linear.weight.shape).toEqual([10, 8]);
    expect(net.config()).toEqual({ model: 'gru', vocabSize: 10, numHiddens: 4, numLayers: 2, bidirectional: true });
  });

  it('an LSTM model begins with the pair [h, c] of zeros [layers*directions, batch, hidden]', async () => {
    const net = new RNNModel(new LSTM(6, 3, { numLayers: 3 }), 6);
    const state = net.beginState(5, cpu());
    expect(state.map((s) => s.shape)).toEqual([[3, 5, 3], [3, 5, 3]]);
    expect(Array.from(await state[1]!.toArray()).every((v) => v === 0)).toBe(true);
  });

  it('refuses a layer whose input size is not the vocabulary size', () => {
    expect(() => new RNNModel(new RNN(5, 3), 6)).toThrow(/reads 5 features but the vocabulary has 6/);
  });

  it('a seed fixes the whole model', async () => {
    const make = () => createModel({ model: 'lstm', vocabSize: 7, numHiddens: 3, numLayers: 1, bidirectional: false }, cpu(), new Generator(5));
    const a = await Promise.all(parameters(make()).map((p) => p.toArray()));
    const b = await Promise.all(parameters(make()).map((p) => p.toArray()));
    expect(a).toEqual(b);
  });
});

describe.each(devices.map((d) => [d.kind, d] as const))('training concise models on %s', (_kind, device: Device) => {
  it.each(['rnn', 'gru', 'lstm'] as const)('%s with Adam: a short run lowers perplexity clearly, without leaking tensors', async (model) => {
    clearTape(); // earlier tests' forward passes left entries that the first backward would free
    manualSeed(4);
    const { trainIter, vocab } = await loadDataTimeMachine(8, 10, { dataDir, maxTokens: 1000, seed: 4 });
    const net = createModel({ model, vocabSize: vocab.length, numHiddens: 16, numLayers: 1, bidirectional: false }, device);
    const before = memory(device);
    const updater = adam(parameters(net), 0.02);
    const result = await train(net, trainIter, vocab, 0.02, 6, device, { log: () => {}, predLen: 10, predPeriod: 100, updater });
    updater.dispose();
    // The only tensors a run adds are the parameters' .grad buffers.
    expect(memory(device).liveTensors).toBe(before.liveTensors + parameters(net).length);
    expect(result.history[0]!.perplexity).toBeGreaterThan(15);
    expect(result.perplexity).toBeLessThan(0.6 * result.history[0]!.perplexity);
    expect(result.samples['time traveller']!.startsWith('time traveller')).toBe(true);
  });

  it('a 2-layer bidirectional GRU trains with SGD too', async () => {
    manualSeed(5);
    const { trainIter, vocab } = await loadDataTimeMachine(4, 6, { dataDir, maxTokens: 300, seed: 5 });
    const net = createModel({ model: 'gru', vocabSize: vocab.length, numHiddens: 6, numLayers: 2, bidirectional: true }, device);
    const result = await train(net, trainIter, vocab, 1, 3, device, { log: () => {}, prefixes: [] });
    expect(result.history).toHaveLength(3);
    expect(result.perplexity).toBeLessThan(result.history[0]!.perplexity);
  });
});

