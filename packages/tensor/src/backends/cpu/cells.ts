// GRU and LSTM time steps as single loops (see Backend.gruCell / lstmCell). Every intermediate is
// rounded to float32 (Math.fround) where the same formula written as separate tensor ops would store
// it, so a fused step gives exactly what the step-by-step ops give on this backend.

const f = Math.fround;

/** σ(v) as the unary kernel computes it: the form that cannot overflow for either sign. */
function sigmoid(v: number): number {
  if (v >= 0) return f(1 / (1 + Math.exp(-v)));
  const e = Math.exp(v);
  return f(e / (1 + e));
}

/** out = n + z ⊙ (h − n) with PyTorch's GRU gates; `bias` is b_hh. */
export function gruCell(
  xp: Float32Array, hp: Float32Array, bias: Float32Array, h: Float32Array, out: Float32Array, batch: number, hidden: number,
): void {
  const width = 3 * hidden;
  for (let b = 0; b < batch; b++) {
    const row = b * width;
    const state = b * hidden;
    for (let j = 0; j < hidden; j++) {
      const r = sigmoid(f(xp[row + j]! + f(hp[row + j]! + bias[j]!)));
      const z = sigmoid(f(xp[row + hidden + j]! + f(hp[row + hidden + j]! + bias[hidden + j]!)));
      const n = f(Math.tanh(f(xp[row + 2 * hidden + j]! + f(r * f(hp[row + 2 * hidden + j]! + bias[2 * hidden + j]!)))));
      out[state + j] = n + f(z * f(h[state + j]! - n));
    }
  }
}

/** c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g), h' = σ(o) ⊙ tanh(c'), gates = xp + hp in blocks i, f, g, o. */
export function lstmCell(
  xp: Float32Array, hp: Float32Array, c: Float32Array, outH: Float32Array, outC: Float32Array, batch: number, hidden: number,
): void {
  const width = 4 * hidden;
  for (let b = 0; b < batch; b++) {
    const row = b * width;
    const state = b * hidden;
    for (let j = 0; j < hidden; j++) {
      const i = sigmoid(f(xp[row + j]! + hp[row + j]!));
      const fg = sigmoid(f(xp[row + hidden + j]! + hp[row + hidden + j]!));
      const g = f(Math.tanh(f(xp[row + 2 * hidden + j]! + hp[row + 2 * hidden + j]!)));
      const o = sigmoid(f(xp[row + 3 * hidden + j]! + hp[row + 3 * hidden + j]!));
      const cNext = f(f(fg * c[state + j]!) + f(i * g));
      outC[state + j] = cNext;
      outH[state + j] = o * f(Math.tanh(cNext));
    }
  }
}
