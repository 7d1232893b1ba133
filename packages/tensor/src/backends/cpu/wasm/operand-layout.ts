// How the wasm matmul lays out operands that are not copied as they are (wasm-matmul.ts): A transposed
// into rows, C rows padded to whole vectors, and a transposed B packed straight into the strips the
// outer-product kernels read. JavaScript loops that write into the module's memory, since the source
// arrays are outside it.

/** view[dst + i·k + p] = A[src + p·m + i]: op(A) of a transA operand, written row-major. */
export function transposeInto(view: Float32Array, dst: number, A: Float32Array, src: number, m: number, k: number): void {
  for (let p = 0; p < k; p++) {
    const row = src + p * m;
    for (let i = 0; i < m; i++) view[dst + i * k + p] = A[row + i]!;
  }
}

/** Copies `rows` rows of `length` floats, back to back in `src` from `srcOff`, `stride` apart into `view`. */
export function copyRows(
  view: Float32Array, dst: number, stride: number, src: Float32Array, srcOff: number, rows: number, length: number,
): void {
  for (let r = 0; r < rows; r++) {
    const from = srcOff + r * length;
    view.set(src.subarray(from, from + length), dst + r * stride);
  }
}

/**
 * The matmul module's `transpose4` and where B lies in its memory (a float offset): with these, whole
 * groups of 4 columns are packed in wasm; without (B outside the memory), by the loop.
 */
export interface WasmTranspose {
  readonly transpose4: (src: number, dst: number, rows: number, srcStride: number, dstStride: number) => void;
  readonly bAt: number;
}

/**
 * Packs op(B) for a transposed B (stored n x k, so op(B)[p, j] = B[j·k + p]) straight into the
 * chunked strip layout of `packB` at `dst`: chunk by chunk of `kc` rows, strips of 4·vecs columns,
 * columns past n zero. With `wasm`, four columns by four rows at a time in wasm (W_hhᵀ at [512,512], alone:
 * 300 -> 45 µs), the rows past a multiple of 4 here.
 */
export function packTransposedInto(
  view: Float32Array, dst: number, B: Float32Array, src: number, k: number, n: number, kc: number, vecs: number,
  wasm?: WasmTranspose,
): void {
  const nv = Math.ceil(n / 4);
  for (let k0 = 0; k0 < k; k0 += kc) {
    const rows = Math.min(kc, k - k0);
    const chunk = dst + k0 * nv * 4;
    for (let j0 = 0; j0 < nv; j0 += vecs) {
      const width = 4 * Math.min(vecs, nv - j0);
      const strip = chunk + j0 * rows * 4;
      if (4 * j0 + width <= n) {
        // A strip of whole columns: four at a time, so each step writes one vector of the strip
        // (W_hhᵀ at [512,512]: 370 -> 200 µs against a column at a time).
        for (let g = 0; g < width; g += 4) {
          const from = src + (4 * j0 + g) * k + k0;
          let p = 0;
          if (wasm !== undefined) {
            p = rows - (rows % 4);
            wasm.transpose4(4 * (wasm.bAt + from), 4 * (strip + g), p, 4 * k, 4 * width);
          }
          for (; p < rows; p++) {
            const at = strip + p * width + g;
            const f = from + p;
            view[at] = B[f]!;
            view[at + 1] = B[f + k]!;
            view[at + 2] = B[f + 2 * k]!;
            view[at + 3] = B[f + 3 * k]!;
          }
        }
        continue;
      }
      for (let jj = 0; jj < width; jj++) {
        const col = 4 * j0 + jj;
        const from = src + col * k + k0;
        if (col < n) for (let p = 0; p < rows; p++) view[strip + p * width + jj] = B[from + p]!;
        else for (let p = 0; p < rows; p++) view[strip + p * width + jj] = 0;
      }
    }
  }
}
