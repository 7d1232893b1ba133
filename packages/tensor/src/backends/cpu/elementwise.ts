import type { UnaryOp } from '../../backend.ts';
import { axpy as referenceAxpy, unary as referenceUnary } from '../reference/elementwise.ts';
import { tryWasmUnary } from './wasm/wasm-math.ts';
import { tryWasmAxpy, tryWasmSimpleUnary } from './wasm/wasm-elementwise.ts';

// The elementwise kernels the wasm backend speeds up; the reference backend's loops run for the other
// ops and for arrays too short to repay a call into WebAssembly. fill, scalar and cast have no wasm
// version and come from the reference backend directly (see index.ts).

/**
 * out[i] = f(x[i]) for the elementwise unary ops of the Backend contract. exp, tanh and sigmoid run
 * in WebAssembly SIMD where available (wasm/wasm-math.ts): about 5x faster, and the same float32
 * as the reference loops for every input (checked over all 2^32); on buffers in the wasm heap, from
 * 8,192 elements on, split between the matmul's two threads. `TINYTAPE_WASM_MATH=0` forces the
 * loops. neg, square, 1 − x² and x(1 − x) run in wasm too (wasm/wasm-elementwise.ts, bit for bit the
 * same results), above a few hundred elements.
 */
export function unary(op: UnaryOp, x: Float32Array, out: Float32Array, size: number): void {
  if ((op === 'exp' || op === 'tanh' || op === 'sigmoid') && tryWasmUnary(op, x, out, size)) return;
  if ((op === 'neg' || op === 'square' || op === 'oneMinusSquare' || op === 'sigmoidGradFromOutput') && tryWasmSimpleUnary(op, x, out, size)) return;
  referenceUnary(op, x, out, size);
}

/** y[i] += alpha * x[i] for i < size, in place; in wasm SIMD above a few hundred elements (the same float32 results). */
export function axpy(y: Float32Array, x: Float32Array, alpha: number, size: number): void {
  if (tryWasmAxpy(y, x, alpha, size)) return;
  referenceAxpy(y, x, alpha, size);
}
