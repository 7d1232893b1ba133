/**
 * Elementwise kernels: fill, unary, scalar, axpy and cast. One pipeline per op: the op is spliced into
 * the shader source as an expression, so no thread branches on the op at run time.
 */
import type { ScalarOp, UnaryOp } from '../../backend.ts';
import type { DType } from '../../dtype.ts';
import { type GpuBuf, type GpuContext, MAIN_1D, f32bits, fillSource, grid1d, prelude, valueBits } from './context.ts';

/** WGSL for f(x) per unary op. tanh's input is clamped: tanh(±10) is ±1 in f32, and no exp overflows. */
const UNARY: Record<UnaryOp, string> = {
  neg: '-x',
  exp: 'exp(x)',
  log: 'log(x)',
  tanh: 'tanh(clamp(x, -10.0, 10.0))',
  sigmoid: '1.0 / (1.0 + exp(-x))',
  relu: 'max(x, 0.0)',
  sqrt: 'sqrt(x)',
  square: 'x * x',
  abs: 'abs(x)',
  step: 'select(0.0, 1.0, x > 0.0)',
  oneMinusSquare: '1.0 - x * x',
  sigmoidGradFromOutput: 'x * (1.0 - x)',
};

/** WGSL for `x op s`. */
const SCALAR: Record<ScalarOp, string> = {
  add: 'x + s',
  sub: 'x - s',
  rsub: 's - x',
  mul: 'x * s',
  div: 'x / s',
  rdiv: 's / x',
  pow: 'powf(x, s)',
  maximum: 'max(x, s)',
  minimum: 'min(x, s)',
};

/**
 * Math.pow semantics for the cases that matter: WGSL's pow(x, y) is undefined for x < 0, so negative
 * bases use |x|^y with the sign of an odd integer exponent (NaN for a fractional one).
 */
const POWF = `fn powf(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (y == 1.0) { return x; }
  if (y == 2.0) { return x * x; }
  if (y == 0.5) { return sqrt(x); }
  if (y == -1.0) { return 1.0 / x; }
  let r = exp2(y * log2(abs(x)));
  if (x >= 0.0) { return r; }
  if (y != floor(y)) { return nan(); }
  return select(r, -r, fract(y * 0.5) != 0.0);
}
`;

export function fill(ctx: GpuContext, out: GpuBuf, size: number, value: number, dtype: DType): void {
  ctx.run({
    key: 'fill',
    source: fillSource,
    params: [size, valueBits(value, dtype)],
    bindings: [{ buf: out, access: 'w', covers: size }],
    groups: grid1d(size),
  });
}

export function unary(ctx: GpuContext, op: UnaryOp, x: GpuBuf, out: GpuBuf, size: number): void {
  ctx.run({
    key: `unary:${op}`,
    source: () => `${prelude([['xs', 'r', 'f32'], ['out', 'w', 'f32']])}
${MAIN_1D}
  if (idx >= p(0)) { return; }
  let x = xs[idx];
  out[idx] = ${UNARY[op]};
}`,
    params: [size],
    bindings: [{ buf: x, access: 'r' }, { buf: out, access: 'w', covers: size }],
    groups: grid1d(size),
  });
}

export function scalar(ctx: GpuContext, op: ScalarOp, x: GpuBuf, s: number, out: GpuBuf, size: number): void {
  ctx.run({
    key: `scalar:${op}`,
    source: () => `${prelude([['xs', 'r', 'f32'], ['out', 'w', 'f32']])}
${op === 'pow' ? POWF : ''}
${MAIN_1D}
  if (idx >= p(0)) { return; }
  let x = xs[idx];
  let s = pf(1);
  out[idx] = ${SCALAR[op]};
}`,
    params: [size, f32bits(s)],
    bindings: [{ buf: x, access: 'r' }, { buf: out, access: 'w', covers: size }],
    groups: grid1d(size),
  });
}

export function axpy(ctx: GpuContext, y: GpuBuf, x: GpuBuf, alpha: number, size: number): void {
  ctx.run({
    key: 'axpy',
    source: () => `${prelude([['y', 'rw', 'f32'], ['x', 'r', 'f32']])}
${MAIN_1D}
  if (idx >= p(0)) { return; }
  y[idx] = fma(pf(1), x[idx], y[idx]);
}`,
    params: [size, f32bits(alpha)],
    bindings: [{ buf: y, access: 'rw' }, { buf: x, access: 'r' }],
    groups: grid1d(size),
  });
}

export function cast(ctx: GpuContext, x: GpuBuf, out: GpuBuf, size: number, from: DType, to: DType): void {
  const src = from === 'float32' ? 'f32' : 'i32';
  const dst = to === 'float32' ? 'f32' : 'i32';
  // f32 -> i32 conversion in WGSL truncates toward zero (saturating out of range).
  ctx.run({
    key: `cast:${src}:${dst}`,
    source: () => `${prelude([['xs', 'r', src], ['out', 'w', dst]])}
${MAIN_1D}
  if (idx >= p(0)) { return; }
  out[idx] = ${dst}(xs[idx]);
}`,
    params: [size],
    bindings: [{ buf: x, access: 'r' }, { buf: out, access: 'w', covers: size }],
    groups: grid1d(size),
  });
}
