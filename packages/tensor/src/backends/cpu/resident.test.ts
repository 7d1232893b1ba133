import { describe, expect, it } from 'vitest';
import type { BackendBuffer, MatmulParams } from '../../backend.ts';
import { createCpuBackend } from './index.ts';
import { matmul as tsMatmul } from '../reference/matmul.ts';
import { markWritten } from './buffer-versions.ts';
import { wasmMatmul, wasmSimdAvailable } from './wasm/wasm-matmul.ts';

// The wasm matmul keeps a copy of a large right operand B between products and reuses it while the
// array is unchanged. These tests show the copy is really reused (writing B behind the backend's
// back goes unseen until its version is advanced), and that every way the wasm backend writes a
// buffer makes the next product see the new values.

const K = 256;
const N = 256;
const M = 32;
const params = (transB = false): MatmulParams => ({ batch: 1, m: M, n: N, k: K, transA: false, transB, aBatchStride: 0, bBatchStride: 0 });

function random(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) - 0.5);
}

/** The product computed by the reference backend's triple loop. */
function reference(A: Float32Array, B: Float32Array, transB = false): Float32Array {
  const C = new Float32Array(M * N);
  tsMatmul(A, B, C, params(transB));
  return C;
}

function expectClose(got: Float32Array, want: Float32Array): void {
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst).toBeLessThan(1e-4);
}

describe('resident right operands', () => {
  if (!wasmSimdAvailable()) throw new Error('these tests need WebAssembly SIMD (Node 20 has it)');

  it.each([false, true])('a B used twice stays resident: a write behind the backend is not seen until marked written (transB %s)', (transB) => {
    const A = random(M * K, 1);
    const B = random(K * N, 2);
    const C = new Float32Array(M * N);
    const before = reference(A, B, transB);
    // The first use only marks B; the second, with B unchanged, copies it into the resident area.
    for (let use = 0; use < 2; use++) {
      expect(wasmMatmul(A, B, C, params(transB))).toBe(true);
      expectClose(C, before);
    }
    B.fill(0.25); // not through the backend: the resident copy still holds the old values
    wasmMatmul(A, B, C, params(transB));
    expectClose(C, before);
    markWritten(B);
    wasmMatmul(A, B, C, params(transB));
    expectClose(C, reference(A, B, transB));
  });

  it('a B used both as it is and transposed (W_hh forward and backward) gives the right product every time', () => {
    const A = random(M * K, 21);
    const B = random(K * N, 22);
    const C = new Float32Array(M * N);
    const want = [reference(A, B, false), reference(A, B, true)];
    for (let round = 0; round < 3; round++) {
      for (const transB of [false, true]) {
        for (let use = 0; use < 3; use++) {
          expect(wasmMatmul(A, B, C, params(transB))).toBe(true);
          expectClose(C, want[Number(transB)]!);
        }
      }
    }
  });

  it('a weight written between rounds of both layouts is repacked at its next use in each', () => {
    const A = random(M * K, 31);
    const B = random(K * N, 32);
    const C = new Float32Array(M * N);
    for (let round = 0; round < 4; round++) {
      const want = [reference(A, B, false), reference(A, B, true)];
      for (const transB of [false, true]) {
        for (let use = 0; use < 3; use++) {
          expect(wasmMatmul(A, B, C, params(transB))).toBe(true);
          expectClose(C, want[Number(transB)]!);
        }
      }
      // The optimizer's update: new values, marked as a backend write would mark them.
      B.set(random(K * N, 40 + round));
      markWritten(B);
    }
  });

  it('a B used once is not kept: its next use copies the values it has then', () => {
    const A = random(M * K, 11);
    const B = random(K * N, 12);
    const C = new Float32Array(M * N);
    wasmMatmul(A, B, C, params());
    B.fill(-0.5);
    wasmMatmul(A, B, C, params());
    expectClose(C, reference(A, B));
  });

  // Each case writes b through one backend method; the product after it must use the new values.
  const be = createCpuBackend();
  const f32 = (b: BackendBuffer) => b as Float32Array;
  const writers: [string, (b: BackendBuffer, x: BackendBuffer) => void][] = [
    ['fill', (b) => be.fill(b, K * N, 0.5, 'float32')],
    ['unary', (b, x) => be.unary('neg', x, b, K * N)],
    ['scalar', (b, x) => be.scalar('mul', x, 3, b, K * N)],
    ['binary', (b, x) => be.binary('add', x, x, b, { size: K * N, outShape: [K * N], aStrides: [1], bStrides: [1] })],
    ['binaryInPlace', (b, x) => be.binaryInPlace('mul', b, x, { size: K * N, outShape: [K * N], aStrides: [1], bStrides: [1] })],
    ['axpy', (b, x) => be.axpy(b, x, -2, K * N)],
    ['copy', (b, x) => be.copy(x, b, { size: K * N, shape: [K * N], srcStrides: [1], dstStrides: [1], srcOffset: 0, dstOffset: 0 })],
    ['matmul', (b, x) => be.matmul(x, x, b, { batch: 1, m: K, n: N, k: K, transA: false, transB: true, aBatchStride: 0, bBatchStride: 0 })],
  ];
  it.each(writers)('the next product sees a write by %s', (_, write) => {
    const a = be.upload(random(M * K, 3));
    const b = be.upload(random(K * N, 4));
    const x = be.upload(random(K * N, 5));
    const c = be.alloc(M * N, 'float32');
    be.matmul(a, b, c, params());
    be.matmul(a, b, c, params()); // b is resident from here on
    write(b, x);
    be.matmul(a, b, c, params());
    expectClose(f32(c), reference(f32(a), f32(b)));
    for (const t of [a, b, x, c]) be.free(t);
  });

  it('a freed B reused from the pool for new values is not mistaken for the old one', () => {
    const a = be.upload(random(M * K, 6));
    const b = be.upload(random(K * N, 7));
    const c = be.alloc(M * N, 'float32');
    be.matmul(a, b, c, params());
    be.matmul(a, b, c, params());
    be.free(b);
    const again = be.upload(random(K * N, 8)); // the pool hands back the same array
    expect(again).toBe(b);
    be.matmul(a, again, c, params());
    expectClose(f32(c), reference(f32(a), f32(again)));
  });
});
