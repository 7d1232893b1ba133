/**
 * Exercise (c) of docs/exercises.md: d2l §8.1 "Sequence Models" with a recurrent layer in place of the
 * book's MLP. The series is x_t = sin(0.01 t) + N(0, 0.2²) for t = 1..1000; each example is the window of
 * the previous tau = 4 values and its label the next value. The model reads the window as a sequence of
 * 4 steps of one feature (a concise RNN/GRU/LSTM layer of input size 1), and a Linear maps the last step's
 * hidden state to one number. It trains with MSE and Adam on the first 600 examples, like the book; then
 * come the book's one-step-ahead predictions, its multi-step predictions (from index 604 = n_train + tau on,
 * each prediction fed back as input) and its k-step-ahead predictions for k = 1, 4, 16, 64.
 *
 *   node scripts/exercise-sine.mjs [--cell gru] [--hidden 16] [--epochs 10] [--out-dir docs/exercises]
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { backward, noGrad } from '../../packages/autograd/src/index.ts';
import { GRU, LSTM, Linear, RNN, adam } from '../../packages/rnn/src/index.ts';
import { renderLineChartSvg, toCsv, writeFileAtomic } from '../../packages/rnn/src/io/plot.ts';
import { type Device, Generator, type Tensor, cpu, mean, reshape, scope, slice, square, sub, tensor } from '../../packages/tensor/src/index.ts';
import { FlagError, type FlagValues, helpText, parseFlags } from './flags.ts';

/** The exercise's settings; the defaults are d2l §8.1's where the book has one. */
export const SINE_FLAGS = {
  T: { default: 1000, help: 'length of the series' },
  tau: { default: 4, help: 'window length (the book\'s features)' },
  'n-train': { default: 600, help: 'training examples (the first windows)' },
  noise: { default: 0.2, help: 'standard deviation of the Gaussian noise' },
  cell: { default: 'gru', help: 'recurrent layer: rnn, gru or lstm' },
  hidden: { default: 16, help: 'hidden units' },
  epochs: { default: 10, help: 'passes over the training windows' },
  'batch-size': { default: 16, help: 'windows per minibatch' },
  lr: { default: 0.01, help: 'Adam learning rate' },
  seed: { default: 0, help: 'seed of the noise, the initialisation and the shuffling' },
  'out-dir': { default: 'docs/exercises', help: 'where the charts and the CSV go' },
  name: { default: 'sine', help: 'base name of the outputs: NAME.svg, NAME-ksteps.svg, NAME.csv' },
} as const;

/** Parsed settings of the exercise. */
export type SineConfig = FlagValues<typeof SINE_FLAGS>;

/** d2l's series: x_t = sin(0.01 t) + N(0, noise²) for t = 1..T (index i holds t = i + 1). */
export function makeSeries(T: number, noise: number, generator: Generator): Float32Array {
  const x = new Float32Array(T);
  for (let i = 0; i < T; i++) x[i] = Math.sin(0.01 * (i + 1)) + noise * generator.nextNormal();
  return x;
}

/** Population variance: the MSE of always predicting the mean, the bar any useful model must beat. */
export function variance(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m += x[i]!;
  m /= x.length;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += (x[i]! - m) ** 2;
  return v / x.length;
}

/** A recurrent layer over the window's steps, then a Linear from the last step's hidden state to one value. */
export class SeriesRegressor {
  readonly layer: RNN | GRU | LSTM;
  readonly linear: Linear;

  constructor(
    cell: string,
    hidden: number,
    readonly device: Device,
    generator: Generator,
  ) {
    const opts = { device, generator };
    if (cell === 'rnn') this.layer = new RNN(1, hidden, opts);
    else if (cell === 'gru') this.layer = new GRU(1, hidden, opts);
    else if (cell === 'lstm') this.layer = new LSTM(1, hidden, opts);
    else throw new FlagError(`--cell: expected rnn, gru or lstm, got "${cell}"`);
    this.linear = new Linear(hidden, 1, opts);
  }

  parameters(): Tensor[] {
    return [...this.layer.parameters(), this.linear.weight, this.linear.bias];
  }

  /** x [tau, n, 1] (time-major, as the layers take it) -> predictions [n]. */
  forward(x: Tensor): Tensor {
    const [tau, n] = x.shape as [number, number, number];
    const [output] = this.layer.forward(x);
    // Only the state after the whole window predicts the next value (the book's MLP also sees the window once).
    const last = reshape(slice(output, 0, tau - 1, tau), [n, output.shape[2]!]);
    return reshape(this.linear.forward(last), [n]);
  }

  /** Predictions for host windows (time-major values), with no tape and nothing left allocated. */
  async predict(windows: Float32Array, tau: number): Promise<Float32Array> {
    const n = windows.length / tau;
    const out = noGrad(() => scope(() => this.forward(tensor(windows, { shape: [tau, n, 1], device: this.device }))));
    const values = (await out.toArray()) as Float32Array;
    out.dispose();
    return values;
  }
}

/** The windows starting at `starts`, laid out time-major: value t of window k at [t * n + k]. */
export function windowsAt(series: ArrayLike<number>, starts: readonly number[], tau: number): Float32Array {
  const n = starts.length;
  const out = new Float32Array(tau * n);
  starts.forEach((s, k) => {
    for (let t = 0; t < tau; t++) out[t * n + k] = series[s + t]!;
  });
  return out;
}

function mse(yHat: Tensor, y: Tensor): Tensor {
  return mean(square(sub(yHat, y)));
}

/** One epoch's record. */
export interface SineEpoch {
  epoch: number;
  /** MSE over all training windows after the epoch (d2l's `evaluate_loss`). */
  trainMse: number;
}

/** Trains a regressor on the first `nTrain` windows of `series`; returns it and the per-epoch training MSE. */
export async function trainSine(
  series: Float32Array,
  config: Pick<SineConfig, 'tau' | 'n-train' | 'cell' | 'hidden' | 'epochs' | 'batch-size' | 'lr'>,
  generator: Generator,
  device: Device = cpu(),
  log: (line: string) => void = () => {},
): Promise<{ model: SeriesRegressor; history: SineEpoch[] }> {
  const { tau, cell, hidden, epochs, lr } = config;
  const nTrain = config['n-train'];
  const batchSize = config['batch-size'];
  if (nTrain + tau > series.length) throw new FlagError(`--n-train ${nTrain} + --tau ${tau} exceeds the series length ${series.length}`);
  const model = new SeriesRegressor(cell, hidden, device, generator);
  const updater = adam(model.parameters(), lr);
  const order = Array.from({ length: nTrain }, (_, i) => i);
  const allWindows = windowsAt(series, order, tau);
  const allLabels = series.slice(tau, tau + nTrain);
  const history: SineEpoch[] = [];
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      shuffle(order, generator); // d2l's load_array(..., is_train=True) reshuffles every epoch
      for (let b = 0; b < nTrain; b += batchSize) {
        const starts = order.slice(b, b + batchSize);
        const X = windowsAt(series, starts, tau);
        const y = Float32Array.from(starts, (s) => series[s + tau]!);
        scope(() => {
          const l = mse(model.forward(tensor(X, { shape: [tau, starts.length, 1], device })), tensor(y, { device }));
          backward(l);
          updater.step(1);
        });
      }
      const predicted = await model.predict(allWindows, tau);
      let sq = 0;
      for (let i = 0; i < nTrain; i++) sq += (predicted[i]! - allLabels[i]!) ** 2;
      history.push({ epoch, trainMse: sq / nTrain });
      log(`epoch ${epoch}, loss: ${(sq / nTrain).toFixed(6)}`);
    }
  } finally {
    updater.dispose();
  }
  return { model, history };
}

/** Fisher–Yates with the exercise's generator, so a seed fixes the batches. */
function shuffle(a: number[], generator: Generator): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(generator.nextFloat() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
}

/** One-step-ahead predictions: index i (i >= tau) predicted from the true values i-tau..i-1; NaN before tau. */
export async function oneStepPredictions(model: SeriesRegressor, series: Float32Array, tau: number): Promise<Float32Array> {
  const starts = Array.from({ length: series.length - tau }, (_, i) => i);
  const out = new Float32Array(series.length).fill(Number.NaN);
  out.set(await model.predict(windowsAt(series, starts, tau), tau), tau);
  return out;
}

/**
 * The book's multi-step predictions: the true values up to index `from` - 1, then each value predicted
 * from the previous tau entries of this same array, i.e. from earlier predictions.
 */
export async function multiStepPredictions(model: SeriesRegressor, series: Float32Array, tau: number, from: number): Promise<Float32Array> {
  const out = new Float32Array(series.length);
  out.set(series.subarray(0, from));
  for (let i = from; i < series.length; i++) out[i] = (await model.predict(out.slice(i - tau, i), tau))[0]!;
  return out;
}

/**
 * The book's k-step-ahead predictions for k = 1..maxSteps, all windows at once: column j < tau of
 * `features` is the data, column j >= tau the prediction from columns j-tau..j-1. Returns, for each k,
 * the prediction of index i made k steps ahead (NaN where none exists).
 */
export async function kStepPredictions(model: SeriesRegressor, series: Float32Array, tau: number, maxSteps: number): Promise<Float32Array[]> {
  const rows = series.length - tau - maxSteps + 1;
  const columns: Float32Array[] = [];
  for (let j = 0; j < tau; j++) columns.push(series.slice(j, j + rows));
  for (let j = tau; j < tau + maxSteps; j++) {
    const windows = new Float32Array(tau * rows);
    for (let t = 0; t < tau; t++) windows.set(columns[j - tau + t]!, t * rows);
    columns.push(await model.predict(windows, tau));
  }
  return Array.from({ length: maxSteps }, (_, k) => {
    // Row r's k+1-step prediction sits in column tau + k and predicts index r + tau + k.
    const out = new Float32Array(series.length).fill(Number.NaN);
    out.set(columns[tau + k]!, tau + k);
    return out;
  });
}

/** Mean squared error between `a` and `b` over indices [from, to). */
export function mseBetween(a: ArrayLike<number>, b: ArrayLike<number>, from: number, to = a.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += (a[i]! - b[i]!) ** 2;
  return s / (to - from);
}

const points = (v: ArrayLike<number>, from = 0, to = v.length): [number, number][] =>
  Array.from({ length: to - from }, (_, k) => [from + k + 1, v[from + k]!] as [number, number]);

export async function main(argv: string[]): Promise<number> {
  const config = parseFlags(argv, SINE_FLAGS);
  if (config === null) {
    console.log(helpText('Usage: node scripts/exercise-sine.mjs [options]', SINE_FLAGS));
    return 0;
  }
  const { T, tau, noise, seed } = config;
  const nTrain = config['n-train'];
  const generator = new Generator(seed);
  const series = makeSeries(T, noise, generator);
  console.log(`series: T = ${T}, noise std ${noise}, variance ${variance(series).toFixed(4)}; ${config.cell.toUpperCase()} with ${config.hidden} hidden, tau = ${tau}, ${nTrain} training windows`);
  const started = performance.now();
  const { model, history } = await trainSine(series, config, generator, cpu(), (line) => console.log(line));
  console.log(`trained in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const from = nTrain + tau;
  const onestep = await oneStepPredictions(model, series, tau);
  const multistep = await multiStepPredictions(model, series, tau, from);
  const ksteps = await kStepPredictions(model, series, tau, 64);
  console.log(`training MSE ${history.at(-1)!.trainMse.toFixed(4)} (noise variance ${(noise ** 2).toFixed(4)})`);
  console.log(`index ${from}..${T - 1}: one-step MSE ${mseBetween(onestep, series, from).toFixed(4)}, multi-step MSE ${mseBetween(multistep, series, from).toFixed(4)}`);
  for (const k of [1, 4, 16, 64]) console.log(`${k}-step-ahead MSE over the indices it covers: ${mseBetween(ksteps[k - 1]!, series, tau + k - 1, T - 64 + k).toFixed(4)}`);

  const outDir = config['out-dir'];
  await mkdir(outDir, { recursive: true });
  const title = `${config.cell.toUpperCase()} (${config.hidden} hidden) on d2l's noisy sine, tau = ${tau}, ${config.epochs} epochs`;
  const files = [`${config.name}.svg`, `${config.name}-ksteps.svg`, `${config.name}.csv`].map((f) => path.join(outDir, f));
  await writeFileAtomic(files[0]!, renderLineChartSvg({
    title,
    xLabel: 'time',
    yLabel: 'x',
    width: 720,
    series: [
      { name: 'data', points: points(series) },
      { name: '1-step preds', points: points(onestep, tau) },
      { name: 'multistep preds', points: points(multistep, from) },
    ],
  }));
  await writeFileAtomic(files[1]!, renderLineChartSvg({
    title: `${title}: k-step-ahead predictions`,
    xLabel: 'time',
    yLabel: 'x',
    width: 720,
    series: [1, 4, 16, 64].map((k) => ({ name: `${k}-step preds`, points: points(ksteps[k - 1]!, tau + k - 1, T - 64 + k) })),
  }));
  await writeFileAtomic(files[2]!, toCsv(
    ['time', 'x', 'onestep', 'multistep'],
    Array.from(series, (x, i) => [i + 1, x, onestep[i]!, i >= from ? multistep[i]! : Number.NaN]),
  ));
  console.log(`wrote ${files.join(', ')}`);
  return 0;
}
