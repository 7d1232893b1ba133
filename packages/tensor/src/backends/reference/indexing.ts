import type { CopyParams, GatherParams } from '../../backend.ts';
import type { TypedArray } from '../../dtype.ts';
import { walkStrided } from './walk.ts';

// Copies, gathers and scatters of whole rows. The wasm backend runs gather, scatterAdd and oneHot
// from here too: plain loops are all they need.

// Below this row length a plain loop beats `set`, whose subarray view costs an allocation per row.
const SET_MIN_ROW = 32;

/**
 * dst[dstOffset + i·dstStrides] = src[srcOffset + i·srcStrides] for every index tuple i of `shape`:
 * the one kernel behind permute, slice, concat and stack, for either dtype.
 */
export function copy(src: TypedArray, dst: TypedArray, p: CopyParams): void {
  walkStrided(p.shape, [p.srcStrides, p.dstStrides], [p.srcOffset, p.dstOffset], ([s, d]) => {
    dst[d!] = src[s!]!;
  });
}

/**
 * out[r, :] = table[indices[r], :] for r < numIndices, for either dtype. The front end checks the
 * indices; one out of range anyway yields a zero row rather than reading past the table.
 */
export function gather(table: TypedArray, indices: Int32Array, out: TypedArray, p: GatherParams): void {
  const { numIndices, tableRows, rowSize } = p;
  for (let r = 0, dst = 0; r < numIndices; r++, dst += rowSize) {
    const idx = indices[r]!;
    if (idx < 0 || idx >= tableRows) {
      out.fill(0, dst, dst + rowSize);
      continue;
    }
    const src = idx * rowSize;
    if (rowSize >= SET_MIN_ROW) {
      out.set(table.subarray(src, src + rowSize), dst);
    } else {
      for (let c = 0; c < rowSize; c++) out[dst + c] = table[src + c]!;
    }
  }
}

/**
 * out[indices[r], :] += src[r, :] for r < numIndices; repeated indices accumulate (gather's adjoint).
 * Out-of-range indices are skipped, matching gather's zero rows.
 */
export function scatterAdd(src: Float32Array, indices: Int32Array, out: Float32Array, p: GatherParams): void {
  const { numIndices, tableRows, rowSize } = p;
  for (let r = 0, s = 0; r < numIndices; r++, s += rowSize) {
    const idx = indices[r]!;
    if (idx < 0 || idx >= tableRows) continue;
    const d = idx * rowSize;
    for (let c = 0; c < rowSize; c++) out[d + c] = out[d + c]! + src[s + c]!;
  }
}

/** out[i, j] = indices[i] === j ? 1 : 0 over [numIndices, depth]; an out-of-range index gives a zero row. */
export function oneHot(indices: Int32Array, out: Float32Array, numIndices: number, depth: number): void {
  // The caller's buffer is normally fresh and zeroed, but writing the zeros keeps the kernel self-contained.
  out.fill(0, 0, numIndices * depth);
  for (let i = 0; i < numIndices; i++) {
    const j = indices[i]!;
    if (j >= 0 && j < depth) out[i * depth + j] = 1;
  }
}
