/**
 * The reference backend: every kernel of the `Backend` table as the plainest TypeScript loops, over
 * typed arrays that serve as buffers. No pool, no caches, no WebAssembly: a buffer is allocated when
 * asked for and left to the garbage collector when freed. It is the oracle the `wasm` and `webgpu`
 * backends are tested against, and the backend to read to learn what a kernel computes.
 *
 * Kernels by file: elementwise.ts (fill, unary, scalar, binary, axpy, cast), matmul.ts (the triple
 * loop), reduce.ts (reductions, argmax and the softmax family), indexing.ts (copy, gather,
 * scatterAdd, oneHot); walk.ts steps through strided index spaces.
 */
import type { Backend, BackendBuffer, BackendMemory } from '../../backend.ts';
import type { CustomKernel, HostKernelArgs, KernelParams } from '../../custom-kernel.ts';
import { BYTES_PER_ELEMENT, type DType, type TypedArray, typedArrayFor } from '../../dtype.ts';
import { axpy, binary, cast, fill, scalar, unary } from './elementwise.ts';
import { copy, gather, oneHot, scatterAdd } from './indexing.ts';
import { matmul } from './matmul.ts';
import { argmax, crossEntropy, crossEntropyBackward, reduce, softmax } from './reduce.ts';

// A buffer is the typed array itself. The front end has checked every dtype, so these casts only
// restate what the handle is.
const f32 = (b: BackendBuffer): Float32Array => b as Float32Array;
const i32 = (b: BackendBuffer): Int32Array => b as Int32Array;
const any = (b: BackendBuffer): TypedArray => b as TypedArray;

/**
 * A copy of the first `size` words of a buffer, as `dtype`: the bytes are re-read when the buffer's
 * class differs (a buffer's words are 32 bits whatever they hold).
 */
export function readAs(buf: TypedArray, dtype: DType, size: number): TypedArray {
  const sameClass = dtype === 'float32' ? buf instanceof Float32Array : buf instanceof Int32Array;
  if (sameClass) return buf.slice(0, size);
  const view = dtype === 'float32'
    ? new Float32Array(buf.buffer, buf.byteOffset, size)
    : new Int32Array(buf.buffer, buf.byteOffset, size);
  return view.slice();
}

/** The arguments a host implementation of a custom kernel receives on a CPU backend. */
export function hostKernelArgs<P extends KernelParams>(
  kernel: CustomKernel<P>, inputs: BackendBuffer[], written: BackendBuffer[], sizes: number[], params: P,
  unaryKernel: HostKernelArgs<P>['unary'], axpyKernel: HostKernelArgs<P>['axpy'],
  zeroKernel: HostKernelArgs<P>['zero'] = fillZero,
): HostKernelArgs<P> {
  // `written` holds the updated buffers first, then the outputs (ops/custom.ts).
  const updated = kernel.updates?.length ?? 0;
  const ints = new Set(kernel.intInputs ?? []);
  return {
    inputs: inputs.map((b, i) => (ints.has(kernel.inputs[i]!) ? NO_FLOATS : f32(b))),
    ints: inputs.filter((_, i) => ints.has(kernel.inputs[i]!)).map(i32),
    updates: written.slice(0, updated).map(f32),
    outputs: written.slice(updated).map(f32),
    sizes: sizes.slice(updated),
    params,
    unary: unaryKernel,
    axpy: axpyKernel,
    zero: zeroKernel,
  };
}

const fillZero = (x: Float32Array, size: number): void => {
  x.fill(0, 0, size);
};

const NO_FLOATS = new Float32Array(0);

/** A new reference backend. */
export function createReferenceBackend(): Backend {
  let liveBuffers = 0;
  let liveBytes = 0;
  const track = (buf: TypedArray): TypedArray => {
    liveBuffers++;
    liveBytes += buf.length * BYTES_PER_ELEMENT;
    return buf;
  };
  return {
    name: 'reference',

    // A fresh typed array is zero-filled, so `overwritten` has nothing to skip.
    alloc: (size, dtype) => track(typedArrayFor(dtype, size)),
    upload: (data) => track(data.slice()),
    read: (buf, dtype, size) => Promise.resolve(readAs(any(buf), dtype, size)),
    free(buf) {
      liveBuffers--;
      liveBytes -= any(buf).length * BYTES_PER_ELEMENT;
    },
    flush() {},
    memory: (): BackendMemory => ({ liveBuffers, liveBytes, pooledBuffers: 0, pooledBytes: 0 }),
    destroy() {},

    fill: (out, size, value) => fill(any(out), size, value),
    unary: (op, x, out, size) => unary(op, f32(x), f32(out), size),
    scalar: (op, x, s, out, size) => scalar(op, f32(x), s, f32(out), size),
    binary: (op, a, b, out, layout) => binary(op, f32(a), f32(b), f32(out), layout),
    binaryInPlace: (op, a, b, layout) => binary(op, f32(a), f32(b), f32(a), layout),
    axpy: (y, x, alpha, size) => axpy(f32(y), f32(x), alpha, size),
    matmul: (a, b, out, p) => matmul(f32(a), f32(b), f32(out), p),
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
    runKernel: (kernel, inputs, outputs, sizes, params) => kernel.reference(hostKernelArgs(kernel, inputs, outputs, sizes, params, unary, axpy)),
  };
}
