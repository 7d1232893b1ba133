// What the wasm transcendental kernels are held to: the TypeScript loops of elementwise.ts, i.e.
// Math.exp / Math.tanh and the stable two-branch sigmoid evaluated in doubles and rounded to float32
// once. Shared by the tests and by scripts/wasm-math-exhaustive.mjs.
import type { MathOp } from './math-module.ts';

/** The TypeScript kernels' formulas, per element, before the float32 store. */
export const MATH_REFERENCE: Record<MathOp, (v: number) => number> = {
  exp: (v) => Math.exp(v),
  tanh: (v) => Math.tanh(v),
  sigmoid: (v) => {
    if (v >= 0) return 1 / (1 + Math.exp(-v));
    const e = Math.exp(v);
    return e / (1 + e);
  },
};

/** Whether two float32 results are the same value (NaN equal to NaN, −0 unequal to 0). */
export const sameFloat = (a: number, b: number): boolean => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

/** Descriptions of the elements where `got` differs from the reference; empty when all match. */
export function mathMismatches(op: MathOp, x: Float32Array, got: Float32Array): string[] {
  const bad: string[] = [];
  for (let i = 0; i < x.length; i++) {
    const want = Math.fround(MATH_REFERENCE[op](x[i]!));
    if (!sameFloat(got[i]!, want)) bad.push(`${op}(${x[i]}) = ${got[i]}, expected ${want}`);
  }
  return bad;
}
