// All three kernels subtract the row maximum before exponentiating, so every exponent is <= 0 and a
// logit of 1000 cannot overflow. A target outside [0, cols) has no meaning, so it poisons its row
// with NaN rather than quietly reading a neighbouring value.
//
// The exponentials of all rows are computed in one pass (`rowExps`: WebAssembly SIMD where available,
// about 4x faster than Math.exp, which was most of these kernels' time), stored as float32, and
// each row's sum is then taken over the stored values in doubles. Summing the rounded values rather
// than Math.exp's doubles moves a sum by at most 2^-24 relative, below the float32 results' own
// rounding, and keeps the results independent of which path computed the exponentials.
//
// crossEntropy keeps its exponentials and row sums, with the logits buffer and its version stamp
// (buffer-versions.ts), so that crossEntropyBackward of the same, unchanged logits, which a training
// step always runs next, multiplies them rather than computing them again: the same values, so the
// same bits, for half the exponentials (at [1120, 28], about 0.1 ms of the two kernels' 0.4 ms).

import { versionOf } from './buffer-versions.ts';
import { tryWasmExpRows } from './wasm/wasm-math.ts';

/** Reused between calls (the kernels are synchronous and never nest); they grow to the largest use. */
let maxScratch = new Float32Array(0);
let expScratch = new Float32Array(0);
let sumScratch = new Float64Array(0);

/** crossEntropy's last exponentials and row sums, and the logits they are of; see the header. */
const lastLoss = {
  exps: new Float32Array(0),
  sums: new Float64Array(0),
  logits: null as Float32Array | null,
  version: 0,
  rows: 0,
  cols: 0,
};

/** Whether lastLoss holds the exponentials of exactly these logits, unchanged since. */
function holdsExpsOf(logits: Float32Array, rows: number, cols: number): boolean {
  const v = lastLoss.version;
  return lastLoss.logits === logits && v !== 0 && versionOf(logits) === v && lastLoss.rows === rows && lastLoss.cols === cols;
}

/** Each row's largest value, -Infinity for an empty row (a NaN is skipped, as `v > m` is false). */
function rowMaxes(x: Float32Array, rows: number, cols: number): Float32Array {
  if (maxScratch.length < rows) maxScratch = new Float32Array(rows);
  const maxes = maxScratch;
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    let m = -Infinity;
    const end = base + cols;
    for (let i = base; i < end; i++) {
      const v = x[i]!;
      if (v > m) m = v;
    }
    maxes[r] = m;
  }
  return maxes;
}

/**
 * e[r, j] = exp(x[r, j] − maxes[r]) rounded to float32 for every row, and each row's sum of those
 * values (in doubles) in the returned array.
 */
function rowExps(x: Float32Array, e: Float32Array, rows: number, cols: number, maxes: Float32Array): Float64Array {
  if (sumScratch.length < rows) sumScratch = new Float64Array(rows);
  const sums = sumScratch;
  if (tryWasmExpRows(x, e, rows, cols, maxes)) {
    for (let r = 0, base = 0; r < rows; r++, base += cols) {
      let s = 0;
      const end = base + cols;
      for (let i = base; i < end; i++) s += e[i]!;
      sums[r] = s;
    }
  } else {
    // One pass here (the wasm path needs two): the TypeScript exponentials are the slow part.
    for (let r = 0, base = 0; r < rows; r++, base += cols) {
      const max = maxes[r]!;
      let s = 0;
      const end = base + cols;
      for (let i = base; i < end; i++) {
        const v = Math.fround(Math.exp(x[i]! - max));
        e[i] = v;
        s += v;
      }
      sums[r] = s;
    }
  }
  return sums;
}

/** A scratch array for the exponentials of `size` elements. */
function expsFor(size: number): Float32Array {
  if (expScratch.length < size) expScratch = new Float32Array(size);
  return expScratch;
}

/** Row-wise softmax of x [rows, cols] into out, or log-softmax when `log` (x - max - log sum exp). */
export function softmax(x: Float32Array, out: Float32Array, rows: number, cols: number, log: boolean): void {
  const maxes = rowMaxes(x, rows, cols);
  // Softmax stores the exponentials in out and rescales them; log-softmax needs only their sums.
  const sums = rowExps(x, log ? expsFor(rows * cols) : out, rows, cols, maxes);
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    const end = base + cols;
    if (log) {
      const shift = maxes[r]! + Math.log(sums[r]!);
      for (let i = base; i < end; i++) out[i] = x[i]! - shift;
    } else {
      const inv = 1 / sums[r]!;
      for (let i = base; i < end; i++) out[i] = out[i]! * inv;
    }
  }
}

/** out[0] = mean over rows of (logsumexp(logits[r, :]) - logits[r, targets[r]]). */
export function crossEntropy(logits: Float32Array, targets: Int32Array, out: Float32Array, rows: number, cols: number): void {
  lastLoss.logits = null;
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (t < 0 || t >= cols) {
      out[0] = NaN;
      return;
    }
  }
  const maxes = rowMaxes(logits, rows, cols);
  if (lastLoss.exps.length < rows * cols) lastLoss.exps = new Float32Array(rows * cols);
  if (lastLoss.sums.length < rows) lastLoss.sums = new Float64Array(rows);
  const sums = rowExps(logits, lastLoss.exps, rows, cols, maxes);
  lastLoss.sums.set(sums.subarray(0, rows));
  Object.assign(lastLoss, { logits, version: versionOf(logits), rows, cols });
  let total = 0;
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    total += maxes[r]! + Math.log(sums[r]!) - logits[base + targets[r]!]!;
  }
  out[0] = total / rows;
}

/** out[r, j] = g * (softmax(logits)[r, j] - [targets[r] === j]) / rows with g = gradOut[0]. */
export function crossEntropyBackward(
  logits: Float32Array,
  targets: Int32Array,
  gradOut: Float32Array,
  out: Float32Array,
  rows: number,
  cols: number,
): void {
  const scale = gradOut[0]! / rows;
  const reuse = holdsExpsOf(logits, rows, cols);
  const sums = reuse ? lastLoss.sums : rowExps(logits, out, rows, cols, rowMaxes(logits, rows, cols));
  const exps = reuse ? lastLoss.exps : out;
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    const end = base + cols;
    const k = scale / sums[r]!;
    for (let i = base; i < end; i++) out[i] = exps[i]! * k;
    const t = targets[r]!;
    if (t >= 0 && t < cols) out[base + t] = out[base + t]! - scale;
    else out.fill(NaN, base, end);
  }
}
