import { describe, expect, it } from 'vitest';
import { unary } from '../elementwise.ts';
import { MATH_OPS, type MathModuleExports, type MathOp, buildMathModule } from './math-module.ts';
import { CHUNK, createWasmMath, tryWasmUnary, wasmMathEnabled } from './wasm-math.ts';
import { wasmSimdAvailable } from './wasm-matmul.ts';
import { MATH_REFERENCE as REFERENCE, mathMismatches as mismatches, sameFloat as same } from './math-reference.ts';
import { rng } from '../../../test-random.ts';

// The wasm functions are held to the TypeScript loops of elementwise.ts, i.e. Math.exp / Math.tanh and
// the stable two-branch sigmoid evaluated in doubles and rounded to float32 once. The requirement is
// an exact match (same float32, NaN for NaN, the sign of a zero included), not "within 1 ulp": a
// fused kernel that applies them to its own blocks and the separate ops must agree bit for bit whichever path runs, and a check
// over all 2^32 float32 inputs (scripts/wasm-math-exhaustive.mjs) found no input where they differ. (The
// wasm evaluation is accurate to about 2^-51, so a difference is possible in principle, when V8's
// double and ours straddle a float32 rounding boundary; should a V8 update ever produce one, the
// random-input tests below would likely still pass and that script would name it.)

const WA = (globalThis as unknown as {
  WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object, imports: object) => { exports: object } };
}).WebAssembly;

/** n float32s from random bit patterns: every exponent equally likely, NaNs, infinities and subnormals included. */
function anyFloats(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return new Float32Array(Uint32Array.from({ length: n }, () => Math.floor(r() * 2 ** 32)).buffer);
}

/** n floats uniform in [lo, hi). */
function uniformFloats(n: number, lo: number, hi: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

/** n floats of either sign with magnitudes log-uniform in [2^lo, 2^hi): dense near zero. */
function logUniformFloats(n: number, lo: number, hi: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() < 0.5 ? -1 : 1) * 2 ** (lo + (hi - lo) * r()));
}

/** A fresh instance of the module and its memory as floats, for calls with chosen addresses. */
function instance(): { exports: MathModuleExports; view: Float32Array } {
  const exports = new WA.Instance(new WA.Module(buildMathModule()), {}).exports as MathModuleExports;
  return { exports, view: new Float32Array(exports.memory.buffer) };
}

/** Inputs where each op leaves its smooth range: overflow, underflow, saturation, signed zeros, NaN. */
const EDGES = Float32Array.from([
  NaN, -NaN, Infinity, -Infinity, 0, -0, 1, -1,
  3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, -1.401298464324817e-45, 1.1754943508222875e-38,
  -1.1754943508222875e-38, 1e-30, -1e-30, 2 ** -12, -(2 ** -12), 2 ** -13, 0.34657359, -0.34657359, 0.5493061, -0.5493061,
  88, 88.5, 88.72283, 88.72284, 88.7229, 89, 100, 120, 1e10, -87.33654, -87.3366, -100, -103.27893, -103.97, -103.972,
  -103.9721, -104, -110, -120, -1e10, 8, 9, 9.01, 10, 19.99, 20, 20.01, 44.35, 1e5, -8, -9.01, -20, -1e5,
  16.635532, -16.635532, 36.7368, -36.7368, 200, -200, 1e30, -1e30,
]);

describe('wasm math module', () => {
  it('is available in this Node, and the backend uses it unless TINYTAPE_WASM_MATH=0', () => {
    expect(wasmSimdAvailable()).toBe(true);
    expect(createWasmMath()).not.toBeNull();
    expect(wasmMathEnabled()).toBe(process.env.TINYTAPE_WASM_MATH !== '0');
  });

  it('the comparison notices a one-ulp difference (so the checks below can fail)', () => {
    const x = uniformFloats(64, -5, 5, 1);
    const run = createWasmMath()!;
    for (const op of MATH_OPS) {
      const out = new Float32Array(x.length);
      run(op, x, out, x.length);
      expect(mismatches(op, x, out)).toEqual([]);
      const bits = new Int32Array(out.buffer);
      bits[17] = bits[17]! + 1;
      expect(mismatches(op, x, out)).toHaveLength(1);
    }
  });

  it.each(MATH_OPS)('%s: equals the TypeScript loop on the edge cases', (op) => {
    const out = new Float32Array(EDGES.length);
    createWasmMath()!(op, EDGES, out, EDGES.length);
    expect(mismatches(op, EDGES, out)).toEqual([]);
    // What the reference does there, spelled out for the record.
    const at = (v: number): number => out[EDGES.findIndex((e) => Object.is(e, Math.fround(v)))]!;
    expect(at(NaN)).toBeNaN();
    if (op === 'exp') {
      expect([at(Infinity), at(-Infinity), at(100), at(-120)]).toEqual([Infinity, 0, Infinity, 0]);
    } else if (op === 'tanh') {
      expect([at(Infinity), at(-Infinity), at(20.01), Object.is(at(-0), -0)]).toEqual([1, -1, 1, true]);
    } else {
      expect([at(Infinity), at(-Infinity), at(1e30), at(-1e30), at(0)]).toEqual([1, 0, 1, 0, 0.5]);
    }
  });

  it.each(MATH_OPS)('%s: equals the TypeScript loop on random inputs over the whole float32 range and the busy ranges', (op) => {
    const run = createWasmMath()!;
    const sets = [
      anyFloats(1 << 18, 2),
      uniformFloats(1 << 18, -110, 100, 3),
      uniformFloats(1 << 16, -12, 12, 4),
      logUniformFloats(1 << 16, -150, 7, 5),
    ];
    for (const x of sets) {
      const out = new Float32Array(x.length);
      run(op, x, out, x.length);
      expect(mismatches(op, x, out).slice(0, 10)).toEqual([]);
    }
  });

  it('handles every tail length 0..9 without touching memory outside the array, in place or not', () => {
    const { exports, view } = instance();
    const SENTINEL = 12345;
    for (const op of MATH_OPS) {
      for (let n = 0; n <= 9; n++) {
        // Source at float 5 (4-byte but not 16-byte aligned), destination at float 40.
        const x = uniformFloats(n, -3, 3, 100 + n);
        for (const dst of [40, 5]) {
          view.fill(SENTINEL, 0, 64);
          view.set(x, 5);
          exports[op](5 * 4, dst * 4, n);
          const got = view.slice(dst, dst + n);
          expect(mismatches(op, x, got), `${op} n=${n} dst=${dst}`).toEqual([]);
          const untouched = [...view.subarray(0, 64)].filter((v, i) => !(i >= dst && i < dst + n) && !(i >= 5 && i < 5 + n));
          expect(untouched.every((v) => v === SENTINEL), `${op} n=${n} dst=${dst} wrote outside`).toBe(true);
        }
      }
    }
  });

  it('runs arrays longer than one chunk, and leaves out[size..] alone', () => {
    const run = createWasmMath()!;
    const size = 2 * CHUNK + 7;
    const x = uniformFloats(size, -30, 30, 6);
    for (const op of MATH_OPS) {
      const out = new Float32Array(size + 3).fill(-7);
      run(op, x, out, size);
      expect(mismatches(op, x, out.subarray(0, size)).slice(0, 10)).toEqual([]);
      expect([...out.subarray(size)]).toEqual([-7, -7, -7]);
    }
  });

  it('gives the same results as a module with another unrolling (the body is the same per vector)', () => {
    const x = anyFloats(1001, 7);
    for (const op of MATH_OPS) {
      const a = new Float32Array(x.length);
      const b = new Float32Array(x.length);
      createWasmMath(1)!(op, x, a, x.length);
      createWasmMath(3)!(op, x, b, x.length);
      expect(new Uint32Array(a.buffer)).toEqual(new Uint32Array(b.buffer));
    }
  });
});

describe('shifted exponentials of rows (softmax)', () => {
  /** exp(x − shift) for each row as the TypeScript loop computes it: the difference in doubles. */
  function expectRows(x: Float32Array, got: Float32Array, rows: number, cols: number, shifts: Float32Array): void {
    const bad: string[] = [];
    for (let r = 0; r < rows && bad.length < 10; r++) {
      for (let j = 0; j < cols; j++) {
        const i = r * cols + j;
        const want = Math.fround(Math.exp(x[i]! - shifts[r]!));
        if (!same(got[i]!, want)) bad.push(`row ${r}: exp(${x[i]} - ${shifts[r]}) = ${got[i]}, expected ${want}`);
      }
    }
    expect(bad, `${rows}x${cols}`).toEqual([]);
  }

  it('equals Math.exp(x - shift) for row lengths 0..9, 28, 1000 and one longer than a chunk', () => {
    const run = createWasmMath()!;
    for (const [rows, cols] of [...Array.from({ length: 10 }, (_, c) => [7, c]), [1120, 28], [40, 1000], [2, CHUNK + 5]] as const) {
      const x = uniformFloats(rows * cols, -60, 60, 300 + cols);
      // Row maxima, and shifts that leave positive exponents, overflow and NaN (−Infinity − −Infinity).
      const shifts = Float32Array.from({ length: rows }, (_, r) => {
        let m = -Infinity;
        for (let j = 0; j < cols; j++) m = Math.max(m, x[r * cols + j]!);
        return r % 5 === 1 ? -40 : m;
      });
      const out = new Float32Array(rows * cols + 2).fill(-7);
      run.expRows(x, out, rows, cols, shifts);
      expectRows(x, out, rows, cols, shifts);
      expect([...out.subarray(rows * cols)]).toEqual([-7, -7]);
    }
    const x = Float32Array.from([-Infinity, -Infinity, NaN, 1, Infinity, 0]);
    const shifts = Float32Array.from([-Infinity, 1, Infinity]);
    const out = new Float32Array(6);
    run.expRows(x, out, 3, 2, shifts);
    expectRows(x, out, 3, 2, shifts);
  });

  it('equals Math.exp(x - shift) on random logits with random float32 shifts', () => {
    const run = createWasmMath()!;
    const [rows, cols] = [4096, 64];
    const x = uniformFloats(rows * cols, -100, 100, 400);
    const shifts = uniformFloats(rows, -100, 100, 401);
    const out = new Float32Array(rows * cols);
    run.expRows(x, out, rows, cols, shifts);
    expectRows(x, out, rows, cols, shifts);
  });
});

describe('the CPU backend routes exp, tanh and sigmoid through it', () => {
  it.each(MATH_OPS)('unary %s equals the TypeScript loop, at every size from 0 to 20 and at 16384', (op) => {
    for (const size of [...Array.from({ length: 21 }, (_, i) => i), 16384]) {
      const x = uniformFloats(size, -20, 20, 200 + size);
      const out = new Float32Array(size);
      unary(op, x, out, size);
      expect(mismatches(op, x, out).slice(0, 10), `size ${size}`).toEqual([]);
    }
  });

  it('tryWasmUnary takes every size (results never depend on size), in place too', () => {
    const x = uniformFloats(9, -2, 2, 8);
    const copy = x.slice();
    expect(tryWasmUnary('tanh', x, x, 9)).toBe(wasmMathEnabled());
    if (wasmMathEnabled()) expect(mismatches('tanh', copy, x)).toEqual([]);
    expect(tryWasmUnary('exp', x, x, 0)).toBe(wasmMathEnabled());
  });
});
