import { backward, noGrad } from '@tinytape/autograd';
import type { Batch } from '@tinytape/data';
import { type Device, type Tensor, crossEntropy, keep, scope, tensor, zeros } from '@tinytape/tensor';
import type { LanguageModel, State } from '../model/types.ts';
import { gradClipping } from './clipping.ts';
import type { Updater } from './sgd.ts';

/** A loss of logits [N, V] against int32 targets [N], returning a scalar mean. */
export type Loss = (yHat: Tensor, y: Tensor) => Tensor;

export interface TrainEpochOptions {
  /** Gradient clipping threshold θ (d2l uses 1). */
  clip?: number;
}

/**
 * d2l's `train_epoch_ch8`. The state is created at the first batch and, with the random iterator, at
 * every batch (its subsequences are not contiguous); with the sequential iterator it carries over,
 * detached so gradients stop at the batch boundary. Labels are Yᵀ flattened (time-major, matching the
 * model's output rows). Each batch runs in a `scope`, and the loss is summed on the device and read
 * back once at the end of the epoch, so the steps themselves never wait for the device.
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
  const lossSum = keep(zeros([], { device }));
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
        noGrad(() => lossSum.axpy_(l, y.size));
        return next;
      });
      disposeAll(current);
      X.dispose();
      y.dispose();
      tokens += batch.Y.length;
    }
    if (tokens === 0) throw new RangeError('trainEpoch: the data iterator yielded no batches');
    const meanLoss = (await lossSum.item()) / tokens;
    const seconds = (performance.now() - start) / 1000;
    return [Math.exp(meanLoss), tokens / seconds];
  } finally {
    disposeAll(state);
    lossSum.kept = false;
    lossSum.dispose();
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
