import type { AxisParams, ReduceOp } from '../../backend.ts';

// x is viewed as [outer, axis, inner] and reduced along the middle axis, one output element at a time.
// max and argmax let NaN win (PyTorch does the same), so a diverging model shows up instead of being
// masked by `v > best` failing on NaN.

/** Offset of x[o, a, j] in a row-major [outer, axis, inner] array. */
const at = (p: AxisParams, o: number, a: number, j: number): number => (o * p.axis + a) * p.inner + j;

/** out[o, j] = sum (in double precision) or max of x[o, a, j] over a; an empty axis gives 0 or -Infinity. */
export function reduce(op: ReduceOp, x: Float32Array, out: Float32Array, p: AxisParams): void {
  if (op !== 'sum' && op !== 'max') throw new Error(`unknown reduce op '${op as string}'`);
  for (let o = 0; o < p.outer; o++) {
    for (let j = 0; j < p.inner; j++) {
      let r = op === 'sum' ? 0 : -Infinity;
      for (let a = 0; a < p.axis; a++) {
        const v = x[at(p, o, a, j)]!;
        if (op === 'sum') r += v;
        else if (v > r || (v !== v && r === r)) r = v;
      }
      out[o * p.inner + j] = r;
    }
  }
}

/** out[o, j] = the first a that maximises x[o, a, j] (int32); the first NaN counts as the maximum. */
export function argmax(x: Float32Array, out: Int32Array, p: AxisParams): void {
  for (let o = 0; o < p.outer; o++) {
    for (let j = 0; j < p.inner; j++) {
      let best = -Infinity;
      let index = 0;
      for (let a = 0; a < p.axis; a++) {
        const v = x[at(p, o, a, j)]!;
        // Strict > keeps the first of equal values; once best is NaN nothing replaces it.
        if (v > best || (v !== v && best === best)) {
          best = v;
          index = a;
        }
      }
      out[o * p.inner + j] = index;
    }
  }
}

// The softmax family subtracts each row's maximum before exponentiating, so every exponent is <= 0
// and a logit of 1000 cannot overflow. Exponentials are rounded to float32 before they are summed (in
// double precision), as the fast backends store them. A target outside [0, cols) poisons its row with
// NaN rather than reading a neighbouring value.

/** Row r's maximum (NaN skipped) and Σ_j exp(x[r, j] − max) of its float32-rounded exponentials. */
function rowStats(x: Float32Array, r: number, cols: number): { max: number; sum: number } {
  let max = -Infinity;
  for (let j = 0; j < cols; j++) if (x[r * cols + j]! > max) max = x[r * cols + j]!;
  let sum = 0;
  for (let j = 0; j < cols; j++) sum += Math.fround(Math.exp(x[r * cols + j]! - max));
  return { max, sum };
}

/** Row-wise softmax of x [rows, cols], or log-softmax (x − max − log Σ exp) when `log`. */
export function softmax(x: Float32Array, out: Float32Array, rows: number, cols: number, log: boolean): void {
  for (let r = 0; r < rows; r++) {
    const { max, sum } = rowStats(x, r, cols);
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      out[i] = log ? x[i]! - (max + Math.log(sum)) : Math.fround(Math.exp(x[i]! - max)) / sum;
    }
  }
}

/** out[0] = mean over rows of logsumexp(logits[r, :]) − logits[r, targets[r]]. */
export function crossEntropy(logits: Float32Array, targets: Int32Array, out: Float32Array, rows: number, cols: number): void {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (t < 0 || t >= cols) {
      out[0] = NaN;
      return;
    }
    const { max, sum } = rowStats(logits, r, cols);
    total += max + Math.log(sum) - logits[r * cols + t]!;
  }
  out[0] = total / rows;
}

/** out[r, j] = g · (softmax(logits)[r, j] − [targets[r] = j]) / rows, with g = gradOut[0]. */
export function crossEntropyBackward(
  logits: Float32Array, targets: Int32Array, gradOut: Float32Array, out: Float32Array, rows: number, cols: number,
): void {
  const scale = gradOut[0]! / rows;
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    const { max, sum } = rowStats(logits, r, cols);
    for (let j = 0; j < cols; j++) {
      const i = r * cols + j;
      const p = Math.fround(Math.exp(logits[i]! - max)) / sum;
      out[i] = t < 0 || t >= cols ? NaN : scale * (p - (j === t ? 1 : 0));
    }
  }
}
