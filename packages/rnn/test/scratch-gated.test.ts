import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { gradcheck, noGrad } from '@tinytape/autograd';
import { loadDataTimeMachine } from '@tinytape/data';
import { type Device, type Tensor, crossEntropy, manualSeed, tensor } from '@tinytape/tensor';
import { releaseTestDevices, testDevices } from '@tinytape/tensor/testing';
import {
  GRU_PARAM_NAMES, LSTM_PARAM_NAMES, RNNModelScratch, adam, getGruParams, getLstmParams, gru, initGruState, initLstmState, lstm,
  train, transposeRows,
} from '../src/index.ts';
import { rows, sigma, vecMat } from './host-cells.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.TINYTAPE_DATA_DIR ?? path.resolve(here, '../../../../shared/data');
const devices = await testDevices();
afterAll(releaseTestDevices);

const CELLS = {
  gru: { getParams: getGruParams, initState: initGruState, forward: gru, names: GRU_PARAM_NAMES },
  lstm: { getParams: getLstmParams, initState: initLstmState, forward: lstm, names: LSTM_PARAM_NAMES },
} as const;

const model = (cell: 'gru' | 'lstm', vocabSize: number, hidden: number, device: Device) => {
  const c = CELLS[cell];
  return new RNNModelScratch(vocabSize, hidden, device, c.getParams, c.initState, c.forward, c.names, cell);
};

async function host(params: Tensor[]): Promise<number[][][]> {
  return Promise.all(params.map(async (p) => rows(await p.toArray(), p.rank === 2 ? p.shape[1]! : p.shape[0]!)));
}

const add = (...vs: number[][]): number[] => vs[0]!.map((_, i) => vs.reduce((s, v) => s + v[i]!, 0));

describe.each(devices.map((d) => [d.kind, d] as const))("d2l chapter 9's from-scratch GRU and LSTM on %s", (_kind, device) => {
  it.each([
    ['gru', GRU_PARAM_NAMES, 3],
    ['lstm', LSTM_PARAM_NAMES, 4],
  ] as const)('%s: parameters in the book\'s order and shapes, weights N(0, 0.01²), zero biases', async (cell, names, gates) => {
    manualSeed(0);
    const net = model(cell, 28, 64, device);
    expect(net.namedParameters().map(([n]) => n)).toEqual(names);
    const shapes = Array.from({ length: gates }, () => [[28, 64], [64, 64], [64]]).flat();
    expect(net.params.map((p) => p.shape)).toEqual([...shapes, [64, 28], [28]]);
    const w = await net.params[0]!.toArray();
    const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.009);
    expect(std).toBeLessThan(0.011);
    for (const [name, p] of net.namedParameters()) {
      if (name.startsWith('b_')) expect(Array.from(await p.toArray()).every((v) => v === 0)).toBe(true);
    }
    expect(net.beginState(3, device).map((s) => s.shape)).toEqual(cell === 'gru' ? [[3, 64]] : [[3, 64], [3, 64]]);
    expect(net.config()).toEqual({ model: 'scratch', cell, vocabSize: 28, numHiddens: 64 });
  });

  it("a GRU step is the book's: H̃ = tanh(X W_xh + (R ⊙ H) W_hh + b_h), H = Z ⊙ H + (1 − Z) ⊙ H̃", async () => {
    manualSeed(1);
    const V = 4, H = 3;
    const params = noGrad(() => getGruParams(V, H, device).map((p) => p.mul(40).add(0.1)));
    const x = [0, 1, 0, 0];
    const h = [0.5, -0.3, 0.2];
    const [Y, [Hn]] = gru(tensor([[x]], { device }), [tensor([h], { device })], params);
    const [W_xz, W_hz, [b_z], W_xr, W_hr, [b_r], W_xh, W_hh, [b_h], W_hq, [b_q]] = await host(params);
    const Z = add(vecMat(x, W_xz!), vecMat(h, W_hz!), b_z!).map(sigma);
    const R = add(vecMat(x, W_xr!), vecMat(h, W_hr!), b_r!).map(sigma);
    const Ht = add(vecMat(x, W_xh!), vecMat(R.map((r, i) => r * h[i]!), W_hh!), b_h!).map(Math.tanh);
    const Hx = Z.map((z, i) => z * h[i]! + (1 - z) * Ht[i]!);
    Array.from(await Hn!.toArray()).forEach((v, i) => expect(v).toBeCloseTo(Hx[i]!, 5));
    Array.from(await Y.toArray()).forEach((v, i) => expect(v).toBeCloseTo(add(vecMat(Hx, W_hq!), b_q!)[i]!, 5));
  });

  it("an LSTM step is the book's: C = F ⊙ C + I ⊙ C̃, H = O ⊙ tanh(C)", async () => {
    manualSeed(2);
    const V = 4, H = 3;
    const params = noGrad(() => getLstmParams(V, H, device).map((p) => p.mul(40).add(0.1)));
    const x = [0, 0, 1, 0];
    const h = [0.5, -0.3, 0.2];
    const c = [1, -1, 0.5];
    const [, [Hn, Cn]] = lstm(tensor([[x]], { device }), [tensor([h], { device }), tensor([c], { device })], params);
    const hp = await host(params);
    const gate = (k: number) => add(vecMat(x, hp[3 * k]!), vecMat(h, hp[3 * k + 1]!), hp[3 * k + 2]![0]!);
    const [I, F, O] = [0, 1, 2].map((k) => gate(k).map(sigma));
    const Ct = gate(3).map(Math.tanh);
    const Cx = c.map((cv, i) => F![i]! * cv + I![i]! * Ct[i]!);
    const Hx = Cx.map((cv, i) => O![i]! * Math.tanh(cv));
    Array.from(await Cn!.toArray()).forEach((v, i) => expect(v).toBeCloseTo(Cx[i]!, 5));
    Array.from(await Hn!.toArray()).forEach((v, i) => expect(v).toBeCloseTo(Hx[i]!, 5));
  });

  it.each(['gru', 'lstm'] as const)("%s: a tiny model's loss gradients match finite differences", async (cell) => {
    manualSeed(3);
    const V = 4, H = 2;
    const { getParams, initState, forward } = CELLS[cell];
    const X = tensor([[0, 1], [3, 2]], { dtype: 'int32', device });
    const y = tensor(transposeRows(new Int32Array([1, 2, 0, 3]), 2, 2), { dtype: 'int32', device });
    const inputs = X.T.oneHot(V);
    const result = await gradcheck(
      (...params) => crossEntropy(forward(inputs, initState(2, H, device), params)[0], y),
      // Larger weights than N(0, 0.01²) so every term is far above float32 round-off.
      noGrad(() => getParams(V, H, device).map((p) => p.mul(40).add(0.1))),
    );
    expect(result.failures).toEqual([]);
  });

  it.each(['gru', 'lstm'] as const)('%s: a short run lowers perplexity clearly', async (cell) => {
    manualSeed(4);
    const { trainIter, vocab } = await loadDataTimeMachine(8, 10, { dataDir, maxTokens: 1000, seed: 4 });
    const net = model(cell, vocab.length, 16, device);
    const updater = adam(net.params, 0.02);
    const result = await train(net, trainIter, vocab, 0.02, 6, device, { log: () => {}, prefixes: [], updater });
    updater.dispose();
    expect(result.perplexity).toBeLessThan(0.7 * result.history[0]!.perplexity);
  });
});
