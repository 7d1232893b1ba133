import { type Keepable, type MatmulOptions, StateError, add, fmtShape, keep, ones, sameShape, scope, type Tensor } from '@tinytape/tensor';
import { ACCUMULATED, type GradRule, gradientRule } from './grads/registry.ts';
import { DEFER_FLUSH_ROWS, DEFER_MAX_ROWS, DeferredProducts } from './deferred-products.ts';
import { type TapeEntry, clearTape, producer, tape } from './tape.ts';
import { noGrad } from './no-grad.ts';

export interface BackwardOptions {
  /** dLoss/dOutput to start from; required when `output` is not a scalar. Defaults to 1. */
  gradient?: Tensor;
  /** Keep the tape so backward can run again over the same graph (default false: the tape is freed). */
  retainGraph?: boolean;
}

/**
 * Reverse-mode differentiation: accumulates d(output)/d(leaf) into `leaf.grad` for every leaf tensor
 * that requires grad and that `output` depends on. Walks the tape once, newest entry first; each
 * entry's rule turns the gradient of its output into gradients of its inputs. Intermediate gradients
 * are disposed as soon as they have been passed on, and the tape is emptied afterwards.
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
    const grads = new Map<Tensor, Tensor>();
    const deferred = new Map<Tensor, DeferredProducts>();
    grads.set(output, opts.gradient ? opts.gradient.view(output.shape) : ones(output.shape, { device: output.device }));
    try {
      for (let i = tape.length - 1; i >= 0; i--) {
        const entry = tape[i]!;
        const g = grads.get(entry.output);
        if (g === undefined) continue;
        grads.delete(entry.output);
        propagate(entry, g, grads, deferred);
        g.dispose();
      }
      for (const [leaf, terms] of deferred) if (terms.count > 0) addGradient(grads, leaf, terms.evaluate());
      // What remains belongs to leaves (or to tensors the graph does not go through).
      for (const [t, g] of grads) {
        if (producer.has(t) || !t.requiresGrad) g.dispose();
        else accumulate(t, g);
      }
    } catch (error) {
      for (const g of grads.values()) g.dispose();
      for (const terms of deferred.values()) terms.dispose();
      throw error;
    } finally {
      if (!opts.retainGraph) clearTape();
    }
  });
}

function propagate(entry: TapeEntry, g: Tensor, grads: Map<Tensor, Tensor>, deferred: Map<Tensor, DeferredProducts>): void {
  const rule = gradientRule(entry.op);
  if (rule === undefined) throw new StateError(`backward: no gradient registered for op '${entry.op}'`);
  const tensors = [...entry.inputs, entry.output];
  tensors.forEach((t, k) => {
    if (t.isDisposed) throw new StateError(`backward: an input of '${entry.op}' (${fmtShape(t.shape)}) was disposed before backward`);
    if (t.storage.version !== entry.versions[k]) {
      throw new StateError(`backward: a tensor ${fmtShape(t.shape)} that '${entry.op}' needs was modified in place after the op ran`);
    }
  });
  // Temporaries of the rule are released at once; only the input gradients survive the scope.
  const accumulator = (k: number): Tensor | null => {
    const input = entry.inputs[k];
    if (input === undefined || !input.requiresGrad) return null;
    const sum = grads.get(input);
    return sum !== undefined && sum.storage.refs === 1 ? sum : null;
  };
  // Only leaves defer: backward reaches their gradients after the whole walk, by which time every
  // term has arrived. Terms are xᵀ·y with x and y stored [rows, ·] (see deferred-products.ts).
  const deferProduct = (k: number, x: Tensor, y: Tensor, o: MatmulOptions): boolean => {
    const input = entry.inputs[k];
    if (input === undefined || !input.requiresGrad || producer.has(input) || input.rank !== 2) return false;
    if (o.transA !== true || o.transB === true || x.rank !== 2 || y.rank !== 2 || x.shape[0]! > DEFER_MAX_ROWS) return false;
    let terms = deferred.get(input);
    if (terms === undefined) deferred.set(input, (terms = new DeferredProducts()));
    terms.add(x, y);
    if (terms.rows >= DEFER_FLUSH_ROWS) addGradient(grads, input, terms.evaluate());
    return true;
  };
  // The sentinel is not a tensor, so the scope leaves it alone; only the input gradients survive.
  const inputGrads = scope(() => rule(g, { inputs: entry.inputs, output: entry.output, attrs: entry.attrs, accumulator, deferProduct }) as Keepable) as ReturnType<GradRule>;
  const seen = new Set<Tensor>();
  entry.inputs.forEach((input, k) => {
    const result = inputGrads[k] ?? null;
    if (result === null || result === ACCUMULATED) return;
    let gi: Tensor = result;
    if (!input.requiresGrad) {
      if (gi !== g) gi.dispose();
      return;
    }
    if (!sameShape(gi.shape, input.shape) || gi.dtype !== input.dtype) {
      throw new StateError(
        `backward: gradient rule of '${entry.op}' gave ${fmtShape(gi.shape)} ${gi.dtype} for input ${fmtShape(input.shape)} ${input.dtype}`,
      );
    }
    // Each map entry owns its own tensor object, so a gradient passed through unchanged becomes a view.
    if (gi === g || seen.has(gi)) gi = gi.view(gi.shape);
    seen.add(gi);
    addGradient(grads, input, gi);
  });
}

/** Adds `gi` (which the map takes over) to the running gradient sum of `input`. */
function addGradient(grads: Map<Tensor, Tensor>, input: Tensor, gi: Tensor): void {
  const previous = grads.get(input);
  if (previous === undefined) grads.set(input, gi);
  else if (previous.storage.refs === 1) {
    // A weight used at every time step collects one gradient per step: sum them in place when the
    // running sum's buffer is ours alone, instead of allocating a new sum each time.
    previous.axpy_(gi, 1);
    gi.dispose();
  } else {
    grads.set(input, add(previous, gi));
    previous.dispose();
    gi.dispose();
  }
}

/** Adds a leaf's gradient into `.grad`, creating it on first use. `.grad` outlives any scope. */
function accumulate(leaf: Tensor, g: Tensor): void {
  if (leaf.grad === null || leaf.grad.isDisposed) {
    // Later accumulation writes into .grad in place, so it must not share a buffer with anything else.
    if (g.storage.refs > 1) {
      leaf.grad = keep(add(g, 0));
      g.dispose();
    } else leaf.grad = keep(g);
  } else {
    leaf.grad.axpy_(g, 1);
    g.dispose();
  }
}

/** Sets every given tensor's gradient to zero (d2l's `param.grad.zero_()`), keeping its buffer. */
export function zeroGrad(params: Iterable<Tensor>): void {
  for (const p of params) p.grad?.zero_();
}
