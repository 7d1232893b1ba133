// The cheap elementwise kernels of a training step in WebAssembly SIMD: sums and products of
// arrays, bias rows and scalars, square, 1 − x² (tanh's derivative), axpy and column sums (bias
// gradients). Written with the assembler in wasm-writer.ts and compiled at run time; the host side
// is wasm-elementwise.ts.
//
// Why: V8 runs a TypeScript loop such as `out[i] = a[i] + b[i]` over Float32Arrays at about 3 ns per
// element here (each element is widened to a double and rounded back), while f32x4 lanes do four
// at a time. With the copies in and out of wasm memory an add of [32,512] took 67-84 -> 9 µs.
//
// Every result equals the TypeScript kernel's bit for bit, so which path ran never shows:
// * add, sub, mul and square of float32 values are correctly rounded in f32x4 arithmetic, and
//   also when V8 computes them in doubles and rounds once (a double holds every exact sum and
//   product of two floats' worth of bits, so its single rounding to float32 is the same).
// * 1 − x², x(1 − x), y + αx and column sums take more than one operation, rounded in doubles by the
//   TypeScript kernels, so they are computed here in f64x2 lanes, in the same order, and rounded to
//   float32 once at the end.
//
// Every kernel works on whole vectors of 4 floats: the host gives each region at least 3 floats of
// slack, and the lanes past n hold whatever was there and are never copied out. A kernel over rows
// (the *Row ones, colSum) reads and writes up to 3 floats past each row; since rows are processed in
// order, the next row's values overwrite what the previous row wrote past its end, and the reads
// past a row's end only feed lanes that are dropped. Pointers are byte addresses, counts in floats.

import { type FunctionBuilder, ModuleBuilder } from './wasm-writer.ts';

/** The binary ops with a wasm kernel. */
export type WasmBinaryOp = 'add' | 'sub' | 'mul';
export const WASM_BINARY_OPS: readonly WasmBinaryOp[] = ['add', 'sub', 'mul'];

/** The unary ops with a wasm kernel (exp, tanh and sigmoid are in math-module.ts). */
export type WasmSimpleUnaryOp = 'neg' | 'square' | 'oneMinusSquare' | 'sigmoidGradFromOutput';
export const WASM_SIMPLE_UNARY_OPS: readonly WasmSimpleUnaryOp[] = ['neg', 'square', 'oneMinusSquare', 'sigmoidGradFromOutput'];

/** The memory export, typed as far as the host uses it. */
export interface ElementwiseMemory {
  readonly buffer: ArrayBuffer;
}

type Binary = (a: number, b: number, out: number, n: number) => void;
type OverRows = (a: number, b: number, out: number, rows: number, cols: number) => void;

/** The module's exports; see the header for the slack every region needs. */
export type ElementwiseExports = { readonly memory: ElementwiseMemory } & {
  /** out[i] = a[i] (op) b[i] for i < n. */
  readonly [op in WasmBinaryOp]: Binary;
} & {
  /** out[i] = a[i] (op) b[0] for i < n. */
  readonly [op in `${WasmBinaryOp}Scalar`]: Binary;
} & {
  /** out[r·cols + c] = a[r·cols + c] (op) b[c] for r < rows, c < cols. */
  readonly [op in `${WasmBinaryOp}Row`]: OverRows;
} & {
  /** out[i] = op(x[i]) for i < n. */
  readonly [op in WasmSimpleUnaryOp]: (x: number, out: number, n: number) => void;
} & {
  /** y[i] = y[i] + alpha·x[i] for i < n, in doubles. */
  readonly axpy: (y: number, x: number, alpha: number, n: number) => void;
  /** acc[c] += x[0·cols + c] + x[1·cols + c] + ... + x[(rows−1)·cols + c], with acc an array of doubles. */
  readonly colSum: (x: number, acc: number, rows: number, cols: number) => void;
  /** Copies `bytes` bytes from src to dst (memmove: the ranges may overlap). */
  readonly copyBytes: (dst: number, src: number, bytes: number) => void;
  /** Sets `bytes` bytes from dst on to zero. */
  readonly zeroBytes: (dst: number, bytes: number) => void;
};

const I32 = 'i32' as const;

/** Runs `body` once per vector of 4 floats in n floats (n on the stack is read from local `n`). */
function perVector(f: FunctionBuilder, n: number, body: () => void): void {
  const count = f.local(I32);
  f.get(n).i32Const(3).i32Add().i32Const(2).i32ShrU().tee(count).if(() => {
    f.loop((top) => {
      body();
      f.get(count).i32Const(1).i32Sub().tee(count).brIf(top);
    });
  });
}

/** local += delta for i32 locals. */
function bump(f: FunctionBuilder, local: number, delta: number): void {
  f.get(local).i32Const(delta).i32Add().set(local);
}

/** The f32x4 instruction of a binary op, applied to the two vectors on the stack. */
function binaryOp(f: FunctionBuilder, op: WasmBinaryOp): void {
  if (op === 'add') f.f32x4Add();
  else if (op === 'sub') f.f32x4Sub();
  else f.f32x4Mul();
}

/**
 * Emits `result = combine(lo, hi)` for the vector in local `v` widened to two f64x2 halves: `each`
 * transforms one half (on the stack) and the two halves are rounded to float32 and joined.
 */
function inDoubles(f: FunctionBuilder, v: number, each: (half: () => void) => void): void {
  each(() => f.get(v).f64x2PromoteLowF32x4());
  f.f32x4DemoteF64x2Zero();
  each(() => f.get(v).get(v).f32x4Shuffle([2, 3, 2, 3]).f64x2PromoteLowF32x4());
  f.f32x4DemoteF64x2Zero();
  f.f32x4Shuffle([0, 1, 4, 5]);
}

/** The elementwise module (one page of memory to start; the host grows it to its regions). */
export function buildElementwiseModule(memoryPages: number, sharedMaximumPages?: number): Uint8Array {
  const mod = new ModuleBuilder(memoryPages, 'memory', sharedMaximumPages);

  for (const op of WASM_BINARY_OPS) {
    mod.addFunction(op, [I32, I32, I32, I32], [], (f) => {
      const [a, b, out, n] = [0, 1, 2, 3];
      perVector(f, n, () => {
        f.get(out).get(a).v128Load();
        f.get(b).v128Load();
        binaryOp(f, op);
        f.v128Store();
        bump(f, a, 16);
        bump(f, b, 16);
        bump(f, out, 16);
      });
    });
    mod.addFunction(`${op}Scalar`, [I32, I32, I32, I32], [], (f) => {
      const [a, b, out, n] = [0, 1, 2, 3];
      const s = f.local('v128');
      f.get(b).v128Load32Splat().set(s);
      perVector(f, n, () => {
        f.get(out).get(a).v128Load().get(s);
        binaryOp(f, op);
        f.v128Store();
        bump(f, a, 16);
        bump(f, out, 16);
      });
    });
    mod.addFunction(`${op}Row`, [I32, I32, I32, I32, I32], [], (f) => {
      const [a, b, out, rows, cols] = [0, 1, 2, 3, 4];
      const [bp, row, pad] = [f.local(I32), f.local(I32), f.local(I32)];
      // Each row is cols floats long; its vector loop covers ceil(cols/4)·4 of them, so pointers into
      // a and out step back by the overshoot at the end of every row.
      f.get(cols).i32Const(3).i32Add().i32Const(-4).i32And().get(cols).i32Sub().i32Const(2).i32Shl().set(pad);
      f.get(rows).tee(row).if(() => {
        f.loop((top) => {
          f.get(b).set(bp);
          perVector(f, cols, () => {
            f.get(out).get(a).v128Load().get(bp).v128Load();
            binaryOp(f, op);
            f.v128Store();
            bump(f, a, 16);
            bump(f, bp, 16);
            bump(f, out, 16);
          });
          f.get(a).get(pad).i32Sub().set(a);
          f.get(out).get(pad).i32Sub().set(out);
          f.get(row).i32Const(1).i32Sub().tee(row).brIf(top);
        });
      });
    });
  }

  for (const op of WASM_SIMPLE_UNARY_OPS) {
    mod.addFunction(op, [I32, I32, I32], [], (f) => {
      const [x, out, n] = [0, 1, 2];
      const v = f.local('v128');
      perVector(f, n, () => {
        f.get(out);
        f.get(x).v128Load().set(v);
        if (op === 'neg') f.get(v).f32x4Neg();
        else if (op === 'square') f.get(v).get(v).f32x4Mul();
        else if (op === 'oneMinusSquare') {
          // 1 − v·v: the square is exact in doubles, the difference rounded once in doubles.
          inDoubles(f, v, (half) => {
            const h = f.local('v128');
            half();
            f.set(h).f64x2Const(1).get(h).get(h).f64x2Mul().f64x2Sub();
          });
        } else {
          // v·(1 − v): 1 − v is exact in doubles for v in float32, the product rounded once.
          inDoubles(f, v, (half) => {
            const h = f.local('v128');
            half();
            f.set(h).get(h).f64x2Const(1).get(h).f64x2Sub().f64x2Mul();
          });
        }
        f.v128Store();
        bump(f, x, 16);
        bump(f, out, 16);
      });
    });
  }

  mod.addFunction('axpy', [I32, I32, 'f64', I32], [], (f) => {
    const [y, x, alpha, n] = [0, 1, 2, 3];
    const [av, xv, yv] = [f.local('v128'), f.local('v128'), f.local('v128')];
    f.get(alpha).f64x2Splat().set(av);
    perVector(f, n, () => {
      f.get(x).v128Load().set(xv);
      f.get(y).v128Load().set(yv);
      f.get(y);
      // y + alpha·x per half: the product and the sum each rounded in doubles, as `y[i] + alpha * x[i]`.
      f.get(yv).f64x2PromoteLowF32x4().get(av).get(xv).f64x2PromoteLowF32x4().f64x2Mul().f64x2Add().f32x4DemoteF64x2Zero();
      f.get(yv).get(yv).f32x4Shuffle([2, 3, 2, 3]).f64x2PromoteLowF32x4();
      f.get(av).get(xv).get(xv).f32x4Shuffle([2, 3, 2, 3]).f64x2PromoteLowF32x4().f64x2Mul().f64x2Add().f32x4DemoteF64x2Zero();
      f.f32x4Shuffle([0, 1, 4, 5]).v128Store();
      bump(f, x, 16);
      bump(f, y, 16);
    });
  });

  mod.addFunction('colSum', [I32, I32, I32, I32], [], (f) => {
    const [x, acc, rows, cols] = [0, 1, 2, 3];
    const [lo, hi, v] = [f.local('v128'), f.local('v128'), f.local('v128')];
    const [p, row, stride] = [f.local(I32), f.local(I32), f.local(I32)];
    f.get(cols).i32Const(2).i32Shl().set(stride);
    // One group of 4 columns at a time, down all the rows: two f64x2 sums, in row order.
    perVector(f, cols, () => {
      f.get(acc).v128Load().set(lo);
      f.get(acc).v128Load(16).set(hi);
      f.get(x).set(p);
      f.get(rows).tee(row).if(() => {
        f.loop((top) => {
          f.get(p).v128Load().set(v);
          f.get(lo).get(v).f64x2PromoteLowF32x4().f64x2Add().set(lo);
          f.get(hi).get(v).get(v).f32x4Shuffle([2, 3, 2, 3]).f64x2PromoteLowF32x4().f64x2Add().set(hi);
          f.get(p).get(stride).i32Add().set(p);
          f.get(row).i32Const(1).i32Sub().tee(row).brIf(top);
        });
      });
      f.get(acc).get(lo).v128Store();
      f.get(acc).get(hi).v128Store(16);
      bump(f, acc, 32);
      bump(f, x, 16);
    });
  });

  // Plain copies and zeroing, for arrays in a shared memory: there V8's TypedArray set and fill take a
  // path safe for concurrent access that ran 4x (set) and 10x (fill) slower than on an ordinary
  // buffer (64 KB: 2.5 against 0.7 µs, 4.7 against 0.5 µs), while memory.copy and memory.fill are a
  // memmove and a memset.
  mod.addFunction('copyBytes', [I32, I32, I32], [], (f) => {
    f.get(0).get(1).get(2).memoryCopy();
  });
  mod.addFunction('zeroBytes', [I32, I32], [], (f) => {
    f.get(0).i32Const(0).get(1).memoryFill();
  });

  return mod.toBytes();
}
