// Host side of the WebAssembly SIMD matmul: compiles the module from matmul-module.ts once, owns its
// linear memory, copies operands in and the product out, and picks the kernel for each transpose case.
//
// The CPU backend's buffers are ordinary Float32Arrays, which wasm code cannot address, so a call
// copies A and B into the module's memory and C back out. `Float32Array.set` between a subarray and
// the memory view is a memcpy (about 15 GB/s here), small next to the m·n·k multiply-adds, except for
// a large B that is the same weight at every time step: that one stays resident between calls (see
// forgetResident). The memory only grows, to the largest product seen so far; it is never shrunk.
//
// Operand layouts per case (op(X) is X or its transpose):
//   A·B     -> `nn`: A and B copied as they are.
//   Aᵀ·B    -> `tn`: A and B copied as they are; the kernel reads A transposed at no extra cost.
//   (For both, rows of B, and of A for tn, are padded when their length would thrash L1; see `run`.)
//   A·Bᵀ    -> `nt`: A and B copied as they are; the kernel vectorises over k.
//   Aᵀ·Bᵀ   -> `nt` after transposing A during the copy (m·k moves; rare, and cheap next to m·n·k).
//   With a short k (≤ SHORT_K) a transposed B is instead transposed during its copy, and A·Bᵀ runs
//   as `nn`, Aᵀ·Bᵀ as `tn`.
// When n is not a multiple of 4 the outer-product kernels write C with rows padded to a multiple of
// 4 floats, and the copy out drops the padding row by row.

import type { MatmulParams } from '../../../backend.ts';
import { DEFAULT_KERNEL_SHAPE, type KernelShape, type MatmulModuleExports, buildMatmulModule } from './matmul-module.ts';
import { type MatmulHelper, matmulThreads, startMatmulHelper } from './matmul-helper.ts';
import { ModuleBuilder } from './wasm-writer.ts';
import { envVar, nodeBuiltin } from '../../../node-runtime.ts';

/** The part of the WebAssembly JS API used here, typed locally since the project's lib has no DOM. */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { readonly exports: object };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => object;
}

const wasmApi: WasmApi | undefined = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * Below this many multiply-adds (m·n·k per batch entry) the TypeScript kernel is used. A wasm call
 * has a fixed cost of about half a microsecond (three subarrays, three copies, the call itself);
 * measured, the two break even around 256-1024 multiply-adds and wasm is 3-4x ahead at 4096.
 */
export const WASM_MIN_MACS = 1024;

/** Up to this inner dimension a transposed B is copied in transposed and multiplied by the outer-product kernels. */
export const SHORT_K = 64;

/** Products whose scratch would exceed this many bytes of wasm memory stay on the TS kernel. */
const MAX_MEMORY_BYTES = 2 ** 31;

const PAGE_BYTES = 65536;

let simdSupported: boolean | undefined;

/**
 * Whether this JS engine validates WebAssembly SIMD, tested once on a one-instruction module
 * (f32x4.add) built with the same assembler as the kernels.
 */
export function wasmSimdAvailable(): boolean {
  if (simdSupported === undefined) {
    simdSupported = false;
    if (wasmApi !== undefined) {
      try {
        const probe = new ModuleBuilder(0);
        probe.addFunction('add', ['v128', 'v128'], ['v128'], (f) => {
          f.get(0).get(1).f32x4Add();
        });
        simdSupported = wasmApi.validate(probe.toBytes());
      } catch {
        simdSupported = false;
      }
    }
  }
  return simdSupported;
}

let fmaSupported: boolean | undefined;

/**
 * Whether the kernels may use f32x4.relaxed_madd (see KernelShape.fma), tested once like SIMD.
 * Node 20's V8 has relaxed SIMD (a finished WebAssembly feature, on by default from Node 22) behind
 * the flag --experimental-wasm-relaxed-simd; where the first probe fails in Node, the flag is set at
 * run time through node:v8, which only adds instructions to the validator, and the probe is repeated.
 * `TINYTAPE_WASM_FMA=0` keeps the mul-then-add kernels (for comparisons).
 */
export function wasmFmaAvailable(): boolean {
  if (fmaSupported === undefined) {
    fmaSupported = false;
    if (wasmApi !== undefined && wasmSimdAvailable() && envVar('TINYTAPE_WASM_FMA') !== '0') {
      try {
        const probe = new ModuleBuilder(0);
        probe.addFunction('madd', ['v128', 'v128', 'v128'], ['v128'], (f) => {
          f.get(0).get(1).get(2).f32x4RelaxedMadd();
        });
        const bytes = probe.toBytes();
        fmaSupported = wasmApi.validate(bytes);
        if (!fmaSupported) {
          nodeBuiltin<{ setFlagsFromString?: (flags: string) => void }>('node:v8')?.setFlagsFromString?.('--experimental-wasm-relaxed-simd');
          fmaSupported = wasmApi.validate(bytes);
        }
      } catch {
        fmaSupported = false;
      }
    }
  }
  return fmaSupported;
}

/** The block shape of the shared instance: the default, with FMA where the engine has it. */
export function backendKernelShape(): KernelShape {
  return { ...DEFAULT_KERNEL_SHAPE, fma: wasmFmaAvailable() };
}

interface Kernels {
  readonly exports: MatmulModuleExports;
  /** A view of the whole memory; replaced whenever growing the memory detaches the old buffer. */
  view: Float32Array;
  /** A second thread on the same (shared) memory, or null to run single-threaded. */
  readonly helper: MatmulHelper | null;
  /** Floats of the resident area in use, and its generation (see reserveResident). */
  residentTop: number;
  residentGeneration: number;
}

/**
 * Products of at least this many multiply-adds are split between two threads. Waking the helper and
 * waiting for it costs tens of microseconds; at 2^20 (e.g. [32,256] x [256,128]) one thread takes
 * about 100 µs.
 */
export const THREAD_MIN_MACS = 2 ** 20;

/** Products with fewer rows than this stay on one thread (see `run`). */
const FEW_ROWS = 64;

/** A view of memory at least `floats` long, growing the memory if needed; null if it cannot grow. */
function memoryFor(k: Kernels, floats: number): Float32Array | null {
  const bytes = floats * 4;
  if (bytes > MAX_MEMORY_BYTES) return null;
  const memory = k.exports.memory;
  const have = memory.buffer.byteLength;
  if (have < bytes) {
    try {
      memory.grow(Math.ceil((bytes - have) / PAGE_BYTES));
    } catch {
      return null;
    }
  }
  if (k.view.buffer !== memory.buffer) k.view = new Float32Array(memory.buffer);
  return k.view;
}

/** Rounds a float count up to a multiple of 4 (16 bytes), the alignment of every region. */
const roundUp4 = (x: number): number => Math.ceil(x / 4) * 4;

// Resident right operands. A weight matrix is the B of one product per time step (H·W_hh forward,
// dZ·W_hhᵀ backward) and does not change until the optimizer's update, yet each product copied it
// into wasm memory again: 1 MB and 512 padded row copies at [512,512], about 0.1-0.2 ms of a
// 0.8 ms product. So a B of at least RESIDENT_MIN_FLOATS that comes back unchanged (its second
// use: activations and gradients are the B of one product only, and would just crowd the area) is
// copied into the resident area at the bottom of the memory, in the layout its kernel reads, and
// later products with the same array and layout use that copy. The CPU backend calls `forgetResident` for every buffer it writes (every
// kernel's output, in-place updates, pooled reuse, frees), so a copy never outlives the values it
// holds. When the area is full it is emptied at once (a new generation) and refilled on demand.

/** Floats reserved for resident operands at the start of the memory (8 MiB); scratch starts after. */
const RESIDENT_FLOATS = 2 ** 21;
/** Right operands smaller than this are copied each time (cheap, and not worth a slot). */
const RESIDENT_MIN_FLOATS = 4096;

interface ResidentCopy {
  /** How B is laid out in memory (padded rows, transposed in, ...); another layout needs another copy. */
  readonly layout: string;
  /** Float offset of the copy in the resident area, or -1 after a first use (seen, not yet copied). */
  readonly offset: number;
  /** The area generation the copy belongs to; older generations have been overwritten. */
  readonly generation: number;
}

/** Resident copies by array, then by instance (each instance has its own memory). */
const resident = new WeakMap<Float32Array, Map<Kernels, ResidentCopy>>();

/**
 * Forgets every resident copy of `buf`: the CPU backend calls this whenever it writes into `buf` (or
 * frees it), so the next product that uses it as B copies the new values.
 */
export function forgetResident(buf: unknown): void {
  if (buf instanceof Float32Array) resident.delete(buf);
}

/**
 * Where B (in `layout`) lives in this instance's resident area: the float offset of a valid copy
 * (`reused`), a newly reserved offset the caller must fill (second use), or -1 (first use: the
 * caller copies B into scratch as usual, and the use is remembered).
 */
function residentSlot(kern: Kernels, B: Float32Array, layout: string, floats: number): { offset: number; reused: boolean } {
  let copies = resident.get(B);
  if (copies === undefined) resident.set(B, (copies = new Map()));
  const copy = copies.get(kern);
  if (copy === undefined || copy.layout !== layout) {
    copies.set(kern, { layout, offset: -1, generation: kern.residentGeneration });
    return { offset: -1, reused: false };
  }
  if (copy.offset >= 0 && copy.generation === kern.residentGeneration) return { offset: copy.offset, reused: true };
  const size = roundUp4(floats + 4);
  if (kern.residentTop + size > RESIDENT_FLOATS) {
    kern.residentGeneration++;
    kern.residentTop = 0;
  }
  const offset = kern.residentTop;
  kern.residentTop += size;
  copies.set(kern, { layout, offset, generation: kern.residentGeneration });
  return { offset, reused: false };
}

/** view[dst + i·k + p] = A[src + p·m + i]: op(A) of a transA operand, written row-major. */
function transposeInto(view: Float32Array, dst: number, A: Float32Array, src: number, m: number, k: number): void {
  for (let p = 0; p < k; p++) {
    const row = src + p * m;
    for (let i = 0; i < m; i++) view[dst + i * k + p] = A[row + i]!;
  }
}

/** Copies `rows` rows of `length` floats, back to back in `src` from `srcOff`, `stride` apart into `view`. */
function copyRows(
  view: Float32Array, dst: number, stride: number, src: Float32Array, srcOff: number, rows: number, length: number,
): void {
  for (let r = 0; r < rows; r++) {
    const from = srcOff + r * length;
    view.set(src.subarray(from, from + length), dst + r * stride);
  }
}

/** The body of a {@link WasmMatmul} over one instance of the module. */
function run(kern: Kernels, A: Float32Array, B: Float32Array, C: Float32Array, p: MatmulParams): boolean {
  let { batch, m } = p;
  const { k, n, transA, transB, aBatchStride, bBatchStride } = p;

  // One B shared by a batch of back-to-back row-major A's is a single product with batch·m rows,
  // since the batch's outputs are back to back too.
  if (!transA && bBatchStride === 0 && aBatchStride === m * k && batch > 1) {
    m *= batch;
    batch = 1;
  }

  // A transposed B (stored n x k) normally goes to the dot kernel, which vectorises over k. With a short
  // k (one-hot inputs: k = vocabulary; dY·W_hqᵀ) its per-element horizontal sums dominate, so B is
  // transposed while it is copied in (k·n moves) and the outer-product kernels run instead: measured
  // about 4 -> 15+ GFLOP/s at [32,28] x [28,512]ᵀ.
  const bTransposedIn = transB && k <= SHORT_K && n >= 8;
  const outerProduct = !transB || bTransposedIn; // nn or tn; otherwise nt
  const nv = Math.ceil(n / 4);
  const ldc = outerProduct ? nv * 4 : n;
  // The outer-product kernels walk down k rows of B in strips of 8 floats (and tn walks down k rows of
  // A, stored k x m, 4 floats at a time), reusing each strip from L1 for every block in the other
  // direction. When those rows are a multiple of 256 bytes long the k addresses of a strip fall into
  // at most 16 of the 64 sets of an x86 L1 cache and evict each other before the reuse; padding every
  // row by one 64-byte line spreads them over all sets. Measured: nn at [32,512] x [512,512] about
  // 20 -> 26 GFLOP/s on the kernel alone, tn at [512,1120]ᵀ x [1120,28] about 10 -> 18. Padding
  // costs one small copy per row instead of one memcpy, so it needs enough work per row of k (m·n)
  // and more than one block to reuse the strip.
  const worthPadding = k > 16 && m * n >= 8192;
  const padA = transA && outerProduct && m % 64 === 0 && n > 8 && worthPadding;
  const padB = !transB && n % 64 === 0 && m > 4 && worthPadding;
  const lda = transA && outerProduct ? (padA ? m + 16 : m) : k;
  const ldb = padB ? n + 16 : n;
  // Regions of the memory in floats, each followed by 4 floats of slack: the outer-product kernels
  // read up to 3 floats past B's last row when n is not a multiple of 4 (into lanes that are dropped).
  // Scratch starts above the resident area; B may live in that area instead (see forgetResident).
  const bFloats = padB ? k * ldb : k * n;
  const bLayout = `${bTransposedIn ? 't' : 'n'}${ldb}x${k}`;
  const mayReside = batch === 1 && bFloats >= RESIDENT_MIN_FLOATS && bFloats + 8 <= RESIDENT_FLOATS;
  const aBase = RESIDENT_FLOATS;
  const bScratch = roundUp4(aBase + (padA ? k * lda : m * k) + 4);
  const cBase = roundUp4(bScratch + bFloats + 4);
  const view = memoryFor(kern, cBase + m * ldc + 4);
  if (view === null) return false;
  const slot = mayReside ? residentSlot(kern, B, bLayout, bFloats) : { offset: -1, reused: false };
  const bReused = slot.reused;
  const bBase = slot.offset >= 0 ? slot.offset : bScratch;
  const { nn, tn, nt, nnAcc, tnAcc, ntAcc } = kern.exports;
  const accumulate = p.accumulate === true;

  for (let bi = 0; bi < batch; bi++) {
    const aOff = bi * aBatchStride;
    const bOff = bi * bBatchStride;
    const cOff = bi * m * n;
    // A batch stride of 0 means the same operand for every entry: copy it once.
    if (bi === 0 || aBatchStride !== 0) {
      if (transA && !outerProduct) {
        transposeInto(view, aBase, A, aOff, m, k);
      } else if (padA) {
        copyRows(view, aBase, lda, A, aOff, k, m);
      } else {
        view.set(A.subarray(aOff, aOff + m * k), aBase);
      }
    }
    if ((bi === 0 && !bReused) || bBatchStride !== 0) {
      if (bTransposedIn) transposeInto(view, bBase, B, bOff, k, n);
      else if (padB) copyRows(view, bBase, ldb, B, bOff, k, n);
      else view.set(B.subarray(bOff, bOff + k * n), bBase);
    }

    // Accumulating kernels add into C in wasm memory, so C goes in first (two memcpys instead of a
    // JavaScript add loop over m·n).
    if (accumulate) {
      if (ldc === n) view.set(C.subarray(cOff, cOff + m * n), cBase);
      else copyRows(view, cBase, ldc, C, cOff, m, n);
    }
    // With a helper thread, each thread computes a band of C's rows. Products with few rows (m = the
    // batch: one time step's [32,512]·[512,512]) stay on one thread. Splitting their rows makes both
    // threads stream all of B; splitting their columns instead ran 1.5x faster on the kernel alone,
    // back to back, but inside a training step it gained nothing or lost (about 0.8-1.1 ms per product
    // either way): between two products the helper has gone back to sleep, waking it costs
    // hundreds of microseconds on this VM, and the second core is busy with V8's concurrent garbage
    // collection. Tall products do pay: the weight-gradient product that backward defers to the end
    // ([512,1120]ᵀ·[1120,512], once per step) took 33 -> 19 ms inside training, and 1024³ 19 -> 26
    // GFLOP/s on the kernel alone. Splits fall on whole blocks (4 rows outer-product, 2 rows dot),
    // so every element of C comes from the same block code as in a single-threaded run: the results
    // are identical.
    const threaded = kern.helper !== null && m >= FEW_ROWS && m * n * k >= THREAD_MIN_MACS && kern.helper.ready();
    if (outerProduct) {
      const name = accumulate ? (transA ? 'tnAcc' : 'nnAcc') : transA ? 'tn' : 'nn';
      const kernel = { nn, tn, nnAcc, tnAcc }[name];
      const aRowBytes = transA ? 4 : lda * 4;
      const split = threaded ? Math.floor(m / 8) * 4 : m;
      if (threaded) {
        kern.helper!.start(name, [aBase * 4 + split * aRowBytes, bBase * 4, (cBase + split * ldc) * 4, m - split, nv, k, lda, ldb, ldc]);
      }
      runShare(kern, () => kernel(aBase * 4, bBase * 4, cBase * 4, split, nv, k, lda, ldb, ldc), threaded);
    } else {
      const split = threaded ? Math.floor(m / 4) * 2 : m;
      const name = accumulate ? 'ntAcc' : 'nt';
      const kernel = accumulate ? ntAcc : nt;
      if (threaded) kern.helper!.start(name, [(aBase + split * k) * 4, bBase * 4, (cBase + split * n) * 4, m - split, n, k]);
      runShare(kern, () => kernel(aBase * 4, bBase * 4, cBase * 4, split, n, k), threaded);
    }

    if (ldc === n) {
      C.set(view.subarray(cBase, cBase + m * n), cOff);
    } else {
      for (let i = 0; i < m; i++) {
        const src = cBase + i * ldc;
        const dst = cOff + i * n;
        for (let j = 0; j < n; j++) C[dst + j] = view[src + j]!;
      }
    }
  }
  return true;
}

/** Runs this thread's share, then (when threaded) waits for the helper's, even if this share threw. */
function runShare(kern: Kernels, own: () => void, threaded: boolean): void {
  try {
    own();
  } finally {
    if (threaded) kern.helper!.wait();
  }
}

/**
 * Batched out[b] = op(A[b])·op(B[b]) in WebAssembly SIMD, with the contract of the TypeScript
 * `matmul` (see Backend.matmul). Returns false, having written nothing, when the memory cannot grow
 * to hold the operands; the caller then uses the TypeScript kernel.
 */
export type WasmMatmul = ((A: Float32Array, B: Float32Array, C: Float32Array, p: MatmulParams) => boolean) & {
  /** Present on a two-thread instance: whether its helper thread has started and takes work. */
  readonly helperReady?: () => boolean;
};

/**
 * Compiles the kernels with block shape `shape` into a fresh instance with its own memory, or returns
 * null when this engine has no WebAssembly SIMD. The backend shares one default instance (see
 * {@link wasmMatmul}); separate instances are for tests and tuning.
 */
export function createWasmMatmul(shape: KernelShape = DEFAULT_KERNEL_SHAPE, options: { threads?: number } = {}): WasmMatmul | null {
  if (wasmApi === undefined || !wasmSimdAvailable()) return null;
  if ((options.threads ?? 1) >= 2) {
    const threaded = createThreaded(wasmApi, shape);
    if (threaded !== null) return threaded;
  }
  // Synchronous compilation is allowed for a module this small (about 30 KB).
  const module = new wasmApi.Module(buildMatmulModule(shape));
  const exports = new wasmApi.Instance(module, {}).exports as MatmulModuleExports;
  const kern: Kernels = { exports, view: new Float32Array(exports.memory.buffer), helper: null, residentTop: 0, residentGeneration: 0 };
  return (A, B, C, p) => run(kern, A, B, C, p);
}

/** The two-thread variant: the module on a shared memory, instantiated here and in a helper worker. */
function createThreaded(api: WasmApi, shape: KernelShape): WasmMatmul | null {
  const maxPages = MAX_MEMORY_BYTES / PAGE_BYTES;
  let memory: object;
  try {
    memory = new api.Memory({ initial: 1, maximum: maxPages, shared: true });
  } catch {
    return null; // no shared memory in this engine
  }
  const bytes = buildMatmulModule(shape, 1, maxPages);
  const exports = new api.Instance(new api.Module(bytes), { env: { memory } }).exports as MatmulModuleExports;
  const helper = startMatmulHelper(bytes, memory);
  if (helper === null) return null;
  const kern: Kernels = { exports, view: new Float32Array(exports.memory.buffer), helper, residentTop: 0, residentGeneration: 0 };
  return Object.assign((A: Float32Array, B: Float32Array, C: Float32Array, p: MatmulParams) => run(kern, A, B, C, p), {
    helperReady: () => helper.ready(),
  });
}

let shared: WasmMatmul | null | undefined;

/**
 * {@link WasmMatmul} on the instance shared by every CPU backend (compiled on first use), whatever
 * the product's size. Returns false, having written nothing, when WebAssembly SIMD is unavailable,
 * compilation failed or memory cannot grow.
 */
export function wasmMatmul(A: Float32Array, B: Float32Array, C: Float32Array, p: MatmulParams): boolean {
  if (shared === undefined) {
    try {
      shared = createWasmMatmul(backendKernelShape(), { threads: matmulThreads() });
    } catch {
      shared = null; // an engine that validates SIMD but fails to compile: stay on TypeScript
    }
  }
  return shared !== null && shared(A, B, C, p);
}

/**
 * The CPU backend's entry: runs the product with the wasm SIMD kernels when they are available and
 * the product is large enough to repay the copies, returning true; returns false (nothing written)
 * when the caller should run the TypeScript kernel instead.
 */
export function tryWasmMatmul(A: Float32Array, B: Float32Array, C: Float32Array, p: MatmulParams): boolean {
  if (p.m * p.n * p.k < WASM_MIN_MACS) return false;
  return wasmMatmul(A, B, C, p);
}
