/*
 * Checkpoints that a run can continue from. Beyond the parameters, continuing a run exactly needs
 * everything that decides what happens next: the optimizer's state (Adam's moments and step count; SGD
 * keeps none), the epochs done, the data loader's generator (each epoch draws its random offset, and
 * the random iterator its shuffle, from it) and the engine's default generator. All of it is saved with
 * the parameters; restored into a freshly built model, a run on the CPU device then ends bit-for-bit
 * where an uninterrupted one does, because every later step sees the same numbers in the same order.
 * (The WebGPU device continues the run too, but its kernels do not promise bit-identical sums.)
 */
import { defaultGenerator } from '@tinytape/tensor';
import { OPTIMIZER_TENSOR_PREFIX, type CheckpointInfo, type LoadedCheckpoint, loadParameters } from '../checkpoint.ts';
import { CheckpointError } from '../io/errors.ts';
import type { SafeTensor } from '../io/safetensors.ts';
import type { LanguageModel } from '../model/types.ts';
import type { AdamUpdater } from './adam.ts';
import type { EpochRecord } from './train.ts';

/** A generator whose whole state is one 32-bit word (the data package's `Rng`). */
export interface WordRng {
  getState(): number;
  setState(state: number): void;
}

/** The optimizer part of a {@link TrainingState}. */
export type OptimizerState = { kind: 'sgd' } | { kind: 'adam'; steps: number };

/** Everything besides tensors that a run needs to continue where it stopped (saved as JSON). */
export interface TrainingState {
  /** Layout version of this object. */
  version: 1;
  /** Epochs completed. */
  epoch: number;
  optimizer: OptimizerState;
  /** State of the data loader's generator after `epoch` epochs, or null when the loader has none. */
  dataRng: number | null;
  /** State of the engine's default generator (`defaultGenerator().getState()`). */
  generator: { counter: number; spareNormal: number | null };
  /** One record per completed epoch, for charts and CSV logs that cover the whole run. */
  history: EpochRecord[];
}

/** What a run is made of, beyond the model: the parts whose state a checkpoint must carry. */
export interface RunParts {
  /** The Adam updater when training with Adam; omit for SGD, which keeps no state. */
  adam?: AdamUpdater;
  /** The data loader's generator (`trainIter.rng` of the loaders in `@tinytape/data`). */
  dataRng?: WordRng;
}

/** Key of the training state inside `CheckpointInfo.extra`. */
export const TRAINING_STATE_KEY = 'training';

const MOMENTS = ['exp_avg', 'exp_avg_sq'] as const;

/**
 * The `extra` entry and optimizer tensors to pass to `saveCheckpoint` so that the checkpoint can be
 * resumed. Adam's moments are stored as `optimizer.adam.exp_avg.<parameter name>` and
 * `optimizer.adam.exp_avg_sq.<parameter name>` (PyTorch's state names).
 *
 * @param epoch - epochs completed.
 * @param history - the records of those epochs.
 */
export async function trainingCheckpoint(
  net: LanguageModel,
  epoch: number,
  history: readonly EpochRecord[],
  parts: RunParts,
): Promise<{ extra: Record<string, unknown>; optimizerTensors: Record<string, SafeTensor> }> {
  const optimizerTensors: Record<string, SafeTensor> = {};
  if (parts.adam !== undefined) {
    const state = parts.adam.state();
    const names = net.namedParameters().map(([name]) => name);
    for (const [i, name] of names.entries()) {
      for (const key of MOMENTS) {
        const t = state[`${key}.${i}`]!;
        optimizerTensors[`${OPTIMIZER_TENSOR_PREFIX}adam.${key}.${name}`] = { dtype: 'float32', shape: [...t.shape], data: await t.toArray() };
      }
    }
  }
  const generator = defaultGenerator().getState();
  const state: TrainingState = {
    version: 1,
    epoch,
    optimizer: parts.adam !== undefined ? { kind: 'adam', steps: parts.adam.steps } : { kind: 'sgd' },
    dataRng: parts.dataRng?.getState() ?? null,
    generator,
    history: history.map((r) => ({ epoch: r.epoch, perplexity: r.perplexity, tokensPerSec: r.tokensPerSec })),
  };
  return { extra: { [TRAINING_STATE_KEY]: state }, optimizerTensors };
}

/**
 * The training state saved in a checkpoint's info, validated (the file may come from anywhere), or
 * null when the checkpoint holds none (saved by `saveCheckpoint` alone).
 *
 * @throws {@link CheckpointError} when the state is present but malformed.
 */
export function readTrainingState(info: CheckpointInfo, path = 'checkpoint'): TrainingState | null {
  const raw = info.extra?.[TRAINING_STATE_KEY];
  if (raw === undefined) return null;
  const bad = (what: string): never => {
    throw new CheckpointError(`${path}: its training state is damaged: ${what}`);
  };
  if (raw === null || typeof raw !== 'object') return bad('not an object');
  const s = raw as Record<string, unknown>;
  if (s.version !== 1) bad(`unknown version ${JSON.stringify(s.version)}`);
  if (!isCount(s.epoch)) bad(`epoch ${JSON.stringify(s.epoch)}`);
  const opt = s.optimizer as Record<string, unknown> | null;
  if (opt === null || typeof opt !== 'object' || (opt.kind !== 'sgd' && !(opt.kind === 'adam' && isCount(opt.steps)))) {
    bad(`optimizer ${JSON.stringify(opt)}`);
  }
  if (s.dataRng !== null && !isWord(s.dataRng)) bad(`data generator state ${JSON.stringify(s.dataRng)}`);
  const gen = s.generator as Record<string, unknown> | null;
  if (gen === null || typeof gen !== 'object' || !isWord(gen.counter) || !(gen.spareNormal === null || typeof gen.spareNormal === 'number')) {
    bad(`generator state ${JSON.stringify(gen)}`);
  }
  if (!Array.isArray(s.history)) bad('history is not a list');
  const history = (s.history as unknown[]).map((r, i): EpochRecord => {
    const rec = r as Record<string, unknown> | null;
    // JSON has no NaN: a run with --allow-nan saves its NaN perplexities as null.
    const num = (v: unknown) => (v === null ? Number.NaN : typeof v === 'number' ? v : bad(`history entry ${i}`));
    if (rec === null || typeof rec !== 'object' || !isCount(rec.epoch)) bad(`history entry ${i}`);
    return { epoch: rec!.epoch as number, perplexity: num(rec!.perplexity), tokensPerSec: num(rec!.tokensPerSec) };
  });
  return {
    version: 1,
    epoch: s.epoch as number,
    optimizer: opt!.kind === 'adam' ? { kind: 'adam', steps: opt!.steps as number } : { kind: 'sgd' },
    dataRng: s.dataRng as number | null,
    generator: { counter: gen!.counter as number, spareNormal: gen!.spareNormal as number | null },
    history,
  };
}

/**
 * Puts a checkpoint's run back: the parameters into `net`, Adam's moments and step count into
 * `parts.adam`, the data loader's and the default generator's states. Call it after building the model
 * and optimizer (building draws from the default generator) and before training; then pass the
 * returned `epoch` and `history` to `train` as `startEpoch` and `history`.
 *
 * @throws {@link CheckpointError} when the checkpoint has no training state, was trained with another
 *   optimizer, or its parameters or moments do not fit the model — before anything is changed.
 */
export function restoreTraining(ckpt: LoadedCheckpoint, net: LanguageModel, parts: RunParts, path = 'checkpoint'): TrainingState {
  const state = readTrainingState(ckpt.info, path);
  if (state === null) {
    throw new CheckpointError(`${path}: holds no training state to resume (it was saved without one, e.g. by saveCheckpoint alone)`);
  }
  const want = parts.adam !== undefined ? 'adam' : 'sgd';
  if (state.optimizer.kind !== want) {
    throw new CheckpointError(`${path}: was trained with ${state.optimizer.kind}, not ${want}; resume it with the same optimizer`);
  }
  if (state.dataRng !== null && parts.dataRng === undefined) {
    throw new CheckpointError(`${path}: saved a data generator state, but no data generator was given to restore it into`);
  }
  const moments: Record<string, ArrayLike<number>> = {};
  if (parts.adam !== undefined) {
    for (const [i, [name, p]] of net.namedParameters().entries()) {
      for (const key of MOMENTS) {
        const saved = ckpt.tensors[`${OPTIMIZER_TENSOR_PREFIX}adam.${key}.${name}`];
        if (saved === undefined) throw new CheckpointError(`${path}: lacks Adam's ${key} for parameter "${name}"`);
        if (saved.data.length !== p.size) {
          throw new CheckpointError(`${path}: Adam's ${key} for "${name}" has ${saved.data.length} values, the parameter ${p.size}`);
        }
        moments[`${key}.${i}`] = saved.data;
      }
    }
  }
  // loadParameters checks every name and shape before copying anything.
  loadParameters(net, ckpt.tensors, path);
  if (parts.adam !== undefined && state.optimizer.kind === 'adam') parts.adam.restore(moments, state.optimizer.steps);
  if (state.dataRng !== null) parts.dataRng!.setState(state.dataRng);
  defaultGenerator().setState(state.generator);
  return state;
}

function isCount(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function isWord(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 32;
}
