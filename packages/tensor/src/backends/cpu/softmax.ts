// All three kernels subtract the row maximum before exponentiating, so every exponent is <= 0 and a
// logit of 1000 cannot overflow; the sums are kept in doubles. A target outside [0, cols) has no
// meaning, so it poisons its row with NaN rather than quietly reading a neighbouring value.

/** Largest value of x[base, base + cols); -Infinity for an empty row. */
function rowMax(x: Float32Array, base: number, cols: number): number {
  let m = -Infinity;
  const end = base + cols;
  for (let i = base; i < end; i++) {
    const v = x[i]!;
    if (v > m) m = v;
  }
  return m;
}

/** sum_j exp(x[base + j] - max) over one row. */
function rowSumExp(x: Float32Array, base: number, cols: number, max: number): number {
  let s = 0;
  const end = base + cols;
  for (let i = base; i < end; i++) s += Math.exp(x[i]! - max);
  return s;
}

/** Row-wise softmax of x [rows, cols] into out, or log-softmax when `log` (x - max - log sum exp). */
export function softmax(x: Float32Array, out: Float32Array, rows: number, cols: number, log: boolean): void {
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    const max = rowMax(x, base, cols);
    const end = base + cols;
    if (log) {
      const shift = max + Math.log(rowSumExp(x, base, cols, max));
      for (let i = base; i < end; i++) out[i] = x[i]! - shift;
    } else {
      // Store the exponentials once and rescale, instead of calling exp twice per element.
      let s = 0;
      for (let i = base; i < end; i++) {
        const e = Math.exp(x[i]! - max);
        out[i] = e;
        s += e;
      }
      const inv = 1 / s;
      for (let i = base; i < end; i++) out[i] = out[i]! * inv;
    }
  }
}

/** out[0] = mean over rows of (logsumexp(logits[r, :]) - logits[r, targets[r]]). */
export function crossEntropy(logits: Float32Array, targets: Int32Array, out: Float32Array, rows: number, cols: number): void {
  let total = 0;
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    const t = targets[r]!;
    if (t < 0 || t >= cols) {
      total = NaN;
      break;
    }
    const max = rowMax(logits, base, cols);
    total += max + Math.log(rowSumExp(logits, base, cols, max)) - logits[base + t]!;
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
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    const max = rowMax(logits, base, cols);
    const end = base + cols;
    let s = 0;
    for (let i = base; i < end; i++) {
      const e = Math.exp(logits[i]! - max);
      out[i] = e;
      s += e;
    }
    const k = scale / s;
    for (let i = base; i < end; i++) out[i] = out[i]! * k;
    const t = targets[r]!;
    if (t >= 0 && t < cols) out[base + t] = out[base + t]! - scale;
    else out.fill(NaN, base, end);
  }
}
