/*
 * Test oracles: the recurrent cells' equations written out with plain numbers on the host, one element
 * at a time, independent of the tensor engine. Vectors are number[]; matrices number[][] (rows).
 */

/** Row-major flat values -> rows of `cols` numbers. */
export function rows(flat: ArrayLike<number>, cols: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += cols) out.push(Array.from(flat).slice(i, i + cols));
  return out;
}

/** W v for W given as rows. */
export function matVec(W: number[][], v: number[]): number[] {
  return W.map((row) => row.reduce((s, w, j) => s + w * v[j]!, 0));
}

/** v W for W given as rows (d2l's X @ W on one row). */
export function vecMat(v: number[], W: number[][]): number[] {
  return W[0]!.map((_, j) => v.reduce((s, x, i) => s + x * W[i]![j]!, 0));
}

export const sigma = (x: number): number => 1 / (1 + Math.exp(-x));
const plus = (...vs: number[][]): number[] => vs[0]!.map((_, i) => vs.reduce((s, v) => s + v[i]!, 0));
const block = (v: number[], k: number, h: number): number[] => v.slice(k * h, (k + 1) * h);

/** PyTorch weights of one layer and direction, as rows / vectors. */
export interface HostWeights {
  wIh: number[][];
  wHh: number[][];
  bIh: number[];
  bHh: number[];
}

/** nn.RNN: h' = act(W_ih x + b_ih + W_hh h + b_hh). */
export function hostRnn(w: HostWeights, x: number[], h: number[], act: (v: number) => number = Math.tanh): number[] {
  return plus(matVec(w.wIh, x), w.bIh, matVec(w.wHh, h), w.bHh).map(act);
}

/** nn.GRU (gates r, z, n): n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h. */
export function hostGru(w: HostWeights, x: number[], h: number[]): number[] {
  const H = h.length;
  const gi = plus(matVec(w.wIh, x), w.bIh);
  const gh = plus(matVec(w.wHh, h), w.bHh);
  const r = plus(block(gi, 0, H), block(gh, 0, H)).map(sigma);
  const z = plus(block(gi, 1, H), block(gh, 1, H)).map(sigma);
  const n = block(gi, 2, H).map((v, i) => Math.tanh(v + r[i]! * block(gh, 2, H)[i]!));
  return n.map((ni, i) => (1 - z[i]!) * ni + z[i]! * h[i]!);
}

/** nn.LSTM (gates i, f, g, o): c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c'). Returns [h', c']. */
export function hostLstm(w: HostWeights, x: number[], h: number[], c: number[]): [number[], number[]] {
  const H = h.length;
  const gates = plus(matVec(w.wIh, x), w.bIh, matVec(w.wHh, h), w.bHh);
  const i = block(gates, 0, H).map(sigma);
  const f = block(gates, 1, H).map(sigma);
  const g = block(gates, 2, H).map(Math.tanh);
  const o = block(gates, 3, H).map(sigma);
  const cNext = c.map((cj, j) => f[j]! * cj + i[j]! * g[j]!);
  return [cNext.map((cj, j) => o[j]! * Math.tanh(cj)), cNext];
}
