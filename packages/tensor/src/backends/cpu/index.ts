import type { Backend, BackendBuffer, BackendMemory } from '../../backend.ts';
import type { CustomKernel } from '../../custom-kernel.ts';
import { BYTES_PER_ELEMENT, type DType, type TypedArray, typedArrayFor } from '../../dtype.ts';
import { cast, fill, scalar } from '../reference/elementwise.ts';
import { hostKernelArgs, readAs } from '../reference/index.ts';
import { gather, oneHot, scatterAdd } from '../reference/indexing.ts';
import { matmul as referenceMatmul } from '../reference/matmul.ts';
import { binary } from './binary.ts';
import { markWritten } from './buffer-versions.ts';
import { copy } from './copy.ts';
import { oneHotRowsMatmul, oneHotRowsTransposedMatmul } from './one-hot-rows.ts';
import { axpy, unary } from './elementwise.ts';
import { argmax, reduce } from './reduce.ts';
import { crossEntropy, crossEntropyBackward, softmax } from './softmax.ts';
import { sharedHeapAlloc, sharedHeapRelease, tryWasmMatmul } from './wasm/wasm-matmul.ts';
import { heapZero } from './wasm/in-place.ts';

// A CPU buffer is the typed array itself, exactly `size` elements long. The front end has already
// checked every dtype, so these casts only restate what the handle is; no kernel re-validates.
const f32 = (b: BackendBuffer): Float32Array => b as Float32Array;
const i32 = (b: BackendBuffer): Int32Array => b as Int32Array;
const any = (b: BackendBuffer): TypedArray => b as TypedArray;

/** The kernels of the Backend table (everything but buffer management). */
export type KernelName = Exclude<keyof Backend, 'name' | 'alloc' | 'upload' | 'read' | 'free' | 'flush' | 'memory' | 'destroy'>;
type Kernels = Pick<Backend, KernelName>;

/**
 * The argument positions each kernel writes. The table must name every kernel (the type says so), and
 * `stampWrites` advances the version of each written buffer before the kernel runs, which is what
 * keeps the wasm matmul's resident copies of weights current (buffer-versions.ts): a kernel cannot
 * write a buffer without its copies going stale. runKernel's outputs are its third argument, a list.
 */
export const WRITES: { readonly [K in Exclude<KernelName, 'runKernel'>]: readonly number[] } = {
  fill: [0],
  unary: [2],
  scalar: [3],
  binary: [3],
  binaryInPlace: [1],
  axpy: [0],
  matmul: [2],
  reduce: [2],
  argmax: [1],
  copy: [1],
  gather: [2],
  scatterAdd: [2],
  oneHot: [1],
  softmax: [1],
  crossEntropy: [2],
  crossEntropyBackward: [3],
  cast: [1],
};

/** `kernels` with every write stamped first (see WRITES). */
function stampWrites(kernels: Kernels): Kernels {
  const stamped = { ...kernels } as Record<string, (...args: unknown[]) => void>;
  for (const [name, positions] of Object.entries(WRITES)) {
    const kernel = stamped[name]!;
    stamped[name] = positions.length === 1
      ? (...args) => {
        markWritten(args[positions[0]!] as object);
        kernel(...args);
      }
      : (...args) => {
        for (const i of positions) markWritten(args[i] as object);
        kernel(...args);
      };
  }
  const run = kernels.runKernel;
  stamped.runKernel = (kernel, inputs, outputs, sizes, params) => {
    for (const out of outputs as object[]) markWritten(out);
    run(kernel as CustomKernel, inputs as BackendBuffer[], outputs as BackendBuffer[], sizes as number[], params as Record<string, number>);
  };
  return stamped as unknown as Kernels;
}

/** Most bytes the pool keeps; beyond it freed buffers go to the garbage collector. */
const POOL_BYTES = 64 * 2 ** 20;
/** Tiny arrays are cheaper to allocate than to look up. */
export const POOL_MIN_ELEMENTS = 64;

/**
 * The `wasm` backend, the fast CPU backend behind `cpu()`. Buffers are typed arrays, as on the
 * reference backend; matmul, the transcendental and simple unary ops, axpy, add/sub/mul, column sums
 * and softmax's exponentials run in WebAssembly SIMD modules emitted at run time (wasm/: operand
 * packing, weights kept resident between products, a helper thread, relaxed-SIMD FMA), and binary,
 * copy and reductions walk strided operands in long contiguous runs (binary.ts, copy.ts, reduce.ts).
 * Everything else, and whatever the engine cannot run in wasm, is the reference backend's loops.
 *
 * Freed buffers are kept in a pool by dtype and size (up to POOL_BYTES, 64 MiB) and handed out again,
 * zeroed: a training step allocates thousands of same-sized buffers, and a fresh typed array costs an
 * allocation the garbage collector must later reclaim (measured about 30 µs each at [32, 512]).
 */
export function createWasmBackend(): Backend {
  let liveBuffers = 0;
  let liveBytes = 0;
  const pool = new Map<string, TypedArray[]>();
  let pooledBuffers = 0;
  let pooledBytes = 0;
  const track = (buf: TypedArray): TypedArray => {
    liveBuffers++;
    liveBytes += buf.length * BYTES_PER_ELEMENT;
    return buf;
  };
  const keyOf = (dtype: DType, size: number) => `${dtype}:${size}`;
  const dtypeOf = (buf: TypedArray): DType => (buf instanceof Int32Array ? 'int32' : 'float32');
  const fromPool = (size: number, dtype: DType, zero = true): TypedArray | undefined => {
    const buf = pool.get(keyOf(dtype, size))?.pop();
    if (buf === undefined) return undefined;
    pooledBuffers--;
    pooledBytes -= size * BYTES_PER_ELEMENT;
    // New contents (zeros, or whatever the caller writes next): a new version (buffer-versions.ts).
    markWritten(buf);
    if (zero && !heapZero(buf, 0, size)) buf.fill(0);
    return buf;
  };

  const zeroFloats = (x: Float32Array, size: number): void => {
    if (!heapZero(x, 0, size)) x.fill(0, 0, size);
  };

  const kernels: Kernels = {
    // Zeros in a heap buffer through wasm's memory.fill: TypedArray fill is about 10x slower on the
    // shared memory (wasm/elementwise-module.ts). Object.is keeps −0 on the ordinary path.
    fill: (out, size, value) => {
      if (!Object.is(value, 0) || !heapZero(any(out), 0, size)) fill(any(out), size, value);
    },
    unary: (op, x, out, size) => unary(op, f32(x), f32(out), size),
    scalar: (op, x, s, out, size) => scalar(op, f32(x), s, f32(out), size),
    binary: (op, a, b, out, layout) => binary(op, f32(a), f32(b), f32(out), layout),
    // a's strides are its contiguous strides, which is all `binary` needs to write its output over a.
    binaryInPlace: (op, a, b, layout) => binary(op, f32(a), f32(b), f32(a), layout),
    axpy: (y, x, alpha, size) => axpy(f32(y), f32(x), alpha, size),
    // Row copies or row sums for an A of one-hot rows (one-hot-rows.ts); else WebAssembly SIMD kernels
    // (wasm/) when the engine has SIMD and the product is big enough to repay copying the operands into
    // wasm memory; otherwise the reference triple loop.
    matmul(a, b, out, p) {
      const A = f32(a);
      const B = f32(b);
      const C = f32(out);
      if (oneHotRowsMatmul(A, B, C, p) || oneHotRowsTransposedMatmul(A, B, C, p)) return;
      if (!tryWasmMatmul(A, B, C, p)) referenceMatmul(A, B, C, p);
    },
    reduce: (op, x, out, p) => reduce(op, f32(x), f32(out), p),
    argmax: (x, out, p) => argmax(f32(x), i32(out), p),
    copy: (src, dst, p) => copy(any(src), any(dst), p),
    gather: (table, indices, out, p) => gather(any(table), i32(indices), any(out), p),
    scatterAdd: (src, indices, out, p) => scatterAdd(f32(src), i32(indices), f32(out), p),
    oneHot: (indices, out, numIndices, depth) => oneHot(i32(indices), f32(out), numIndices, depth),
    softmax: (x, out, rows, cols, log) => softmax(f32(x), f32(out), rows, cols, log),
    crossEntropy: (logits, targets, out, rows, cols) => crossEntropy(f32(logits), i32(targets), f32(out), rows, cols),
    crossEntropyBackward: (logits, targets, gradOut, out, rows, cols) =>
      crossEntropyBackward(f32(logits), i32(targets), f32(gradOut), f32(out), rows, cols),
    cast: (x, out, size, from, to) => cast(any(x), any(out), size, from, to),
    // A custom kernel's own wasm version when it has one, else its reference loop; either way with
    // this backend's unary, axpy and zeroing kernels, so it gets the same σ, tanh and updates as the
    // separate ops.
    runKernel: (kernel, inputs, outputs, sizes, params) =>
      (kernel.wasm ?? kernel.reference)(hostKernelArgs(kernel, inputs, outputs, sizes, params, unary, axpy, zeroFloats)),
  };

  // A new float32 buffer in the wasm heap where it can be (wasm/heap.ts: the matmul then reads and
  // writes it in place), else a plain array.
  const fresh = (size: number, dtype: DType, zero: boolean): TypedArray => {
    const heap = dtype === 'float32' ? sharedHeapAlloc(size, zero) : null;
    if (heap === null) return typedArrayFor(dtype, size);
    markWritten(heap);
    return heap;
  };

  return {
    name: 'wasm',

    alloc: (size, dtype, overwritten = false) => track(fromPool(size, dtype, !overwritten) ?? fresh(size, dtype, !overwritten)),
    // Uploads come from the pool too: freed uploads (each batch's X and Y) would otherwise pile up in it.
    upload(data) {
      const buf = fromPool(data.length, dtypeOf(data), false) ?? fresh(data.length, dtypeOf(data), false);
      buf.set(data);
      return track(buf);
    },
    read: (buf, dtype, size) => Promise.resolve(readAs(any(buf), dtype, size)),
    free(buf) {
      const typed = any(buf);
      const bytes = typed.length * BYTES_PER_ELEMENT;
      liveBuffers--;
      liveBytes -= bytes;
      // Nothing outside the backend holds a buffer (reads return copies), so it can be reused at once.
      if (typed.length >= POOL_MIN_ELEMENTS && pooledBytes + bytes <= POOL_BYTES) {
        const key = keyOf(dtypeOf(typed), typed.length);
        const list = pool.get(key);
        if (list === undefined) pool.set(key, [typed]);
        else list.push(typed);
        pooledBuffers++;
        pooledBytes += bytes;
      } else if (typed instanceof Float32Array) {
        sharedHeapRelease(typed); // past the pool's cap, a heap buffer goes back to the heap
      }
    },
    flush() {},
    memory: (): BackendMemory => ({ liveBuffers, liveBytes, pooledBuffers, pooledBytes }),
    destroy() {
      for (const list of pool.values()) for (const buf of list) if (buf instanceof Float32Array) sharedHeapRelease(buf);
      pool.clear();
      pooledBuffers = 0;
      pooledBytes = 0;
    },

    ...stampWrites(kernels),
  };
}

/** The former name of {@link createWasmBackend}. */
export const createCpuBackend = createWasmBackend;
