// `pnpm soak [flags]`: a long training run that watches for leaks. It trains one model for many
// epochs (the book's 500 by default) and every --every epochs records the process RSS, the V8 heap,
// the engine's live tensors and the device's live and pooled buffers; a leak shows as a column that
// keeps growing. Prints a table as it goes and writes the samples as CSV and JSON.
//
//   pnpm soak                                            # the book's scratch RNN, 512 hidden, 500 epochs, auto device
//   pnpm soak --hidden 128 --device cpu                  # smaller, CPU only
//   pnpm soak --device webgpu --hidden 64 --epochs 200   # WebGPU (slow on lavapipe)
//
// Flags: --model scratch|scratch-gru|scratch-lstm|rnn|gru|lstm, --hidden, --epochs, --every, --device
// auto|cpu|webgpu, --batch-size, --num-steps, --max-tokens, --lr, --seed, --data-dir, --out <prefix>
// (default docs/soak/soak-<device>-<model>-h<hidden>; .csv and .json are appended).
import { build } from 'esbuild';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: flags } = parseArgs({
  options: {
    model: { type: 'string', default: 'scratch' },
    hidden: { type: 'string', default: '512' },
    epochs: { type: 'string', default: '500' },
    every: { type: 'string', default: '10' },
    device: { type: 'string', default: 'auto' },
    'batch-size': { type: 'string', default: '32' },
    'num-steps': { type: 'string', default: '35' },
    'max-tokens': { type: 'string', default: '10000' },
    lr: { type: 'string' },
    seed: { type: 'string', default: '0' },
    'data-dir': { type: 'string' },
    out: { type: 'string' },
  },
  strict: true,
});

/** A flag that must be a positive integer; anything else stops the script with one line. */
function positive(name) {
  const n = Number(flags[name]);
  if (!Number.isInteger(n) || n < 1) fail(`--${name}: expected a positive integer, got ${JSON.stringify(flags[name])}`);
  return n;
}

function fail(message) {
  process.stderr.write(`soak: ${message}\n`);
  process.exit(2);
}

const MODELS = { scratch: ['scratch', 'rnn'], 'scratch-gru': ['scratch', 'gru'], 'scratch-lstm': ['scratch', 'lstm'], rnn: ['rnn'], gru: ['gru'], lstm: ['lstm'] };
if (!Object.hasOwn(MODELS, flags.model)) fail(`--model: expected one of ${Object.keys(MODELS).join(', ')}, got ${JSON.stringify(flags.model)}`);
if (!['auto', 'cpu', 'webgpu'].includes(flags.device)) fail(`--device: expected auto, cpu or webgpu, got ${JSON.stringify(flags.device)}`);
const hidden = positive('hidden');
const epochs = positive('epochs');
const every = positive('every');
const batchSize = positive('batch-size');
const numSteps = positive('num-steps');
const maxTokens = Number(flags['max-tokens']);
const seed = Number(flags.seed);
const [kind, cell] = MODELS[flags.model];
// The book's learning rate for SGD on every model kind, as `tinytape train` uses.
const lr = flags.lr !== undefined ? Number(flags.lr) : 1;
if (!(lr > 0) || !Number.isFinite(lr)) fail(`--lr: expected a positive number, got ${JSON.stringify(flags.lr)}`);
if (!Number.isInteger(maxTokens) || (maxTokens < 1 && maxTokens !== -1)) fail(`--max-tokens: expected a positive integer or -1, got ${JSON.stringify(flags['max-tokens'])}`);
if (!Number.isInteger(seed) || seed < 0) fail(`--seed: expected a non-negative integer, got ${JSON.stringify(flags.seed)}`);

// The packages are TypeScript: bundle the three entry points once, next to the CLI bundle, where the
// native `webgpu` package resolves from the root's node_modules.
const lib = path.join(root, '.cache/bundles/soak-lib.mjs');
await build({
  stdin: {
    contents: [
      "export * as tensor from './packages/tensor/src/index.ts';",
      "export * as data from './packages/data/src/index.ts';",
      "export * as rnn from './packages/rnn/src/index.ts';",
    ].join('\n'),
    resolveDir: root,
    loader: 'ts',
  },
  outfile: lib,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['webgpu'],
  conditions: ['tinytape-source'],
  logLevel: 'warning',
});
const { tensor: tt, data, rnn } = await import(pathToFileURL(lib).href);

const device = flags.device === 'cpu' ? tt.cpu() : flags.device === 'webgpu' ? await tt.webgpu() : await tt.tryGpu();
tt.manualSeed(seed);
const { trainIter, vocab } = await data.loadDataTimeMachine(batchSize, numSteps, { maxTokens, seed, dataDir: flags['data-dir'] });
const spec = kind === 'scratch'
  ? { model: 'scratch', cell, vocabSize: vocab.length, numHiddens: hidden }
  : { model: kind, vocabSize: vocab.length, numHiddens: hidden, numLayers: 1, bidirectional: false };
const net = rnn.createModel(spec, device);

const MiB = 2 ** 20;
const samples = [];
const started = performance.now();
/** One row of the table: what the process and the engine hold after `epoch` epochs. */
function sample(epoch, perplexity) {
  const mem = process.memoryUsage();
  const report = tt.memory(device).devices[device.kind] ?? {};
  return {
    epoch,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    perplexity: Number(perplexity.toFixed(3)),
    rssMiB: Number((mem.rss / MiB).toFixed(1)),
    heapUsedMiB: Number((mem.heapUsed / MiB).toFixed(1)),
    liveTensors: tt.memory().liveTensors,
    liveBuffers: report.liveBuffers ?? 0,
    liveMiB: Number(((report.liveBytes ?? 0) / MiB).toFixed(2)),
    pooledBuffers: report.pooledBuffers ?? 0,
    pooledMiB: Number(((report.pooledBytes ?? 0) / MiB).toFixed(2)),
  };
}
const COLUMNS = ['epoch', 'seconds', 'perplexity', 'rssMiB', 'heapUsedMiB', 'liveTensors', 'liveBuffers', 'liveMiB', 'pooledBuffers', 'pooledMiB'];
const row = (values) => values.map((v) => String(v).padStart(14)).join('');

console.log(`soak: ${flags.model} (${hidden} hidden, vocab ${vocab.length}) on ${device.description}, ${epochs} epochs, a sample every ${every}`);
console.log(row(COLUMNS));
samples.push(sample(0, Number.NaN));
console.log(row(COLUMNS.map((c) => samples[0][c])));
await rnn.train(net, trainIter, vocab, lr, epochs, device, {
  prefixes: ['time traveller'],
  predPeriod: every,
  log: () => {},
  onEpoch: (record) => {
    if (record.epoch % every !== 0 && record.epoch !== epochs) return;
    const s = sample(record.epoch, record.perplexity);
    samples.push(s);
    console.log(row(COLUMNS.map((c) => s[c])));
  },
});

// The first sample is before any training (buffers not yet pooled); growth is judged from the first epoch sampled.
const steady = samples.slice(1);
const stats = (key) => {
  const values = steady.map((s) => s[key]);
  return { first: values[0], last: values.at(-1), min: Math.min(...values), max: Math.max(...values) };
};
const summary = {
  model: flags.model,
  hidden,
  device: device.description,
  epochs,
  batchSize,
  numSteps,
  maxTokens,
  node: process.version,
  date: new Date().toISOString().slice(0, 10),
  rssMiB: stats('rssMiB'),
  heapUsedMiB: stats('heapUsedMiB'),
  liveTensors: stats('liveTensors'),
  liveBuffers: stats('liveBuffers'),
  pooledBuffers: stats('pooledBuffers'),
};
console.log(`soak: RSS ${summary.rssMiB.first} -> ${summary.rssMiB.last} MiB (min ${summary.rssMiB.min}, max ${summary.rssMiB.max}); ` +
  `live tensors ${summary.liveTensors.first} -> ${summary.liveTensors.last} (max ${summary.liveTensors.max}); ` +
  `live buffers ${summary.liveBuffers.first} -> ${summary.liveBuffers.last} (max ${summary.liveBuffers.max})`);

const out = flags.out ?? path.join(root, 'docs/soak', `soak-${device.kind}-${flags.model}-h${hidden}`);
await mkdir(path.dirname(out), { recursive: true });
await writeFile(`${out}.csv`, `${COLUMNS.join(',')}\n${samples.map((s) => COLUMNS.map((c) => s[c]).join(',')).join('\n')}\n`);
await writeFile(`${out}.json`, `${JSON.stringify({ summary, samples }, null, 2)}\n`);
console.log(`soak: wrote ${path.relative(root, out)}.csv and .json`);
await tt.releaseDevices();
