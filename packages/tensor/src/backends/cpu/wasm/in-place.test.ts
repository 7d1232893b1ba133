import { describe, expect, it } from 'vitest';
import { createWasmBackend } from '../index.ts';
import { copy } from '../copy.ts';
import { copy as referenceCopy } from '../../reference/indexing.ts';
import { heapCopy, heapZero } from './in-place.ts';
import { sharedHeapAlloc, sharedHeapRelease } from './wasm-matmul.ts';

// memory.copy and memory.fill between heap buffers: the same results as set and fill, only on arrays
// that lie in the heap, never past the range asked for, and refused (with nothing written) otherwise.

/** A heap buffer of n floats holding 1, 2, 3, ...; the suite needs the shared heap (two threads). */
function heapOf(n: number): Float32Array {
  const buf = sharedHeapAlloc(n, true);
  if (buf === null) throw new Error('no shared wasm heap on this engine');
  for (let i = 0; i < n; i++) buf[i] = i + 1;
  return buf;
}

describe('heapCopy and heapZero', () => {
  it('copies a range between heap buffers and views of them, leaving the rest alone', () => {
    const src = heapOf(300);
    const dst = heapOf(300).fill(-1);
    expect(heapCopy(dst, 7, src, 20, 250)).toBe(true);
    const want = new Float32Array(300).fill(-1);
    want.set(src.subarray(20, 270), 7);
    expect(Array.from(dst)).toEqual(Array.from(want));
    // A view: its element 0 is dst[100].
    expect(heapCopy(dst.subarray(100, 200), 0, src, 0, 100)).toBe(true);
    expect(Array.from(dst.subarray(100, 200))).toEqual(Array.from(src.subarray(0, 100)));
    expect(dst[99]).toBe(want[99]);
    expect(dst[200]).toBe(want[200]);
    sharedHeapRelease(src);
    sharedHeapRelease(dst);
  });

  it('copies overlapping ranges as memmove does', () => {
    const x = heapOf(128);
    const want = Float32Array.from(x);
    want.copyWithin(10, 0, 100);
    expect(heapCopy(x, 10, x, 0, 100)).toBe(true);
    expect(Array.from(x)).toEqual(Array.from(want));
    sharedHeapRelease(x);
  });

  it('zeroes exactly the range asked for', () => {
    const x = heapOf(200);
    x[50] = -0.5;
    expect(heapZero(x, 40, 100)).toBe(true);
    x.forEach((v, i) => {
      if (i >= 40 && i < 140) expect(Object.is(v, 0)).toBe(true);
      else expect(v).toBe(i + 1);
    });
    sharedHeapRelease(x);
  });

  it('refuses plain arrays and ranges past the end, writing nothing', () => {
    const heap = heapOf(100);
    const plain = new Float32Array(100).fill(3);
    expect(heapCopy(plain, 0, heap, 0, 10)).toBe(false);
    expect(heapCopy(heap, 0, plain, 0, 10)).toBe(false);
    expect(heapZero(plain, 0, 10)).toBe(false);
    expect(heapCopy(heap, 95, heap, 0, 10)).toBe(false);
    expect(heapZero(heap, 95, 10)).toBe(false);
    expect(plain.every((v) => v === 3)).toBe(true);
    expect(heap.every((v, i) => v === i + 1)).toBe(true);
    sharedHeapRelease(heap);
  });

  it('the CPU copy kernel gives the reference walk between heap buffers, for runs of slices and concat parts', () => {
    const src = heapOf(4000);
    const got = heapOf(2000).fill(-7);
    expect(heapCopy(got, 0, src, 0, 1)).toBe(true); // both in the heap: the kernel takes the wasm path
    got[0] = -7;
    const want = new Float32Array(2000).fill(-7);
    const p = { shape: [30, 60], srcStrides: [100, 1], dstStrides: [64, 1], srcOffset: 13, dstOffset: 5, size: 1800 };
    copy(src, got, p);
    referenceCopy(src, want, p);
    expect(Array.from(got)).toEqual(Array.from(want));
    sharedHeapRelease(src);
    sharedHeapRelease(got);
  });

  it('the backend fills heap buffers with +0 through memory.fill, and with −0 and other values as fill does', () => {
    const backend = createWasmBackend();
    const buf = backend.alloc(1000, 'float32');
    const x = buf as unknown as Float32Array;
    for (const value of [1.5, -0, 0]) {
      x.fill(9);
      backend.fill(buf, 600, value, 'float32');
      x.forEach((v, i) => expect(Object.is(v, i < 600 ? value : 9)).toBe(true));
    }
    backend.free(buf);
  });
});
