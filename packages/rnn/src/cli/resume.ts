/**
 * `tinytape train --save` checkpoints that `--resume` continues. Each checkpoint carries the run's
 * training state (train/resume.ts) and the flags that fixed its model, data and optimizer; a resumed
 * run must give the same ones, since a checkpoint continued with another batch size or text would be a
 * different run wearing the old one's epoch count.
 */
import path from 'node:path';
import type { TokenVocab } from '@tinytape/data';
import { type Device, DeviceError } from '@tinytape/tensor';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint.ts';
import { CliError, NonFiniteParameterError, RunStoppedError } from '../io/errors.ts';
import type { LanguageModel } from '../model/types.ts';
import { type RunParts, type TrainingState, readTrainingState, restoreTraining, trainingCheckpoint } from '../train/resume.ts';
import type { EpochRecord } from '../train/train.ts';
import { NonFiniteLossError } from '../train/train-epoch.ts';
import type { TrainConfig } from './config.ts';

/** Key of the flags inside `CheckpointInfo.extra`. */
export const RUN_FLAGS_KEY = 'cli';

/** The flags a resumed run must repeat, with how each is written on the command line. */
const FIXED = [
  ['data', (c) => (c.data.kind === 'file' ? `--data ${path.resolve(c.data.path)}` : `--dataset ${c.data.name}`)],
  ['model', (c) => `--model ${c.model}`],
  ['hidden', (c) => `--hidden ${c.hidden}`],
  ['layers', (c) => `--layers ${c.layers}`],
  ['bidirectional', (c) => (c.bidirectional ? '--bidirectional' : 'no --bidirectional')],
  ['optimizer', (c) => `--optimizer ${c.optimizer}`],
  ['batchSize', (c) => `--batch-size ${c.batchSize}`],
  ['numSteps', (c) => `--num-steps ${c.numSteps}`],
  ['maxTokens', (c) => `--max-tokens ${c.maxTokens}`],
  ['randomIter', (c) => (c.randomIter ? '--random-iter' : 'no --random-iter')],
] as const satisfies ReadonlyArray<readonly [string, (c: TrainConfig) => string]>;

/** Flags that may change on resume; a change is reported in one note line. */
const ADJUSTABLE = [
  ['lr', '--lr'],
  ['clip', '--clip'],
] as const;

/** What a checkpoint records about the command line that trained it, and a digest of the text. */
type RunFlags = Record<(typeof FIXED)[number][0], string> & { lr: number; clip: number; device: string; corpus: string };

function runFlags(config: TrainConfig, device: Device, corpus: ArrayLike<number>): RunFlags {
  const fixed = Object.fromEntries(FIXED.map(([key, show]) => [key, show(config)])) as Record<(typeof FIXED)[number][0], string>;
  return { ...fixed, lr: config.lr, clip: config.clip, device: device.kind, corpus: corpusDigest(corpus) };
}

/**
 * Token count and FNV-1a hash of the corpus: an edited `--data` file with the same characters keeps its
 * vocabulary, so only the tokens themselves show that the run would continue on another text.
 */
export function corpusDigest(corpus: ArrayLike<number>): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < corpus.length; i++) h = Math.imul(h ^ corpus[i]!, 0x01000193) >>> 0;
  return `${corpus.length}:${h.toString(16).padStart(8, '0')}`;
}

/** What {@link checkpointSaver} returns. */
export interface CheckpointSaver {
  /** Saves the run after `epoch` epochs to `--save` (nothing without it). */
  save(epoch: number): Promise<void>;
  /** The epoch of the last checkpoint this run saved (or resumed from, when that is the `--save` file). */
  lastSaved(): number | null;
}

/**
 * The `--save` side of a training run: every checkpoint holds the parameters, the training state and
 * the run's flags, so `--resume` can continue it. NaN parameters are never saved (unless --allow-nan):
 * the previous checkpoint then stays as the last good one.
 */
export function checkpointSaver(
  config: TrainConfig,
  run: {
    net: LanguageModel;
    vocab: TokenVocab;
    vocabKind: 'vocab' | 'char';
    corpus: ArrayLike<number>;
    device: Device;
    parts: RunParts;
    history: readonly EpochRecord[];
    resumedFrom: number | null;
  },
): CheckpointSaver {
  const flags = runFlags(config, run.device, run.corpus);
  const sameFile = config.resume !== undefined && config.save !== undefined && path.resolve(config.resume) === path.resolve(config.save);
  let last: number | null = sameFile ? run.resumedFrom : null;
  return {
    async save(epoch) {
      if (config.save === undefined) return;
      const { extra, optimizerTensors } = await trainingCheckpoint(run.net, epoch, run.history, run.parts);
      await saveCheckpoint(
        config.save,
        run.net,
        {
          config: { ...run.net.config(), seed: config.seed },
          vocab: [...run.vocab.idxToToken],
          vocabKind: run.vocabKind,
          epoch,
          extra: { ...extra, [RUN_FLAGS_KEY]: flags },
        },
        { optimizerTensors, allowNonFinite: config.allowNan },
      );
      last = epoch;
    },
    lastSaved: () => last,
  };
}

/**
 * `--resume`: loads the checkpoint, checks that this command trains the same model on the same data
 * with the same optimizer, and restores parameters, optimizer state and generators into the freshly
 * built run. Returns the restored state (its `epoch` and `history` go to `train`).
 *
 * @throws {@link CliError} when the flags, the vocabulary or `--epochs` do not fit the checkpoint.
 * @throws CheckpointError when the file is damaged, is no tinytape checkpoint or holds no training state.
 */
export async function resumeRun(
  config: TrainConfig & { resume: string },
  run: { net: LanguageModel; vocab: TokenVocab; corpus: ArrayLike<number>; device: Device; parts: RunParts; note: (line: string) => void },
): Promise<TrainingState> {
  const file = config.resume;
  const ckpt = await loadCheckpoint(file);
  const saved = ckpt.info.extra?.[RUN_FLAGS_KEY] as Partial<RunFlags> | undefined;
  const now = runFlags(config, run.device, run.corpus);
  // Said only once every check has passed, so that a refused resume prints its one error line alone.
  const notes: string[] = [];
  if (saved !== undefined && saved !== null && typeof saved === 'object') {
    const differ = FIXED.map(([key]) => key).filter((key) => saved[key] !== now[key]);
    if (differ.length > 0) {
      throw new CliError(
        `--resume ${file}: the checkpoint was trained with ${differ.map((k) => saved[k] ?? '?').join(' ')}, ` +
          `but this command says ${differ.map((k) => now[k]).join(' ')}; give the flags of the run you resume ` +
          `(only --epochs, --lr, --clip, --device, --seed and the output flags may change)`,
      );
    }
    for (const [key, flag] of ADJUSTABLE) {
      if (typeof saved[key] === 'number' && saved[key] !== now[key]) {
        notes.push(`resuming with ${flag} ${now[key]} (the checkpoint was trained with ${flag} ${saved[key]})`);
      }
    }
    if (saved.corpus !== undefined && saved.corpus !== now.corpus) {
      throw new CliError(`--resume ${file}: the training text changed since the checkpoint (its tokens differ); train on the same text`);
    }
    if (saved.device !== undefined && saved.device !== now.device) {
      notes.push(`resuming on ${now.device} a run trained on ${saved.device}: it goes on, but not bit-for-bit as an uninterrupted run would`);
    }
  }
  // Without the flags (a checkpoint saved from code), the model's own description still has to match.
  const want = JSON.stringify({ ...run.net.config(), seed: undefined });
  const have = JSON.stringify({ ...ckpt.info.config, seed: undefined });
  if (want !== have) {
    throw new CliError(`--resume ${file}: the checkpoint holds a different model (${have}) than this command builds (${want}); give the flags it was trained with`);
  }
  const vocab = run.vocab.idxToToken;
  if (ckpt.info.vocab.length !== vocab.length || ckpt.info.vocab.some((t, i) => t !== vocab[i])) {
    throw new CliError(`--resume ${file}: the training text changed since the checkpoint (its vocabulary of ${ckpt.info.vocab.length} tokens differs from the text's ${vocab.length}); train on the same text`);
  }
  const where = `checkpoint "${file}"`;
  const epoch = readTrainingState(ckpt.info, where)?.epoch;
  if (epoch !== undefined && epoch >= config.epochs) {
    throw new CliError(`--resume ${file}: the checkpoint is at epoch ${epoch} already; give --epochs larger than ${epoch} to train further`);
  }
  const state = restoreTraining(ckpt, run.net, run.parts, where);
  for (const line of notes) run.note(line);
  return state;
}

/**
 * Rewrites a failure during training as the one line the CLI prints, saying where the last good
 * checkpoint is: divergence (a NaN loss, or NaN parameters refused by the saver) becomes a
 * {@link RunStoppedError} with exit status 3; a lost or failing device keeps its DeviceError type.
 * Anything else is returned unchanged.
 */
export function explainStop(error: unknown, config: TrainConfig, saver: CheckpointSaver): unknown {
  const last = saver.lastSaved();
  const kept =
    config.save === undefined
      ? 'no checkpoint was being saved (--save)'
      : last === null
        ? `nothing was saved to ${config.save} in this run`
        : `the last good checkpoint, epoch ${last}, is ${config.save}; resume from it with --resume ${config.save}`;
  if (error instanceof NonFiniteLossError || error instanceof NonFiniteParameterError) {
    return new RunStoppedError(`${error.message}; ${kept}`, 3, { cause: error });
  }
  if (error instanceof DeviceError) return new DeviceError(`${error.message}; ${kept}`);
  return error;
}
