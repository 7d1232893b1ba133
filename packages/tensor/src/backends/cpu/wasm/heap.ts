// The CPU backend's float32 buffers, allocated inside the wasm matmul's shared memory where it can.
//
// A CPU buffer is an ordinary Float32Array either way: JavaScript reads and writes a view into the
// memory as it would any other array. What changes is the matmul, which otherwise copies A into the
// memory, B into it before packing, and C out of it (and in, to accumulate) at every call: for a
// buffer that already lies in the memory it passes the buffer's own address to the kernels instead.
// In the scratch RNN 512's step those copies were 64 KB each way for each of the 70 per-step
// [32,512]·[512,512] products, and 2.3 MB for each operand of the deferred weight gradients.
//
// Layout of the memory (floats): the resident weights [0, RESIDENT_FLOATS), this heap [RESIDENT_FLOATS,
// SCRATCH_BASE), then the scratch of the matmul and of extensions from SCRATCH_BASE up. The heap
// hands out memory from the bottom and never gives it back to the memory: freed buffers return to the
// backend's pool (by size) or, past its cap or when a backend is destroyed, to the heap's own lists by
// size. When the heap is full, or where the memory is not shared (one thread: growing an unshared
// memory would detach every view into it), buffers are plain arrays as before. The heap's pages are
// only touched when handed out, so the memory's larger size costs address space, not RAM.
//
// A memory rebuilt with new extensions (wasm-matmul.ts sharedKernels) starts a new heap; views into
// the old one stay valid arrays, plain ones as far as the new memory is concerned.

import { RESIDENT_FLOATS, roundUp4 } from './resident-operands.ts';

/** Floats of the heap: 64 MiB. The scratch starts above it. */
export const HEAP_FLOATS = 2 ** 24;

/** Where the matmul's and the extensions' scratch begins, in floats. */
export const SCRATCH_BASE = RESIDENT_FLOATS + HEAP_FLOATS;

/** Buffers shorter than this stay plain arrays: they are cheap to copy and would crowd the heap. */
export const HEAP_MIN_FLOATS = 64;

/** What the heap needs of the matmul's instance: its memory, and a way to make it at least `floats` long. */
export interface HeapHost {
  readonly exports: { readonly memory: { readonly buffer: ArrayBufferLike } };
}

interface HeapState {
  /** Floats handed out from the bottom so far. */
  top: number;
  /** Buffers given back, by length. */
  readonly free: Map<number, Float32Array[]>;
  /** Every buffer this heap made, so an address can be trusted. */
  readonly owned: WeakSet<Float32Array>;
  /**
   * The memory's ArrayBuffer objects this heap made buffers on (a shared memory hands out a new one
   * after each growth), so that a view of a heap buffer, a subarray say, can be recognised too.
   */
  readonly memories: WeakSet<ArrayBufferLike>;
}

const heaps = new WeakMap<HeapHost, HeapState>();

function heapOf(host: HeapHost): HeapState {
  let heap = heaps.get(host);
  if (heap === undefined) heaps.set(host, (heap = { top: 0, free: new Map(), owned: new WeakSet(), memories: new WeakSet() }));
  return heap;
}

/** Whether views into `host`'s memory survive its growth: only a shared memory's do. */
function sharedMemory(host: HeapHost): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && host.exports.memory.buffer instanceof SharedArrayBuffer;
}

/**
 * A float32 buffer of `size` in `host`'s heap (zeroed when `zero`), or null: memory not shared, heap
 * full, or `grow` failed. `grow(floats)` makes the memory at least that long, returning false when it
 * cannot.
 */
export function heapAlloc(host: HeapHost, size: number, zero: boolean, grow: (floats: number) => boolean): Float32Array | null {
  if (size < HEAP_MIN_FLOATS || !sharedMemory(host)) return null;
  const heap = heapOf(host);
  const reused = heap.free.get(size)?.pop();
  if (reused !== undefined) return zero ? reused.fill(0) : reused;
  const floats = roundUp4(size); // every buffer starts on 16 bytes
  if (heap.top + floats > HEAP_FLOATS) return null;
  const offset = RESIDENT_FLOATS + heap.top;
  if (!grow(offset + floats)) return null;
  heap.top += floats;
  // Never handed out before, so still zero.
  const memory = host.exports.memory.buffer;
  const buf = new Float32Array(memory, offset * 4, size);
  heap.owned.add(buf);
  heap.memories.add(memory);
  return buf;
}

/** Takes `buf` back into `host`'s heap lists if it is one of its buffers; false for any other array. */
export function heapRelease(host: HeapHost, buf: Float32Array): boolean {
  const heap = heaps.get(host);
  if (heap === undefined || !heap.owned.has(buf)) return false;
  const list = heap.free.get(buf.length);
  if (list === undefined) heap.free.set(buf.length, [buf]);
  else list.push(buf);
  return true;
}

/** The float offset of `buf` in `host`'s memory when it is one of its heap's buffers, else -1. */
export function heapOffset(host: HeapHost, buf: Float32Array): number {
  const heap = heaps.get(host);
  return heap !== undefined && heap.owned.has(buf) ? buf.byteOffset / 4 : -1;
}

/**
 * The byte address in `host`'s memory of `view` when it lies inside one of the heap's buffers (a heap
 * buffer itself or any view of one, of any element type), else -1. Unlike `heapOffset` this accepts
 * subarrays: extensions use it to read inputs and write outputs where they are.
 */
export function heapAddress(host: HeapHost, view: ArrayBufferView): number {
  const heap = heaps.get(host);
  if (heap === undefined || !heap.memories.has(view.buffer)) return -1;
  const start = view.byteOffset;
  return start >= RESIDENT_FLOATS * 4 && start + view.byteLength <= SCRATCH_BASE * 4 ? start : -1;
}
