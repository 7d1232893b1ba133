import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { backward, gradcheck, noGrad } from '@tinytape/autograd';
import { Vocab, loadDataTimeMachine } from '@tinytape/data';
import {
  type Device, type Tensor, arange, crossEntropy, manualSeed, memory, reshape, scope, sum, tensor,
} from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import {
  RNNModelScratch, getParams, gradClipping, initRnnState, predict, rnn, sgdUpdater, train, trainEpoch, transposeRows,
} from '../src/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.TINYTAPE_DATA_DIR ?? path.resolve(here, '../../../../shared/data');
const devices = await testDevices();
afterAll(releaseTestDevices);

const model = (vocabSize: number, hidden: number, device: Device) =>
  new RNNModelScratch(vocabSize, hidden, device, getParams, initRnnState, rnn);

describe.each(devices.map((d) => [d.kind, d] as const))('scratch RNN on %s', (_kind, device) => {
  it("the seeds' shape check: X = arange(10) as [2,5], 512 hidden -> Y [10,28], one state [2,512]", async () => {
    manualSeed(0);
    const net = model(28, 512, device);
    const X = reshape(arange(10, undefined, 1, { device }), [2, 5]);
    const state = net.beginState(X.shape[0]!, device);
    const [Y, newState] = net.forward(X, state);
    expect(Y.shape).toEqual([10, 28]);
    expect(newState).toHaveLength(1);
    expect(newState[0]!.shape).toEqual([2, 512]);
    expect(net.params.map((p) => p.shape)).toEqual([[28, 512], [512, 512], [512], [512, 28], [28]]);
    const w = await net.params[0]!.toArray();
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.009);
    expect(std).toBeLessThan(0.011);
  });

  it("a tiny model's loss gradients match finite differences", async () => {
    manualSeed(1);
    const V = 5, H = 3;
    const params = getParams(V, H, device);
    const X = tensor([[0, 1, 2], [3, 4, 0]], { dtype: 'int32', device });
    const y = tensor(transposeRows(new Int32Array([1, 2, 3, 4, 0, 1]), 2, 3), { dtype: 'int32', device });
    const inputs = X.T.oneHot(V); // [numSteps, batch, V], as RNNModelScratch feeds rnn()
    const result = await gradcheck(
      (W_xh, W_hh, b_h, W_hq, b_q) => {
        const [Y] = rnn(inputs, initRnnState(2, H, device), [W_xh!, W_hh!, b_h!, W_hq!, b_q!]);
        return crossEntropy(Y, y);
      },
      // Larger weights than N(0, 0.01) so every term is far above float32 round-off.
      noGrad(() => params.map((p) => p.mul(30).add(0.1))),
    );
    expect(result.failures).toEqual([]);
  });

  it('clipping leaves the global norm <= theta and small gradients untouched', async () => {
    const a = tensor([3, 4], { device, requiresGrad: true });
    const b = tensor([12], { device, requiresGrad: true });
    backward(sum(a.mul(tensor([3, 4], { device }))).add(sum(b.mul(12))));
    const norm = await gradClipping([a, b], 1).item();
    expect(norm).toBeCloseTo(13, 4);
    const clipped = [...(await a.grad!.toArray()), ...(await b.grad!.toArray())];
    expect(Math.hypot(...clipped)).toBeCloseTo(1, 5);
    expect(clipped[0]! / clipped[1]!).toBeCloseTo(3 / 4, 5);
    const before = [...(await a.grad!.toArray())];
    gradClipping([a, b], 100);
    expect([...(await a.grad!.toArray())]).toEqual(before);
  });

  it('sequential training detaches the state between batches; random re-initialises it', async () => {
    const { trainIter, vocab } = await loadDataTimeMachine(4, 5, { dataDir, maxTokens: 200, seed: 3 });
    for (const useRandom of [false, true]) {
      manualSeed(2);
      const net = model(vocab.length, 8, device);
      const seen: Tensor[][] = [];
      const spy = {
        ...net,
        vocabSize: net.vocabSize,
        namedParameters: () => net.namedParameters(),
        config: () => net.config(),
        beginState: (b: number, d: Device) => net.beginState(b, d),
        forward: (X: Tensor, state: Tensor[]) => {
          seen.push(state);
          return net.forward(X, state);
        },
      };
      let begins = 0;
      spy.beginState = (b, d) => {
        begins++;
        return net.beginState(b, d);
      };
      await trainEpoch(spy, trainIter, crossEntropy, sgdUpdater(net.params, 1), device, useRandom);
      const batches = seen.length;
      expect(batches).toBeGreaterThan(2);
      expect(begins).toBe(useRandom ? batches : 1);
      if (!useRandom) {
        // Every state after the first is a detached view: it does not require grad.
        for (const state of seen.slice(1)) expect(state[0]!.requiresGrad).toBe(false);
      }
    }
  });

  it('a short run lowers perplexity clearly, without leaking tensors', async () => {
    manualSeed(4);
    const { trainIter, vocab } = await loadDataTimeMachine(8, 10, { dataDir, maxTokens: 2000, seed: 4 });
    const net = model(vocab.length, 32, device);
    const before = memory(device);
    const lines: string[] = [];
    const result = await train(net, trainIter, vocab, 1, 12, device, { log: (l) => lines.push(l), predLen: 10 });
    const after = memory(device);
    // The only tensors a run adds are the parameters' .grad buffers, allocated once and reused.
    expect(after.liveTensors).toBe(before.liveTensors + net.params.length);
    expect(net.params.every((p) => p.grad !== null)).toBe(true);
    expect(result.history).toHaveLength(12);
    expect(result.history[0]!.perplexity).toBeGreaterThan(15);
    expect(result.perplexity).toBeLessThan(0.75 * result.history[0]!.perplexity);
    expect(lines.at(-3)).toMatch(new RegExp(`^perplexity \\d+\\.\\d, \\d+\\.\\d tokens/sec on ${device.kind}$`));
    expect(lines.at(-2)!.startsWith('time traveller')).toBe(true);
    expect(lines.at(-1)!.startsWith('traveller')).toBe(true);
  });

  it('predict is deterministic, includes the prefix, and maps unknown characters to <unk>', async () => {
    manualSeed(5);
    const vocab = new Vocab(Array.from('the time machine'));
    const net = model(vocab.length, 16, device);
    const a = await predict('time!?', 10, net, vocab, device);
    const b = await predict('time!?', 10, net, vocab, device);
    expect(a).toBe(b);
    expect(a.startsWith('time<unk><unk>')).toBe(true);
    const s1 = await predict('the', 20, net, vocab, device, { temperature: 1, seed: 9 });
    const s2 = await predict('the', 20, net, vocab, device, { temperature: 1, seed: 9 });
    expect(s1).toBe(s2);
  });
});


describe('divergence', () => {
  it('a NaN loss stops training with the epoch and batch named, unless allowNan', async () => {
    const { cpu } = await import('@tinytape/tensor');
    const { NonFiniteLossError } = await import('../src/index.ts');
    const device = cpu();
    manualSeed(6);
    const { trainIter, vocab } = await loadDataTimeMachine(4, 5, { dataDir, maxTokens: 300, seed: 1 });
    const net = model(vocab.length, 8, device);
    // A poisoned weight makes the very first loss NaN.
    noGrad(() => net.params[3]!.fill_(Number.NaN));
    const error = await train(net, trainIter, vocab, 1, 3, device, { log: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect((error as InstanceType<typeof NonFiniteLossError>).message).toMatch(/loss is NaN at epoch 1, batch 1;/);
    const result = await train(net, trainIter, vocab, 1, 2, device, { log: () => {}, allowNan: true, prefixes: [] });
    expect(result.history).toHaveLength(2);
  });
});
