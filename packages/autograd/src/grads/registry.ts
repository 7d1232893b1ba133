import type { MatmulOptions, Tensor } from '@tinytape/tensor';

/** What a gradient rule sees: the forward op's inputs, output and attributes. */
export interface GradContext {
  inputs: Tensor[];
  output: Tensor;
  attrs: Record<string, unknown>;
  /**
   * The running gradient sum of input k when backward may add into it in place (it already holds
   * gradients from later uses of that input, e.g. later time steps, and nothing else shares its
   * buffer); otherwise null. A rule that adds its gradient for input k into it returns
   * {@link ACCUMULATED} in place of that gradient. Rules are free to ignore it.
   */
  accumulator: (k: number) => Tensor | null;
  /**
   * Offers input k's gradient as the product op(x)·op(y) (matmul options `opts`), for backward to
   * sum with the other such products of the same input in one matmul at the end (see
   * deferred-products.ts). Returns true when backward took it: the rule then returns
   * {@link ACCUMULATED} for that input. Returns false (compute the gradient now) unless input k is a
   * leaf and the product is a short-contraction xᵀ·y.
   */
  deferProduct: (k: number, x: Tensor, y: Tensor, opts: MatmulOptions) => boolean;
}

/**
 * Returned by a gradient rule for an input whose gradient it already added into `accumulator(k)`,
 * or handed to backward with `deferProduct`.
 */
export const ACCUMULATED: unique symbol = Symbol('accumulated');

/**
 * A gradient rule: given dLoss/dOutput `g`, return dLoss/dInput for each input (null for inputs that
 * take no gradient, such as integer indices; ACCUMULATED when added into the accumulator already).
 * Each result must have its input's shape.
 */
export type GradRule = (g: Tensor, ctx: GradContext) => (Tensor | null | typeof ACCUMULATED)[];

const rules = new Map<string, GradRule>();

/** Registers the rule for an op name as the tensor package records it (e.g. 'matmul', 'mulScalar'). */
export function registerGradient(op: string, rule: GradRule): void {
  rules.set(op, rule);
}

export function gradientRule(op: string): GradRule | undefined {
  return rules.get(op);
}

/** Names of all ops with a registered gradient (for docs and tests). */
export function differentiableOps(): string[] {
  return [...rules.keys()].sort();
}
