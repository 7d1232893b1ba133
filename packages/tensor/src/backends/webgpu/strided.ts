/**
 * Strided kernels: broadcasting binary ops (out-of-place and in place) and the general strided copy.
 *
 * Before dispatch, axes are coalesced on the CPU (size-1 axes dropped, neighbours merged where every
 * operand is contiguous across them), so `[35,32,512] + [512]` runs as a rank-2 kernel and a plain
 * contiguous copy as rank 1. The shader is specialised per (coalesced) rank; shape and strides travel
 * in the uniform block, so one pipeline serves every shape of that rank.
 *
 * Parameter words: 0 size, 1 srcOffset, 2 dstOffset, 4..9 shape, 10..15 strides of operand 0,
 * 16..21 strides of operand 1 (a and b for binary ops; src and dst for copy).
 */
import type { BinaryOp, BroadcastLayout, CopyParams } from '../../backend.ts';
import { type GpuBuf, type GpuContext, MAIN_1D, PARAM_WORDS, grid1d, i32bits, prelude } from './context.ts';

export const MAX_RANK = 6;

const BINARY: Record<BinaryOp, string> = {
  add: 'x + y',
  sub: 'x - y',
  mul: 'x * y',
  div: 'x / y',
  maximum: 'max(x, y)',
  minimum: 'min(x, y)',
};

/** Drops size-1 axes and merges neighbours that are contiguous in every stride list. Rank >= 1. */
export function coalesce(
  shape: readonly number[],
  strides: ReadonlyArray<readonly number[]>,
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, j) => outStrides[j]![last] === s[d]! * n)) {
      outShape[last]! *= n;
      strides.forEach((s, j) => (outStrides[j]![last] = s[d]!));
    } else {
      outShape.push(n);
      strides.forEach((s, j) => outStrides[j]!.push(s[d]!));
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    outStrides.forEach((s) => s.push(0));
  }
  return { shape: outShape, strides: outStrides };
}

/** The parameter block shared by the strided kernels. */
function stridedParams(
  size: number,
  shape: readonly number[],
  s0: readonly number[],
  s1: readonly number[],
  off0 = 0,
  off1 = 0,
): Uint32Array {
  const w = new Uint32Array(PARAM_WORDS);
  w[0] = size;
  w[1] = i32bits(off0);
  w[2] = i32bits(off1);
  for (let d = 0; d < shape.length; d++) {
    w[4 + d] = shape[d]!;
    w[10 + d] = i32bits(s0[d]!);
    w[16 + d] = i32bits(s1[d]!);
  }
  return w;
}

/**
 * WGSL computing `o0`/`o1` (i32 element offsets of operands 0 and 1) from the linear index `idx` over
 * a rank-`rank` shape, innermost axis fastest.
 */
function offsetsCode(rank: number): string {
  if (rank === 1) return `  let o0 = pi(1) + i32(idx) * pi(10);\n  let o1 = pi(2) + i32(idx) * pi(16);\n`;
  let s = `  var rem = idx;\n  var o0 = pi(1);\n  var o1 = pi(2);\n`;
  for (let d = rank - 1; d >= 0; d--) {
    if (d === 0) {
      s += `  o0 += i32(rem) * pi(10u);\n  o1 += i32(rem) * pi(16u);\n`;
    } else {
      s += `  { let n = p(${4 + d}u); let c = i32(rem % n); rem = rem / n; o0 += c * pi(${10 + d}u); o1 += c * pi(${16 + d}u); }\n`;
    }
  }
  return s;
}

type Variant = 'same' | 'scalarB' | `r${number}`;

function binaryVariant(shape: number[], sa: number[], sb: number[]): Variant {
  if (shape.length > MAX_RANK) throw new Error(`webgpu binary: rank ${shape.length} > ${MAX_RANK} after merging axes`);
  if (shape.length === 1 && sa[0] === 1 && sb[0] === 1) return 'same';
  if (shape.length === 1 && sa[0] === 1 && sb[0] === 0) return 'scalarB';
  return `r${shape.length}`;
}

/** In place, `a` is `out` itself and contiguous, so x is out[idx] whatever the variant. */
function binaryBody(op: BinaryOp, variant: Variant, inPlace: boolean): string {
  const x = inPlace ? 'out[idx]' : variant === 'same' || variant === 'scalarB' ? 'a[idx]' : 'a[o0]';
  let s = `  if (idx >= p(0)) { return; }\n`;
  if (variant === 'same') s += `  let y = b[idx];\n`;
  else if (variant === 'scalarB') s += `  let y = b[0];\n`;
  else s += `${offsetsCode(Number(variant.slice(1)))}  let y = b[o1];\n`;
  return `${s}  let x = ${x};\n  out[idx] = ${BINARY[op]};\n`;
}

export function binary(ctx: GpuContext, op: BinaryOp, a: GpuBuf, b: GpuBuf, out: GpuBuf, layout: BroadcastLayout): void {
  const { shape, strides } = coalesce(layout.outShape, [layout.aStrides, layout.bStrides]);
  const variant = binaryVariant(shape, strides[0]!, strides[1]!);
  ctx.run({
    key: `binary:${op}:${variant}`,
    source: () => `${prelude([['a', 'r', 'f32'], ['b', 'r', 'f32'], ['out', 'w', 'f32']])}
${MAIN_1D}
${binaryBody(op, variant, false)}}`,
    params: stridedParams(layout.size, shape, strides[0]!, strides[1]!),
    bindings: [{ buf: a, access: 'r' }, { buf: b, access: 'r' }, { buf: out, access: 'w', covers: layout.size }],
    groups: grid1d(layout.size),
  });
}

/** a = a (op) b; `a` is contiguous (layout.aStrides), so thread `idx` owns a[idx]. */
export function binaryInPlace(ctx: GpuContext, op: BinaryOp, a: GpuBuf, b: GpuBuf, layout: BroadcastLayout): void {
  const { shape, strides } = coalesce(layout.outShape, [layout.aStrides, layout.bStrides]);
  const variant = binaryVariant(shape, strides[0]!, strides[1]!);
  ctx.run({
    key: `binaryInPlace:${op}:${variant}`,
    source: () => `${prelude([['out', 'rw', 'f32'], ['b', 'r', 'f32']])}
${MAIN_1D}
${binaryBody(op, variant, true)}}`,
    params: stridedParams(layout.size, shape, strides[0]!, strides[1]!),
    bindings: [{ buf: a, access: 'rw' }, { buf: b, access: 'r' }],
    groups: grid1d(layout.size),
  });
}

export function copy(ctx: GpuContext, src: GpuBuf, dst: GpuBuf, p: CopyParams): void {
  if (p.size === 0) return;
  const { shape, strides } = coalesce(p.shape, [p.srcStrides, p.dstStrides]);
  const rank = shape.length;
  if (rank > MAX_RANK) {
    // Peel the outermost axis into separate dispatches until the rest fits.
    const inner = { shape: shape.slice(1), srcStrides: strides[0]!.slice(1), dstStrides: strides[1]!.slice(1), size: p.size / shape[0]! };
    for (let i = 0; i < shape[0]!; i++) {
      copy(ctx, src, dst, { ...inner, srcOffset: p.srcOffset + i * strides[0]![0]!, dstOffset: p.dstOffset + i * strides[1]![0]! });
    }
    return;
  }
  const contiguous = rank === 1 && strides[0]![0] === 1 && strides[1]![0] === 1;
  // A copy whose destination is laid out contiguously from offset 0 (a slice's fresh output, say)
  // writes every one of dst's first `size` elements, whatever the source's strides.
  const fullDst = p.dstOffset === 0 && denselyCovers(p.shape, p.dstStrides);
  ctx.run({
    key: contiguous ? 'copy:contiguous' : `copy:r${rank}`,
    source: () => `${prelude([['src', 'r', 'u32'], ['dst', 'w', 'u32']])}
${MAIN_1D}
  if (idx >= p(0)) { return; }
${contiguous ? '  dst[u32(pi(2)) + idx] = src[u32(pi(1)) + idx];' : `${offsetsCode(rank)}  dst[o1] = src[o0];`}
}`,
    params: stridedParams(p.size, shape, strides[0]!, strides[1]!, p.srcOffset, p.dstOffset),
    bindings: [{ buf: src, access: 'r' }, { buf: dst, access: 'w', covers: fullDst ? p.size : 0 }],
    groups: grid1d(p.size),
  });
}

/** Whether `strides` are the row-major strides of `shape` (size-1 axes may have any stride). */
function denselyCovers(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i]! !== 1 && strides[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}
