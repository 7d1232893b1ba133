import { noGrad } from '@tinytape/autograd';
import type { Tensor } from '@tinytape/tensor';
import { sgdStep } from '../kernels/multi-tensor.ts';

/**
 * d2l's `sgd`: p ← p − lr · g / batchSize for each parameter, then its gradient is zeroed
 * (the book's loss is already a mean, so the training loop passes batchSize = 1). Parameters without
 * a gradient are skipped. One multi-tensor kernel updates and zeroes a few parameters per dispatch
 * (kernels/multi-tensor.ts), with the values the separate axpy and fill gave, and marks the zeroed
 * gradients so the next backward takes its gradients as they are instead of adding them to zeros.
 */
export function sgd(params: Tensor[], lr: number, batchSize: number): void {
  const withGrad = params.filter((p) => p.grad !== null);
  if (withGrad.length === 0) return;
  noGrad(() => sgdStep(withGrad, withGrad.map((p) => p.grad!), -lr / batchSize));
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
