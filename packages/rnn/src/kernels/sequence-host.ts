// The whole-sequence recurrence kernels (sequence-kernels.ts) as plain loops: what the WGSL in
// sequence-wgsl.ts computes, written so that a reader can check it against the equations, and what
// the CPU devices run. Each loop nest walks time in the order the direction processes it; values a
// tensor would store are rounded to float32 (`f`), sums run in double precision.
//
// Layouts (time-major, as the layer stores them): xp [T·B, G·H]; states [T, B, H] (every h); saved
// holds what backward needs, [T·B, 4H] for the GRU (r, z, n, W_hn·h + b_hn) and [T·B, 5H] for the
// LSTM (i, f, g, o, c); W_hh [G·H, H]. The forward kernels also write the final hidden state hN
// [B, H] (and the LSTM its final cell state cN), so that the layer needs no copy to carry them.
import type { HostKernelArgs } from '@tinytape/tensor';

/**
 * Sizes every sequence kernel takes. `reverse` and `relu` are 0 or 1 (they are shader uniforms);
 * `origin` is where this layer and direction's initial state starts in h0 (and c0), which hold every
 * layer and direction's ([layers·directions, B, H]), so that no row is copied out of them.
 */
export type SequenceParams = { steps: number; batch: number; hidden: number; reverse: number; relu: number; origin: number };

const f = Math.fround;
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** Time of the s-th step processed. */
const timeAt = (s: number, steps: number, reverse: number) => (reverse === 1 ? steps - 1 - s : s);

/**
 * Σ_i W[row, i]·h[at + i]: one row of the recurrent product, read from W_hhᵀ [H, G·H] (the forward
 * kernels take the weight transposed, for the GPU's sake: see sequence-wgsl.ts).
 */
function rowDot(wT: Float32Array, row: number, h: Float32Array, at: number, hidden: number): number {
  let acc = 0;
  const stride = wT.length / hidden;
  for (let i = 0; i < hidden; i++) acc += wT[i * stride + row]! * h[at + i]!;
  return acc;
}

/** Σ_k W[k, j]·d[at + k] over k < rows: column j of Wᵀ·d, the product backward carries. */
function columnDot(w: Float32Array, j: number, d: Float32Array, at: number, rows: number, hidden: number): number {
  let acc = 0;
  for (let k = 0; k < rows; k++) acc += w[k * hidden + j]! * d[at + k]!;
  return acc;
}

/** RNN forward: h_t = act(xp_t + W·h_prev). Inputs xp, wT (W_hhᵀ), h0; outputs states [T, B, H], hN. */
export function rnnForwardHost({ inputs: [xp, w, h0], outputs: [states, hN], params }: HostKernelArgs<SequenceParams>): void {
  const { steps, batch, hidden: H, reverse, origin, relu } = params;
  for (let b = 0; b < batch; b++) {
    let prev = h0!;
    let prevAt = origin + b * H;
    for (let s = 0; s < steps; s++) {
      const row = timeAt(s, steps, reverse) * batch + b;
      for (let j = 0; j < H; j++) {
        const a = xp![row * H + j]! + rowDot(w!, j, prev, prevAt, H);
        states![row * H + j] = relu === 1 ? Math.max(a, 0) : Math.tanh(a);
      }
      prev = states!;
      prevAt = row * H;
    }
    for (let j = 0; j < H; j++) hN![b * H + j] = prev[prevAt + j]!;
  }
}

/** GRU forward (PyTorch's n-gate form). Inputs xp, wT, bias (b_hh), h0; outputs states, saved, hN. */
export function gruForwardHost({ inputs: [xp, w, bias, h0], outputs: [states, saved, hN], params }: HostKernelArgs<SequenceParams>): void {
  const { steps, batch, hidden: H, reverse, origin } = params;
  for (let b = 0; b < batch; b++) {
    let prev = h0!;
    let prevAt = origin + b * H;
    for (let s = 0; s < steps; s++) {
      const row = timeAt(s, steps, reverse) * batch + b;
      const x = row * 3 * H;
      for (let j = 0; j < H; j++) {
        const hr = f(rowDot(w!, j, prev, prevAt, H) + bias![j]!);
        const hz = f(rowDot(w!, H + j, prev, prevAt, H) + bias![H + j]!);
        const hn = f(rowDot(w!, 2 * H + j, prev, prevAt, H) + bias![2 * H + j]!);
        const r = f(sigmoid(xp![x + j]! + hr));
        const z = f(sigmoid(xp![x + H + j]! + hz));
        const n = f(Math.tanh(xp![x + 2 * H + j]! + r * hn));
        states![row * H + j] = n + z * (prev[prevAt + j]! - n);
        const out = row * 4 * H + j;
        saved![out] = r;
        saved![out + H] = z;
        saved![out + 2 * H] = n;
        saved![out + 3 * H] = hn;
      }
      prev = states!;
      prevAt = row * H;
    }
    for (let j = 0; j < H; j++) hN![b * H + j] = prev[prevAt + j]!;
  }
}

/** LSTM forward. Inputs xp (both biases folded in), wT, h0, c0; outputs states, saved, hN, cN. */
export function lstmForwardHost({ inputs: [xp, w, h0, c0], outputs: [states, saved, hN, cN], params }: HostKernelArgs<SequenceParams>): void {
  const { steps, batch, hidden: H, reverse, origin } = params;
  for (let b = 0; b < batch; b++) {
    let prev = h0!;
    let prevAt = origin + b * H;
    let prevC = c0!;
    let prevCAt = origin + b * H;
    for (let s = 0; s < steps; s++) {
      const row = timeAt(s, steps, reverse) * batch + b;
      const x = row * 4 * H;
      const at = row * 5 * H;
      for (let j = 0; j < H; j++) {
        const i = f(sigmoid(xp![x + j]! + rowDot(w!, j, prev, prevAt, H)));
        const fg = f(sigmoid(xp![x + H + j]! + rowDot(w!, H + j, prev, prevAt, H)));
        const g = f(Math.tanh(xp![x + 2 * H + j]! + rowDot(w!, 2 * H + j, prev, prevAt, H)));
        const o = f(sigmoid(xp![x + 3 * H + j]! + rowDot(w!, 3 * H + j, prev, prevAt, H)));
        const c = f(fg * prevC[prevCAt + j]! + i * g);
        states![row * H + j] = o * Math.tanh(c);
        saved![at + j] = i;
        saved![at + H + j] = fg;
        saved![at + 2 * H + j] = g;
        saved![at + 3 * H + j] = o;
        saved![at + 4 * H + j] = c;
      }
      prev = states!;
      prevAt = row * H;
      prevC = saved!;
      prevCAt = at + 4 * H;
    }
    for (let j = 0; j < H; j++) {
      hN![b * H + j] = prev[prevAt + j]!;
      cN![b * H + j] = prevC[prevCAt + j]!;
    }
  }
}

/**
 * RNN backward: walking time in reverse, dh_t = g_t + Wᵀ·da_later and da_t = dh_t ⊙ act'(h_t).
 * Inputs g (gradient of states), w, states; outputs dPre (every da_t, [T·B, H]) and dh0.
 */
export function rnnBackwardHost({ inputs: [g, w, states], outputs: [dPre, dh0], params }: HostKernelArgs<SequenceParams>): void {
  const { steps, batch, hidden: H, reverse, relu } = params;
  for (let b = 0; b < batch; b++) {
    let later = -1;
    for (let s = steps - 1; s >= 0; s--) {
      const row = timeAt(s, steps, reverse) * batch + b;
      for (let j = 0; j < H; j++) {
        const dh = g![row * H + j]! + (later < 0 ? 0 : columnDot(w!, j, dPre!, later * H, H, H));
        const h = states![row * H + j]!;
        dPre![row * H + j] = dh * (relu === 1 ? (h > 0 ? 1 : 0) : 1 - h * h);
      }
      later = row;
    }
    for (let j = 0; j < H; j++) dh0![b * H + j] = columnDot(w!, j, dPre!, later * H, H, H);
  }
}

/** Row of the state a step started from, or -1 for the initial state. */
function previousRow(s: number, steps: number, batch: number, b: number, reverse: number): number {
  return s === 0 ? -1 : timeAt(s - 1, steps, reverse) * batch + b;
}

/**
 * GRU backward. With h' = n + z ⊙ (h − n): dn = dh'(1 − z)(1 − n²), dz = dh'(h − n)z(1 − z),
 * dr = dn·hn·r(1 − r); the input projection gets [dr, dz, dn], the recurrent product [dr, dz, dn ⊙ r],
 * and dh = dh' ⊙ z + Wᵀ·dHp. Inputs g, w, states, saved, h0; outputs dXp, dHp, dh0.
 */
export function gruBackwardHost({ inputs: [g, w, states, saved, h0], outputs: [dXp, dHp, dh0], params }: HostKernelArgs<SequenceParams>): void {
  const { steps, batch, hidden: H, reverse, origin } = params;
  const carry = new Float64Array(H);
  for (let b = 0; b < batch; b++) {
    carry.fill(0);
    for (let s = steps - 1; s >= 0; s--) {
      const row = timeAt(s, steps, reverse) * batch + b;
      const prevRow = previousRow(s, steps, batch, b, reverse);
      const next = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        const dh = f(g![row * H + j]! + carry[j]!);
        const at = row * 4 * H + j;
        const [r, z, n, hn] = [saved![at]!, saved![at + H]!, saved![at + 2 * H]!, saved![at + 3 * H]!];
        const hPrev = prevRow < 0 ? h0![origin + b * H + j]! : states![prevRow * H + j]!;
        const dn = f(dh * (1 - z) * (1 - n * n));
        const dz = f(dh * (hPrev - n) * z * (1 - z));
        const dr = f(dn * hn * r * (1 - r));
        const out = row * 3 * H + j;
        dXp![out] = dr;
        dXp![out + H] = dz;
        dXp![out + 2 * H] = dn;
        dHp![out] = dr;
        dHp![out + H] = dz;
        dHp![out + 2 * H] = f(dn * r);
        next[j] = dh * z;
      }
      for (let j = 0; j < H; j++) next[j] += columnDot(w!, j, dHp!, row * 3 * H, 3 * H, H);
      for (let j = 0; j < H; j++) carry[j] = f(next[j]!);
    }
    for (let j = 0; j < H; j++) dh0![b * H + j] = carry[j]!;
  }
}

/**
 * LSTM backward. With c' = f ⊙ c + i ⊙ g and h' = o ⊙ tanh(c'): dc' = (carried) + dh' ⊙ o(1 − tanh²c'),
 * the gates get dc'·g·i(1 − i), dc'·c·f(1 − f), dc'·i(1 − g²), dh'·tanh(c')·o(1 − o); the carries are
 * dc = dc' ⊙ f and dh = Wᵀ·dPre. Inputs g (of the states), w, saved, c0 and dcN, the final cell state's
 * gradient, which seeds the cell carry when `finalCell` is 1 (else it is not read); outputs dPre, dh0, dc0.
 */
export function lstmBackwardHost({ inputs: [g, w, saved, c0, dcN], outputs: [dPre, dh0, dc0], params }: HostKernelArgs<LstmBackwardParams>): void {
  const { steps, batch, hidden: H, reverse, origin, finalCell } = params;
  const carryH = new Float64Array(H);
  const carryC = new Float64Array(H);
  for (let b = 0; b < batch; b++) {
    carryH.fill(0);
    for (let j = 0; j < H; j++) carryC[j] = finalCell === 1 ? dcN![b * H + j]! : 0;
    for (let s = steps - 1; s >= 0; s--) {
      const row = timeAt(s, steps, reverse) * batch + b;
      const prevRow = previousRow(s, steps, batch, b, reverse);
      for (let j = 0; j < H; j++) {
        const dh = f(g![row * H + j]! + carryH[j]!);
        const at = row * 5 * H + j;
        const [i, fg, gg, o] = [saved![at]!, saved![at + H]!, saved![at + 2 * H]!, saved![at + 3 * H]!];
        const tc = f(Math.tanh(saved![at + 4 * H]!));
        const dc = f(carryC[j]! + dh * o * (1 - tc * tc));
        const cPrev = prevRow < 0 ? c0![origin + b * H + j]! : saved![prevRow * 5 * H + 4 * H + j]!;
        const out = row * 4 * H + j;
        dPre![out] = dc * gg * i * (1 - i);
        dPre![out + H] = dc * cPrev * fg * (1 - fg);
        dPre![out + 2 * H] = dc * i * (1 - gg * gg);
        dPre![out + 3 * H] = dh * tc * o * (1 - o);
        carryC[j] = f(dc * fg);
      }
      for (let j = 0; j < H; j++) carryH[j] = f(columnDot(w!, j, dPre!, row * 4 * H, 4 * H, H));
    }
    for (let j = 0; j < H; j++) {
      dh0![b * H + j] = carryH[j]!;
      dc0![b * H + j] = carryC[j]!;
    }
  }
}

/** The LSTM backward's sizes: `finalCell` 1 when a gradient of the final cell state is given. */
export type LstmBackwardParams = SequenceParams & { finalCell: number };

/** Sizes of the weight-gradient kernel: `gates` blocks. */
export type WeightGradParams = SequenceParams & { gates: number };

/**
 * dW_hh = dHpᵀ·prev and db_hh = Σ_rows dHp, where prev holds each step's starting hidden state (h0 for
 * the first step processed): one product over all steps. Inputs d [T·B, G·H], states, h0; outputs dW, db.
 */
export function weightGradHost({ inputs: [d, states, h0], outputs: [dW, db], params }: HostKernelArgs<WeightGradParams>): void {
  const { steps, batch, hidden: H, reverse, origin, gates } = params;
  const GH = gates * H;
  const acc = new Float64Array(GH * H);
  const bias = new Float64Array(GH);
  for (let s = 0; s < steps; s++) {
    for (let b = 0; b < batch; b++) {
      const row = timeAt(s, steps, reverse) * batch + b;
      const prevRow = previousRow(s, steps, batch, b, reverse);
      const prev = prevRow < 0 ? h0! : states!;
      const prevAt = prevRow < 0 ? origin + b * H : prevRow * H;
      for (let k = 0; k < GH; k++) {
        const dk = d![row * GH + k]!;
        bias[k] += dk;
        if (dk === 0) continue;
        for (let j = 0; j < H; j++) acc[k * H + j] += dk * prev[prevAt + j]!;
      }
    }
  }
  dW!.set(acc);
  db!.set(bias);
}
