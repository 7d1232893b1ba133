/**
 * @tinytape/autograd — tape-based reverse-mode differentiation over @tinytape/tensor's ops.
 * Importing it connects the tape to the engine and registers every op's gradient rule.
 */
import { installTape } from './tape.ts';
import './grads/elementwise.ts';
import './grads/matmul.ts';
import './grads/reduce.ts';
import './grads/shape.ts';
import './grads/nn.ts';

installTape();

export { backward, zeroGrad, type BackwardOptions } from './backward.ts';
export { noGrad } from './no-grad.ts';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './gradcheck.ts';
export { formatTape, printTape, clearTape, tape, type TapeEntry } from './tape.ts';
export { registerGradient, differentiableOps, type GradRule, type GradContext } from './grads/registry.ts';
export { ProductGradient, productGradient } from './grads/product.ts';
export { detach } from '@tinytape/tensor';
