import type { MatmulParams } from '../../backend.ts';

/**
 * out[b] = op(A[b])·op(B[b]) (or out[b] += ... when `p.accumulate`), the textbook triple loop:
 * each output element is the dot product of a row of op(A) and a column of op(B), summed in double
 * precision and stored once as float32 (and, when accumulating, that float32 added to out). A[b] is stored k x m when transA (so op(A)[i, q] is
 * A[q·m + i]), B[b] n x k when transB; a batch stride of 0 reuses one matrix for every batch entry.
 */
export function matmul(A: Float32Array, B: Float32Array, C: Float32Array, p: MatmulParams): void {
  const { batch, m, k, n, transA, transB, aBatchStride, bBatchStride } = p;
  for (let b = 0; b < batch; b++) {
    const a0 = b * aBatchStride;
    const b0 = b * bBatchStride;
    const c0 = b * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let q = 0; q < k; q++) {
          const a = transA ? A[a0 + q * m + i]! : A[a0 + i * k + q]!;
          const w = transB ? B[b0 + j * k + q]! : B[b0 + q * n + j]!;
          sum += a * w;
        }
        const at = c0 + i * n + j;
        // Accumulating adds the float32 product, as add(out, matmul(a, b)) would.
        C[at] = p.accumulate === true ? C[at]! + Math.fround(sum) : sum;
      }
    }
  }
}
