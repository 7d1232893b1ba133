import type { Tensor } from '@tinytape/tensor';
import type { ProductGradient } from './product.ts';

/** What a gradient rule sees: the forward op's inputs, output and attributes. */
export interface GradContext {
  inputs: Tensor[];
  output: Tensor;
  attrs: Record<string, unknown>;
}

/**
 * A gradient rule: given dLoss/dOutput `g`, return dLoss/dInput for each input, in the input's shape
 * (null for inputs that take no gradient, such as integer indices). A gradient that is a matrix
 * product may be returned as a {@link ProductGradient}, computed later by backward.
 */
export type GradRule = (g: Tensor, ctx: GradContext) => (Tensor | ProductGradient | null)[];

const rules = new Map<string, GradRule>();

/** Registers the rule for an op name as the tensor package records it (e.g. 'matmul', 'mulScalar'). */
export function registerGradient(op: string, rule: GradRule): void {
  rules.set(op, rule);
}

/** The rule registered for `op`, if any. */
export function gradientRule(op: string): GradRule | undefined {
  return rules.get(op);
}

/** Names of all ops with a registered gradient (for docs and tests). */
export function differentiableOps(): string[] {
  return [...rules.keys()].sort();
}
