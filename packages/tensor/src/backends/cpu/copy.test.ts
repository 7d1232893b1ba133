import { describe, expect, it } from 'vitest';
import type { CopyParams } from '../../backend.ts';
import { copy as referenceCopy } from '../reference/indexing.ts';
import { copy } from './copy.ts';

// The CPU copy against the reference walk for the layouts its fast paths take, above all the matrix
// transpose, which runs four rows of the destination at a time: every row count modulo 4, offsets
// on both sides, a destination row longer than the copied one, and int32 data as well as float32.

/** A copy of a [rows, cols] block of src read column-major (a transpose) into dst rows `dRow` apart. */
function transposeParams(rows: number, cols: number, sCol: number, dRow: number, srcOffset: number, dstOffset: number): CopyParams {
  return { shape: [rows, cols], srcStrides: [1, sCol], dstStrides: [dRow, 1], srcOffset, dstOffset, size: rows * cols };
}

function run(make: (n: number) => Float32Array | Int32Array, p: CopyParams, srcLength: number, dstLength: number): void {
  const src = make(srcLength).map((_, i) => i * 3 + 1);
  const got = make(dstLength).fill(-7);
  const want = make(dstLength).fill(-7);
  copy(src, got, p);
  referenceCopy(src, want, p);
  expect(Array.from(got)).toEqual(Array.from(want));
}

describe('cpu copy: matrix transposes', () => {
  const shapes: [number, number][] = [[1, 5], [3, 7], [4, 4], [5, 9], [6, 3], [7, 16], [33, 17], [256, 256]];
  it.each(shapes)('[%i, %i] from a contiguous matrix', (rows, cols) => {
    run((n) => new Float32Array(n), transposeParams(rows, cols, rows, cols, 0, 0), rows * cols, rows * cols);
  });
  it.each(shapes)('[%i, %i] with offsets, a wider source column and a wider destination row', (rows, cols) => {
    const sCol = rows + 3;
    const dRow = cols + 2;
    run((n) => new Float32Array(n), transposeParams(rows, cols, sCol, dRow, 5, 4), 5 + cols * sCol, 4 + rows * dRow);
  });
  it('int32 data', () => {
    run((n) => new Int32Array(n), transposeParams(9, 6, 9, 6, 0, 0), 54, 54);
  });
  it('a batch of transposes (rank 3) and a plain slice copy still agree', () => {
    const batched: CopyParams = { shape: [2, 5, 3], srcStrides: [15, 1, 5], dstStrides: [15, 3, 1], srcOffset: 0, dstOffset: 0, size: 30 };
    run((n) => new Float32Array(n), batched, 30, 30);
    const slice: CopyParams = { shape: [4, 40], srcStrides: [50, 1], dstStrides: [40, 1], srcOffset: 3, dstOffset: 0, size: 160 };
    run((n) => new Float32Array(n), slice, 200, 160);
  });
});
