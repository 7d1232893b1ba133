// Host side of the WebAssembly SIMD exp / tanh / sigmoid (and softmax's shifted exp): compiles the
// module from math-module.ts once, on first use, owns its memory, and copies each array through it.
//
// The CPU backend's buffers are ordinary Float32Arrays, which wasm code cannot address, so a call
// copies x into the module's memory, transforms it in place there and copies the result out. Arrays
// go through in chunks of CHUNK floats: the memory never has to grow, and a chunk (64 KB) is still in
// L1/L2 when the kernel reads it and when it is copied out. The two copies cost about 0.2 ns per
// element, next to the 3 ns of the kernel and the 14-22 ns of Math.exp / Math.tanh (measured at
// 8192 and 16384 elements: exp / tanh / sigmoid 3.0 / 3.5 / 3.5 ns per element including the
// copies, the TypeScript loops 14 / 22 / 17).
//
// There is no size below which the TypeScript loop takes over, although it is faster for 1-3 elements
// (a wasm call costs 30-60 ns; measured crossover 2-4 elements, 16 elements take 0.15-0.2 µs in wasm
// and 0.2-0.4 in TypeScript): results then never depend on an array's size, so a kernel that applies
// these functions to its own blocks (a custom kernel such as a fused recurrent cell) matches the separate ops exactly.
//
// `TINYTAPE_WASM_MATH=0` in the environment turns the path off (read once, at first use), leaving the
// TypeScript loops, e.g. to measure the difference.

import { type MathModuleExports, type MathOp, buildMathModule } from './math-module.ts';
import { inPlaceCall } from './in-place.ts';
import { MATH_EXPORTS } from './matmul-module.ts';
import { type Kernels, wasmSimdAvailable } from './wasm-matmul.ts';
import { envVar } from '../../../node-runtime.ts';

export type { MathOp } from './math-module.ts';

/** The part of the WebAssembly JS API used here, typed locally since the project's lib has no DOM. */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { readonly exports: object };
}

/** Floats per kernel call; the module's one 64 KiB page holds exactly one chunk. */
export const CHUNK = 16384;

/** Up to this many floats a chunk is copied with a loop rather than `set` on a subarray. */
const SHORT = 16;

/** The op's function on a fresh instance: `run(x, out, size)` through that instance's memory. */
export type WasmMathRunner = ((op: MathOp, x: Float32Array, out: Float32Array, size: number) => void) & {
  /**
   * out[r·cols + j] = exp(x[r·cols + j] − shifts[r]) for r < rows, j < cols: softmax's shifted
   * exponentials, each shift an f32 (a row's maximum).
   */
  readonly expRows: (x: Float32Array, out: Float32Array, rows: number, cols: number, shifts: Float32Array) => void;
};

/** Compiles the module into a fresh instance, or returns null when the engine has no WebAssembly SIMD. */
export function createWasmMath(unroll?: number): WasmMathRunner | null {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined || !wasmSimdAvailable()) return null;
  // Synchronous compilation is allowed for a module this small (about 17 KB; 15-20 ms).
  const exports = new api.Instance(new api.Module(buildMathModule(unroll)), {}).exports as MathModuleExports;
  const view = new Float32Array(exports.memory.buffer, 0, CHUNK);
  const copyIn = (x: Float32Array, start: number, len: number): void => {
    // Short arrays are copied element by element: making a subarray costs more.
    if (len <= SHORT) {
      for (let i = 0; i < len; i++) view[i] = x[start + i]!;
    } else {
      view.set(x.subarray(start, start + len));
    }
  };
  const copyOut = (out: Float32Array, start: number, len: number): void => {
    if (len <= SHORT) {
      for (let i = 0; i < len; i++) out[start + i] = view[i]!;
    } else {
      out.set(len === CHUNK ? view : view.subarray(0, len), start);
    }
  };
  const expRows = (x: Float32Array, out: Float32Array, rows: number, cols: number, shifts: Float32Array): void => {
    const { expShifted } = exports;
    if (cols > CHUNK) {
      // Rows longer than a chunk go through in pieces, each with its row's shift.
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < cols; j += CHUNK) {
          const len = Math.min(CHUNK, cols - j);
          copyIn(x, r * cols + j, len);
          expShifted(0, 0, len, shifts[r]!);
          copyOut(out, r * cols + j, len);
        }
      }
      return;
    }
    // Otherwise as many whole rows per chunk as fit, one call per row.
    const perChunk = Math.floor(CHUNK / cols);
    for (let r = 0; r < rows; r += perChunk) {
      const count = Math.min(perChunk, rows - r);
      copyIn(x, r * cols, count * cols);
      for (let i = 0; i < count; i++) expShifted(4 * i * cols, 4 * i * cols, cols, shifts[r + i]!);
      copyOut(out, r * cols, count * cols);
    }
  };
  const run = (op: MathOp, x: Float32Array, out: Float32Array, size: number): void => {
    const kernel = exports[op];
    for (let start = 0; start < size; start += CHUNK) {
      const len = Math.min(CHUNK, size - start);
      copyIn(x, start, len);
      kernel(0, 0, len);
      copyOut(out, start, len);
    }
  };
  return Object.assign(run, { expRows });
}

/**
 * A getter for an instance every CPU backend shares, made by `create` on first use; it returns null
 * when `TINYTAPE_WASM_MATH=0` switches the wasm elementwise kernels off (this module's and
 * wasm-elementwise.ts's), when `create` finds no SIMD, or when compiling failed.
 */
export function sharedWasmInstance<T>(create: () => T | null): () => T | null {
  let shared: T | null | undefined;
  return () => {
    if (shared === undefined) {
      try {
        shared = envVar('TINYTAPE_WASM_MATH') === '0' ? null : create();
      } catch {
        shared = null; // an engine that validates SIMD but fails to compile: stay on TypeScript
      }
    }
    return shared;
  };
}

/** The instance every CPU backend shares, compiled on first use; null when the path is off or unavailable. */
const sharedRunner = sharedWasmInstance(() => createWasmMath());

/** Whether the CPU backend computes exp, tanh and sigmoid in wasm (SIMD available, not switched off). */
export function wasmMathEnabled(): boolean {
  return sharedRunner() !== null;
}

/**
 * out[i] = op(x[i]) for i < size in WebAssembly SIMD, returning true; false, having written nothing,
 * when the path is off or unavailable, and the caller should run its TypeScript loop. `out` may be `x`.
 */
export function tryWasmUnary(op: MathOp, x: Float32Array, out: Float32Array, size: number): boolean {
  const run = sharedRunner();
  if (run === null) return false;
  // Heap buffers (heap.ts) are transformed where they lie, long ones on both threads; these functions
  // store no lane past `size`.
  const here = inPlaceCall(size, out, x);
  if (here === null) run(op, x, out, size);
  else inPlaceUnary(here.run.kern, op, here.in[0]!, here.out, size);
  return true;
}

/**
 * Arrays at least this long are split between the matmul's two threads: handing the helper a share
 * costs a few microseconds, and tanh of 8,192 floats takes about 25 µs.
 */
export const THREADED_MATH_MIN = 8192;

/**
 * op over `size` floats at byte addresses src and dst of the matmul's memory, with the matmul module's
 * own copy of the function: from THREADED_MATH_MIN on with a ready helper, this thread takes the first
 * half (from a whole vector on) and the helper the rest; otherwise all of it here.
 */
function inPlaceUnary(kern: Kernels, op: MathOp, src: number, dst: number, size: number): void {
  const helper = kern.helper;
  const name = MATH_EXPORTS[op];
  if (size < THREADED_MATH_MIN || helper === null || !helper.ready()) {
    kern.exports[name](src, dst, size);
    return;
  }
  const split = Math.floor(size / 8) * 4;
  helper.start(name, [src + 4 * split, dst + 4 * split, size - split]);
  try {
    kern.exports[name](src, dst, split);
  } finally {
    helper.wait();
  }
}

/**
 * out[r·cols + j] = exp(x[r·cols + j] − shifts[r]) in WebAssembly SIMD, returning true; false,
 * having written nothing, when the path is off or unavailable. `out` may be `x`.
 */
export function tryWasmExpRows(x: Float32Array, out: Float32Array, rows: number, cols: number, shifts: Float32Array): boolean {
  const run = sharedRunner();
  if (run === null) return false;
  const here = inPlaceCall(rows * cols, out, x);
  if (here !== null) {
    for (let r = 0; r < rows; r++) here.run.math.expShifted(here.in[0]! + 4 * r * cols, here.out + 4 * r * cols, cols, shifts[r]!);
  } else {
    run.expRows(x, out, rows, cols, shifts);
  }
  return true;
}
