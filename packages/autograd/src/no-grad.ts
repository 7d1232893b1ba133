import { setGradEnabled } from '@tinytape/tensor';

/**
 * Runs `fn` without recording ops on the tape (`torch.no_grad()`): for predictions, parameter updates
 * and anything else that must not become part of the graph.
 */
export function noGrad<T>(fn: () => T): T {
  const previous = setGradEnabled(false);
  try {
    return fn();
  } finally {
    setGradEnabled(previous);
  }
}
