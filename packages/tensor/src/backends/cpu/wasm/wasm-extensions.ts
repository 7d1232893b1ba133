// Wasm extensions: how a package adds its own WebAssembly functions to the CPU backend, the way
// defineKernel adds WGSL to WebGPU. An extension's functions are compiled into the backend's matmul
// module, so they run on its memory, on either of its two threads, and call its matmul kernels and
// its exp / tanh / sigmoid directly: a loop over time steps can then live entirely in wasm, with no
// JavaScript between steps. packages/rnn's whole-sequence recurrences are the first user.
//
// The host side of a custom kernel's `wasm` version (defineKernel) uses `wasmRuntime()`: it copies
// its inputs into the memory from `base` on (or reads those already there in place: `addressOf`),
// calls its functions (on one thread, or one share on each with `callBoth`), and copies the outputs
// back (or writes them in place). Below `base` the memory holds the matmul's
// resident copies and the backend's buffers (heap.ts); above it, a call may use whatever it reserves.
import type { MatmulParams } from '../../../backend.ts';
import { addExtension } from './extension-registry.ts';
import type { WasmModuleExtension } from './matmul-module.ts';
import { SCRATCH_BASE, heapAddress } from './heap.ts';
import { sharedKernels, sharedMemoryFor, wasmMatmul } from './wasm-matmul.ts';

export type { WasmLibrary, WasmModuleExtension, KernelShape } from './matmul-module.ts';
export { FunctionBuilder, ModuleBuilder, type Label, type ValType } from './wasm-writer.ts';

/**
 * Registers functions to compile into the CPU backend's wasm module. The module is rebuilt with them
 * on its next use (once: register at import time). Throws a ValueError for a duplicate name.
 */
export function registerWasmExtension(extension: WasmModuleExtension): void {
  addExtension(extension);
}

/** The CPU backend's wasm module as an extension's host code sees it (see `wasmRuntime`). */
export interface WasmRuntime {
  /** 2 when a helper thread takes `callBoth` shares, else 1. */
  readonly threads: number;
  /** Whether the helper thread has started (it compiles the module asynchronously; until then `callBoth` runs both shares here). */
  helperReady(): boolean;
  /** The first float of memory an extension's call may use; below it are the matmul's resident weights and the backend's buffers. */
  readonly base: number;
  /**
   * A Float32Array over the whole memory with at least `floats` floats from `base` on, or null when
   * the memory cannot grow that far. Growing replaces the buffer: take a new view after each reserve.
   */
  reserve(floats: number): Float32Array | null;
  /** Runs the exported function `name` on this thread with i32 arguments (byte addresses, sizes). */
  call(name: string, ...args: number[]): void;
  /**
   * Runs `name(...helper)` on the helper thread while this thread runs `name(...own)`, and returns
   * when both are done (both shares here, one after the other, without a ready helper). At most 9
   * arguments each. The two calls must write disjoint memory.
   */
  callBoth(name: string, own: readonly number[], helper: readonly number[]): void;
  /**
   * Runs `name(first + p·stride)` for every piece p < `pieces`, both threads claiming pieces one at a
   * time until none is left (this thread from the first piece on, the helper from the last one back),
   * so a thread that runs slower, or starts late, simply takes fewer. For functions of one argument, a
   * parameter block's address, one block per piece `stride` bytes apart. The pieces must write
   * disjoint memory. All on this thread without a ready helper.
   */
  callPieces(name: string, first: number, pieces: number, stride: number): void;
  /**
   * The byte address of `view` in the memory when it lies in one of the backend's buffers there (below
   * `base`: see heap.ts), else -1. A kernel may then read an input and write an output in place,
   * rather than copying it through its scratch. Writing must stay inside the view: the neighbouring
   * floats belong to other buffers.
   */
  addressOf(view: Float32Array | Int32Array): number;
  /** The backend's wasm matmul on host arrays (see Backend.matmul); false when it did not run. */
  matmul(A: Float32Array, B: Float32Array, C: Float32Array, p: MatmulParams): boolean;
}

/**
 * The runtime of the shared module, or null where there is no WebAssembly SIMD, or when an extension
 * named `requires` is not in it (registered too late to build, or failed to compile).
 */
export function wasmRuntime(requires?: string): WasmRuntime | null {
  const kern = sharedKernels();
  if (kern === null) return null;
  const fns = kern.exports as unknown as Record<string, (...args: number[]) => void>;
  if (requires !== undefined && typeof fns[requires] !== 'function') return null;
  const helper = kern.helper;
  const fn = (name: string): ((...args: number[]) => void) => {
    const f = fns[name];
    if (typeof f !== 'function') throw new Error(`wasm runtime: no exported function '${name}'`);
    return f;
  };
  return {
    threads: helper === null ? 1 : 2,
    helperReady: () => helper !== null && helper.ready(),
    base: SCRATCH_BASE,
    reserve: (floats) => sharedMemoryFor(kern, SCRATCH_BASE + floats),
    call: (name, ...args) => fn(name)(...args),
    callBoth(name, own, theirs) {
      const f = fn(name);
      if (helper === null || !helper.ready()) {
        f(...own);
        f(...theirs);
        return;
      }
      helper.start(name, theirs);
      try {
        f(...own);
      } finally {
        helper.wait();
      }
    },
    callPieces(name, first, pieces, stride) {
      const f = fn(name);
      if (helper === null || !helper.ready() || pieces < 2) {
        for (let p = 0; p < pieces; p++) f(first + p * stride);
        return;
      }
      // A piece is "one row" of a call whose argument 0 moves by `stride` per row; the size the helper
      // passes as argument 3 is ignored by a function of one argument.
      helper.startPieces(name, [first, 0, 0, pieces], pieces, 1, 3, { a: stride, b: 0, c: 0 });
      try {
        for (let p = 0; helper.claimPiece(pieces); p++) f(first + p * stride);
      } finally {
        helper.wait();
      }
    },
    addressOf: (view) => heapAddress(kern, view),
    matmul: (A, B, C, p) => wasmMatmul(A, B, C, p),
  };
}
