// The math and elementwise modules instantiated a second time, on the matmul's shared memory, so that
// an op whose arrays are all heap buffers (heap.ts) runs on them where they lie: no copy in, no copy
// out. The functions are the same code as the copying path's instances (wasm-math.ts,
// wasm-elementwise.ts), so which path runs changes no result. (exp, tanh and sigmoid in place use the
// matmul module's own copies, which either thread can run; this math instance serves softmax's
// shifted exponentials.)
//
// Only whole buffers qualify: the elementwise kernels write whole vectors, up to 3 floats past the
// end of an array whose length is not a multiple of 4, which in a heap buffer land in its own
// rounding (heap.ts allocates in multiples of 4 floats), but inside an array would overwrite elements
// after the op's range.

import type { TypedArray } from '../../../dtype.ts';
import { type ElementwiseExports, buildElementwiseModule } from './elementwise-module.ts';
import { SCRATCH_BASE, heapAddress, heapOffset } from './heap.ts';
import { DEFAULT_MATH_UNROLL, type MathModuleExports, buildMathModule } from './math-module.ts';
import { type Kernels, sharedKernels, sharedMemoryFor } from './wasm-matmul.ts';

/** The part of the WebAssembly JS API used here, typed locally since the project's lib has no DOM. */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { readonly exports: object };
}

/** The two modules on one matmul instance's memory. */
export interface InPlace {
  readonly kern: Kernels;
  readonly math: MathModuleExports;
  readonly elementwise: ElementwiseExports;
}

const MAX_PAGES = 2 ** 31 / 65536;

let cached: { kern: Kernels; inPlace: InPlace | null } | undefined;

/** The in-place instances for the shared matmul instance (made on first use), or null without a shared memory. */
function inPlace(): InPlace | null {
  const kern = sharedKernels();
  if (kern === null) return null;
  if (cached?.kern === kern) return cached.inPlace;
  let made: InPlace | null = null;
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  const memory = kern.exports.memory;
  if (api !== undefined && typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) {
    try {
      const imports = { env: { memory } };
      const math = new api.Instance(new api.Module(buildMathModule(DEFAULT_MATH_UNROLL, 1, MAX_PAGES)), imports).exports as MathModuleExports;
      const elementwise = new api.Instance(new api.Module(buildElementwiseModule(1, MAX_PAGES)), imports).exports as ElementwiseExports;
      made = { kern, math, elementwise };
    } catch {
      made = null; // the copying path still works
    }
  }
  cached = { kern, inPlace: made };
  return made;
}

/**
 * The in-place instances and the byte addresses of `arrays` when every one is a whole heap buffer of
 * the shared instance, at least `n` long (and exactly `n` for `written`, so that a kernel's last
 * vector stays inside the buffer); null otherwise, and the caller copies.
 */
export function inPlaceCall(n: number, written: Float32Array, ...read: Float32Array[]): { run: InPlace; out: number; in: number[] } | null {
  if (written.length !== n) return null;
  const run = inPlace();
  if (run === null) return null;
  const out = heapOffset(run.kern, written);
  if (out < 0) return null;
  const ins: number[] = [];
  for (const x of read) {
    const at = heapOffset(run.kern, x);
    if (at < 0 || x.length < n) return null;
    ins.push(at * 4);
  }
  return { run, out: out * 4, in: ins };
}

/** The in-place instances and the byte address of `x` when it lies in the heap (a heap buffer or a view of one). */
export function inPlaceAt(x: Float32Array): { run: InPlace; at: number } | null {
  const run = inPlace();
  const at = run === null ? -1 : heapAddress(run.kern, x);
  return at < 0 ? null : { run: run!, at };
}

/**
 * Float32 scratch of `floats` in the shared memory, above the matmul's (at SCRATCH_BASE: no matmul runs
 * while an elementwise op does), as a view and its byte address; null if the memory cannot grow.
 */
export function inPlaceScratch(run: InPlace, floats: number): { view: Float32Array; at: number } | null {
  const view = sharedMemoryFor(run.kern, SCRATCH_BASE + floats + 4);
  return view === null ? null : { view, at: SCRATCH_BASE * 4 };
}

/**
 * A copier between two arrays that lie in the shared memory's heap (heap buffers or views of them):
 * `(dstAt, srcAt, n)` sets dst[dstAt + i] = src[srcAt + i] for i < n through wasm's memory.copy, as a
 * memmove (the ranges may overlap; the caller keeps them inside the arrays). Null when either array
 * is elsewhere: the caller then uses `set`, several times slower on a shared buffer (see
 * elementwise-module.ts). For many copies between the same two arrays (row by row), whose addresses
 * are then looked up once.
 */
export function heapCopier(dst: TypedArray, src: TypedArray): ((dstAt: number, srcAt: number, n: number) => void) | null {
  const run = inPlace();
  if (run === null) return null;
  const to = heapAddress(run.kern, dst);
  const from = to < 0 ? -1 : heapAddress(run.kern, src);
  if (from < 0) return null;
  const copyBytes = run.elementwise.copyBytes;
  return (dstAt, srcAt, n) => copyBytes(to + 4 * dstAt, from + 4 * srcAt, 4 * n);
}

/**
 * dst[dstAt + i] = src[srcAt + i] for i < n through wasm's memory.copy when both arrays lie in the
 * heap (see heapCopier); false otherwise, having copied nothing, and also for a range past either end.
 */
export function heapCopy(dst: TypedArray, dstAt: number, src: TypedArray, srcAt: number, n: number): boolean {
  if (dstAt + n > dst.length || srcAt + n > src.length) return false;
  const copier = heapCopier(dst, src);
  if (copier === null) return false;
  copier(dstAt, srcAt, n);
  return true;
}

/**
 * x[at + i] = 0 for i < n through wasm's memory.fill when x lies in the shared memory's heap; false
 * otherwise, having written nothing (the caller uses `fill`, about 10x slower on a shared buffer).
 */
export function heapZero(x: TypedArray, at: number, n: number): boolean {
  const run = inPlace();
  if (run === null) return false;
  const to = heapAddress(run.kern, x);
  if (to < 0 || at + n > x.length) return false;
  run.elementwise.zeroBytes(to + 4 * at, 4 * n);
  return true;
}
