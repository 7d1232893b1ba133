import { noGrad } from '@tinytape/autograd';
import { type Tensor, scope } from '@tinytape/tensor';
import { clipGradients } from '../kernels/multi-tensor.ts';
import { type LanguageModel, parameters } from '../model/types.ts';

/**
 * d2l's `grad_clipping`: rescales all gradients together so their global L2 norm is at most `theta`
 * (g ← g · min(1, θ/‖g‖)); gradients that are all zero stay as they are. Parameters without a
 * gradient are skipped. Everything happens on the device: the norm is never read back, so a training
 * step needs no GPU→CPU transfer, and the multi-tensor kernels (kernels/multi-tensor.ts) clip every
 * parameter in a couple of dispatches rather than a few per parameter. Returns the norm (before
 * clipping) as a device scalar.
 *
 * @throws Error when no parameter has a gradient yet.
 */
export function gradClipping(net: LanguageModel | Tensor[], theta: number): Tensor {
  const params = Array.isArray(net) ? net : parameters(net);
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (grads.length === 0) throw new Error('gradClipping: no parameter has a gradient yet (run backward first)');
  // scope(): should a dispatch fail, the partial sums made before it are freed all the same.
  return noGrad(() => scope(() => clipGradients(grads, theta)));
}
