/*
 * One time step of each recurrent cell, PyTorch's equations, given the input projection for that step
 * already computed (the layer does it for all steps in one matmul). Only the recurrent product h W_hhᵀ
 * is left per step; the gate blocks are cut out of the fused [batch, gates*hidden] result with `slice`.
 */
import { type Tensor, add, matmul, mul, relu, reshape, sigmoid, slice, sub, tanh } from '@tinytape/tensor';

/** The recurrent cell a layer runs. */
export type CellKind = 'rnn' | 'gru' | 'lstm';

/** Activation of the plain RNN cell (PyTorch's `nonlinearity`). */
export type Nonlinearity = 'tanh' | 'relu';

/** Gate blocks stacked in weight_ih/weight_hh rows: RNN 1, GRU 3 (r, z, n), LSTM 4 (i, f, g, o). */
export const GATES: Readonly<Record<CellKind, number>> = { rnn: 1, gru: 3, lstm: 4 };

/**
 * Whether b_hh can be added to the input projection once for all steps. It can wherever it is just
 * summed with the rest of the pre-activation (RNN, LSTM); the GRU scales b_hn by the reset gate.
 */
export function foldsHiddenBias(kind: CellKind): boolean {
  return kind !== 'gru';
}

/** Recurrent weights of one layer and direction. */
export interface StepWeights {
  /** weight_hh [gates*hidden, hidden]. */
  wHh: Tensor;
  /** bias_hh [gates*hidden]; only read by the GRU (the others have it folded into the projection). */
  bHh: Tensor;
}

/**
 * RNN step: h' = act(xp + h W_hhᵀ), where xp = x W_ihᵀ + b_ih + b_hh.
 *
 * @param xp - the step's input projection with both biases, [batch, hidden].
 * @param h - previous hidden state [batch, hidden].
 */
export function rnnStep(xp: Tensor, h: Tensor, w: StepWeights, nonlinearity: Nonlinearity = 'tanh'): Tensor {
  const pre = add(xp, matmul(h, w.wHh, { transB: true }));
  return nonlinearity === 'relu' ? relu(pre) : tanh(pre);
}

/**
 * GRU step (PyTorch's variant, the reset gate applied after the recurrent product):
 * r = σ(xp_r + h W_hrᵀ + b_hr), z = σ(xp_z + h W_hzᵀ + b_hz), n = tanh(xp_n + r ⊙ (h W_hnᵀ + b_hn)),
 * h' = (1 − z) ⊙ n + z ⊙ h, where xp = x W_ihᵀ + b_ih.
 *
 * @param xp - the step's input projection with b_ih, [batch, 3*hidden].
 */
export function gruStep(xp: Tensor, h: Tensor, w: StepWeights): Tensor {
  const hidden = h.shape[1]!;
  const hp = add(matmul(h, w.wHh, { transB: true }), w.bHh);
  // r and z are adjacent blocks, so one sigmoid covers both.
  const rz = sigmoid(add(slice(xp, 1, 0, 2 * hidden), slice(hp, 1, 0, 2 * hidden)));
  const r = slice(rz, 1, 0, hidden);
  const z = slice(rz, 1, hidden, 2 * hidden);
  const n = tanh(add(slice(xp, 1, 2 * hidden), mul(r, slice(hp, 1, 2 * hidden))));
  // (1 − z) ⊙ n + z ⊙ h written as n + z ⊙ (h − n): one multiply fewer, same value.
  return add(n, mul(z, sub(h, n)));
}

/**
 * LSTM step: [i, f, g, o] = xp + h W_hhᵀ with i, f, o through σ and g through tanh;
 * c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c'). xp = x W_ihᵀ + b_ih + b_hh.
 *
 * @param xp - the step's input projection with both biases, [batch, 4*hidden].
 * @returns [h', c'].
 */
export function lstmStep(xp: Tensor, h: Tensor, c: Tensor, w: StepWeights): [Tensor, Tensor] {
  const hidden = h.shape[1]!;
  const gates = add(xp, matmul(h, w.wHh, { transB: true }));
  // i and f are adjacent, so one sigmoid covers both.
  const ifGate = sigmoid(slice(gates, 1, 0, 2 * hidden));
  const i = slice(ifGate, 1, 0, hidden);
  const f = slice(ifGate, 1, hidden, 2 * hidden);
  const g = tanh(slice(gates, 1, 2 * hidden, 3 * hidden));
  const o = sigmoid(slice(gates, 1, 3 * hidden));
  const cNext = add(mul(f, c), mul(i, g));
  return [mul(o, tanh(cNext)), cNext];
}

/** Step t of a time-major [numSteps, ...] tensor, without its leading axis. */
export function timeStep(x: Tensor, t: number): Tensor {
  return reshape(slice(x, 0, t, t + 1), x.shape.slice(1));
}
