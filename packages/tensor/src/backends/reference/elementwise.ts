import type { BinaryOp, BroadcastLayout, ScalarOp, UnaryOp } from '../../backend.ts';
import type { DType, TypedArray } from '../../dtype.ts';
import { walkStrided } from './walk.ts';

// The definitions of the elementwise ops. Each kernel switches on the op once and then runs a
// one-line loop, so every op reads as its formula; the wasm backend runs these same loops for the
// ops and sizes its WebAssembly kernels do not take (their results are the same float32 values).

/** out[i] = value for i < size; an int32 buffer receives the value converted as a typed-array store does. */
export function fill(out: TypedArray, size: number, value: number): void {
  out.fill(value, 0, size);
}

/** out[i] = f(x[i]) for the elementwise unary ops of the Backend contract. */
export function unary(op: UnaryOp, x: Float32Array, out: Float32Array, size: number): void {
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
      throw new Error(`unknown unary op '${op as string}'`);
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
      throw new Error(`unknown scalar op '${op as string}'`);
  }
}

/** What each binary op computes from one element of a and one of b. */
const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: Math.max,
  minimum: Math.min,
};

/**
 * out = a (op) b over `layout.outShape`, each operand read through its strides (0 along a broadcast
 * axis). Also serves binaryInPlace with out === a: a's strides are then out's own, so every element of
 * a is read just before the same element is written.
 */
export function binary(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array, layout: BroadcastLayout): void {
  const f = BINARY[op];
  if (f === undefined) throw new Error(`unknown binary op '${op as string}'`);
  let o = 0;
  walkStrided(layout.outShape, [layout.aStrides, layout.bStrides], [0, 0], ([ia, ib]) => {
    out[o++] = f(a[ia!]!, b[ib!]!);
  });
}

/** y[i] += alpha * x[i] for i < size, in place. */
export function axpy(y: Float32Array, x: Float32Array, alpha: number, size: number): void {
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
