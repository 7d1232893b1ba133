import { describe, expect, it } from 'vitest';
import type { BackendBuffer, MatmulParams } from '../../../backend.ts';
import { createWasmBackend } from '../index.ts';
import { HEAP_FLOATS, HEAP_MIN_FLOATS, SCRATCH_BASE, heapAddress, heapOffset } from './heap.ts';
import {
  tryWasmAxpy, tryWasmBinary, tryWasmBinaryRow, tryWasmBinaryScalar, tryWasmColumnSums, tryWasmSimpleUnary,
} from './wasm-elementwise.ts';
import { THREADED_MATH_MIN, tryWasmUnary } from './wasm-math.ts';
import { mathMismatches } from './math-reference.ts';
import { backendKernelShape, createWasmMatmul, sharedKernels, sharedMemoryFor, wasmMatmul } from './wasm-matmul.ts';
import { rng } from '../../../test-random.ts';

// The wasm backend's float32 buffers live in the matmul's shared memory (heap.ts), where the matmul
// and the elementwise and math kernels use them in place (in-place.ts). Every result must be the
// bits the copying paths give for the same values in plain arrays.

const f32 = (b: BackendBuffer): Float32Array => b as Float32Array;

function random(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

function expectSameBits(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) expect.fail(`element ${i}: ${got[i]} against ${want[i]}`);
}

const be = createWasmBackend();
/** A heap buffer holding `values` (checked to be one). */
function onHeap(values: Float32Array): Float32Array {
  const buf = f32(be.upload(values));
  expect(heapOffset(sharedKernels()!, buf)).toBeGreaterThanOrEqual(0);
  return buf;
}

describe('CPU buffers in the wasm heap', () => {
  it('float32 buffers of at least HEAP_MIN_FLOATS are heap buffers, zeroed, recycled; int32 and short ones are plain', () => {
    const kern = sharedKernels()!;
    const a = f32(be.alloc(1000, 'float32'));
    expect(heapOffset(kern, a)).toBeGreaterThanOrEqual(0);
    expect(a.every((v) => v === 0)).toBe(true);
    a.fill(3);
    be.free(a);
    const again = f32(be.alloc(1000, 'float32'));
    expect(again).toBe(a); // from the pool, zeroed again
    expect(again.every((v) => v === 0)).toBe(true);
    expect(heapOffset(kern, f32(be.alloc(HEAP_MIN_FLOATS - 1, 'float32')))).toBe(-1);
    expect(heapOffset(kern, be.alloc(1000, 'int32') as unknown as Float32Array)).toBe(-1);
  });

  it('heapAddress: heap buffers and any view of them, of either element type; nothing outside the heap', () => {
    const kern = sharedKernels()!;
    expect(sharedMemoryFor(kern, SCRATCH_BASE + 64)).not.toBeNull(); // the scratch exists, before a is made
    const a = f32(be.alloc(1001, 'float32'));
    const at = heapAddress(kern, a);
    expect(at).toBe(heapOffset(kern, a) * 4);
    expect(heapAddress(kern, a.subarray(10, 20))).toBe(at + 40);
    expect(heapAddress(kern, new Int32Array(a.buffer, a.byteOffset + 8, 5))).toBe(at + 8);
    expect(heapAddress(kern, new Float32Array(1000))).toBe(-1); // a plain array
    expect(heapAddress(kern, f32(be.alloc(HEAP_MIN_FLOATS - 1, 'float32')))).toBe(-1);
    // The same memory, but the scratch above the heap: a kernel's own regions are not buffers.
    const memory = a.buffer;
    expect(heapAddress(kern, new Float32Array(memory, SCRATCH_BASE * 4, 4))).toBe(-1);
    expect(heapAddress(kern, new Float32Array(memory, SCRATCH_BASE * 4 - 8, 4))).toBe(-1); // straddles the end
    expect(heapAddress(kern, new Float32Array(memory, 0, 4))).toBe(-1); // the resident weights
  });

  it.each([
    [32, 512, 512, false, false], [32, 512, 512, false, true], [96, 130, 70, true, false], [70, 33, 29, true, true], [16, 300, 258, false, false],
  ] as const)('matmul [%i,%i]·[%i] transA %s transB %s: heap operands give the copying path\'s bits', (m, k, n, transA, transB) => {
    for (const accumulate of [false, true]) {
      const p: MatmulParams = { batch: 1, m, k, n, transA, transB, aBatchStride: 0, bBatchStride: 0, accumulate };
      const [A, B, C0] = [random(m * k, 2), random(k * n, 3), random(m * n, 4)];
      const want = C0.slice();
      expect(wasmMatmul(A, B, want, p)).toBe(true); // plain arrays: copied in and out
      const got = onHeap(C0);
      expect(wasmMatmul(onHeap(A), onHeap(B), got, p)).toBe(true);
      expectSameBits(got, want);
    }
  });

  it('a product into one of its own operands is still right (C is then computed in scratch)', () => {
    const [m, k] = [32, 64];
    const A = random(m * k, 5);
    const W = random(k * k, 6);
    const want = new Float32Array(m * k);
    const single = createWasmMatmul(backendKernelShape(), { threads: 1 })!;
    single(A, W, want, { batch: 1, m, k, n: k, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 });
    const a = onHeap(A);
    expect(wasmMatmul(a, onHeap(W), a, { batch: 1, m, k, n: k, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 })).toBe(true);
    expectSameBits(a, want);
  });

  it.each([[false, false], [true, false], [false, true]] as const)('matmul on views inside heap buffers (transA %s, transB %s): the copying path\'s bits, nothing around C written', (transA, transB) => {
    const [m, k, n] = [36, 40, 48];
    for (const accumulate of [false, true]) {
      const p: MatmulParams = { batch: 1, m, k, n, transA, transB, aBatchStride: 0, bBatchStride: 0, accumulate };
      const [A, B, C0] = [random(m * k, 12), random(k * n, 13), random(m * n, 14)];
      const want = C0.slice();
      expect(wasmMatmul(A, B, want, p)).toBe(true);
      // Each operand a view 8 floats into a longer heap buffer, as a kernel's subarrays of its states are.
      const inside = (x: Float32Array): Float32Array => {
        const whole = onHeap(new Float32Array(x.length + 16).fill(-3));
        whole.set(x, 8);
        return whole.subarray(8, 8 + x.length);
      };
      const got = inside(C0);
      const whole = new Float32Array(got.buffer, got.byteOffset - 32, got.length + 16);
      expect(wasmMatmul(inside(A), inside(B), got, p)).toBe(true);
      expectSameBits(got, want);
      for (const i of [0, 7, whole.length - 8, whole.length - 1]) expect(whole[i]).toBe(-3);
    }
  });

  it('a product into a view that overlaps an operand reads the operand before writing (C goes through scratch)', () => {
    const [m, k] = [32, 64];
    const whole = onHeap(random(m * k + 128, 15));
    const A = whole.subarray(0, m * k);
    const C = whole.subarray(64, 64 + m * k); // starts inside A
    const W = random(k * k, 16);
    const want = new Float32Array(m * k);
    expect(wasmMatmul(A.slice(), W, want, { batch: 1, m, k, n: k, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 })).toBe(true);
    expect(wasmMatmul(A, onHeap(W), C, { batch: 1, m, k, n: k, transA: false, transB: false, aBatchStride: 0, bBatchStride: 0 })).toBe(true);
    expectSameBits(C, want);
  });

  it('elementwise and math kernels on heap buffers give the copying path\'s bits and leave the next buffer alone', () => {
    const n = 1001; // not a multiple of 4: the kernels' last vector reaches past the end
    const [x, y] = [random(n, 7), random(n, 8)];
    const check = (run: (a: Float32Array, b: Float32Array, out: Float32Array) => boolean): void => {
      const want = new Float32Array(n);
      expect(run(x.slice(), y.slice(), want)).toBe(true); // plain: through the module's own memory
      const [a, b, out] = [onHeap(x), onHeap(y), onHeap(new Float32Array(n))];
      const next = onHeap(random(n, 9)); // allocated right after out
      const before = next.slice();
      expect(run(a, b, out)).toBe(true);
      expectSameBits(out, want);
      expectSameBits(next, before);
    };
    check((a, b, out) => tryWasmBinary('add', a, 0, b, 0, out, 0, n));
    check((a, b, out) => tryWasmBinary('mul', a, 0, b, 0, out, 0, n));
    check((a, _b, out) => tryWasmBinaryScalar('sub', a, 0, 0.375, out, 0, n));
    check((a, _b, out) => tryWasmSimpleUnary('oneMinusSquare', a, out, n));
    check((a, _b, out) => tryWasmUnary('tanh', a, out, n));
    check((a, _b, out) => tryWasmUnary('sigmoid', a, out, n));
    check((a, b, out) => {
      out.set(a);
      return tryWasmAxpy(out, b, -0.3, n);
    });
    const [rows, cols] = [13, 77];
    check((a, b, out) => tryWasmBinaryRow('add', a.subarray(0, rows * cols), b.subarray(0, cols), out.subarray(0, rows * cols), rows, cols)
      && (out.fill(0, rows * cols), true));
  });

  it.each(['exp', 'tanh', 'sigmoid'] as const)('%s of a long heap buffer, split between the two threads, has the reference loop\'s bits', async (op) => {
    const helper = sharedKernels()!.helper;
    for (let waited = 0; helper !== null && !helper.ready() && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(helper?.ready()).toBe(true);
    const n = THREADED_MATH_MIN * 2 + 7; // the split falls mid-array, the helper's share ends in a ragged tail
    const x = random(n, 12).map((v) => v * 12);
    const out = onHeap(new Float32Array(n));
    expect(tryWasmUnary(op, onHeap(x), out, n)).toBe(true);
    expect(mathMismatches(op, x, out)).toEqual([]);
  });

  it('a bias row added in place into its own input is right row after row', () => {
    const [rows, cols] = [9, 70];
    const a = random(rows * cols, 10);
    const b = random(cols, 11);
    const want = new Float32Array(rows * cols);
    for (let i = 0; i < rows * cols; i++) want[i] = Math.fround(a[i]! + b[i % cols]!);
    const buf = onHeap(a);
    expect(tryWasmBinaryRow('add', buf, onHeap(b), buf, rows, cols)).toBe(true);
    expectSameBits(buf, want);
  });
  it.each([
    ['a short k, packed transposed for the outer-product kernels', 32, 30, 50],
    ['a resident weight (W_hhᵀ), packed transposed once', 32, 130, 96],
    ['rows and columns past multiples of 4', 8, 27, 33],
  ])('a transposed B in the heap is packed four columns at a time in wasm: %s', (_name, m, k, n) => {
    const p: MatmulParams = { batch: 1, m, k, n, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 };
    const [A, B] = [random(m * k, 15), random(n * k, 16)];
    const want = new Float32Array(m * n);
    expect(wasmMatmul(A, B, want, p)).toBe(true); // B outside the memory: packed by the loop
    const got = new Float32Array(m * n);
    expect(wasmMatmul(A, onHeap(B), got, p)).toBe(true);
    expectSameBits(got, want);
  });

  it('column sums of a block of a heap buffer, read where it lies, give the copying path\'s bits', () => {
    const [rows, cols, skip] = [37, 61, 2]; // cols not a multiple of 4; the block starts 2 rows in
    const x = random((rows + skip + 1) * cols, 13);
    const want = new Float32Array(cols + 2).fill(7);
    expect(tryWasmColumnSums(x, skip * cols, want, 1, rows, cols)).toBe(true); // plain: copied in
    const got = new Float32Array(cols + 2).fill(7);
    expect(tryWasmColumnSums(onHeap(x), skip * cols, got, 1, rows, cols)).toBe(true);
    expectSameBits(got, want);
    const sum0 = Array.from({ length: rows }, (_, r) => x[(skip + r) * cols]!).reduce((s, v) => s + v, 0);
    expect(got[1]).toBe(Math.fround(sum0)); // the first column, summed in doubles in row order
    expect([got[0], got[cols + 1]]).toEqual([7, 7]);
  });

  // Last: the heap is full of 4 MB buffers afterwards (freed, but only for buffers of that size).
  it('a full heap hands out plain arrays, which work the same', () => {
    // Its own backend, destroyed at the end: its pool gives the buffers back to the heap's lists.
    const own = createWasmBackend();
    const kern = sharedKernels()!;
    const size = 2 ** 20;
    const taken: Float32Array[] = [];
    let plain: Float32Array | undefined;
    for (let i = 0; i <= HEAP_FLOATS / size + 1 && plain === undefined; i++) {
      const buf = f32(own.alloc(size, 'float32'));
      if (heapOffset(kern, buf) < 0) plain = buf;
      else taken.push(buf);
    }
    expect(plain).toBeDefined();
    expect(taken.length).toBeGreaterThan(0);
    const x = random(size, 1);
    plain!.set(x);
    expectSameBits(f32(own.upload(x)), plain!);
    for (const buf of [...taken, plain!]) own.free(buf);
    own.destroy();
  });

});
