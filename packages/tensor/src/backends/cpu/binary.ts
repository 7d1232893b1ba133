import type { BinaryOp, BroadcastLayout } from '../../backend.ts';
import { Odometer, coalesce } from './strided.ts';
import { tryWasmBinary, tryWasmBinaryRow, tryWasmBinaryScalar } from './wasm/wasm-elementwise.ts';

// Each helper switches on the op once, then runs one loop per op, so no element pays for a dispatch.
// add, sub and mul over contiguous runs, scalars and bias rows go to WebAssembly SIMD first
// (wasm/wasm-elementwise.ts: the same float32 results, several times faster); the loops here are the
// fallback and the path for small arrays, and merging axes (strided.ts) lets most layouts run as a
// few long contiguous runs. The reference backend's binary walks every element by its strides.

const hasWasm = (op: BinaryOp): op is 'add' | 'sub' | 'mul' => op === 'add' || op === 'sub' || op === 'mul';

/** out[oo+i] = a[ao+i] (op) b[bo+i] for i < n: both operands run contiguously. */
function runContiguous(
  op: BinaryOp, a: Float32Array, ao: number, b: Float32Array, bo: number, out: Float32Array, oo: number, n: number,
): void {
  if (hasWasm(op) && tryWasmBinary(op, a, ao, b, bo, out, oo, n)) return;
  const d = bo - ao;
  const e = ao + n;
  const shift = oo - ao;
  switch (op) {
    case 'add':
      for (let i = ao; i < e; i++) out[i + shift] = a[i]! + b[i + d]!;
      return;
    case 'sub':
      for (let i = ao; i < e; i++) out[i + shift] = a[i]! - b[i + d]!;
      return;
    case 'mul':
      for (let i = ao; i < e; i++) out[i + shift] = a[i]! * b[i + d]!;
      return;
    case 'div':
      for (let i = ao; i < e; i++) out[i + shift] = a[i]! / b[i + d]!;
      return;
    case 'maximum':
      for (let i = ao; i < e; i++) out[i + shift] = Math.max(a[i]!, b[i + d]!);
      return;
    case 'minimum':
      for (let i = ao; i < e; i++) out[i + shift] = Math.min(a[i]!, b[i + d]!);
      return;
    default:
      throw new Error(`cpu backend: unknown binary op '${op as string}'`);
  }
}

/** out[oo+i] = a[ao+i] (op) s for i < n: the right operand is one value held in a register. */
function runScalarB(op: BinaryOp, a: Float32Array, ao: number, s: number, out: Float32Array, oo: number, n: number): void {
  if (hasWasm(op) && tryWasmBinaryScalar(op, a, ao, s, out, oo, n)) return;
  const e = ao + n;
  const shift = oo - ao;
  switch (op) {
    case 'add':
      for (let i = ao; i < e; i++) out[i + shift] = a[i]! + s;
      return;
    case 'sub':
      for (let i = ao; i < e; i++) out[i + shift] = a[i]! - s;
      return;
    case 'mul':
      for (let i = ao; i < e; i++) out[i + shift] = a[i]! * s;
      return;
    case 'div':
      for (let i = ao; i < e; i++) out[i + shift] = a[i]! / s;
      return;
    case 'maximum':
      for (let i = ao; i < e; i++) out[i + shift] = Math.max(a[i]!, s);
      return;
    case 'minimum':
      for (let i = ao; i < e; i++) out[i + shift] = Math.min(a[i]!, s);
      return;
    default:
      throw new Error(`cpu backend: unknown binary op '${op as string}'`);
  }
}

/** out[oo+i] = a[ao+i*sa] (op) b[bo+i*sb] for i < n: any strides, the general path's inner run. */
function runStrided(
  op: BinaryOp,
  a: Float32Array, ao: number, sa: number,
  b: Float32Array, bo: number, sb: number,
  out: Float32Array, oo: number, n: number,
): void {
  const e = oo + n;
  let ia = ao;
  let ib = bo;
  switch (op) {
    case 'add':
      for (let o = oo; o < e; o++, ia += sa, ib += sb) out[o] = a[ia]! + b[ib]!;
      return;
    case 'sub':
      for (let o = oo; o < e; o++, ia += sa, ib += sb) out[o] = a[ia]! - b[ib]!;
      return;
    case 'mul':
      for (let o = oo; o < e; o++, ia += sa, ib += sb) out[o] = a[ia]! * b[ib]!;
      return;
    case 'div':
      for (let o = oo; o < e; o++, ia += sa, ib += sb) out[o] = a[ia]! / b[ib]!;
      return;
    case 'maximum':
      for (let o = oo; o < e; o++, ia += sa, ib += sb) out[o] = Math.max(a[ia]!, b[ib]!);
      return;
    case 'minimum':
      for (let o = oo; o < e; o++, ia += sa, ib += sb) out[o] = Math.min(a[ia]!, b[ib]!);
      return;
    default:
      throw new Error(`cpu backend: unknown binary op '${op as string}'`);
  }
}

/** out[r, c] = a[r, c] (op) b[c]: a contiguous [rows, cols] matrix against one row vector (bias add). */
function rowBroadcast(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array, rows: number, cols: number): void {
  if (hasWasm(op) && tryWasmBinaryRow(op, a, b, out, rows, cols)) return;
  // The row loop sits inside each case so the op is still chosen once per call, not once per row.
  switch (op) {
    case 'add':
      for (let r = 0, base = 0; r < rows; r++, base += cols) {
        for (let c = 0; c < cols; c++) out[base + c] = a[base + c]! + b[c]!;
      }
      return;
    case 'sub':
      for (let r = 0, base = 0; r < rows; r++, base += cols) {
        for (let c = 0; c < cols; c++) out[base + c] = a[base + c]! - b[c]!;
      }
      return;
    case 'mul':
      for (let r = 0, base = 0; r < rows; r++, base += cols) {
        for (let c = 0; c < cols; c++) out[base + c] = a[base + c]! * b[c]!;
      }
      return;
    case 'div':
      for (let r = 0, base = 0; r < rows; r++, base += cols) {
        for (let c = 0; c < cols; c++) out[base + c] = a[base + c]! / b[c]!;
      }
      return;
    case 'maximum':
      for (let r = 0, base = 0; r < rows; r++, base += cols) {
        for (let c = 0; c < cols; c++) out[base + c] = Math.max(a[base + c]!, b[c]!);
      }
      return;
    case 'minimum':
      for (let r = 0, base = 0; r < rows; r++, base += cols) {
        for (let c = 0; c < cols; c++) out[base + c] = Math.min(a[base + c]!, b[c]!);
      }
      return;
    default:
      throw new Error(`cpu backend: unknown binary op '${op as string}'`);
  }
}

/**
 * out = a (op) b broadcast over `layout.outShape`. Also serves binaryInPlace with out === a: every path
 * reads a[i] before writing out[i] at the same position, because a's strides then equal out's.
 */
export function binary(op: BinaryOp, a: Float32Array, b: Float32Array, out: Float32Array, layout: BroadcastLayout): void {
  if (layout.size === 0) return;
  const space = coalesce(layout.outShape, [layout.aStrides, layout.bStrides]);
  const shape = space.shape;
  const [sa, sb] = space.strides as [number[], number[]];
  const rank = shape.length;
  const last = rank - 1;
  const n = shape[last]!;

  if (rank === 1 && sa[0] === 1 && sb[0] === 1) {
    runContiguous(op, a, 0, b, 0, out, 0, n);
    return;
  }
  if (rank === 1 && sa[0] === 1 && sb[0] === 0) {
    runScalarB(op, a, 0, b[0]!, out, 0, n);
    return;
  }
  if (rank === 2 && sa[0] === n && sa[1] === 1 && sb[0] === 0 && sb[1] === 1) {
    rowBroadcast(op, a, b, out, shape[0]!, n);
    return;
  }

  // General path: an odometer over the outer axes, one tight run along the innermost axis. The output is
  // contiguous and walked in row-major order, so its offset is just the run index times the run length.
  const innerA = sa[last]!;
  const innerB = sb[last]!;
  const runs = layout.size / n;
  const walk = new Odometer(space, 0, 0, 0);
  for (let r = 0, oo = 0; r < runs; r++, oo += n) {
    // Column broadcasts ([rows, cols] op [rows, 1]) land here with a contiguous a and a fixed b per run.
    if (innerA === 1 && innerB === 1) runContiguous(op, a, walk.a, b, walk.b, out, oo, n);
    else if (innerA === 1 && innerB === 0) runScalarB(op, a, walk.a, b[walk.b]!, out, oo, n);
    else runStrided(op, a, walk.a, innerA, b, walk.b, innerB, out, oo, n);
    walk.advance();
  }
}
