import { type Keepable, StateError, type Tensor, fmtShape, ones, sameShape, scope } from '@tinytape/tensor';
import { ProductGradient } from './grads/product.ts';
import { gradientRule } from './grads/registry.ts';
import { GradientSums, accumulateIntoGrad } from './gradient-sums.ts';
import { type TapeEntry, clearTape, tape } from './tape.ts';
import { noGrad } from './no-grad.ts';

export interface BackwardOptions {
  /** dLoss/dOutput to start from; required when `output` is not a scalar. Defaults to 1. */
  gradient?: Tensor;
  /** Keep the tape so backward can run again over the same graph (default false: the tape is freed). */
  retainGraph?: boolean;
}

/**
 * Reverse-mode differentiation: accumulates d(output)/d(leaf) into `leaf.grad` for every leaf tensor
 * that requires grad and that `output` depends on.
 *
 * The tape lists ops in the order they ran, so every op comes after the ops that made its inputs: it
 * is already a topological order, and walking it backwards visits each op after every use of its
 * output, when that output's gradient is complete. For each entry, the op's rule turns the gradient
 * of its output into gradients of its inputs, which are added to those inputs' running sums
 * (gradient-sums.ts). Intermediate gradients are disposed as soon as they are passed on, and the tape
 * is emptied afterwards.
 */
export function backward(output: Tensor, opts: BackwardOptions = {}): void {
  if (!output.requiresGrad) {
    throw new StateError(`backward: tensor ${fmtShape(output.shape)} does not require grad (no leaf requiring grad led to it)`);
  }
  if (output.isDisposed) throw new StateError(`backward: tensor ${fmtShape(output.shape)} was disposed`);
  if (opts.gradient === undefined && output.size !== 1) {
    throw new StateError(`backward: output ${fmtShape(output.shape)} is not a scalar; pass { gradient } of the same shape`);
  }
  if (opts.gradient !== undefined && !sameShape(opts.gradient.shape, output.shape)) {
    throw new StateError(`backward: gradient ${fmtShape(opts.gradient.shape)} does not match output ${fmtShape(output.shape)}`);
  }
  noGrad(() => {
    const sums = new GradientSums();
    sums.seed(output, opts.gradient ? opts.gradient.view(output.shape) : ones(output.shape, { device: output.device }));
    try {
      for (let i = tape.length - 1; i >= 0; i--) {
        const entry = tape[i]!;
        const g = sums.take(entry.output);
        if (g === undefined) continue;
        propagate(entry, g, sums);
        g.dispose();
      }
      // What remains belongs to leaves: the parameters' gradients.
      for (const [leaf, g] of sums.finish()) accumulateIntoGrad(leaf, g);
    } catch (error) {
      sums.dispose();
      throw error;
    } finally {
      if (!opts.retainGraph) clearTape();
    }
  });
}

/** Applies `entry`'s gradient rule to `g` and adds what it gives each input to that input's sum. */
function propagate(entry: TapeEntry, g: Tensor, sums: GradientSums): void {
  const rule = gradientRule(entry.op);
  if (rule === undefined) throw new StateError(`backward: no gradient registered for op '${entry.op}'`);
  const { inputs, output, versions } = entry;
  for (let k = 0; k <= inputs.length; k++) {
    const t = k < inputs.length ? inputs[k]! : output;
    if (t.isDisposed) throw new StateError(`backward: an input of '${entry.op}' (${fmtShape(t.shape)}) was disposed before backward`);
    if (t.storage.version !== versions[k]) {
      throw new StateError(`backward: a tensor ${fmtShape(t.shape)} that '${entry.op}' needs was modified in place after the op ran`);
    }
  }
  // Temporaries of the rule are released at once; only the input gradients survive the scope.
  const inputGrads = scope(() => rule(g, entry) as Keepable) as ReturnType<typeof rule>;
  const seen: Tensor[] = []; // an op has a few inputs: a list is cheaper than a Set per op
  entry.inputs.forEach((input, k) => {
    const result = inputGrads[k] ?? null;
    if (result === null) return;
    if (!input.requiresGrad) {
      if (result !== g && !(result instanceof ProductGradient)) result.dispose();
      return;
    }
    if (result instanceof ProductGradient) {
      sums.add(input, result);
      return;
    }
    if (!sameShape(result.shape, input.shape) || result.dtype !== input.dtype) {
      throw new StateError(
        `backward: gradient rule of '${entry.op}' gave ${fmtShape(result.shape)} ${result.dtype} for input ${fmtShape(input.shape)} ${input.dtype}`,
      );
    }
    // Each sum owns its own tensor object, so a gradient passed through unchanged becomes a view.
    const gi = result === g || seen.includes(result) ? result.view(result.shape) : result;
    seen.push(gi);
    sums.add(input, gi);
  });
}

/** Sets every given tensor's gradient to zero (d2l's `param.grad.zero_()`), keeping its buffer. */
export function zeroGrad(params: Iterable<Tensor>): void {
  for (const p of params) p.grad?.zero_();
}
