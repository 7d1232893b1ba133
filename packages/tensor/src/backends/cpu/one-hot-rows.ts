import type { MatmulParams } from '../../backend.ts';
import { versionOf } from './buffer-versions.ts';

// Products whose left operand has at most one nonzero per row, one at least: a time step of one-hot
// encoded tokens times the input weight (d2l's X·W_xh in the scratch models, [32,28]·[28,512] once per
// time step). Row i of the product is then a·(row q of B), or zeros: a row copy instead of k
// multiply-adds per element. The scratch RNN 512 spent about 40 µs a time step on X·W_xh
// through the wasm matmul (a call, the copies in and out, 28-long dot products).
//
// The result is the one every other path gives, bit for bit: the kernels sum a + 0·b + ... from +0, so
// the zeros add nothing and element j is the float32 product a·B[q, j] plus +0 (which turns a −0 into
// +0), and, when accumulating, that added to C. One exception needs a check: 0·∞ and 0·NaN are NaN,
// so a non-finite element anywhere in B poisons its whole column of the product. B is scanned for one
// (once per version of its contents: a weight is scanned once per optimizer update), and a B with one
// takes the ordinary path. The same scan notes a −0, without which a row of ones copies B's row as it is.

/** What a scan of B found: only finite values and no −0 (rows copy as they are), a −0 too, or a NaN or ±∞. */
type Contents = 'plain' | 'negativeZero' | 'nonFinite';

/** The last scan of each B, with the version (buffer-versions.ts) of the contents it saw. */
const scanned = new WeakMap<Float32Array, { version: number; contents: Contents }>();

function contentsOf(B: Float32Array, size: number): Contents {
  const version = versionOf(B);
  const last = scanned.get(B);
  if (version !== 0 && last !== undefined && last.version === version) return last.contents;
  let contents: Contents = 'plain';
  for (let i = 0; i < size; i++) {
    const x = B[i]!;
    if (x - x !== 0) { // NaN and ±∞ give NaN
      contents = 'nonFinite';
      break;
    }
    if (x === 0 && 1 / x < 0) contents = 'negativeZero';
  }
  if (version !== 0) scanned.set(B, { version, contents });
  return contents;
}

/** Column of each row's nonzero (-1 for a zero row), grown as needed. */
let columns = new Int32Array(64);

/**
 * C (+)= A·op(B) for an A (not transposed, one batch entry) with at most one nonzero per row, as row
 * copies; returns false, having written nothing, for any other product (the caller runs the matmul).
 * A dense A is turned away at its first row, after two nonzeros.
 */
export function oneHotRowsMatmul(A: Float32Array, B: Float32Array, C: Float32Array, p: MatmulParams): boolean {
  const { m, k, n, transB } = p;
  if (p.transA || p.batch !== 1 || m === 0 || n === 0 || k === 0) return false;
  if (columns.length < m) columns = new Int32Array(m);
  let hot = false;
  for (let i = 0; i < m; i++) {
    let column = -1;
    const row = i * k;
    for (let q = 0; q < k; q++) {
      if (A[row + q] !== 0) {
        if (column >= 0) return false;
        column = q;
      }
    }
    columns[i] = column;
    hot ||= column >= 0;
  }
  // An all-zero A (a zero state, H₀·W_hh) is left to the kernels: its rows are no copies to save, and
  // scanning a large B (all of W_hh, after each update) would cost more than the product.
  if (!hot) return false;
  const contents = contentsOf(B, k * n);
  if (contents === 'nonFinite') return false;

  const accumulate = p.accumulate === true;
  for (let i = 0; i < m; i++) {
    const out = i * n;
    const q = columns[i]!;
    if (q < 0) {
      if (!accumulate) C.fill(0, out, out + n);
      continue;
    }
    const a = A[i * k + q]!;
    // op(B)[q, j]: B[q·n + j], or B[j·k + q] for a transposed B.
    const at = transB ? q : q * n;
    const step = transB ? k : 1;
    if (accumulate) {
      for (let j = 0; j < n; j++) C[out + j] = C[out + j]! + (Math.fround(a * B[at + j * step]!) + 0);
    } else if (a === 1 && !transB && contents === 'plain') {
      C.set(B.subarray(at, at + n), out); // x + 0 is x itself when no x is −0
    } else {
      for (let j = 0; j < n; j++) C[out + j] = Math.fround(a * B[at + j * step]!) + 0;
    }
  }
  return true;
}
