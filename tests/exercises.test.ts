import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataDir } from './cli-harness.ts';
import { loadCorpusTimeMachine } from '../packages/data/src/index.ts';
import { createModel } from '../packages/rnn/src/index.ts';
import { Generator, cpu } from '../packages/tensor/src/index.ts';
import { main as depthMain } from '../scripts/exercises/depth.ts';
import { evaluatePerplexity } from '../scripts/exercises/overfit.ts';
import { makeSeries, multiStepPredictions, oneStepPredictions, trainSine, variance } from '../scripts/exercises/sine.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'tinytape-exercises-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('exercise (c): a recurrent layer fitted to d2l §8.1\'s noisy sine', () => {
  it('reaches a training MSE well under the series\' variance, and predicts one step and many steps ahead', async () => {
    const generator = new Generator(0);
    const series = makeSeries(1000, 0.2, generator);
    const v = variance(series);
    // sin over 1.6 periods plus noise of variance 0.04: about 0.5. Predicting the mean scores exactly v.
    expect(v).toBeGreaterThan(0.4);
    const config = { tau: 4, 'n-train': 600, cell: 'gru', hidden: 4, epochs: 2, 'batch-size': 16, lr: 0.01 };
    const { model, history } = await trainSine(series, config, generator);
    expect(history.map((h) => h.epoch)).toEqual([1, 2]);
    // A quarter of the variance: a model that learnt nothing (or only the mean) cannot pass.
    expect(history[1]!.trainMse).toBeLessThan(v / 4);
    const onestep = await oneStepPredictions(model, series, 4);
    expect(onestep.slice(0, 4).every(Number.isNaN)).toBe(true);
    const multistep = await multiStepPredictions(model, series, 4, 604);
    // The book's multi-step array keeps the data up to index 603 and predicts from 604 on.
    expect(Array.from(multistep.subarray(0, 604))).toEqual(Array.from(series.subarray(0, 604)));
    expect(multistep.subarray(604).every(Number.isFinite)).toBe(true);
    expect(multistep[604]).toBeCloseTo(onestep[604]!, 5);
  });
});

describe('exercise (a): perplexity on a held-out slice', () => {
  it('carries the state across chunks (one 60-step chunk = three 20-step chunks) and an untrained model scores about the vocabulary size', async () => {
    const { corpus, vocab } = await loadCorpusTimeMachine(-1, { dataDir });
    const device = cpu();
    const net = createModel({ model: 'gru', vocabSize: vocab.length, numHiddens: 16, numLayers: 1, bidirectional: false }, device, new Generator(3));
    const text = corpus.subarray(5000, 5000 + 2 * 60 + 1);
    const whole = await evaluatePerplexity(net, text, 2, 60, device);
    const chunked = await evaluatePerplexity(net, text, 2, 20, device);
    expect(chunked).toBeCloseTo(whole, 4);
    // Dropping the carried state (a fresh zero state per chunk) would change it: the check can fail.
    const restarted = (await Promise.all([0, 1, 2].map(async (c) => {
      const part = new Int32Array(2 * 20 + 1);
      // Stream b of the chunked run reads text[b*60 + c*20 ...]; rebuild those two rows as their own corpus.
      for (let b = 0; b < 2; b++) for (let t = 0; t <= 20; t++) part[b * 20 + t] = text[b * 60 + c * 20 + t]!;
      return Math.log(await evaluatePerplexity(net, part, 2, 20, device));
    }))).reduce((a, b) => a + b, 0) / 3;
    expect(Math.abs(Math.exp(restarted) - whole)).toBeGreaterThan(1e-3);
    expect(whole).toBeGreaterThan(vocab.length * 0.7);
    expect(whole).toBeLessThan(vocab.length * 1.3);
  });
});

describe('exercise (b): 1 vs 2 layers through the CLI', () => {
  it('trains both depths and writes one chart and one CSV with a column per depth', async () => {
    const flags = ['--data-dir', dataDir, '--hidden', '8', '--epochs', '2', '--batch-size', '4', '--num-steps', '6', '--max-tokens', '400', '--pred-len', '5'];
    const log = console.log;
    console.log = () => {};
    try {
      expect(await depthMain([...flags, '--out-dir', dir, '--name', 'depth'])).toBe(0);
    } finally {
      console.log = log;
    }
    const csv = (await readFile(path.join(dir, 'depth.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('epoch,perplexity_1layer,perplexity_2layer');
    expect(csv).toHaveLength(3);
    const [, p1, p2] = csv[2]!.split(',').map(Number);
    // Different depths are different models: the two curves cannot coincide.
    expect(p1).not.toBe(p2);
    expect(await readFile(path.join(dir, 'depth.svg'), 'utf8')).toContain('2 layers');
  });
});
