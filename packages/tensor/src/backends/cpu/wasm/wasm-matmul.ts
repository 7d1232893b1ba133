// Host side of the WebAssembly SIMD matmul: compiles the module from matmul-module.ts once, owns its
// linear memory, copies operands in and the product out, and picks the kernel for each transpose case.
//
// The CPU backend's buffers are ordinary Float32Arrays, which wasm code cannot address, so a call
// copies A and B into the module's memory and C back out. `Float32Array.set` between a subarray and
// the memory view is a memcpy (about 15 GB/s here), small next to the m·n·k multiply-adds, except for
// a large B that is the same weight at every time step: that one stays resident between calls (see
// residentSlot). With a shared memory most of the backend's buffers live in it (heap.ts), and those
// are not copied at all. The memory only grows, to the largest product seen so far; it is never shrunk.
//
// Operand layouts per case (op(X) is X or its transpose):
//   A·B     -> `nn`: A copied as it is, B packed into strips (packB, in wasm) after a plain copy.
//   Aᵀ·B    -> `tn`: B as for nn; A copied as it is, then packed (packA) into panels of the block's
//              rows, which the kernel reads transposed at no extra cost.
//   A·Bᵀ    -> `nt`: A and B copied as they are; the kernel vectorises over k. Where B is packed
//              instead (a short k, or a resident B), op(B) is packed straight from the transposed
//              B during the copy and the product runs as `nn`.
//   Aᵀ·Bᵀ   -> `nt` after transposing A during the copy (m·k moves; rare, and cheap next to m·n·k),
//              or `tn` with B packed as above.
// Packed B: op(B) cut into strips of 4·vecs columns, each strip's k rows back to back, so a block
// walks down its strip through consecutive memory at constant offsets (no L1 set conflicts, whole
// cache lines used, the hardware prefetcher streams it). A long k is packed and multiplied in
// chunks (CHUNK_K). When n is not a multiple of 4 the outer-product kernels write C with rows
// padded to a multiple of 4 floats, and the copy out drops the padding row by row.

import type { MatmulParams } from '../../../backend.ts';
import { DEFAULT_KERNEL_SHAPE, type KernelShape, type MatmulModuleExports, type WasmModuleExtension, buildMatmulModule } from './matmul-module.ts';
import { extensionGeneration, registeredExtensions } from './extension-registry.ts';
import { type MatmulHelper, matmulThreads, startMatmulHelper } from './matmul-helper.ts';
import { backendKernelShape, wasmSimdAvailable } from './wasm-features.ts';
import { NOT_RESIDENT, RESIDENT_FLOATS, RESIDENT_MIN_FLOATS, type ResidentArea, residentSlot, roundUp4 } from './resident-operands.ts';
import { SCRATCH_BASE, heapAddress, heapAlloc, heapRelease } from './heap.ts';
import { copyRows, packTransposedInto, transposeInto } from './operand-layout.ts';

// The engine probes, for the modules and tests that take them from the matmul's entry point.
export { backendKernelShape, wasmFmaAvailable, wasmSimdAvailable } from './wasm-features.ts';

/** The part of the WebAssembly JS API used here, typed locally since the project's lib has no DOM. */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { readonly exports: object };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => object;
}

const wasmApi: WasmApi | undefined = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * Below this many multiply-adds (m·n·k per batch entry) the reference triple loop is used. A wasm call
 * has a fixed cost of about half a microsecond (three subarrays, three copies, the call itself);
 * measured, the two break even around 256-1024 multiply-adds and wasm is 3-4x ahead at 4096.
 */
export const WASM_MIN_MACS = 1024;

/** Up to this inner dimension a transposed B is copied in transposed and multiplied by the outer-product kernels. */
export const SHORT_K = 64;

/** Products whose scratch would exceed this many bytes of wasm memory stay on the reference loop. */
const MAX_MEMORY_BYTES = 2 ** 31;

const PAGE_BYTES = 65536;

/** One instance of the module: its exports, memory view, helper thread and resident area. */
export interface Kernels extends ResidentArea {
  readonly exports: MatmulModuleExports;
  /** A view of the whole memory; replaced whenever growing the memory detaches the old buffer. */
  view: Float32Array;
  /** A second thread on the same (shared) memory, or null to run single-threaded. */
  readonly helper: MatmulHelper | null;
  /** 4-column vectors per outer-product block (the kernel shape's `vecs`): packed B's strip width. */
  readonly vecs: number;
  /** Rows of C per outer-product block (the kernel shape's `rows`): packed A's panel width. */
  readonly rows: number;
}

/**
 * Products of at least this many multiply-adds are split between two threads. Waking a sleeping
 * helper costs tens of microseconds, but in a training step it spins between products (see
 * matmul-helper.ts), and handing it a share costs a few: at 2^18 (e.g. the scratch RNN's [32,512] x
 * [512,28] output layer, about 25 µs on one thread) two threads still gain. Lowered from 2^20 on
 * 2026-12-04: the scratch RNN 512's two products at [32,512] x [512,28] and [32,28] x [28,512] per
 * time step took 28-38 -> 24-30 µs (interleaved runs, kernel times inside training).
 */
export const THREAD_MIN_MACS = 2 ** 18;

/** Products with fewer rows than this share their columns between the threads, taller ones their rows (see threadedFor). */
const FEW_ROWS = 64;

/** About how many pieces a product's rows or columns are cut into for the two threads (see threadedFor). */
const PIECES = 16;

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

/**
 * Contractions longer than this run in chunks of equal length (see run). In the scratch RNN's
 * deferred W_hh gradient, [512,1120]ᵀ·[1120,512], a chunk has 224 rows of k: 0.45 MB of A and of
 * packed B, which stay in L2 (1.25 MB per core here) while every block of C passes over them. At
 * that product the chunks and packing together took 19-23 -> 14-16 ms (A/B in one process); chunks
 * of 128 and 512 rows measured the same within noise, one chunk 5-10% slower.
 */
export const CHUNK_K = 256;

/** The body of a {@link WasmMatmul} over one instance of the module. */
function run(kern: Kernels, A: Float32Array, B: Float32Array, C: Float32Array, p: MatmulParams): boolean {
  if (narrowTransposed(p)) return runSwapped(kern, A, B, C, p);
  let { batch, m } = p;
  const { k, n, transA, transB, aBatchStride, bBatchStride } = p;

  // One B shared by a batch of back-to-back row-major A's is a single product with batch·m rows,
  // since the batch's outputs are back to back too.
  if (!transA && bBatchStride === 0 && aBatchStride === m * k && batch > 1) {
    m *= batch;
    batch = 1;
  }

  const nv = Math.ceil(n / 4);
  const vecs = kern.vecs;
  // Long contractions of tall products run in chunks of about CHUNK_K rows of k, so that the part of
  // A and of packed B a chunk reads stays in L2 while every block of C passes over it. A product with
  // few rows reads each strip of B once whatever the chunking, and its A is small: one chunk, so one
  // kernel call and one hand-over to the helper (two chunks of [32,512]·[512,512] cost 25% more).
  const chunks = m < FEW_ROWS ? 1 : Math.max(1, Math.ceil(k / CHUNK_K));
  const kc = Math.max(1, Math.ceil(k / chunks));
  const packedFloats = k * nv * 4;
  // A B that comes back unchanged (a weight) is packed once into the resident area (see
  // residentSlot); the layout names everything its packing depends on.
  const mayReside = batch === 1 && k * n >= RESIDENT_MIN_FLOATS && packedFloats + 8 <= RESIDENT_FLOATS;
  const slot = mayReside ? residentSlot(kern, B, `${transB ? 't' : 'n'}${kc}x${k}x${n}`, packedFloats) : NOT_RESIDENT;

  // A transposed B (stored n x k) goes to the dot kernel, which vectorises over k, unless it is packed
  // transposed for the outer-product kernels: always with a short k (one-hot inputs: k = vocabulary;
  // dY·W_hqᵀ), where the dot kernel's per-element horizontal sums dominate (about 4 -> 15+ GFLOP/s
  // at [32,28] x [28,512]ᵀ), and for a resident B, packed once and reused (dH·W_hhᵀ in backward).
  const outerProduct = !transB || (k <= SHORT_K && n >= 8) || slot.offset >= 0;
  const ldc = outerProduct ? nv * 4 : n;
  // tn reads A (stored k x m) in panels of `rows` columns packed by packA, each panel's k rows back to
  // back: read in place, each step's 16 bytes sat in a different cache line (rows 2 KB apart at
  // m = 512), and one padded layout or another hit L1 set conflicts. Packed, the deferred weight
  // gradient [512,1120]ᵀ·[1120,512] took 16.2-18.1 -> 15.6-16.1 ms inside training (--profile,
  // interleaved), and the code has one layout per operand instead of three.
  const packA = transA && outerProduct;
  // Regions of the memory in floats, each followed by 4 floats of slack (packB reads up to 3 floats
  // past B's last row when n is not a multiple of 4, into lanes that are dropped; packA reads and
  // writes up to 3 past a panel row). Scratch starts above the resident area and the heap (heap.ts).
  // A is copied as it is (and packed into aPacked for tn); B is copied as it is into bRaw (for packB,
  // or for the dot kernel) and packed into bPacked, unless its packed copy is resident. An operand
  // that is a heap buffer is not copied: the kernels and packing read it, and write C, where it lies.
  const aBase = SCRATCH_BASE;
  const aPacked = roundUp4(aBase + m * k + 4);
  const bRaw = roundUp4(aPacked + (packA ? Math.ceil(m / kern.rows) * kern.rows * k : 0) + 4);
  const bPackedScratch = roundUp4(bRaw + k * n + 4);
  const cBase = roundUp4(bPackedScratch + (outerProduct ? packedFloats : 0) + 4);
  const view = memoryFor(kern, cBase + m * ldc + 4);
  if (view === null) return false;
  const bReused = slot.reused;
  const bPacked = slot.offset >= 0 ? slot.offset : bPackedScratch;
  const accumulate = p.accumulate === true;
  // Heap offsets (of heap buffers or views of them, such as a kernel's subarrays of its states), or
  // -1. A transposed for the dot kernel is rearranged by the copy, so it goes to scratch; C in place
  // needs rows of its own length and no operand it would overwrite while read.
  const aHeap = transA && !outerProduct ? -1 : heapFloat(kern, A);
  const bHeap = heapFloat(kern, B);
  const cInPlace = heapFloat(kern, C);
  const cHeap = ldc === n && !overlaps(cInPlace, C, heapFloat(kern, A), A) && !overlaps(cInPlace, C, bHeap, B) ? cInPlace : -1;

  for (let bi = 0; bi < batch; bi++) {
    const aOff = bi * aBatchStride;
    const bOff = bi * bBatchStride;
    const cOff = bi * m * n;
    const aAt = aHeap >= 0 ? aHeap + aOff : aBase;
    const bRawAt = bHeap >= 0 ? bHeap + bOff : bRaw;
    const cAt = cHeap >= 0 ? cHeap + cOff : cBase;
    // A batch stride of 0 means the same operand for every entry: copy it once.
    if (bi === 0 || aBatchStride !== 0) {
      if (transA && !outerProduct) transposeInto(view, aBase, A, aOff, m, k);
      else if (aHeap < 0) view.set(A.subarray(aOff, aOff + m * k), aBase);
      if (packA) kern.exports.packA(aAt * 4, aPacked * 4, k, m, m);
    }
    if ((bi === 0 && !bReused) || bBatchStride !== 0) {
      if (!outerProduct) {
        if (bHeap < 0) view.set(B.subarray(bOff, bOff + k * n), bRaw);
      } else if (transB) {
        const wasm = bHeap >= 0 ? { transpose4: kern.exports.transpose4, bAt: bHeap } : undefined;
        packTransposedInto(view, bPacked, B, bOff, k, n, kc, vecs, wasm);
      } else {
        if (bHeap < 0) view.set(B.subarray(bOff, bOff + k * n), bRaw);
        for (let k0 = 0; k0 < k; k0 += kc) {
          kern.exports.packB((bRawAt + k0 * n) * 4, (bPacked + k0 * nv * 4) * 4, Math.min(kc, k - k0), nv, n);
        }
      }
    }

    // Accumulating kernels add into C in wasm memory, so C goes in first (two memcpys instead of a
    // JavaScript add loop over m·n), unless it is there already.
    if (accumulate && cHeap < 0) {
      if (ldc === n) view.set(C.subarray(cOff, cOff + m * n), cBase);
      else copyRows(view, cBase, ldc, C, cOff, m, n);
    }
    if (outerProduct) {
      // (k = 0 still takes one call, which writes C's zeros.)
      for (let k0 = 0; k0 < Math.max(k, 1); k0 += kc) {
        const rows = Math.min(kc, k - k0);
        // Row i of C reads A from i·k floats on in both layouts (nn: rows of k; tn: panels of rows·k).
        const a = packA ? aPacked + k0 * kern.rows : aAt + k0;
        const aStep = packA ? 4 * kern.rows : 4;
        outerProductShare(kern, accumulate || k0 > 0, transA, a, bPacked + k0 * nv * 4, m, nv, rows, 4 * k, aStep, ldc, cAt);
      }
    } else {
      dotShare(kern, accumulate, aAt, bRawAt, m, n, k, cAt);
    }

    if (cHeap >= 0) {
      // written in place
    } else if (ldc === n) {
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

/**
 * Aᵀ·B with a tall result of few columns (a weight gradient against a small vocabulary, e.g. Hᵀ·dY
 * [512,1120]ᵀ·[1120,28]): the outer-product kernel covers C in strips of 4·vecs columns, so 28 columns
 * are three and a half strips swept over every row of a long packed A. Its transpose Bᵀ·A has the
 * few columns as rows and the many as columns, the layout the kernel is fast at: 0.95 -> 0.38 ms at
 * that shape on one thread of this VM, the 14 K floats of C transposed back costing next to nothing.
 */
function narrowTransposed(p: MatmulParams): boolean {
  return p.batch === 1 && p.transA && !p.transB && p.n <= 32 && p.m >= 4 * p.n && p.k >= 64;
}

/** Scratch for runSwapped's transposed product, grown as needed and kept (no allocation per call). */
let swapped = new Float32Array(0);

/** C (+)= Aᵀ·B as (Bᵀ·A)ᵀ: the product with its operands swapped, then transposed into C. */
function runSwapped(kern: Kernels, A: Float32Array, B: Float32Array, C: Float32Array, p: MatmulParams): boolean {
  const { m, n, k } = p;
  if (swapped.length < m * n) swapped = new Float32Array(m * n);
  const Ct = swapped.subarray(0, m * n);
  if (!run(kern, B, A, Ct, { batch: 1, m: n, n: m, k, transA: true, transB: false, aBatchStride: 0, bBatchStride: 0 })) return false;
  for (let i = 0; i < m; i++) {
    const row = i * n;
    if (p.accumulate === true) for (let j = 0; j < n; j++) C[row + j] = C[row + j]! + Ct[j * m + i]!;
    else for (let j = 0; j < n; j++) C[row + j] = Ct[j * m + i]!;
  }
  return true;
}

// With a helper thread, each thread computes a share of C, in pieces both claim as they go. Tall
// products (the weight gradients that backward defers to the end, [512,1120]ᵀ·[1120,512] once per
// step) are cut by rows: two threads took that product 33 -> 19 ms inside training, and 1024³
// 19 -> 26 GFLOP/s on the kernel alone. Products with few rows (m = the batch: one time step's
// [32,512]·[512,512]) are cut by columns, whole strips of packed B, so each thread streams part of
// B: cutting their rows would make both stream all of it. That pays only because the idle helper
// now spins through a training step (see matmul-helper.ts): with a helper that slept between
// products the column split gained nothing inside training; with it the scratch RNN's per-step
// products took 0.67-0.73 -> 0.48-0.55 ms and the concise RNN ran about 1.13x faster. Fixed halves
// left the caller waiting for the helper for a fifth of each product; pieces claimed from opposite
// ends balance the load and still give each thread the same part of C call after call (its part of
// B stays in its own L2). Pieces fall on whole blocks (`rows` rows or one strip outer-product, 2 rows
// dot), so every element of C comes from the same block code as in a single-threaded run: the
// results are identical.
function threadedFor(kern: Kernels, macs: number): boolean {
  return kern.helper !== null && macs >= THREAD_MIN_MACS && kern.helper.ready();
}

/** One outer-product kernel call over k rows (pointers in floats), shared with the helper when that pays. */
function outerProductShare(
  kern: Kernels, acc: boolean, transA: boolean, a: number, b: number, m: number, nv: number, k: number,
  aRow: number, aStep: number, ldc: number, c: number,
): void {
  const name = acc ? (transA ? 'tnAcc' : 'nnAcc') : transA ? 'tn' : 'nn';
  const kernel = kern.exports[name];
  const run = (aAt: number, bAt: number, cAt: number, rows: number, vecs: number): void => kernel(aAt * 4, bAt * 4, cAt * 4, rows, vecs, k, aRow, aStep, ldc);
  if (!threadedFor(kern, m * nv * 4 * k)) {
    run(a, b, c, m, nv);
    return;
  }
  // Both threads claim pieces of about a sixteenth of C, from opposite ends, until none is left (see
  // matmul-helper.ts). Tall products are cut by rows (whole blocks of `rows`), products with few rows
  // by columns (whole strips of packed B, each k·16·vecs bytes).
  const helper = kern.helper!;
  const byRows = m >= FEW_ROWS;
  const unit = byRows ? kern.rows : kern.vecs;
  const total = byRows ? m : nv;
  const per = Math.max(1, Math.ceil(total / (PIECES * unit))) * unit;
  const pieces = Math.ceil(total / per);
  const steps = byRows ? { a: per * aRow, b: 0, c: per * ldc * 4 } : { a: 0, b: per * k * 16, c: per * 16 };
  helper.startPieces(name, [a * 4, b * 4, c * 4, m, nv, k, aRow, aStep, ldc], pieces, per, byRows ? 3 : 4, steps);
  runShare(kern, () => {
    for (let p = 0; helper.claimPiece(pieces); p++) {
      const size = Math.min(per, total - p * per);
      run(a + (p * steps.a) / 4, b + (p * steps.b) / 4, c + (p * steps.c) / 4, byRows ? size : m, byRows ? nv : size);
    }
  }, true);
}

/** One dot-kernel call (pointers in floats), its rows shared with the helper when that pays. */
function dotShare(kern: Kernels, acc: boolean, a: number, b: number, m: number, n: number, k: number, c: number): void {
  const name = acc ? 'ntAcc' : 'nt';
  const kernel = kern.exports[name];
  const threaded = m >= FEW_ROWS && threadedFor(kern, m * n * k);
  const split = threaded ? Math.floor(m / 4) * 2 : m;
  if (threaded) kern.helper!.start(name, [(a + split * k) * 4, b * 4, (c + split * n) * 4, m - split, n, k]);
  runShare(kern, () => kernel(a * 4, b * 4, c * 4, split, n, k), threaded);
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
  const kern = createKernels(shape, options.threads ?? 1, []);
  if (kern === null) return null;
  const helper = kern.helper;
  const product = (A: Float32Array, B: Float32Array, C: Float32Array, p: MatmulParams): boolean => run(kern, A, B, C, p);
  return helper === null ? product : Object.assign(product, { helperReady: () => helper.ready() });
}

/**
 * An instance of the module built with `extensions`: on a shared memory with a helper thread when
 * `threads` is 2 and the engine allows it, else single-threaded on its own memory; null without SIMD.
 */
function createKernels(shape: KernelShape, threads: number, extensions: readonly WasmModuleExtension[]): Kernels | null {
  if (wasmApi === undefined || !wasmSimdAvailable()) return null;
  if (threads >= 2) {
    const threaded = createThreaded(wasmApi, shape, extensions);
    if (threaded !== null) return threaded;
  }
  // Synchronous compilation is allowed for a module this small (about 30 KB without extensions).
  const module = new wasmApi.Module(buildMatmulModule(shape, 1, undefined, extensions));
  const exports = new wasmApi.Instance(module, {}).exports as MatmulModuleExports;
  return { exports, view: new Float32Array(exports.memory.buffer), helper: null, residentTop: 0, residentGeneration: 0, vecs: shape.vecs, rows: shape.rows };
}

/** The two-thread variant: the module on a shared memory, instantiated here and in a helper worker. */
function createThreaded(api: WasmApi, shape: KernelShape, extensions: readonly WasmModuleExtension[]): Kernels | null {
  const maxPages = MAX_MEMORY_BYTES / PAGE_BYTES;
  let memory: object;
  try {
    memory = new api.Memory({ initial: 1, maximum: maxPages, shared: true });
  } catch {
    return null; // no shared memory in this engine
  }
  const bytes = buildMatmulModule(shape, 1, maxPages, extensions);
  const exports = new api.Instance(new api.Module(bytes), { env: { memory } }).exports as MatmulModuleExports;
  // The helper can run every exported function: the matmul kernels and the extensions' entry points.
  const names = Object.keys(exports).filter((name) => typeof (exports as unknown as Record<string, unknown>)[name] === 'function');
  const helper = startMatmulHelper(bytes, memory, names);
  if (helper === null) return null;
  return { exports, view: new Float32Array(exports.memory.buffer), helper, residentTop: 0, residentGeneration: 0, vecs: shape.vecs, rows: shape.rows };
}

let shared: Kernels | null | undefined;
/** The extension generation (extension-registry.ts) the shared instance was built with. */
let sharedGeneration = -1;

/**
 * The instance shared by every CPU backend and by the extensions' host code, compiled on first use
 * and rebuilt (its helper thread replaced, its resident copies dropped) when an extension has been
 * registered since; null without WebAssembly SIMD or when compilation failed.
 */
export function sharedKernels(): Kernels | null {
  const generation = extensionGeneration();
  if (shared === undefined || (shared !== null && sharedGeneration !== generation)) {
    shared?.helper?.close();
    const shape = backendKernelShape();
    const threads = matmulThreads();
    try {
      shared = createKernels(shape, threads, registeredExtensions());
    } catch {
      // An extension that fails to build must not cost the engine its matmul.
      try {
        shared = createKernels(shape, threads, []);
      } catch {
        shared = null; // an engine that validates SIMD but fails to compile: stay on TypeScript
      }
    }
    sharedGeneration = generation;
  }
  return shared;
}

/**
 * {@link WasmMatmul} on the instance shared by every CPU backend (compiled on first use), whatever
 * the product's size. Returns false, having written nothing, when WebAssembly SIMD is unavailable,
 * compilation failed or memory cannot grow.
 */
export function wasmMatmul(A: Float32Array, B: Float32Array, C: Float32Array, p: MatmulParams): boolean {
  const kern = sharedKernels();
  return kern !== null && run(kern, A, B, C, p);
}

/** The float offset of `x` in the memory when it lies in a heap buffer (whole, or a view of one), else -1. */
function heapFloat(kern: Kernels, x: Float32Array): number {
  const at = heapAddress(kern, x);
  return at >= 0 ? at / 4 : -1;
}

/** Whether two arrays at heap float offsets `at` and `bt` (-1: not in the heap) share any float. */
function overlaps(at: number, a: Float32Array, bt: number, b: Float32Array): boolean {
  if (at < 0 || bt < 0) return a === b;
  return at < bt + b.length && bt < at + a.length;
}

/**
 * A float32 buffer of `size` in the shared instance's heap (heap.ts), zeroed when `zero`; null where
 * there is none (no shared memory, heap full): the caller makes a plain array.
 */
export function sharedHeapAlloc(size: number, zero: boolean): Float32Array | null {
  const kern = sharedKernels();
  return kern === null ? null : heapAlloc(kern, size, zero, (floats) => memoryFor(kern, floats) !== null);
}

/** Gives `buf` back to the shared instance's heap if it is a heap buffer; false for any other array. */
export function sharedHeapRelease(buf: Float32Array): boolean {
  // The instance as it is (a heap buffer implies one): compiling one here would only find nothing.
  return shared !== undefined && shared !== null && heapRelease(shared, buf);
}

/** A view of the shared instance's memory holding at least `floats` floats; null if it cannot grow. */
export function sharedMemoryFor(kern: Kernels, floats: number): Float32Array | null {
  return memoryFor(kern, floats);
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
