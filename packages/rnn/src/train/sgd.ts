import { noGrad } from '@tinytape/autograd';
import type { Tensor } from '@tinytape/tensor';

/**
 * d2l's `sgd`: p ← p − lr · g / batchSize for each parameter, then its gradient is zeroed
 * (the book's loss is already a mean, so the training loop passes batchSize = 1).
 */
export function sgd(params: Tensor[], lr: number, batchSize: number): void {
  noGrad(() => {
    for (const p of params) {
      if (p.grad === null) continue;
      p.axpy_(p.grad, -lr / batchSize);
      p.grad.zero_();
    }
  });
}

/** A parameter update called once per minibatch (d2l's `updater`). */
export interface Updater {
  step(batchSize: number): void;
  /** Optimizer state to save in a checkpoint (none for plain SGD). */
  state?(): Record<string, Tensor>;
}

/** d2l's `lambda batch_size: d2l.sgd(net.params, lr, batch_size)` as an Updater. */
export function sgdUpdater(params: Tensor[], lr: number): Updater {
  return { step: (batchSize) => sgd(params, lr, batchSize) };
}
