// Host side of the WebAssembly SIMD elementwise kernels (elementwise-module.ts): compiles the module
// once, on first use, and runs each call through its memory in chunks, as wasm-math.ts does for
// exp/tanh/sigmoid. Each entry returns false, having written nothing, when the path is off or
// unavailable or the call is too small to repay the copies; the caller then runs its TypeScript
// loop, which gives the same float32 results (see the module's header), so the choice never shows.
//
// `TINYTAPE_WASM_MATH=0` in the environment turns this path off along with wasm-math.ts's.

import { type ElementwiseExports, type WasmBinaryOp, type WasmSimpleUnaryOp, buildElementwiseModule } from './elementwise-module.ts';
import { wasmSimdAvailable } from './wasm-matmul.ts';
import { inPlaceAt, inPlaceCall, inPlaceScratch } from './in-place.ts';
import { heapOffset } from './heap.ts';
import { sharedWasmInstance } from './wasm-math.ts';

export type { WasmBinaryOp, WasmSimpleUnaryOp } from './elementwise-module.ts';

/** The part of the WebAssembly JS API used here, typed locally since the project's lib has no DOM. */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { readonly exports: object };
}

/** Floats per region and kernel call (64 KiB): a chunk is still in L1/L2 when it is copied out. */
export const ELEMENTWISE_CHUNK = 16384;

/**
 * Below this many elements the TypeScript loop runs: a wasm call with its copies costs about a
 * microsecond, which a loop of a few hundred elements takes anyway (measured crossover 100-300).
 */
export const ELEMENTWISE_MIN = 256;

// Memory layout: three float regions (A, B, OUT) of a chunk plus slack, then a chunk of doubles for
// column sums.
const REGION = ELEMENTWISE_CHUNK + 16;
const A = 0;
const B = REGION;
const OUT = 2 * REGION;
const ACC_BYTES = 3 * REGION * 4;
const MEMORY_BYTES = ACC_BYTES + (ELEMENTWISE_CHUNK + 8) * 8;

/** One compiled instance with views of its memory. */
interface Instance {
  readonly exports: ElementwiseExports;
  readonly view: Float32Array;
  readonly acc: Float64Array;
}

/** Compiles a fresh instance, or returns null without WebAssembly SIMD (for tests; the backend shares one). */
export function createWasmElementwise(): Instance | null {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined || !wasmSimdAvailable()) return null;
  const bytes = buildElementwiseModule(Math.ceil(MEMORY_BYTES / 65536));
  const exports = new api.Instance(new api.Module(bytes), {}).exports as ElementwiseExports;
  return {
    exports,
    view: new Float32Array(exports.memory.buffer),
    acc: new Float64Array(exports.memory.buffer, ACC_BYTES, ELEMENTWISE_CHUNK + 8),
  };
}

/** The instance every CPU backend shares (see sharedWasmInstance). */
const instance = sharedWasmInstance(() => createWasmElementwise());

/** Whether the CPU backend runs these elementwise ops in wasm (SIMD available, not switched off). */
export function wasmElementwiseEnabled(): boolean {
  return instance() !== null;
}

/** view[region..] = src[from .. from+len). */
function copyIn(view: Float32Array, region: number, src: Float32Array, from: number, len: number): void {
  view.set(src.subarray(from, from + len), region);
}

/** dst[to .. to+len) = view[region..]. */
function copyOut(view: Float32Array, region: number, dst: Float32Array, to: number, len: number): void {
  dst.set(view.subarray(region, region + len), to);
}

/**
 * out[oo+i] = a[ao+i] (op) b[bo+i] for i < n, on `inst` (default: the shared instance). `out` may be
 * `a` or `b`.
 */
export function tryWasmBinary(
  op: WasmBinaryOp, a: Float32Array, ao: number, b: Float32Array, bo: number, out: Float32Array, oo: number, n: number,
  inst: Instance | null = instance(),
): boolean {
  if (inst === null || n < ELEMENTWISE_MIN) return false;
  if (inst === instance() && ao === 0 && bo === 0 && oo === 0) {
    const here = inPlaceCall(n, out, a, b);
    if (here !== null) {
      here.run.elementwise[op](here.in[0]!, here.in[1]!, here.out, n);
      return true;
    }
  }
  const { exports, view } = inst;
  for (let s = 0; s < n; s += ELEMENTWISE_CHUNK) {
    const len = Math.min(ELEMENTWISE_CHUNK, n - s);
    copyIn(view, A, a, ao + s, len);
    copyIn(view, B, b, bo + s, len);
    exports[op](A * 4, B * 4, OUT * 4, len);
    copyOut(view, OUT, out, oo + s, len);
  }
  return true;
}

/** out[oo+i] = a[ao+i] (op) s for i < n, where s is a float32 value. `out` may be `a`. */
export function tryWasmBinaryScalar(
  op: WasmBinaryOp, a: Float32Array, ao: number, s: number, out: Float32Array, oo: number, n: number,
  inst: Instance | null = instance(),
): boolean {
  if (inst === null || n < ELEMENTWISE_MIN) return false;
  if (inst === instance() && ao === 0 && oo === 0) {
    const here = inPlaceCall(n, out, a);
    const scratch = here === null ? null : inPlaceScratch(here.run, 4);
    if (here !== null && scratch !== null) {
      scratch.view[scratch.at / 4] = s;
      here.run.elementwise[`${op}Scalar`](here.in[0]!, scratch.at, here.out, n);
      return true;
    }
  }
  const { exports, view } = inst;
  view[B] = s;
  for (let i = 0; i < n; i += ELEMENTWISE_CHUNK) {
    const len = Math.min(ELEMENTWISE_CHUNK, n - i);
    copyIn(view, A, a, ao + i, len);
    exports[`${op}Scalar`](A * 4, B * 4, OUT * 4, len);
    copyOut(view, OUT, out, oo + i, len);
  }
  return true;
}

/** out[r·cols + c] = a[r·cols + c] (op) b[c] for a contiguous [rows, cols] a (a bias row). `out` may be `a`. */
export function tryWasmBinaryRow(
  op: WasmBinaryOp, a: Float32Array, b: Float32Array, out: Float32Array, rows: number, cols: number,
  inst: Instance | null = instance(),
): boolean {
  if (inst === null || rows * cols < ELEMENTWISE_MIN || cols > ELEMENTWISE_CHUNK) return false;
  // In place only into another buffer: the kernel writes up to 3 floats past each row, into the next
  // row, which must not be one it has still to read. The row b goes to scratch (it is short).
  if (inst === instance() && out !== a) {
    const here = inPlaceCall(rows * cols, out, a);
    const scratch = here === null ? null : inPlaceScratch(here.run, cols + 4);
    if (here !== null && scratch !== null) {
      scratch.view.set(b.subarray(0, cols), scratch.at / 4);
      here.run.elementwise[`${op}Row`](here.in[0]!, scratch.at, here.out, rows, cols);
      return true;
    }
  }
  const { exports, view } = inst;
  copyIn(view, B, b, 0, cols);
  const perChunk = Math.floor(ELEMENTWISE_CHUNK / cols);
  for (let r = 0; r < rows; r += perChunk) {
    const count = Math.min(perChunk, rows - r);
    copyIn(view, A, a, r * cols, count * cols);
    exports[`${op}Row`](A * 4, B * 4, OUT * 4, count, cols);
    copyOut(view, OUT, out, r * cols, count * cols);
  }
  return true;
}

/** out[i] = op(x[i]) for i < n. `out` may be `x`. */
export function tryWasmSimpleUnary(
  op: WasmSimpleUnaryOp, x: Float32Array, out: Float32Array, n: number, inst: Instance | null = instance(),
): boolean {
  if (inst === null || n < ELEMENTWISE_MIN) return false;
  if (inst === instance()) {
    const here = inPlaceCall(n, out, x);
    if (here !== null) {
      here.run.elementwise[op](here.in[0]!, here.out, n);
      return true;
    }
  }
  const { exports, view } = inst;
  for (let s = 0; s < n; s += ELEMENTWISE_CHUNK) {
    const len = Math.min(ELEMENTWISE_CHUNK, n - s);
    copyIn(view, A, x, s, len);
    exports[op](A * 4, OUT * 4, len);
    copyOut(view, OUT, out, s, len);
  }
  return true;
}

/**
 * c[targets[i]·n + j] += b[i·n + j] for every i < rows with targets[i] ≥ 0 and j < n, row after row in
 * the order of i, on heap buffers where they lie (in-place.ts), one wasm add per row. Returns false,
 * having written nothing, unless c and b are whole heap buffers and n is a multiple of 4 (the kernel
 * writes whole vectors, which would otherwise run into the next row of c).
 */
export function tryWasmAddRows(c: Float32Array, b: Float32Array, targets: Int32Array, rows: number, n: number): boolean {
  if (n % 4 !== 0 || rows * n > b.length || instance() === null) return false;
  const here = inPlaceCall(c.length, c);
  const bAt = here === null ? -1 : heapOffset(here.run.kern, b);
  if (here === null || bAt < 0) return false;
  const add = here.run.elementwise.add;
  const rowBytes = 4 * n;
  for (let i = 0; i < rows; i++) {
    const q = targets[i]!;
    if (q < 0) continue;
    const to = here.out + q * rowBytes;
    add(to, 4 * bAt + i * rowBytes, to, n);
  }
  return true;
}

/** y[i] = y[i] + alpha·x[i] for i < n (alpha any double, as in the TypeScript kernel). */
export function tryWasmAxpy(y: Float32Array, x: Float32Array, alpha: number, n: number, inst: Instance | null = instance()): boolean {
  if (inst === null || n < ELEMENTWISE_MIN) return false;
  if (inst === instance()) {
    const here = inPlaceCall(n, y, x);
    if (here !== null) {
      here.run.elementwise.axpy(here.out, here.in[0]!, alpha, n);
      return true;
    }
  }
  const { exports, view } = inst;
  for (let s = 0; s < n; s += ELEMENTWISE_CHUNK) {
    const len = Math.min(ELEMENTWISE_CHUNK, n - s);
    copyIn(view, A, y, s, len);
    copyIn(view, B, x, s, len);
    exports.axpy(A * 4, B * 4, alpha, len);
    copyOut(view, A, y, s, len);
  }
  return true;
}

/**
 * out[oo + c] = Σ_r x[xo + r·cols + c] for c < cols, summed in doubles in row order and rounded once
 * (the TypeScript reduce's order): the sum over the rows of a [rows, cols] block, e.g. a bias gradient.
 */
export function tryWasmColumnSums(
  x: Float32Array, xo: number, out: Float32Array, oo: number, rows: number, cols: number, inst: Instance | null = instance(),
): boolean {
  if (inst === null || rows * cols < ELEMENTWISE_MIN || cols > ELEMENTWISE_CHUNK) return false;
  // x in the heap: summed where it lies, into doubles in the shared scratch. Copying x out of the shared
  // memory cost more than the sums: [32,512] 6.1-7.3 -> 3.6-3.8 µs, alone (2026-12-04).
  const here = inst === instance() ? inPlaceAt(x) : null;
  const scratch = here === null ? null : inPlaceScratch(here.run, 2 * (cols + 4));
  if (here !== null && scratch !== null) {
    const { elementwise } = here.run;
    elementwise.zeroBytes(scratch.at, 8 * (cols + 4));
    elementwise.colSum(here.at + 4 * xo, scratch.at, rows, cols);
    const sums = new Float64Array(scratch.view.buffer, scratch.at, cols);
    for (let c = 0; c < cols; c++) out[oo + c] = sums[c]!;
    return true;
  }
  const { exports, view, acc } = inst;
  acc.fill(0, 0, cols + 4);
  const perChunk = Math.floor(ELEMENTWISE_CHUNK / cols);
  for (let r = 0; r < rows; r += perChunk) {
    const count = Math.min(perChunk, rows - r);
    copyIn(view, A, x, xo + r * cols, count * cols);
    exports.colSum(A * 4, ACC_BYTES, count, cols);
  }
  for (let c = 0; c < cols; c++) out[oo + c] = acc[c]!;
  return true;
}
