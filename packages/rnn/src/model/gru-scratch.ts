/*
 * d2l.ai §9.1 "Gated Recurrent Units (GRU)" from scratch, in the book's formulation (which differs from
 * PyTorch's nn.GRU: the reset gate multiplies H before W_hh, and the book names the update gate Z first).
 * Use with RNNModelScratch: new RNNModelScratch(V, H, device, getGruParams, initGruState, gru, GRU_PARAM_NAMES, 'gru').
 */
import { type Device, type Tensor, add, concat, matmul, mul, reshape, sigmoid, slice, sub, tanh, zeros } from '@tinytape/tensor';
import { scratchBias, scratchWeight, threeParams, trainable } from './scratch-params.ts';
import type { State } from './types.ts';

/** Names of the scratch GRU's parameters, in `getGruParams` order (also the checkpoint names). */
export const GRU_PARAM_NAMES = ['W_xz', 'W_hz', 'b_z', 'W_xr', 'W_hr', 'b_r', 'W_xh', 'W_hh', 'b_h', 'W_hq', 'b_q'];

/**
 * d2l's GRU `get_params`: update gate (W_xz, W_hz, b_z), reset gate (W_xr, W_hr, b_r), candidate
 * (W_xh, W_hh, b_h) and output (W_hq, b_q); weights N(0, 0.01²), zero biases.
 */
export function getGruParams(vocabSize: number, numHiddens: number, device: Device): Tensor[] {
  return trainable([
    ...threeParams(vocabSize, numHiddens, 'z', device),
    ...threeParams(vocabSize, numHiddens, 'r', device),
    ...threeParams(vocabSize, numHiddens, 'h', device),
    scratchWeight([numHiddens, vocabSize], 'W_hq', device),
    scratchBias(vocabSize, 'b_q', device),
  ]);
}

/** d2l's `init_gru_state`: a one-tensor tuple of zeros [batchSize, numHiddens]. */
export function initGruState(batchSize: number, numHiddens: number, device: Device): State {
  return [zeros([batchSize, numHiddens], { device })];
}

/**
 * d2l's `gru`: per step Z = σ(X W_xz + H W_hz + b_z), R = σ(X W_xr + H W_hr + b_r),
 * H̃ = tanh(X W_xh + (R ⊙ H) W_hh + b_h), H = Z ⊙ H + (1 − Z) ⊙ H̃, Y = H W_hq + b_q.
 * `inputs` is [numSteps, batch, vocabSize]; returns logits [numSteps*batch, vocabSize] and [H].
 */
export function gru(inputs: Tensor, state: State, params: Tensor[]): [Tensor, State] {
  const [W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q] = params as Tensor[];
  let [H] = state as [Tensor];
  const [numSteps, batchSize, vocabSize] = inputs.shape as [number, number, number];
  const outputs: Tensor[] = [];
  for (let t = 0; t < numSteps; t++) {
    const X = reshape(slice(inputs, 0, t, t + 1), [batchSize, vocabSize]);
    const Z = sigmoid(add(add(matmul(X, W_xz), matmul(H, W_hz)), b_z));
    const R = sigmoid(add(add(matmul(X, W_xr), matmul(H, W_hr)), b_r));
    const H_tilda = tanh(add(add(matmul(X, W_xh), matmul(mul(R, H), W_hh)), b_h));
    // Z ⊙ H + (1 − Z) ⊙ H̃ written as H̃ + Z ⊙ (H − H̃): the same value with one multiply fewer.
    H = add(H_tilda, mul(Z, sub(H, H_tilda)));
    outputs.push(add(matmul(H, W_hq), b_q));
  }
  return [concat(outputs, 0), [H]];
}
