import { type Device, formatProfile, manualSeed, memory, startProfile } from '@tinytape/tensor';
import { saveCheckpoint } from '../checkpoint.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { CliError } from '../io/errors.ts';
import { toCsv } from '../io/csv.ts';
import { renderLineChartSvg } from '../io/plot.ts';
import { type ModelSpec, createModel } from '../model/create.ts';
import { type LanguageModel, parameters } from '../model/types.ts';
import { adam } from '../train/adam.ts';
import type { Updater } from '../train/sgd.ts';
import { type EpochRecord, train } from '../train/train.ts';
import type { TrainConfig } from './config.ts';
import { pickDevice } from './device-choice.ts';
import { loadTrainingData } from './load-data.ts';

/** Output streams, injectable for tests. */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Whether stderr is a terminal (then a progress line is redrawn in place). */
  tty: boolean;
}

/** `tinytape train`: trains a model as the config says and writes the requested files. */
export async function runTrain(config: TrainConfig, io: Io): Promise<void> {
  if (config.model === 'scratch' && (config.layers !== 1 || config.bidirectional)) {
    throw new CliError(`--model scratch: is one unidirectional layer; use --model rnn, gru or lstm for --layers ${config.layers}${config.bidirectional ? ' --bidirectional' : ''}`);
  }
  if (config.resume !== undefined) throw new CliError('--resume: not available yet');
  // In --json mode stdout carries JSON only; everything for people goes to stderr.
  const say = config.json ? io.err : io.out;
  const note = (line: string) => io.err(`tinytape: ${line}`);
  const device = await pickDevice(config.device, note);
  manualSeed(config.seed);
  const { trainIter, vocab, vocabKind } = await loadTrainingData(config);
  const net: LanguageModel = createModel(modelSpec(config, vocab.length), device);
  // Without an updater `train` uses d2l's SGD.
  const updater: Updater | undefined = config.optimizer === 'adam' ? adam(parameters(net), config.lr) : undefined;
  if (!config.quiet) {
    note(
      `training ${describeModel(config)} (${config.hidden} hidden, vocab ${vocab.length}) with ${config.optimizer} ` +
        `on ${device.description} for ${config.epochs} epochs`,
    );
  }
  const started = performance.now();
  const profile = config.profile ? startProfile(device) : null;
  const progress = (record: EpochRecord) => {
    if (config.quiet || config.json || !io.tty) return;
    const elapsed = (performance.now() - started) / 1000;
    const eta = (elapsed / (record.epoch)) * (config.epochs - record.epoch);
    process.stderr.write(
      `\r  epoch ${record.epoch}/${config.epochs}  perplexity ${record.perplexity.toFixed(2)}  ` +
        `${Math.round(record.tokensPerSec)} tokens/s  eta ${formatSeconds(eta)}   `,
    );
  };
  const save = async (epoch: number) => {
    if (config.save === undefined) return;
    await saveCheckpoint(config.save, net, {
      config: { ...net.config(), seed: config.seed },
      vocab: [...vocab.idxToToken],
      vocabKind,
      epoch,
    });
  };
  const result = await train(net, trainIter, vocab, config.lr, config.epochs, device, {
    useRandomIter: config.randomIter,
    clip: config.clip,
    predPeriod: config.predPeriod,
    prefixes: config.prefixes,
    predLen: config.predLen,
    updater,
    allowNan: config.allowNan,
    log: (line) => {
      if (io.tty && !config.quiet && !config.json) process.stderr.write('\r\x1b[K');
      if (!config.quiet || line.startsWith('perplexity')) say(line);
    },
    onEpoch: async (record) => {
      if (config.json) io.out(JSON.stringify(record));
      progress(record);
      if (record.epoch % config.predPeriod === 0) await save(record.epoch);
    },
  });
  if (profile !== null) {
    const timings = profile.stop();
    io.err(`tinytape: profile of ${config.epochs} epochs on ${device.description}${device.kind === 'webgpu' ? ' (host time to issue GPU commands, not GPU time)' : ''}:`);
    io.err(formatProfile(timings, performance.now() - started));
  }
  await save(config.epochs);
  if (config.json) {
    io.out(JSON.stringify({
      perplexity: result.perplexity,
      tokensPerSec: result.tokensPerSec,
      device: result.device,
      samples: result.samples,
      epochs: config.epochs,
      liveTensors: memory(device).liveTensors,
    }));
  }
  await writeOutputs(config, result.history, device);
}

async function writeOutputs(config: TrainConfig, history: EpochRecord[], device: Device): Promise<void> {
  if (config.plot !== undefined) {
    const svg = renderLineChartSvg({
      title: `${describeModel(config)}, ${config.hidden} hidden, ${config.randomIter ? 'random' : 'sequential'} iterator, ${device.kind}`,
      xLabel: 'epoch',
      yLabel: 'perplexity',
      series: [{ name: 'train', points: history.map((r) => [r.epoch, r.perplexity]) }],
    });
    await writeFileAtomic(config.plot, svg);
  }
  if (config.csv !== undefined) {
    await writeFileAtomic(
      config.csv,
      toCsv(['epoch', 'perplexity', 'tokensPerSec'], history.map((r) => [r.epoch, r.perplexity, r.tokensPerSec])),
    );
  }
}

/** The model the flags ask for (the CLI trains the scratch model only with the RNN cell). */
function modelSpec(config: TrainConfig, vocabSize: number): ModelSpec {
  if (config.model === 'scratch') return { model: 'scratch', cell: 'rnn', vocabSize, numHiddens: config.hidden };
  return { model: config.model, vocabSize, numHiddens: config.hidden, numLayers: config.layers, bidirectional: config.bidirectional };
}

/** 'scratch RNN', 'GRU', '2-layer bidirectional LSTM': for messages and chart titles. */
export function describeModel(config: Pick<TrainConfig, 'model' | 'layers' | 'bidirectional'>): string {
  if (config.model === 'scratch') return 'scratch RNN';
  const depth = config.layers > 1 ? `${config.layers}-layer ` : '';
  return `${depth}${config.bidirectional ? 'bidirectional ' : ''}${config.model.toUpperCase()}`;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}
