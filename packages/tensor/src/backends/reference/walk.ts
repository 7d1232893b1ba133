/**
 * Visits every index tuple of `shape` in row-major order and hands `visit` the offset of that
 * element in each operand: `starts[o] + Σ index[d]·strides[o][d]`. The reference kernels use it for
 * every strided access (broadcasting, permutes, slices), one element at a time: slow, and plainly
 * correct. The offsets array is reused between calls of `visit`; read it, do not keep it.
 */
export function walkStrided(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  starts: readonly number[],
  visit: (offsets: readonly number[]) => void,
): void {
  const size = shape.reduce((p, d) => p * d, 1);
  if (size === 0) return;
  const index = new Array<number>(shape.length).fill(0);
  const offsets = [...starts];
  for (let n = 0; n < size; n++) {
    visit(offsets);
    // Step the last axis; an axis that wraps rewinds to 0 and carries into the one before it.
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]!++;
      for (let o = 0; o < offsets.length; o++) offsets[o]! += strides[o]![d]!;
      if (index[d]! < shape[d]!) break;
      for (let o = 0; o < offsets.length; o++) offsets[o]! -= strides[o]![d]! * shape[d]!;
      index[d] = 0;
    }
  }
}
