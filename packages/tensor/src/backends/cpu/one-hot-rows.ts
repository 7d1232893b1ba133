import type { MatmulParams } from '../../backend.ts';
import { versionOf } from './buffer-versions.ts';
import { tryWasmAddRows } from './wasm/wasm-elementwise.ts';
import { heapCopier, heapZero } from './wasm/in-place.ts';
import { WASM_MIN_MACS, sharedKernels } from './wasm/wasm-matmul.ts';

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

/**
 * Writes into `out` the column of the nonzero in each of A's `rows` rows of `width` (-1 for a zero row).
 * Returns 'dense' at the first row with two nonzeros, or with `onesOnly` a nonzero other than 1 (a dense
 * A is turned away after a few elements), else whether any row had its nonzero.
 */
function scanRows(A: Float32Array, rows: number, width: number, onesOnly: boolean, out: Int32Array): boolean | 'dense' {
  let hot = false;
  for (let i = 0; i < rows; i++) {
    let column = -1;
    const row = i * width;
    for (let q = 0; q < width; q++) {
      const a = A[row + q]!;
      if (a === 0) continue;
      if (column >= 0 || (onesOnly && a !== 1)) return 'dense';
      column = q;
    }
    out[i] = column;
    hot ||= column >= 0;
  }
  return hot;
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
  // An all-zero A (a zero state, H₀·W_hh) is left to the kernels, like a dense one: its rows are no
  // copies to save, and scanning a large B (all of W_hh, after each update) would cost more than the product.
  if (scanRows(A, m, k, false, columns) !== true) return false;
  const contents = contentsOf(B, k * n);
  if (contents === 'nonFinite') return false;

  const accumulate = p.accumulate === true;
  const wasmCopy = heapCopier(C, B);
  for (let i = 0; i < m; i++) {
    const out = i * n;
    const q = columns[i]!;
    if (q < 0) {
      if (!accumulate && !heapZero(C, out, n)) C.fill(0, out, out + n);
      continue;
    }
    const a = A[i * k + q]!;
    // op(B)[q, j]: B[q·n + j], or B[j·k + q] for a transposed B.
    const at = transB ? q : q * n;
    const step = transB ? k : 1;
    if (accumulate) {
      for (let j = 0; j < n; j++) C[out + j] = C[out + j]! + (Math.fround(a * B[at + j * step]!) + 0);
    } else if (a === 1 && !transB && contents === 'plain') {
      // x + 0 is x itself when no x is −0; memory.copy where both lie in the heap (faster than set there)
      if (wasmCopy !== null) wasmCopy(out, at, n);
      else C.set(B.subarray(at, at + n), out);
    } else {
      for (let j = 0; j < n; j++) C[out + j] = Math.fround(a * B[at + j * step]!) + 0;
    }
  }
  return true;
}

/** The column of each row's 1 (-1 for a zero row), for the transposed product, grown as needed. */
let targets = new Int32Array(64);

/**
 * C = Aᵀ·B for an A stored k x m (one batch entry, not accumulating) whose rows each hold a single 1 or
 * nothing: the gradient of a weight multiplied by one-hot rows (d2l's W_xh, whose deferred gradient is
 * [1120,28]ᵀ·[1120,512] a step in the scratch RNN). Row q of C is then the sum of the rows of B whose
 * row of A has its 1 in column q: row additions instead of k multiply-adds per element, through the
 * wasm add where C and B are heap buffers. Returns false, having written nothing, for any other
 * product, and false after writing C when the sum is not finite everywhere (see below); the caller
 * then runs the matmul, which writes all of C.
 *
 * Bit for bit the wasm kernels' result, and taken only where they would run: they accumulate each
 * element over k in order from +0, in float32, and with a ∈ {0, 1} every term is 0·b (±0, which
 * leaves the running sum as it is, since it is never −0) or 1·b (exactly b, even fused): the same
 * float32 additions, in the same order, as adding the rows. The
 * exception is 0·∞ or 0·NaN, which poisons a whole column of the kernels' product. Such a value in B
 * also leaves a non-finite value in its row's sum, so a C that is not finite everywhere goes back to
 * the kernels, and no scan of B (a fresh gradient every time) is needed.
 */
export function oneHotRowsTransposedMatmul(A: Float32Array, B: Float32Array, C: Float32Array, p: MatmulParams): boolean {
  const { m, k, n } = p;
  if (!p.transA || p.transB || p.accumulate === true || p.batch !== 1 || m === 0 || n === 0 || k === 0) return false;
  // Only where the wasm kernels would run (the reference loop sums in doubles: other bits).
  if (m * n * k < WASM_MIN_MACS || sharedKernels() === null) return false;
  if (targets.length < k) targets = new Int32Array(k);
  if (scanRows(A, k, m, true, targets) !== true) return false;
  if (!heapZero(C, 0, m * n)) C.fill(0, 0, m * n);
  if (!tryWasmAddRows(C, B, targets, k, n)) {
    for (let i = 0; i < k; i++) {
      const q = targets[i]!;
      if (q < 0) continue;
      const to = q * n;
      const from = i * n;
      for (let j = 0; j < n; j++) C[to + j] = C[to + j]! + B[from + j]!;
    }
  }
  for (let i = 0; i < m * n; i++) {
    const x = C[i]!;
    if (x - x !== 0) return false; // NaN or ±∞
  }
  return true;
}
