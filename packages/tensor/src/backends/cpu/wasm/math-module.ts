// exp, tanh and sigmoid over float32 arrays in WebAssembly SIMD, written with the assembler in
// wasm-writer.ts and compiled at run time (wasm-math.ts is the host side).
//
// Why this shape:
// * The results must round to the same float32 as the TypeScript kernels, which evaluate Math.exp /
//   Math.tanh in doubles and round once on the store; then switching paths changes nothing, and the
//   fused kernels (the recurrent cells of packages/rnn) stay equal to the separate ops. A float32 evaluation would be off by an ulp
//   on a good share of inputs. So each float is widened to f64 (exactly), the function is computed
//   to about 2^-51 relative error, and the result rounded to f32 once. That agrees with rounding
//   V8's double result unless the two doubles straddle a float32 rounding boundary, which can
//   happen in principle but does for no float32 input: all 2^32 were checked for each op (the
//   opt-in test in wasm-math.test.ts).
// * exp(x) = 2^k · e^r with k = round(x / ln 2) and r = x − k·ln 2, |r| ≤ ln2/2. ln 2 is split into a
//   high part with trailing zero bits (so k·hi is exact for every |k| < 2^11) and a low part, which
//   keeps r accurate to the last bit. e^r is the degree-12 Taylor polynomial: its truncation error
//   (ln2/2)^13/13! is about 2^-52 of the result, the size of double rounding (degree 10 measured
//   2^-41.6, and one float32 result in a few million differed), and Taylor coefficients need no
//   fitting tool. Horner form; with several independent vectors in flight per iteration the
//   dependency chain of each is hidden.
// * Rounding and 2^k without float->int conversions: adding 1.5·2^52 to x/ln2 leaves round(x/ln2) in
//   the low mantissa bits of the sum (SIMD has no f64 -> i64 conversion); shifting those bits left by 52 puts k in the exponent field, and adding the bits
//   of 1.0 makes the double 2^k. Subtracting 1.5·2^52 again gives k as a double for the reduction.
// * x is first clamped to [-120, 100]: every float32 result is then already decided (e^100 rounds to
//   Infinity, e^-120 to 0 in float32), 2^k stays a normal double, and ±Infinity need no special
//   case. The clamps use pmin/pmax, which keep a NaN in x, so NaN flows through to the result.
// * tanh(x) = sign(x)·e/(e + 2) with e = expm1(2|x|), and expm1 from the same reduction as
//   (2^k − 1) + 2^k·(e^r − 1), with e^r − 1 as the polynomial without its constant term. This form
//   has no cancellation near 0 (tanh(x) ≈ x to full precision, ±0 keeps its sign), and |x| is
//   clamped to 20, past which tanh is 1 in doubles, so e stays finite.
// * sigmoid uses e = exp(−|x|) ≤ 1 and then 1/(1 + e) for x ≥ 0, e/(1 + e) otherwise: the same
//   operations, in the same order, as the stable two-branch formula of the TypeScript kernel.
// * A call handles any n: full vectors of 4 floats (several per loop iteration), then up to 3 floats
//   loaded and stored lane by lane, so nothing outside [src, src + 4n) is read or written.

import { type FunctionBuilder, ModuleBuilder } from './wasm-writer.ts';

/** The functions the module exports, one per op. */
export type MathOp = 'exp' | 'tanh' | 'sigmoid';

export const MATH_OPS: readonly MathOp[] = ['exp', 'tanh', 'sigmoid'];

/** The memory export, typed as far as the host uses it. */
export interface MathMemory {
  readonly buffer: ArrayBuffer;
  /** Grows by `pages` 64 KiB pages and returns the old size in pages; throws when it cannot. */
  grow(pages: number): number;
}

/**
 * The module's exports. Each op reads n float32s at byte address `src` and writes op(x) to `dst`
 * (which may equal `src`); both must be 4-byte aligned. `expShifted` writes exp(x − shift), the
 * difference taken in doubles (as `Math.exp(x - shift)` does), for softmax rows shifted by their
 * maximum.
 */
export type MathModuleExports = { readonly memory: MathMemory } & {
  readonly [op in MathOp]: (src: number, dst: number, n: number) => void;
} & {
  readonly expShifted: (src: number, dst: number, n: number, shift: number) => void;
};

/** Degree of the Taylor polynomial for e^r on |r| ≤ ln2/2 (see the header comment). */
export const EXP_DEGREE = 12;

/** 1.5·2^52: adding it to a double of magnitude < 2^51 rounds it to an integer in the low mantissa bits. */
const SHIFTER = 6755399441055744;
/** ln 2 = LN2_HI + LN2_LO, LN2_HI with its low 21 bits zero (0x3fe62e42fee00000). */
const LN2_HI = 0.6931471803691238;
const LN2_LO = 1.9082149292705877e-10;
/** exp's input range that still decides a float32 result (see the header comment). */
const EXP_MIN = -120;
const EXP_MAX = 100;
/** Past this |x|, tanh(x) is ±1 in doubles. */
const TANH_MAX = 20;

/** 1/i! for i = 0..degree, each correctly rounded (i! itself is exact in a double up to 18!). */
function taylorCoefficients(degree: number): number[] {
  const c: number[] = [];
  let factorial = 1;
  for (let i = 0; i <= degree; i++) {
    if (i > 0) factorial *= i;
    c.push(1 / factorial);
  }
  return c;
}

/** Constants held in v128 locals, loaded once per call rather than rebuilt inside the loop. */
interface Constants {
  readonly splat: (value: number) => number;
  readonly signF32: number;
  readonly signF64: number;
}

function declareConstants(f: FunctionBuilder, values: readonly number[]): Constants {
  const byValue = new Map<number, number>();
  const splatLocal = (value: number): number => {
    let index = byValue.get(value);
    if (index === undefined) {
      index = f.local('v128');
      f.f64x2Const(value).set(index);
      byValue.set(value, index);
    }
    return index;
  };
  for (const v of values) splatLocal(v);
  // The sign masks stay out of the map, whose keys do not tell −0 from 0.
  const signF32 = f.local('v128');
  f.i32x4Const(0x80000000).set(signF32);
  const signF64 = f.local('v128');
  f.f64x2Const(-0).set(signF64);
  return {
    splat: (value) => {
      const index = byValue.get(value);
      if (index === undefined) throw new Error(`math-module: constant ${value} not declared`);
      return index;
    },
    signF32,
    signF64,
  };
}

/** Per-chain v128 locals for the f64x2 evaluation of one op. */
interface Chain {
  /** The input, as promoted; kept for the ops that need x's sign afterwards. */
  readonly x: number;
  readonly a: number;
  readonly t: number;
  readonly r: number;
  readonly p: number;
  readonly s: number;
}

/**
 * Emits `step(chain)` for every chain, so that consecutive instructions belong to independent
 * dependency chains and the CPU overlaps them.
 */
function each(chains: readonly Chain[], step: (c: Chain) => void): void {
  for (const c of chains) step(c);
}

/**
 * From the clamped argument in `a`: s = 2^k (as a double) and r = a − k·ln 2, |r| ≤ ln2/2.
 */
function emitReduction(f: FunctionBuilder, k: Constants, chains: readonly Chain[]): void {
  each(chains, (c) => f.get(c.a).get(k.splat(Math.LOG2E)).f64x2Mul().get(k.splat(SHIFTER)).f64x2Add().set(c.t));
  // k sits in the low mantissa bits of t (two's complement modulo 2^12 after the shift, which the
  // exponent addition wraps back to k + 1023).
  each(chains, (c) => f.get(c.t).i32Const(52).i64x2Shl().get(k.splat(1)).i64x2Add().set(c.s));
  each(chains, (c) => f.get(c.t).get(k.splat(SHIFTER)).f64x2Sub().set(c.t)); // k as a double
  each(chains, (c) =>
    f.get(c.a).get(c.t).get(k.splat(LN2_HI)).f64x2Mul().f64x2Sub()
      .get(c.t).get(k.splat(LN2_LO)).f64x2Mul().f64x2Sub().set(c.r));
}

/** p = Σ_{i=lowest..degree} r^i / i! in Horner form (lowest 0: e^r; lowest 1: e^r − 1 = r·(...)). */
function emitPolynomial(f: FunctionBuilder, k: Constants, chains: readonly Chain[], lowest: 0 | 1): void {
  const c = taylorCoefficients(EXP_DEGREE);
  each(chains, (ch) => f.get(ch.r).get(k.splat(c[EXP_DEGREE]!)).f64x2Mul().get(k.splat(c[EXP_DEGREE - 1]!)).f64x2Add().set(ch.p));
  for (let i = EXP_DEGREE - 2; i >= lowest; i--) {
    each(chains, (ch) => f.get(ch.p).get(ch.r).f64x2Mul().get(k.splat(c[i]!)).f64x2Add().set(ch.p));
  }
  if (lowest === 1) each(chains, (ch) => f.get(ch.p).get(ch.r).f64x2Mul().set(ch.p));
}

/** The coefficient and range constants every op's function declares up front. */
function constantValues(): number[] {
  return [
    ...taylorCoefficients(EXP_DEGREE), Math.LOG2E, SHIFTER, LN2_HI, LN2_LO, EXP_MIN, EXP_MAX, TANH_MAX, 2,
  ];
}

/** Emits op on the f64x2 value in each chain's `x`, leaving the f64 result in its `p`. */
function emitOpF64(f: FunctionBuilder, op: MathOp, k: Constants, chains: readonly Chain[]): void {
  switch (op) {
    case 'exp':
      each(chains, (c) => f.get(c.x).get(k.splat(EXP_MAX)).f64x2Pmin().get(k.splat(EXP_MIN)).f64x2Pmax().set(c.a));
      emitReduction(f, k, chains);
      emitPolynomial(f, k, chains, 0);
      each(chains, (c) => f.get(c.p).get(c.s).f64x2Mul().set(c.p));
      return;
    case 'sigmoid':
      // a = −|x| (setting the sign bit), clamped below; a ≤ 0 needs no upper clamp.
      each(chains, (c) => f.get(c.x).get(k.signF64).v128Or().get(k.splat(EXP_MIN)).f64x2Pmax().set(c.a));
      emitReduction(f, k, chains);
      emitPolynomial(f, k, chains, 0);
      each(chains, (c) => f.get(c.p).get(c.s).f64x2Mul().set(c.p)); // e = exp(−|x|)
      // x ≥ 0: 1/(1 + e); otherwise (and for NaN) e/(1 + e).
      each(chains, (c) =>
        f.get(k.splat(1)).get(c.p).get(c.x).v128Zero().f64x2Ge().v128Bitselect()
          .get(c.p).get(k.splat(1)).f64x2Add().f64x2Div().set(c.p));
      return;
    case 'tanh':
      // a = 2·min(|x|, 20); the sign is put back on the float32 result.
      each(chains, (c) => f.get(c.x).f64x2Abs().get(k.splat(TANH_MAX)).f64x2Pmin().tee(c.a).get(c.a).f64x2Add().set(c.a));
      emitReduction(f, k, chains);
      emitPolynomial(f, k, chains, 1);
      // e = expm1(a) = (2^k − 1) + 2^k·(e^r − 1), then e/(e + 2).
      each(chains, (c) =>
        f.get(c.s).get(k.splat(1)).f64x2Sub().get(c.s).get(c.p).f64x2Mul().f64x2Add().tee(c.p)
          .get(c.p).get(k.splat(2)).f64x2Add().f64x2Div().set(c.p));
      return;
  }
}

/**
 * Emits op on the float32 vectors in `inputs`, leaving the results in `outputs`: each vector is split
 * into two f64x2 chains, evaluated, rounded back and rejoined.
 */
function emitOpF32x4(
  f: FunctionBuilder, op: MathOp, k: Constants, chains: readonly Chain[], inputs: readonly number[], outputs: readonly number[],
  shift: number | null,
): void {
  inputs.forEach((v, i) => {
    f.get(v).f64x2PromoteLowF32x4().set(chains[2 * i]!.x);
    f.get(v).get(v).f32x4Shuffle([2, 3, 2, 3]).f64x2PromoteLowF32x4().set(chains[2 * i + 1]!.x);
  });
  if (shift !== null) each(chains.slice(0, 2 * inputs.length), (c) => f.get(c.x).get(shift).f64x2Sub().set(c.x));
  emitOpF64(f, op, k, chains.slice(0, 2 * inputs.length));
  outputs.forEach((w, i) => {
    f.get(chains[2 * i]!.p).f32x4DemoteF64x2Zero().get(chains[2 * i + 1]!.p).f32x4DemoteF64x2Zero()
      .f32x4Shuffle([0, 1, 4, 5]);
    // tanh is odd: copy x's sign bit onto |tanh| (which also keeps −0).
    if (op === 'tanh') f.get(inputs[i]!).get(k.signF32).v128And().v128Or();
    f.set(w);
  });
}

/**
 * Adds `name(src, dst, n)` computing op (exported unless `name` is null; returns its index), or with `shifted` `name(src, dst, n, shift)` computing
 * op(x − shift) for an f32 shift. The main loop takes `unroll` vectors (4·unroll floats) per
 * iteration; then single vectors; then a last 1-3 floats through lane loads and stores.
 */
export function addOpFunction(mod: ModuleBuilder, name: string | null, op: MathOp, unroll: number, shifted: boolean): number {
  return mod.addFunction(name, shifted ? ['i32', 'i32', 'i32', 'f32'] : ['i32', 'i32', 'i32'], [], (f) => {
    const [src, dst, n] = [0, 1, 2] as const;
    const k = declareConstants(f, constantValues());
    const shift = shifted ? f.local('v128') : null;
    if (shift !== null) f.get(3).f64PromoteF32().f64x2Splat().set(shift);
    const chains: Chain[] = Array.from({ length: 2 * unroll }, () => ({
      x: f.local('v128'), a: f.local('v128'), t: f.local('v128'), r: f.local('v128'), p: f.local('v128'), s: f.local('v128'),
    }));
    const vin = Array.from({ length: unroll }, () => f.local('v128'));
    const vout = Array.from({ length: unroll }, () => f.local('v128'));

    // While at least `vectors` full vectors remain: load, evaluate, store, advance.
    const vectorLoop = (vectors: number): void => {
      f.block((done) => {
        f.loop((top) => {
          f.get(n).i32Const(4 * vectors).i32LtU().brIf(done);
          for (let v = 0; v < vectors; v++) f.get(src).v128Load(16 * v).set(vin[v]!);
          emitOpF32x4(f, op, k, chains, vin.slice(0, vectors), vout.slice(0, vectors), shift);
          for (let v = 0; v < vectors; v++) f.get(dst).get(vout[v]!).v128Store(16 * v);
          f.get(src).i32Const(16 * vectors).i32Add().set(src);
          f.get(dst).i32Const(16 * vectors).i32Add().set(dst);
          f.get(n).i32Const(4 * vectors).i32Sub().set(n);
          f.br(top);
        });
      });
    };
    vectorLoop(unroll);
    if (unroll > 1) vectorLoop(1);

    // 1-3 floats left: lanes 0..n-1 of one vector (the rest zero, computed and dropped).
    const [v, w] = [vin[0]!, vout[0]!];
    f.get(n).if(() => {
      f.get(src).v128Load32Zero().set(v);
      for (let lane = 1; lane < 3; lane++) {
        f.i32Const(lane).get(n).i32LtU().if(() => f.get(src).get(v).v128Load32Lane(lane, 4 * lane).set(v));
      }
      emitOpF32x4(f, op, k, chains, [v], [w], shift);
      f.get(dst).get(w).v128Store32Lane(0);
      for (let lane = 1; lane < 3; lane++) {
        f.i32Const(lane).get(n).i32LtU().if(() => f.get(dst).get(w).v128Store32Lane(lane, 4 * lane));
      }
    });
  });
}

/**
 * Vectors of 4 floats per main-loop iteration: 8 independent f64x2 chains, enough to keep the FP
 * ports busy. Measured on the kernels alone (x86-64 Xeon, Node 20), exp / tanh / sigmoid in ns per
 * element: unroll 1: 4.5 / 5.1 / 5.3; 2: 3.8 / 4.3 / 4.2; 3: 3.3 / 3.6 / 3.7; 4: 2.9 / 3.3 / 3.3;
 * 6 the same as 4, 8 slower (spills).
 */
export const DEFAULT_MATH_UNROLL = 4;

/** The module: one function per op in MATH_OPS and expShifted, and a memory of `memoryPages` pages. */
export function buildMathModule(unroll = DEFAULT_MATH_UNROLL, memoryPages = 1, sharedMaximumPages?: number): Uint8Array {
  if (!Number.isInteger(unroll) || unroll < 1) throw new RangeError(`unroll ${unroll}`);
  const mod = new ModuleBuilder(memoryPages, 'memory', sharedMaximumPages);
  for (const op of MATH_OPS) addOpFunction(mod, op, op, unroll, false);
  addOpFunction(mod, 'expShifted', 'exp', unroll, true);
  return mod.toBytes();
}
