import type { ScalarOp, UnaryOp } from '../../backend.ts';
import type { DType, TypedArray } from '../../dtype.ts';
import { tryWasmUnary } from './wasm/wasm-math.ts';
import { tryWasmAxpy, tryWasmSimpleUnary } from './wasm/wasm-elementwise.ts';

// Every kernel here switches on the op once and then runs a dedicated loop, so V8 sees one monomorphic
// loop body per op instead of a call through a function table for each element.

/** out[i] = value for i < size; an int32 buffer receives the value converted as a typed-array store does. */
export function fill(out: TypedArray, size: number, value: number): void {
  out.fill(value, 0, size);
}

/**
 * out[i] = f(x[i]) for the elementwise unary ops of the Backend contract. exp, tanh and sigmoid run
 * in WebAssembly SIMD where available (wasm/wasm-math.ts): about 5x faster, and the same float32
 * as the loops below for every input (checked over all 2^32). The loops are the reference and the
 * fallback; `TINYTAPE_WASM_MATH=0` forces them. neg, square, 1 − x² and x(1 − x) run in wasm too
 * (wasm/wasm-elementwise.ts, bit for bit the same results), above a few hundred elements.
 */
export function unary(op: UnaryOp, x: Float32Array, out: Float32Array, size: number): void {
  if ((op === 'exp' || op === 'tanh' || op === 'sigmoid') && tryWasmUnary(op, x, out, size)) return;
  if ((op === 'neg' || op === 'square' || op === 'oneMinusSquare' || op === 'sigmoidGradFromOutput') && tryWasmSimpleUnary(op, x, out, size)) return;
  switch (op) {
    case 'neg':
      for (let i = 0; i < size; i++) out[i] = -x[i]!;
      return;
    case 'exp':
      for (let i = 0; i < size; i++) out[i] = Math.exp(x[i]!);
      return;
    case 'log':
      for (let i = 0; i < size; i++) out[i] = Math.log(x[i]!);
      return;
    case 'tanh':
      for (let i = 0; i < size; i++) out[i] = Math.tanh(x[i]!);
      return;
    case 'sigmoid':
      for (let i = 0; i < size; i++) {
        const v = x[i]!;
        // For negative v, e^-v would overflow; e^v / (1 + e^v) is the same value and stays finite.
        if (v >= 0) {
          out[i] = 1 / (1 + Math.exp(-v));
        } else {
          const e = Math.exp(v);
          out[i] = e / (1 + e);
        }
      }
      return;
    case 'relu':
      // v > 0 ? v : 0 maps NaN to 0; Math.max keeps NaN visible, as PyTorch's relu does.
      for (let i = 0; i < size; i++) out[i] = Math.max(x[i]!, 0);
      return;
    case 'sqrt':
      for (let i = 0; i < size; i++) out[i] = Math.sqrt(x[i]!);
      return;
    case 'square':
      for (let i = 0; i < size; i++) {
        const v = x[i]!;
        out[i] = v * v;
      }
      return;
    case 'abs':
      for (let i = 0; i < size; i++) out[i] = Math.abs(x[i]!);
      return;
    case 'step':
      for (let i = 0; i < size; i++) out[i] = x[i]! > 0 ? 1 : 0;
      return;
    case 'oneMinusSquare':
      for (let i = 0; i < size; i++) {
        const v = x[i]!;
        out[i] = 1 - v * v;
      }
      return;
    case 'sigmoidGradFromOutput':
      for (let i = 0; i < size; i++) {
        const v = x[i]!;
        out[i] = v * (1 - v);
      }
      return;
    default:
      throw new Error(`cpu backend: unknown unary op '${op as string}'`);
  }
}

/** out[i] = x[i] (op) s, with `rsub`/`rdiv` taking the scalar as the left operand. */
export function scalar(op: ScalarOp, x: Float32Array, s: number, out: Float32Array, size: number): void {
  switch (op) {
    case 'add':
      for (let i = 0; i < size; i++) out[i] = x[i]! + s;
      return;
    case 'sub':
      for (let i = 0; i < size; i++) out[i] = x[i]! - s;
      return;
    case 'rsub':
      for (let i = 0; i < size; i++) out[i] = s - x[i]!;
      return;
    case 'mul':
      for (let i = 0; i < size; i++) out[i] = x[i]! * s;
      return;
    case 'div':
      for (let i = 0; i < size; i++) out[i] = x[i]! / s;
      return;
    case 'rdiv':
      for (let i = 0; i < size; i++) out[i] = s / x[i]!;
      return;
    case 'pow':
      for (let i = 0; i < size; i++) out[i] = x[i]! ** s;
      return;
    case 'maximum':
      for (let i = 0; i < size; i++) out[i] = Math.max(x[i]!, s);
      return;
    case 'minimum':
      for (let i = 0; i < size; i++) out[i] = Math.min(x[i]!, s);
      return;
    default:
      throw new Error(`cpu backend: unknown scalar op '${op as string}'`);
  }
}

/** y[i] += alpha * x[i] for i < size, in place; in wasm SIMD above a few hundred elements (the same float32 results). */
export function axpy(y: Float32Array, x: Float32Array, alpha: number, size: number): void {
  if (tryWasmAxpy(y, x, alpha, size)) return;
  for (let i = 0; i < size; i++) y[i] = y[i]! + alpha * x[i]!;
}

/**
 * Converts `size` elements between dtypes. float32 -> int32 truncates toward zero; int32 -> float32 is
 * exact for |v| <= 2^24 and rounds to nearest beyond, as any float32 store does.
 */
export function cast(x: TypedArray, out: TypedArray, size: number, from: DType, to: DType): void {
  if (from === to) {
    out.set(x.subarray(0, size));
    return;
  }
  if (to === 'int32') {
    // An Int32Array store would truncate on its own, but spelling it out keeps the rule visible.
    for (let i = 0; i < size; i++) out[i] = Math.trunc(x[i]!);
    return;
  }
  for (let i = 0; i < size; i++) out[i] = x[i]!;
}
