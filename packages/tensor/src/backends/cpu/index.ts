import type { Backend, BackendBuffer, BackendMemory } from '../../backend.ts';
import { BYTES_PER_ELEMENT, type DType, type TypedArray, typedArrayFor } from '../../dtype.ts';
import { binary } from './binary.ts';
import { gruCell, lstmCell } from './cells.ts';
import { copy } from './copy.ts';
import { axpy, cast, fill, scalar, unary } from './elementwise.ts';
import { gather, oneHot, scatterAdd } from './index-ops.ts';
import { matmul } from './matmul.ts';
import { argmax, reduce } from './reduce.ts';
import { crossEntropy, crossEntropyBackward, softmax } from './softmax.ts';
import { forgetResident, tryWasmMatmul } from './wasm/wasm-matmul.ts';

// A CPU buffer is the typed array itself, exactly `size` elements long. The front end has already
// checked every dtype, so these casts only restate what the handle is; no kernel re-validates.
const f32 = (b: BackendBuffer): Float32Array => b as Float32Array;
const i32 = (b: BackendBuffer): Int32Array => b as Int32Array;
const any = (b: BackendBuffer): TypedArray => b as TypedArray;

/** The bytes of `buf`'s first `size` words, re-read as `dtype` when its class differs. */
function readAs(buf: TypedArray, dtype: DType, size: number): TypedArray {
  const sameClass = dtype === 'float32' ? buf instanceof Float32Array : buf instanceof Int32Array;
  if (sameClass) return buf.slice(0, size);
  const view = dtype === 'float32'
    ? new Float32Array(buf.buffer, buf.byteOffset, size)
    : new Int32Array(buf.buffer, buf.byteOffset, size);
  return view.slice();
}

/** Most bytes the pool keeps; beyond it freed buffers go to the garbage collector. */
const POOL_BYTES = 64 * 2 ** 20;
/** Tiny arrays are cheaper to allocate than to look up. */
const POOL_MIN_ELEMENTS = 64;

/**
 * The CPU backend: every kernel is plain TypeScript over the typed arrays that serve as buffers,
 * except matmul, which runs in a WebAssembly SIMD module emitted at run time when the engine supports
 * it. Freed buffers are kept in a pool by dtype and size (up to POOL_BYTES, 64 MiB) and handed out again,
 * zeroed: a training step allocates thousands of same-sized buffers, and a fresh typed array costs an
 * allocation the garbage collector must later reclaim (measured about 30 µs each at [32, 512]).
 */
export function createCpuBackend(): Backend {
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
    return zero ? buf.fill(0) : buf;
  };
  // The wasm matmul may keep a copy of a right operand between products (see forgetResident). Every
  // method below that writes a buffer passes it through `w` first, so no stale copy survives a write.
  // Buffers are freed into the pool, whose reuse writes them too, so `free` forgets as well.
  const w = (b: BackendBuffer): BackendBuffer => {
    forgetResident(b);
    return b;
  };

  return {
    name: 'cpu',

    alloc: (size, dtype, overwritten = false) => track(fromPool(size, dtype, !overwritten) ?? typedArrayFor(dtype, size)),
    // Uploads come from the pool too: freed uploads (each batch's X and Y) would otherwise pile up in it.
    upload(data) {
      const buf = fromPool(data.length, dtypeOf(data), false);
      if (buf === undefined) return track(data.slice());
      buf.set(data);
      return track(buf);
    },
    read: (buf, dtype, size) => Promise.resolve(readAs(any(buf), dtype, size)),
    free(buf) {
      const typed = any(w(buf));
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
      }
    },
    flush() {},
    memory: (): BackendMemory => ({ liveBuffers, liveBytes, pooledBuffers, pooledBytes }),
    destroy() {
      pool.clear();
      pooledBuffers = 0;
      pooledBytes = 0;
    },

    fill: (out, size, value) => fill(any(w(out)), size, value),
    unary: (op, x, out, size) => unary(op, f32(x), f32(w(out)), size),
    scalar: (op, x, s, out, size) => scalar(op, f32(x), s, f32(w(out)), size),
    binary: (op, a, b, out, layout) => binary(op, f32(a), f32(b), f32(w(out)), layout),
    // a's strides are its contiguous strides, which is all `binary` needs to write its output over a.
    binaryInPlace: (op, a, b, layout) => binary(op, f32(w(a)), f32(b), f32(a), layout),
    axpy: (y, x, alpha, size) => axpy(f32(w(y)), f32(x), alpha, size),
    // WebAssembly SIMD kernels (wasm/) when the engine has SIMD and the product is big enough to repay
    // copying the operands into wasm memory; otherwise the TypeScript kernel, which is also the
    // reference the wasm kernels are tested against.
    matmul(a, b, out, p) {
      w(out);
      if (tryWasmMatmul(f32(a), f32(b), f32(out), p)) return;
      if (!p.accumulate) {
        matmul(f32(a), f32(b), f32(out), p);
        return;
      }
      const size = p.batch * p.m * p.n;
      const product = new Float32Array(size);
      matmul(f32(a), f32(b), product, p);
      axpy(f32(out), product, 1, size);
    },
    reduce: (op, x, out, p) => reduce(op, f32(x), f32(w(out)), p),
    argmax: (x, out, p) => argmax(f32(x), i32(w(out)), p),
    copy: (src, dst, p) => copy(any(src), any(w(dst)), p),
    gather: (table, indices, out, p) => gather(any(table), i32(indices), any(w(out)), p),
    scatterAdd: (src, indices, out, p) => scatterAdd(f32(src), i32(indices), f32(w(out)), p),
    oneHot: (indices, out, numIndices, depth) => oneHot(i32(indices), f32(w(out)), numIndices, depth),
    gruCell: (xp, hp, bias, h, out, batch, hidden) => gruCell(f32(xp), f32(hp), f32(bias), f32(h), f32(w(out)), batch, hidden),
    lstmCell: (xp, hp, c, outH, outC, batch, hidden) =>
      lstmCell(f32(xp), f32(hp), f32(c), f32(w(outH)), f32(w(outC)), batch, hidden),
    softmax: (x, out, rows, cols, log) => softmax(f32(x), f32(w(out)), rows, cols, log),
    crossEntropy: (logits, targets, out, rows, cols) => crossEntropy(f32(logits), i32(targets), f32(w(out)), rows, cols),
    crossEntropyBackward: (logits, targets, gradOut, out, rows, cols) =>
      crossEntropyBackward(f32(logits), i32(targets), f32(gradOut), f32(w(out)), rows, cols),
    cast: (x, out, size, from, to) => cast(any(x), any(w(out)), size, from, to),
  };
}
