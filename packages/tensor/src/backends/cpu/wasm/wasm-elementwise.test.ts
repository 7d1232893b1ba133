import { describe, expect, it } from 'vitest';
import { rng } from '../../../test-random.ts';
import { WASM_BINARY_OPS, WASM_SIMPLE_UNARY_OPS, type WasmBinaryOp, type WasmSimpleUnaryOp } from './elementwise-module.ts';
import {
  ELEMENTWISE_CHUNK, ELEMENTWISE_MIN, createWasmElementwise, tryWasmAxpy, tryWasmBinary, tryWasmBinaryRow,
  tryWasmBinaryScalar, tryWasmColumnSums, tryWasmSimpleUnary, wasmElementwiseEnabled,
} from './wasm-elementwise.ts';

// The wasm kernels must give the float32 results of the TypeScript loops bit for bit. The references
// below are those loops' expressions, evaluated in doubles and rounded once by Math.fround, as a
// Float32Array store does.

const inst = createWasmElementwise();

/** Random floats of mixed magnitudes, with the special values sprinkled in. */
function values(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const special = [0, -0, Infinity, -Infinity, NaN, 1e-40, -3e-39, 3.4e38, -1, 1, 0.5];
  return Float32Array.from({ length: n }, (_, i) => {
    if (i % 37 === 5) return special[Math.floor(r() * special.length)]!;
    return (r() - 0.5) * 2 ** Math.floor(r() * 40 - 20);
  });
}

const binaryRef: Record<WasmBinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
};
const unaryRef: Record<WasmSimpleUnaryOp, (v: number) => number> = {
  neg: (v) => -v,
  square: (v) => v * v,
  oneMinusSquare: (v) => 1 - v * v,
  sigmoidGradFromOutput: (v) => v * (1 - v),
};

/** Bit-for-bit equality of float32 arrays, NaN equal to NaN, naming the first difference. */
function expectSame(got: Float32Array, want: ArrayLike<number>, label: string): void {
  for (let i = 0; i < want.length; i++) {
    const w = Math.fround(want[i]!);
    if (!Object.is(got[i], w) && !(Number.isNaN(got[i]) && Number.isNaN(w))) {
      expect.fail(`${label}: index ${i} got ${got[i]}, want ${w}`);
    }
  }
}

const SIZES = [ELEMENTWISE_MIN, ELEMENTWISE_MIN + 1, 1003, ELEMENTWISE_CHUNK, ELEMENTWISE_CHUNK + 3, 2 * ELEMENTWISE_CHUNK + 1030];

describe('wasm elementwise kernels', () => {
  it('are on in Node', () => {
    expect(inst).not.toBeNull();
    expect(wasmElementwiseEnabled()).toBe(true);
  });

  it.each(WASM_BINARY_OPS)('%s over arrays, at offsets, equals the TypeScript loop', (op) => {
    let seed = 1;
    for (const n of SIZES) {
      const a = values(n + 7, seed++);
      const b = values(n + 5, seed++);
      const out = new Float32Array(n + 9).fill(42);
      expect(tryWasmBinary(op, a, 7, b, 5, out, 2, n, inst)).toBe(true);
      expectSame(out.subarray(2, 2 + n), Array.from({ length: n }, (_, i) => binaryRef[op](a[7 + i]!, b[5 + i]!)), `${op} n=${n}`);
      expect([out[0], out[1], ...out.subarray(2 + n)]).toEqual(new Array(9).fill(42));
    }
  });

  it.each(WASM_BINARY_OPS)('%s with a scalar, and in place, equals the TypeScript loop', (op) => {
    for (const n of SIZES) {
      const a = values(n, n);
      const s = Math.fround(-1.7);
      const want = Array.from(a, (v) => binaryRef[op](v, s));
      expect(tryWasmBinaryScalar(op, a, 0, s, a, 0, n, inst)).toBe(true);
      expectSame(a, want, `${op} scalar n=${n}`);
    }
  });

  it.each(WASM_BINARY_OPS)('%s with a bias row equals the TypeScript loop, for any row length', (op) => {
    let seed = 50;
    for (const cols of [1, 3, 4, 28, 513, 4096, ELEMENTWISE_CHUNK]) {
      for (const rows of [Math.ceil(ELEMENTWISE_MIN / cols), 33, 70]) {
        if (rows * cols < ELEMENTWISE_MIN) continue; // left to TypeScript, as the last test shows
        const a = values(rows * cols, seed++);
        const b = values(cols, seed++);
        const out = new Float32Array(rows * cols + 4).fill(42);
        expect(tryWasmBinaryRow(op, a, b, out, rows, cols, inst)).toBe(true);
        const want = Array.from({ length: rows * cols }, (_, i) => binaryRef[op](a[i]!, b[i % cols]!));
        expectSame(out, want, `${op} row ${rows}x${cols}`);
        expect(Array.from(out.subarray(rows * cols))).toEqual([42, 42, 42, 42]);
      }
    }
  });

  it.each(WASM_SIMPLE_UNARY_OPS)('%s equals the TypeScript loop (values in [0, 1] too)', (op) => {
    let seed = 80;
    for (const n of SIZES) {
      const r = rng(seed);
      for (const x of [values(n, seed++), Float32Array.from({ length: n }, () => r())]) {
        const out = new Float32Array(n);
        expect(tryWasmSimpleUnary(op, x, out, n, inst)).toBe(true);
        expectSame(out, Array.from(x, unaryRef[op]), `${op} n=${n}`);
      }
    }
  });

  it('axpy rounds y + alpha·x as the TypeScript loop does, for an alpha that is no float32', () => {
    for (const n of SIZES) {
      for (const alpha of [-1, 0.1, -1 / 3, 1e-30]) {
        const y = values(n, n + 1);
        const x = values(n, n + 2);
        const want = Array.from(y, (v, i) => v + alpha * x[i]!);
        expect(tryWasmAxpy(y, x, alpha, n, inst)).toBe(true);
        expectSame(y, want, `axpy n=${n} alpha=${alpha}`);
      }
    }
  });

  it('column sums add in doubles in row order and round once, for any row length and row count', () => {
    let seed = 120;
    for (const cols of [1, 3, 28, 512, 515, ELEMENTWISE_CHUNK]) {
      for (const rows of [Math.ceil(ELEMENTWISE_MIN / cols), 32, 1120]) {
        if (rows * cols > 4e6 || rows * cols < ELEMENTWISE_MIN) continue;
        const x = values(rows * cols + 3, seed++);
        const want = new Float64Array(cols);
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) want[c] += x[3 + r * cols + c]!;
        const out = new Float32Array(cols + 2).fill(42);
        expect(tryWasmColumnSums(x, 3, out, 1, rows, cols, inst)).toBe(true);
        expectSame(out.subarray(1, 1 + cols), want, `colSum ${rows}x${cols}`);
        expect([out[0], out[cols + 1]]).toEqual([42, 42]);
      }
    }
  });

  it('leaves small calls and rows longer than a chunk to the TypeScript loops, writing nothing', () => {
    const out = new Float32Array(ELEMENTWISE_MIN).fill(5);
    const small = values(ELEMENTWISE_MIN - 1, 3);
    expect(tryWasmBinary('add', small, 0, small, 0, out, 0, small.length, inst)).toBe(false);
    expect(tryWasmSimpleUnary('square', small, out, small.length, inst)).toBe(false);
    expect(tryWasmAxpy(out, small, 2, small.length, inst)).toBe(false);
    const wide = values(ELEMENTWISE_CHUNK + 1, 4);
    expect(tryWasmBinaryRow('add', wide, wide, new Float32Array(wide.length), 1, wide.length, inst)).toBe(false);
    expect(tryWasmColumnSums(wide, 0, out, 0, 1, wide.length, inst)).toBe(false);
    expect(Array.from(out)).toEqual(new Array(ELEMENTWISE_MIN).fill(5));
  });
});
