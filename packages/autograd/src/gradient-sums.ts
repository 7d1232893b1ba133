/*
 * Where backward keeps the running gradient sum of each tensor. Nothing here changes a result beyond
 * float32 rounding: the textbook version of `add` is `sums.set(t, previous + gradient)`, and a reader
 * following backward() can take it as that and skip this file. What it adds is speed for the one
 * pattern recurrent networks live on — a weight used at every time step, collecting one gradient per
 * step:
 *
 * - A running sum whose buffer no other tensor shares is added into in place (axpy) instead of being
 *   replaced by a new sum, and a product gradient is added into it by the matmul kernel itself
 *   (matmulAccumulate_), without a temporary.
 * - A leaf's product gradients xᵀ·y that contract over a short axis (one time step's batch) are held
 *   back and summed at the end as one matmul over the stacked rows (deferred-products.ts), which runs
 *   near the kernels' peak where each small product alone is bound by memory traffic.
 */
import { type Tensor, add, keep, matmulAccumulate_ } from '@tinytape/tensor';
import { DEFER_FLUSH_ROWS, DEFER_MAX_ROWS, DeferredProducts, RowStacks } from './deferred-products.ts';
import { ProductGradient } from './grads/product.ts';
import { producer } from './tape.ts';

/** Whether `t`'s buffer belongs to it alone, so writing it in place changes no other tensor. */
const ownsBuffer = (t: Tensor): boolean => t.storage.refs === 1;

/** The gradients backward has collected so far, one running sum per tensor. */
export class GradientSums {
  private readonly sums = new Map<Tensor, Tensor>();
  private readonly deferred = new Map<Tensor, DeferredProducts>();

  /** Starts the walk: the gradient of the output backward was called on. */
  seed(output: Tensor, g: Tensor): void {
    this.sums.set(output, g);
  }

  /** Removes and returns the gradient summed for `t` (undefined when none reached it). */
  take(t: Tensor): Tensor | undefined {
    const g = this.sums.get(t);
    if (g !== undefined) this.sums.delete(t);
    return g;
  }

  /** Adds gradient `g` of `input` (a tensor the sums take over, or a product to form). */
  add(input: Tensor, g: Tensor | ProductGradient): void {
    if (g instanceof ProductGradient) this.addProduct(input, g);
    else this.addTensor(input, g);
  }

  /** The sums of tensors no op produced (leaves), every deferred product included; empties this. */
  finish(): [Tensor, Tensor][] {
    const stacks = new RowStacks();
    try {
      for (const [leaf, terms] of this.deferred) if (terms.count > 0) this.addTensor(leaf, terms.evaluate(stacks));
    } finally {
      stacks.dispose();
    }
    this.deferred.clear();
    const leaves: [Tensor, Tensor][] = [];
    for (const [t, g] of this.sums) {
      if (producer.has(t) || !t.requiresGrad) g.dispose();
      else leaves.push([t, g]);
    }
    this.sums.clear();
    return leaves;
  }

  /** Releases everything held (backward failed). */
  dispose(): void {
    for (const g of this.sums.values()) g.dispose();
    for (const terms of this.deferred.values()) terms.dispose();
    this.sums.clear();
    this.deferred.clear();
  }

  private addTensor(input: Tensor, g: Tensor): void {
    const previous = this.sums.get(input);
    if (previous === undefined) this.sums.set(input, g);
    else if (ownsBuffer(previous)) {
      previous.axpy_(g, 1);
      g.dispose();
    } else {
      this.sums.set(input, add(previous, g));
      previous.dispose();
      g.dispose();
    }
  }

  private addProduct(input: Tensor, p: ProductGradient): void {
    const { x, y, opts } = p;
    const matrices = input.rank === 2 && x.rank === 2 && y.rank === 2;
    // Only leaves defer: backward reaches their sums after the whole walk, when every term is in.
    if (matrices && !producer.has(input) && opts.transA === true && opts.transB !== true && x.shape[0]! <= DEFER_MAX_ROWS) {
      let terms = this.deferred.get(input);
      if (terms === undefined) this.deferred.set(input, (terms = new DeferredProducts()));
      terms.add(x, y);
      if (terms.rows >= DEFER_FLUSH_ROWS) this.addTensor(input, terms.evaluate());
      return;
    }
    const previous = this.sums.get(input);
    if (matrices && previous !== undefined && ownsBuffer(previous)) {
      matmulAccumulate_(previous, x, y, opts);
      return;
    }
    this.addTensor(input, p.evaluate());
  }
}

/**
 * Adds a leaf's gradient into `.grad`, creating it on first use. `.grad` outlives any scope. A `.grad`
 * known to hold only zeros (an optimizer zeroed it and said so with `Storage.markZeroed`; nothing has
 * written it since) is replaced by the new gradient rather than added to: 0 + g is g (but for the sign
 * of a zero), and the replacement saves a dispatch per parameter per training step.
 */
export function accumulateIntoGrad(leaf: Tensor, g: Tensor): void {
  const current = leaf.grad;
  const zeroed = current !== null && !current.isDisposed && current.storage.knownZero;
  if (current === null || current.isDisposed || zeroed) {
    if (zeroed) current.dispose();
    // Later accumulation writes into .grad in place, so it must not share a buffer with anything else.
    if (!ownsBuffer(g)) {
      leaf.grad = keep(add(g, 0));
      g.dispose();
    } else leaf.grad = keep(g);
  } else {
    current.axpy_(g, 1);
    g.dispose();
  }
}
