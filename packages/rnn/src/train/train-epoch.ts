import { backward, noGrad } from '@tinytape/autograd';
import type { Batch } from '@tinytape/data';
import { type Device, type Tensor, keep, scope, stack, tensor } from '@tinytape/tensor';
import { TinytapeUserError } from '../io/errors.ts';
import type { LanguageModel, State } from '../model/types.ts';
import { gradClipping } from './clipping.ts';
import type { Updater } from './sgd.ts';

/** A loss of logits [N, V] against int32 targets [N], returning a scalar mean. */
export type Loss = (yHat: Tensor, y: Tensor) => Tensor;

export interface TrainEpochOptions {
  /** Gradient clipping threshold θ (d2l uses 1). */
  clip?: number;
  /** Go on when a batch's loss is NaN or infinite instead of throwing NonFiniteLossError. */
  allowNan?: boolean;
  /** Epoch number used in error messages (1-based). */
  epoch?: number;
}

/**
 * A batch's loss was NaN or ±Infinity, or the losses were so large that the epoch's perplexity
 * (exp of their mean) overflows: training has diverged (lower the learning rate or clip harder).
 */
export class NonFiniteLossError extends TinytapeUserError {
  constructor(
    readonly epoch: number,
    /** 1-based index of the first bad batch in the epoch (the largest loss when the perplexity overflows). */
    readonly batch: number,
    /** The bad loss (the mean loss when the perplexity overflows). */
    readonly value: number,
    /** What went out of range: a batch's loss, or the epoch's perplexity (exp of the mean loss). */
    readonly what: 'loss' | 'perplexity' = 'loss',
  ) {
    const problem = what === 'loss' ? `loss is ${value}` : `perplexity overflows (mean loss ${value})`;
    super(`training diverged: ${problem} at epoch ${epoch}, batch ${batch}; try a lower --lr or --clip (or --allow-nan to go on)`);
  }
}

/**
 * d2l's `train_epoch_ch8`. The state is created at the first batch and, with the random iterator, at
 * every batch (its subsequences are not contiguous); with the sequential iterator it carries over,
 * detached so gradients stop at the batch boundary. Labels are Yᵀ flattened (time-major, matching the
 * model's output rows). Each batch runs in a `scope`; its mean loss stays on the device and all of an
 * epoch's losses are read back together at the end, so the steps never wait for the device. A NaN or
 * infinite loss then raises NonFiniteLossError naming the epoch and batch (unless `allowNan`).
 * Returns [perplexity, tokens per second].
 */
export async function trainEpoch(
  net: LanguageModel,
  trainIter: Iterable<Batch>,
  loss: Loss,
  updater: Updater,
  device: Device,
  useRandomIter: boolean,
  opts: TrainEpochOptions = {},
): Promise<[number, number]> {
  const clip = opts.clip ?? 1;
  const start = performance.now();
  const losses: Tensor[] = [];
  let tokens = 0;
  let state: State | null = null;
  try {
    for (const batch of trainIter) {
      const [batchSize, numSteps] = batch.shape;
      if (state === null || useRandomIter) {
        disposeAll(state);
        state = net.beginState(batchSize, device);
      } else {
        const detached: State = state.map((s) => s.detach());
        disposeAll(state);
        state = detached;
      }
      const X = tensor(batch.X, { shape: [batchSize, numSteps], dtype: 'int32', device });
      const y = tensor(transposeRows(batch.Y, batchSize, numSteps), { dtype: 'int32', device });
      const current: State = state;
      state = scope(() => {
        const [yHat, next] = net.forward(X, current);
        const l = loss(yHat, y);
        backward(l);
        gradClipping(net, clip);
        updater.step(1); // the loss is already a mean
        losses.push(keep(noGrad(() => l.detach())));
        return next;
      });
      disposeAll(current);
      X.dispose();
      y.dispose();
      tokens += batch.Y.length;
    }
    if (tokens === 0) throw new RangeError('trainEpoch: the data iterator yielded no batches');
    const all = stack(losses);
    const perBatch = Array.from(await all.toArray()); // the epoch's one readback
    all.dispose();
    const seconds = (performance.now() - start) / 1000;
    const bad = perBatch.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0 && !opts.allowNan) throw new NonFiniteLossError(opts.epoch ?? 1, bad + 1, perBatch[bad]!);
    // Every batch has the same number of tokens, so the epoch's mean loss is the mean of batch means.
    const meanLoss = perBatch.reduce((sum, v) => sum + v, 0) / perBatch.length;
    const perplexity = Math.exp(meanLoss);
    if (!Number.isFinite(perplexity) && !opts.allowNan) {
      const worst = perBatch.indexOf(Math.max(...perBatch));
      throw new NonFiniteLossError(opts.epoch ?? 1, worst + 1, meanLoss, 'perplexity');
    }
    return [perplexity, tokens / seconds];
  } finally {
    disposeAll(state);
    for (const l of losses) {
      l.kept = false;
      l.dispose();
    }
  }
}

/** Yᵀ flattened: row-major [batchSize, numSteps] -> time-major [numSteps * batchSize]. */
export function transposeRows(Y: Int32Array, batchSize: number, numSteps: number): Int32Array {
  const out = new Int32Array(Y.length);
  for (let b = 0; b < batchSize; b++) for (let t = 0; t < numSteps; t++) out[t * batchSize + b] = Y[b * numSteps + t]!;
  return out;
}

function disposeAll(state: State | null): void {
  if (state !== null) for (const s of state) s.dispose();
}
