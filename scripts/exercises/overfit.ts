/**
 * Exercise (a) of docs/exercises.md: a concise model overfits. It trains on a small slice at the start of
 * *The Time Machine* (d2l's pipeline: lower-cased letters and spaces, character tokens, the vocabulary of
 * the whole book) and, every few epochs, measures perplexity with the same evaluator on that slice and on
 * a held-out slice at the end of the book that training never sees. Perplexity on the training slice keeps
 * falling towards 1 while the held-out one bottoms out and climbs: the model memorises its slice.
 *
 *   node scripts/exercise-overfit.mjs [--model rnn] [--hidden 256] [--train-tokens 2000] [--epochs 300]
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { noGrad } from '../../packages/autograd/src/index.ts';
import { Rng, SeqDataLoader, loadCorpusTimeMachine, seqDataIterRandom, seqDataIterSequential } from '../../packages/data/src/index.ts';
import { type LanguageModel, type State, adam, createModel, parameters, train, transposeRows } from '../../packages/rnn/src/index.ts';
import { renderLineChartSvg, toCsv, writeFileAtomic } from '../../packages/rnn/src/io/plot.ts';
import { type Device, Generator, type Tensor, cpu, crossEntropy, keep, manualSeed, scope, stack, tensor } from '../../packages/tensor/src/index.ts';
import { FlagError, type FlagValues, helpText, parseFlags } from './flags.ts';

/** The exercise's settings. */
export const OVERFIT_FLAGS = {
  model: { default: 'rnn', help: 'concise layer: rnn, gru or lstm' },
  hidden: { default: 256, help: 'hidden units' },
  layers: { default: 1, help: 'stacked layers' },
  'train-tokens': { default: 2000, help: 'training slice: the first this many character tokens' },
  'held-out-tokens': { default: 10000, help: 'held-out slice: the last this many tokens of the book' },
  epochs: { default: 300, help: 'passes over the training slice' },
  optimizer: { default: 'sgd', help: 'sgd (d2l\'s) or adam' },
  lr: { default: 1, help: 'learning rate' },
  clip: { default: 1, help: 'gradient-norm clipping threshold' },
  'batch-size': { default: 8, help: 'subsequences per minibatch (small, so a small slice still gives several batches)' },
  'num-steps': { default: 35, help: 'time steps per subsequence' },
  iter: { default: 'sequential', help: 'sequential or random partitioning' },
  'eval-every': { default: 5, help: 'measure both slices every this many epochs' },
  seed: { default: 0, help: 'seed of the initialisation and the iterator' },
  'data-dir': { default: '', help: 'where timemachine.txt is; empty: the data package cache' },
  'out-dir': { default: 'docs/exercises', help: 'where overfit.svg and overfit.csv go' },
  name: { default: 'overfit', help: 'base name of the output files' },
} as const;

/** Parsed settings of the exercise. */
export type OverfitConfig = FlagValues<typeof OVERFIT_FLAGS>;

/**
 * Perplexity of `net` on `corpus`, read like the sequential iterator reads it: `batchSize` contiguous
 * streams side by side, `numSteps` tokens at a time, the state carried from one chunk to the next. No tape
 * is recorded; every chunk's mean loss stays on the device until one readback at the end.
 */
export async function evaluatePerplexity(
  net: LanguageModel,
  corpus: ArrayLike<number>,
  batchSize: number,
  numSteps: number,
  device: Device,
): Promise<number> {
  // Inputs are tokens 0..n-2 of each stream and targets the tokens one on, so a stream needs one extra token.
  const rowLength = Math.floor((corpus.length - 1) / batchSize);
  const numChunks = Math.floor(rowLength / numSteps);
  if (numChunks < 1) throw new RangeError(`evaluatePerplexity: ${corpus.length} tokens are too few for ${batchSize} streams of ${numSteps} steps`);
  const losses: Tensor[] = [];
  let state: State = net.beginState(batchSize, device);
  try {
    for (let c = 0; c < numChunks; c++) {
      const X = new Int32Array(batchSize * numSteps);
      const Y = new Int32Array(batchSize * numSteps);
      for (let b = 0; b < batchSize; b++) {
        for (let t = 0; t < numSteps; t++) {
          const at = b * rowLength + c * numSteps + t;
          X[b * numSteps + t] = corpus[at]!;
          Y[b * numSteps + t] = corpus[at + 1]!;
        }
      }
      const previous = state;
      state = noGrad(() =>
        scope(() => {
          const [yHat, next] = net.forward(tensor(X, { shape: [batchSize, numSteps], dtype: 'int32', device }), previous);
          // Targets time-major, matching the model's output rows (as in trainEpoch).
          losses.push(keep(crossEntropy(yHat, tensor(transposeRows(Y, batchSize, numSteps), { dtype: 'int32', device }))));
          return next;
        }),
      );
      for (const s of previous) s.dispose();
    }
    const all = stack(losses);
    const values = await all.toArray();
    all.dispose();
    // Every chunk has batchSize*numSteps targets, so the mean of chunk means is the mean per token.
    let sum = 0;
    for (const v of values) sum += v;
    return Math.exp(sum / values.length);
  } finally {
    for (const s of state) s.dispose();
    for (const l of losses) {
      l.kept = false;
      l.dispose();
    }
  }
}

/** One measurement of the curve. */
export interface OverfitPoint {
  epoch: number;
  /** The training loop's own perplexity for the epoch (parameters changing while it is measured). */
  trainLoop: number;
  /** Perplexity on the training slice after the epoch. */
  train: number;
  /** Perplexity on the held-out slice after the epoch. */
  heldOut: number;
}

/** Trains as `config` says and returns the measurements. */
export async function runOverfit(config: OverfitConfig, log: (line: string) => void = () => {}): Promise<OverfitPoint[]> {
  const device = cpu();
  manualSeed(config.seed);
  const { corpus, vocab } = await loadCorpusTimeMachine(-1, config['data-dir'] === '' ? {} : { dataDir: config['data-dir'] });
  const trainTokens = config['train-tokens'];
  const heldOutTokens = config['held-out-tokens'];
  if (trainTokens + heldOutTokens > corpus.length) {
    throw new FlagError(`--train-tokens ${trainTokens} + --held-out-tokens ${heldOutTokens} exceed the book's ${corpus.length} tokens`);
  }
  const trainSlice = corpus.subarray(0, trainTokens);
  const heldOut = corpus.subarray(corpus.length - heldOutTokens);
  const batchSize = config['batch-size'];
  const numSteps = config['num-steps'];
  const random = config.iter === 'random';
  if (!random && config.iter !== 'sequential') throw new FlagError(`--iter: expected sequential or random, got "${config.iter}"`);
  const trainIter = new SeqDataLoader(trainSlice, batchSize, numSteps, random ? seqDataIterRandom : seqDataIterSequential, new Rng(config.seed));
  const cell = config.model;
  if (cell !== 'rnn' && cell !== 'gru' && cell !== 'lstm') throw new FlagError(`--model: expected rnn, gru or lstm, got "${cell}"`);
  const net = createModel(
    { model: cell, vocabSize: vocab.length, numHiddens: config.hidden, numLayers: config.layers, bidirectional: false },
    device,
    new Generator(config.seed),
  );
  if (config.optimizer !== 'sgd' && config.optimizer !== 'adam') throw new FlagError(`--optimizer: expected sgd or adam, got "${config.optimizer}"`);
  const updater = config.optimizer === 'adam' ? adam(parameters(net), config.lr) : undefined;
  // The same evaluator (and stream count) on both slices, so the two curves differ only in the text.
  const evalBatch = Math.min(16, Math.floor((trainTokens - 1) / numSteps));
  const points: OverfitPoint[] = [];
  log(`${cell.toUpperCase()}, ${config.layers} layer(s), ${config.hidden} hidden; train on tokens 0..${trainTokens - 1}, hold out tokens ${corpus.length - heldOutTokens}..${corpus.length - 1} of ${corpus.length}`);
  log('| epoch | train perplexity (loop) | train slice | held-out slice |');
  log('| ---: | ---: | ---: | ---: |');
  await train(net, trainIter, vocab, config.lr, config.epochs, device, {
    useRandomIter: random,
    clip: config.clip,
    updater,
    predPeriod: config.epochs,
    prefixes: ['time traveller'],
    log,
    onEpoch: async (record) => {
      if (record.epoch % config['eval-every'] !== 0 && record.epoch !== 1) return;
      const point = {
        epoch: record.epoch,
        trainLoop: record.perplexity,
        train: await evaluatePerplexity(net, trainSlice, evalBatch, numSteps, device),
        heldOut: await evaluatePerplexity(net, heldOut, evalBatch, numSteps, device),
      };
      points.push(point);
      log(`| ${point.epoch} | ${point.trainLoop.toFixed(2)} | ${point.train.toFixed(2)} | ${point.heldOut.toFixed(2)} |`);
    },
  });
  return points;
}

export async function main(argv: string[]): Promise<number> {
  const config = parseFlags(argv, OVERFIT_FLAGS);
  if (config === null) {
    console.log(helpText('Usage: node scripts/exercise-overfit.mjs [options]', OVERFIT_FLAGS));
    return 0;
  }
  const points = await runOverfit(config, (line) => console.log(line));
  const best = points.reduce((a, b) => (b.heldOut < a.heldOut ? b : a));
  const last = points.at(-1)!;
  console.log(`held-out perplexity: lowest ${best.heldOut.toFixed(2)} at epoch ${best.epoch}, ${last.heldOut.toFixed(2)} at the end (training slice ${last.train.toFixed(2)})`);
  const outDir = config['out-dir'];
  await mkdir(outDir, { recursive: true });
  await writeFileAtomic(path.join(outDir, `${config.name}.svg`), renderLineChartSvg({
    title: `${config.model.toUpperCase()} (${config.hidden} hidden) trained on the first ${config['train-tokens']} tokens`,
    xLabel: 'epoch',
    yLabel: 'perplexity',
    yLog: true,
    series: [
      { name: 'training slice', points: points.map((p) => [p.epoch, p.train]) },
      { name: 'held-out slice', points: points.map((p) => [p.epoch, p.heldOut]) },
    ],
  }));
  await writeFileAtomic(path.join(outDir, `${config.name}.csv`), toCsv(
    ['epoch', 'trainLoop', 'train', 'heldOut'],
    points.map((p) => [p.epoch, p.trainLoop, p.train, p.heldOut]),
  ));
  console.log(`wrote ${path.join(outDir, `${config.name}.svg`)}, ${path.join(outDir, `${config.name}.csv`)}`);
  return 0;
}
