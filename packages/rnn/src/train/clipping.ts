import { noGrad } from '@tinytape/autograd';
import { type Tensor, add, div, minimum, scope, sqrt, square, sum } from '@tinytape/tensor';
import { type LanguageModel, parameters } from '../model/types.ts';

/**
 * d2l's `grad_clipping`: rescales all gradients together so their global L2 norm is at most `theta`
 * (g ← g · min(1, θ/‖g‖)). Everything happens on the device: the norm is never read back, so a
 * training step needs no GPU→CPU transfer. Returns the norm (before clipping) as a device scalar.
 */
export function gradClipping(net: LanguageModel | Tensor[], theta: number): Tensor {
  const params = Array.isArray(net) ? net : parameters(net);
  return noGrad(() =>
    scope(() => {
      const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
      if (grads.length === 0) throw new Error('gradClipping: no parameter has a gradient yet (run backward first)');
      const norm = sqrt(grads.map((g) => sum(square(g))).reduce((acc, s) => add(acc, s)));
      // θ/0 is +∞ and min(∞, 1) = 1, so all-zero gradients pass through untouched.
      const scale = minimum(div(theta, norm), 1);
      for (const g of grads) g.mul_(scale);
      return norm;
    }),
  );
}
