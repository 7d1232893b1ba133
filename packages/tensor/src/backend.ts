import type { CustomKernel, KernelParams } from './custom-kernel.ts';
import type { DType, TypedArray } from './dtype.ts';

/**
 * The contract every backend fulfils: a table of kernels over flat, contiguous 32-bit buffers.
 *
 * The front end (ops.ts) checks shapes, dtypes and devices and works out every size and stride, so a
 * kernel never validates anything and never sees a `Tensor`. Buffers are opaque handles owned by the
 * backend (`Float32Array`/`Int32Array` views on the CPU, pooled `GPUBuffer`s on WebGPU). All sizes are
 * element counts, never bytes. Kernels write into an `out` buffer that the caller allocated.
 *
 * Three backends implement it: `reference` (backends/reference/: plain loops, the oracle the others
 * are tested against), `wasm` (backends/cpu/: the fast CPU backend, WebAssembly SIMD kernels where
 * they pay and the reference loops elsewhere) and `webgpu` (backends/webgpu/: WGSL compute shaders).
 * The table holds primitives only; an op that belongs to a model (a fused recurrent cell, say) is a
 * custom kernel (custom-kernel.ts) that brings its own code for each backend.
 *
 * Adding a primitive means adding one method here and one implementation per backend.
 */
export interface Backend {
  readonly name: BackendName;

  /**
   * A new buffer of `size` elements, filled with zeros. With `overwritten`, the caller promises that
   * the next kernel writes every element before anything reads one, and the contents are left
   * unspecified (a pooled buffer is not zeroed first: filling the output of every op cost the CPU
   * backend about 4% of a training step).
   */
  alloc(size: number, dtype: DType, overwritten?: boolean): BackendBuffer;
  /** A new buffer holding a copy of `data`. */
  upload(data: TypedArray): BackendBuffer;
  /** Copies `size` elements out of `buf`. The only way data leaves a device. */
  read(buf: BackendBuffer, dtype: DType, size: number): Promise<TypedArray>;
  /** Returns the buffer to the backend (pool or garbage collector). Never called twice for one buffer. */
  free(buf: BackendBuffer): void;
  /** Submits queued work, if the backend queues any. */
  flush(): void;
  /** Live buffers and bytes the backend holds for tensors (pooled free buffers are reported apart). */
  memory(): BackendMemory;
  /** Releases every resource (GPU device included); the backend is unusable afterwards. */
  destroy(): void;

  /** out[i] = value for i < size. */
  fill(out: BackendBuffer, size: number, value: number, dtype: DType): void;
  /** out[i] = f(x[i]) on float32. */
  unary(op: UnaryOp, x: BackendBuffer, out: BackendBuffer, size: number): void;
  /** out[i] = f(x[i], scalar) on float32; see ScalarOp for the argument order. */
  scalar(op: ScalarOp, x: BackendBuffer, scalar: number, out: BackendBuffer, size: number): void;
  /**
   * out = a (op) b with broadcasting over `outShape`. `aStrides`/`bStrides` are element strides per
   * output axis, 0 along a broadcast axis. float32 only. `out` never aliases `a` or `b`.
   */
  binary(op: BinaryOp, a: BackendBuffer, b: BackendBuffer, out: BackendBuffer, layout: BroadcastLayout): void;
  /**
   * a = a (op) b in place, `b` broadcast into `a`'s shape (`layout.outShape` is `a`'s shape and
   * `layout.aStrides` are its contiguous strides). Used by optimizers and accumulation.
   */
  binaryInPlace(op: BinaryOp, a: BackendBuffer, b: BackendBuffer, layout: BroadcastLayout): void;
  /** y += alpha * x, elementwise over `size` float32 elements (SGD's update and grad accumulation). */
  axpy(y: BackendBuffer, x: BackendBuffer, alpha: number, size: number): void;
  /**
   * Batched matrix product: for each batch index `b`, out[b] (m x n) = op(A[b]) (m x k) @ op(B[b]) (k x n)
   * (or out[b] += ... when `p.accumulate`),
   * where op transposes when `transA`/`transB` is set (A[b] is then stored k x m, B[b] n x k).
   * `aBatchStride`/`bBatchStride` are 0 to broadcast one matrix over the batch. float32.
   */
  matmul(a: BackendBuffer, b: BackendBuffer, out: BackendBuffer, p: MatmulParams): void;
  /** Reduces the middle axis of x viewed as [outer, axis, inner] into out [outer, inner]. float32. */
  reduce(op: ReduceOp, x: BackendBuffer, out: BackendBuffer, p: AxisParams): void;
  /** Index (int32) of the first largest value along the middle axis of [outer, axis, inner]. */
  argmax(x: BackendBuffer, out: BackendBuffer, p: AxisParams): void;
  /**
   * General strided copy of 32-bit words, the one kernel behind permute, slice, concat and stack:
   * for every index tuple `i` of `shape`, dst[dstOffset + i·dstStrides] = src[srcOffset + i·srcStrides].
   */
  copy(src: BackendBuffer, dst: BackendBuffer, p: CopyParams): void;
  /** out[r, :] = table[indices[r], :] for r < numIndices; table is [tableRows, rowSize]. Any dtype. */
  gather(table: BackendBuffer, indices: BackendBuffer, out: BackendBuffer, p: GatherParams): void;
  /** out[indices[r], :] += src[r, :] (out must be pre-zeroed by the caller when it wants a fresh sum). */
  scatterAdd(src: BackendBuffer, indices: BackendBuffer, out: BackendBuffer, p: GatherParams): void;
  /** out[i, j] = (indices[i] === j) ? 1 : 0, out is [numIndices, depth] float32. Out-of-range -> all zeros. */
  oneHot(indices: BackendBuffer, out: BackendBuffer, numIndices: number, depth: number): void;
  /** Row-wise softmax (or log-softmax when `log`) over the last axis of x [rows, cols]. */
  softmax(x: BackendBuffer, out: BackendBuffer, rows: number, cols: number, log: boolean): void;
  /**
   * Mean cross-entropy of logits [rows, cols] against int32 class `targets` [rows], computed with the
   * log-sum-exp trick; writes one float32 into `out`.
   */
  crossEntropy(logits: BackendBuffer, targets: BackendBuffer, out: BackendBuffer, rows: number, cols: number): void;
  /**
   * Gradient of the mean cross-entropy: out[i, j] = g * (softmax(logits)[i, j] - [targets[i] === j]) / rows,
   * where g = gradOut[0] is read on the device (no readback).
   */
  crossEntropyBackward(
    logits: BackendBuffer,
    targets: BackendBuffer,
    gradOut: BackendBuffer,
    out: BackendBuffer,
    rows: number,
    cols: number,
  ): void;
  /**
   * Runs a custom kernel (see custom-kernel.ts) with its implementation for this backend: `inputs` are
   * read, `outputs` (of `sizes[i]` elements each) written, all float32.
   */
  runKernel<P extends KernelParams>(kernel: CustomKernel<P>, inputs: BackendBuffer[], outputs: BackendBuffer[], sizes: number[], params: P): void;
  /** Converts between dtypes (float32 -> int32 truncates toward zero). */
  cast(x: BackendBuffer, out: BackendBuffer, size: number, from: DType, to: DType): void;
}

/** The three backends: the plain-loop oracle, the fast CPU backend and the GPU one. */
export type BackendName = 'reference' | 'wasm' | 'webgpu';

/** A backend's handle for one buffer; opaque to everything outside that backend. */
export type BackendBuffer = unknown;

export interface BackendMemory {
  /** Buffers currently held by tensors. */
  liveBuffers: number;
  liveBytes: number;
  /** Buffers kept for re-use (WebGPU pool); 0 on the CPU. */
  pooledBuffers: number;
  pooledBytes: number;
}

export type UnaryOp =
  | 'neg'
  | 'exp'
  | 'log'
  | 'tanh'
  | 'sigmoid'
  | 'relu'
  | 'sqrt'
  | 'square'
  | 'abs'
  /** 1 where x > 0, else 0 (relu's derivative). */
  | 'step'
  /** 1 - x*x (tanh's derivative written in terms of its output). */
  | 'oneMinusSquare'
  /** x * (1 - x) (sigmoid's derivative written in terms of its output). */
  | 'sigmoidGradFromOutput';

/** `x op s` for add/sub/mul/div/pow/max/min; `rsub` is s - x and `rdiv` is s / x. */
export type ScalarOp = 'add' | 'sub' | 'rsub' | 'mul' | 'div' | 'rdiv' | 'pow' | 'maximum' | 'minimum';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum';

export type ReduceOp = 'sum' | 'max';

export interface BroadcastLayout {
  outShape: readonly number[];
  aStrides: readonly number[];
  bStrides: readonly number[];
  /** Product of outShape. */
  size: number;
}

export interface MatmulParams {
  batch: number;
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
  aBatchStride: number;
  bBatchStride: number;
  /**
   * Add the product to what `out` holds (out += op(A)·op(B)) instead of overwriting it. Gradient
   * accumulation uses it for a weight that collects one product per time step.
   */
  accumulate?: boolean;
}

export interface AxisParams {
  outer: number;
  axis: number;
  inner: number;
}

export interface CopyParams {
  shape: readonly number[];
  srcStrides: readonly number[];
  dstStrides: readonly number[];
  srcOffset: number;
  dstOffset: number;
  /** Product of shape. */
  size: number;
}

export interface GatherParams {
  numIndices: number;
  tableRows: number;
  rowSize: number;
}
