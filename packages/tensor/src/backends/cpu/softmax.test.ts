import { describe, expect, it } from 'vitest';
import type { BackendBuffer } from '../../backend.ts';
import { rng } from '../../test-random.ts';
import { createWasmBackend } from './index.ts';

// crossEntropyBackward reuses the exponentials crossEntropy computed for the same logits buffer while
// the buffer is unchanged (softmax.ts). These check that the reuse gives exactly the bits a fresh
// computation gives, and that logits written through the backend in between are not served stale.

const be = createWasmBackend();
const [rows, cols] = [70, 28];

function random(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() * 8 - 4);
}

const f32 = (b: BackendBuffer): Float32Array => b as Float32Array;
const targets = be.upload(Int32Array.from({ length: rows }, (_, i) => (i * 5) % cols));
const gradOut = be.upload(Float32Array.of(1.75));

/** The gradient for `values` from a buffer that no crossEntropy has seen. */
function fresh(values: Float32Array): number[] {
  const out = be.alloc(rows * cols, 'float32');
  be.crossEntropyBackward(be.upload(values), targets, gradOut, out, rows, cols);
  return Array.from(f32(out));
}

function backwardOf(logits: BackendBuffer): number[] {
  const out = be.alloc(rows * cols, 'float32');
  be.crossEntropyBackward(logits, targets, gradOut, out, rows, cols);
  return Array.from(f32(out));
}

describe('cpu cross-entropy: backward after forward', () => {
  it('reuses the forward\'s exponentials with the same bits as computing them again', () => {
    const values = random(rows * cols, 1);
    const logits = be.upload(values);
    be.crossEntropy(logits, targets, be.alloc(1, 'float32'), rows, cols);
    expect(backwardOf(logits)).toEqual(fresh(values));
  });

  it('computes them again for logits written through the backend since the forward', () => {
    const logits = be.upload(random(rows * cols, 2));
    be.crossEntropy(logits, targets, be.alloc(1, 'float32'), rows, cols);
    const next = random(rows * cols, 3);
    be.copy(be.upload(next), logits, { shape: [rows * cols], srcStrides: [1], dstStrides: [1], srcOffset: 0, dstOffset: 0, size: rows * cols });
    expect(backwardOf(logits)).toEqual(fresh(next));
  });

  it('computes them again for other logits, and after a forward with an invalid target', () => {
    const [a, b] = [random(rows * cols, 4), random(rows * cols, 5)];
    const la = be.upload(a);
    be.crossEntropy(la, targets, be.alloc(1, 'float32'), rows, cols);
    expect(backwardOf(be.upload(b))).toEqual(fresh(b));
    // A forward that stops at a bad target computes nothing, so it must not leave la's exponentials as its own.
    const bad = be.upload(Int32Array.from({ length: rows }, (_, i) => (i === 3 ? cols : 0)));
    be.crossEntropy(la, bad, be.alloc(1, 'float32'), rows, cols);
    expect(backwardOf(la)).toEqual(fresh(a));
  });
});
