import { type Device, formatProfile, manualSeed, memory, startProfile } from '@tinytape/tensor';
import { writeFileAtomic } from '../io/atomic.ts';
import { CliError, RunStoppedError } from '../io/errors.ts';
import { toCsv } from '../io/csv.ts';
import { renderLineChartSvg } from '../io/plot.ts';
import type { CellKind } from '../layers/cells.ts';
import { type ModelSpec, createModel } from '../model/create.ts';
import { type LanguageModel, parameters } from '../model/types.ts';
import { adam } from '../train/adam.ts';
import type { RunParts } from '../train/resume.ts';
import { type EpochRecord, type TrainResult, train } from '../train/train.ts';
import type { TrainConfig } from './config.ts';
import { pickDevice } from './device-choice.ts';
import { watchInterrupt } from './interrupt.ts';
import { checkTrainPrefixes, loadTrainingData } from './load-data.ts';
import { checkpointSaver, explainStop, resumeRun } from './resume.ts';

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
  // In --json mode stdout carries JSON only; everything for people goes to stderr.
  const say = config.json ? io.err : io.out;
  const note = (line: string) => io.err(`tinytape: ${line}`);
  const device = await pickDevice(config.device, note);
  manualSeed(config.seed);
  const { trainIter, vocab, vocabKind } = await loadTrainingData(config);
  checkTrainPrefixes(config, vocab, vocabKind);
  const net: LanguageModel = createModel(modelSpec(config, vocab.length), device);
  // Without an updater `train` uses d2l's SGD.
  const parts: RunParts = { adam: config.optimizer === 'adam' ? adam(parameters(net), config.lr) : undefined, dataRng: trainIter.rng };
  const resumed = config.resume === undefined ? null : await resumeRun({ ...config, resume: config.resume }, { net, vocab, corpus: trainIter.corpus, device, parts, note });
  const history: EpochRecord[] = [...(resumed?.history ?? [])];
  const saver = checkpointSaver(config, { net, vocab, vocabKind, corpus: trainIter.corpus, device, parts, history, resumedFrom: resumed?.epoch ?? null });
  if (!config.quiet) {
    note(
      `training ${describeModel(config)} (${config.hidden} hidden, vocab ${vocab.length}) with ${config.optimizer} ` +
        `on ${device.description} for ${config.epochs} epochs${resumed ? `, from epoch ${resumed.epoch} of ${config.resume}` : ''}`,
    );
  }
  const started = performance.now();
  const profile = config.profile ? startProfile(device) : null;
  const progress = (record: EpochRecord) => {
    if (config.quiet || config.json || !io.tty) return;
    const elapsed = (performance.now() - started) / 1000;
    const eta = (elapsed / (record.epoch - (resumed?.epoch ?? 0))) * (config.epochs - record.epoch);
    process.stderr.write(
      `\r  epoch ${record.epoch}/${config.epochs}  perplexity ${record.perplexity.toFixed(2)}  ` +
        `${Math.round(record.tokensPerSec)} tokens/s  eta ${formatSeconds(eta)}   `,
    );
  };
  // Only a run that can save has something to do on Ctrl-C; otherwise SIGINT keeps its default.
  const interrupt = config.save === undefined ? null : watchInterrupt(() => {
    if (io.tty) process.stderr.write('\r\x1b[K');
    note(`stopping at the end of this epoch to save ${config.save} (Ctrl-C again to quit at once)`);
  });
  let result: TrainResult;
  try {
    result = await train(net, trainIter, vocab, config.lr, config.epochs, device, {
      startEpoch: resumed?.epoch,
      history: resumed?.history,
      signal: interrupt?.signal,
      useRandomIter: config.randomIter,
      clip: config.clip,
      predPeriod: config.predPeriod,
      prefixes: config.prefixes,
      predLen: config.predLen,
      updater: parts.adam,
      allowNan: config.allowNan,
      log: (line) => {
        if (io.tty && !config.quiet && !config.json) process.stderr.write('\r\x1b[K');
        if (!config.quiet || line.startsWith('perplexity')) say(line);
      },
      onEpoch: async (record) => {
        history.push(record);
        if (config.json) io.out(JSON.stringify(record));
        progress(record);
        if (record.epoch % config.predPeriod === 0) await saver.save(record.epoch);
      },
    });
  } catch (error) {
    throw explainStop(error, config, saver);
  } finally {
    interrupt?.dispose();
  }
  if (result.interrupted) {
    if (io.tty) process.stderr.write('\r\x1b[K');
    await saver.save(result.epochs);
    await writeOutputs(config, result.history, device);
    throw new RunStoppedError(
      `interrupted after epoch ${result.epochs} of ${config.epochs}; saved ${config.save}; to go on, run the same command with --resume ${config.save}`,
      130,
    );
  }
  if (profile !== null) {
    const timings = profile.stop();
    io.err(`tinytape: profile of ${config.epochs} epochs on ${device.description}${device.kind === 'webgpu' ? ' (host time to issue GPU commands, not GPU time)' : ''}:`);
    io.err(formatProfile(timings, performance.now() - started));
  }
  await saver.save(config.epochs);
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

/** The from-scratch models' `--model` names and the cell each one runs. */
const SCRATCH_CELLS = { scratch: 'rnn', 'scratch-gru': 'gru', 'scratch-lstm': 'lstm' } as const;

function scratchCell(model: TrainConfig['model']): CellKind | undefined {
  return Object.hasOwn(SCRATCH_CELLS, model) ? SCRATCH_CELLS[model as keyof typeof SCRATCH_CELLS] : undefined;
}

/** The model the flags ask for. */
function modelSpec(config: TrainConfig, vocabSize: number): ModelSpec {
  const cell = scratchCell(config.model);
  if (cell !== undefined) {
    // The book's scratch models are one unidirectional layer; refusing beats silently ignoring the flags.
    if (config.layers !== 1 || config.bidirectional) {
      throw new CliError(`--model ${config.model}: is one unidirectional layer; use --model rnn, gru or lstm for --layers ${config.layers}${config.bidirectional ? ' --bidirectional' : ''}`);
    }
    return { model: 'scratch', cell, vocabSize, numHiddens: config.hidden };
  }
  return { model: config.model as CellKind, vocabSize, numHiddens: config.hidden, numLayers: config.layers, bidirectional: config.bidirectional };
}

/** 'scratch RNN', 'scratch GRU', 'GRU', '2-layer bidirectional LSTM': for messages and chart titles. */
export function describeModel(config: Pick<TrainConfig, 'model' | 'layers' | 'bidirectional'>): string {
  const cell = scratchCell(config.model);
  if (cell !== undefined) return `scratch ${cell.toUpperCase()}`;
  const depth = config.layers > 1 ? `${config.layers}-layer ` : '';
  return `${depth}${config.bidirectional ? 'bidirectional ' : ''}${config.model.toUpperCase()}`;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}
