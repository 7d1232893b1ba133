import type { CopyParams } from '../../backend.ts';
import type { TypedArray } from '../../dtype.ts';
import { Odometer, coalesce } from './strided.ts';
import { heapCopier } from './wasm/in-place.ts';

// Below this run length a plain loop beats `set`, whose subarray view costs an allocation per run.
const SET_MIN_RUN = 32;

/**
 * dst[dstOffset + i·dstStrides] = src[srcOffset + i·srcStrides] for every index tuple i of `shape`:
 * the one kernel behind permute, slice, concat and stack. Works for either dtype as long as src and
 * dst share it (the front end guarantees that).
 */
export function copy(src: TypedArray, dst: TypedArray, p: CopyParams): void {
  if (p.size === 0) return;
  // Merging axes turns a slice or concat part into a few long runs and a whole-tensor copy into one.
  const space = coalesce(p.shape, [p.srcStrides, p.dstStrides]);
  const last = space.shape.length - 1;
  const n = space.shape[last]!;
  const ss = space.strides[0]![last]!;
  const ds = space.strides[1]![last]!;
  const runs = p.size / n;
  const walk = new Odometer(space, p.srcOffset, p.dstOffset, 0);

  if (ss === 1 && ds === 1 && n >= SET_MIN_RUN) {
    // Runs between heap buffers go through wasm's memory.copy, several times faster than `set` on the
    // shared memory (wasm/elementwise-module.ts).
    const wasm = heapCopier(dst, src);
    for (let r = 0; r < runs; r++) {
      if (wasm !== null) wasm(walk.b, walk.a, n);
      else dst.set(src.subarray(walk.a, walk.a + n), walk.b);
      walk.advance();
    }
    return;
  }
  if (ss === 1 && ds === 1) {
    for (let r = 0; r < runs; r++) {
      const s0 = walk.a;
      const shift = walk.b - s0;
      const end = s0 + n;
      for (let i = s0; i < end; i++) dst[i + shift] = src[i]!;
      walk.advance();
    }
    return;
  }
  // A permute: at least one side is strided along the innermost axis.
  if (space.shape.length === 2 && ds === 1 && space.strides[0]![0] === 1) {
    transposeRows(src, p.srcOffset, ss, dst, p.dstOffset, space.strides[1]![0]!, space.shape[0]!, n);
    return;
  }
  for (let r = 0; r < runs; r++) {
    let s = walk.a;
    let d = walk.b;
    for (let i = 0; i < n; i++, s += ss, d += ds) dst[d] = src[s]!;
    walk.advance();
  }
}

/**
 * dst[d0 + i·dRow + j] = src[s0 + i + j·sCol] for i < rows, j < cols: a matrix transpose (src
 * contiguous down its columns, dst along its rows). Four rows of dst at a time, so that each step
 * down a column of src reads four neighbouring values rather than one: a [256, 256] transpose took
 * 100 µs element by element and 45 µs this way (16 x 16 tiles: 85 µs).
 */
function transposeRows(
  src: TypedArray, s0: number, sCol: number, dst: TypedArray, d0: number, dRow: number, rows: number, cols: number,
): void {
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    const to = d0 + i * dRow;
    for (let j = 0, from = s0 + i; j < cols; j++, from += sCol) {
      const o = to + j;
      dst[o] = src[from]!;
      dst[o + dRow] = src[from + 1]!;
      dst[o + 2 * dRow] = src[from + 2]!;
      dst[o + 3 * dRow] = src[from + 3]!;
    }
  }
  for (; i < rows; i++) {
    const to = d0 + i * dRow;
    for (let j = 0, from = s0 + i; j < cols; j++, from += sCol) dst[to + j] = src[from]!;
  }
}
