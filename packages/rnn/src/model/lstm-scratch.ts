/*
 * d2l.ai §9.2 "Long Short-Term Memory (LSTM)" from scratch, in the book's formulation and parameter order
 * (input, forget, output gates, then the candidate memory). Use with RNNModelScratch:
 * new RNNModelScratch(V, H, device, getLstmParams, initLstmState, lstm, LSTM_PARAM_NAMES, 'lstm').
 */
import { type Device, type Tensor, add, concat, matmul, mul, reshape, sigmoid, slice, tanh, zeros } from '@tinytape/tensor';
import { scratchBias, scratchWeight, threeParams, trainable } from './scratch-params.ts';
import type { State } from './types.ts';

/** Names of the scratch LSTM's parameters, in `getLstmParams` order (also the checkpoint names). */
export const LSTM_PARAM_NAMES = [
  'W_xi', 'W_hi', 'b_i', 'W_xf', 'W_hf', 'b_f', 'W_xo', 'W_ho', 'b_o', 'W_xc', 'W_hc', 'b_c', 'W_hq', 'b_q',
];

/**
 * d2l's LSTM `get_lstm_params`: input gate (W_xi, W_hi, b_i), forget gate (W_xf, W_hf, b_f), output gate
 * (W_xo, W_ho, b_o), candidate memory (W_xc, W_hc, b_c) and output (W_hq, b_q); weights N(0, 0.01²),
 * zero biases.
 */
export function getLstmParams(vocabSize: number, numHiddens: number, device: Device): Tensor[] {
  return trainable([
    ...threeParams(vocabSize, numHiddens, 'i', device),
    ...threeParams(vocabSize, numHiddens, 'f', device),
    ...threeParams(vocabSize, numHiddens, 'o', device),
    ...threeParams(vocabSize, numHiddens, 'c', device),
    scratchWeight([numHiddens, vocabSize], 'W_hq', device),
    scratchBias(vocabSize, 'b_q', device),
  ]);
}

/** d2l's `init_lstm_state`: zeros [batchSize, numHiddens] for both H and the memory cell C. */
export function initLstmState(batchSize: number, numHiddens: number, device: Device): State {
  return [zeros([batchSize, numHiddens], { device }), zeros([batchSize, numHiddens], { device })];
}

/**
 * d2l's `lstm`: per step I, F, O = σ(X W_x* + H W_h* + b_*), C̃ = tanh(X W_xc + H W_hc + b_c),
 * C = F ⊙ C + I ⊙ C̃, H = O ⊙ tanh(C), Y = H W_hq + b_q. `inputs` is [numSteps, batch, vocabSize];
 * returns logits [numSteps*batch, vocabSize] and [H, C].
 */
export function lstm(inputs: Tensor, state: State, params: Tensor[]): [Tensor, State] {
  const [W_xi, W_hi, b_i, W_xf, W_hf, b_f, W_xo, W_ho, b_o, W_xc, W_hc, b_c, W_hq, b_q] = params as Tensor[];
  let [H, C] = state as [Tensor, Tensor];
  const [numSteps, batchSize, vocabSize] = inputs.shape as [number, number, number];
  const gate = (X: Tensor, Wx: Tensor, Wh: Tensor, b: Tensor): Tensor => add(add(matmul(X, Wx), matmul(H, Wh)), b);
  const outputs: Tensor[] = [];
  for (let t = 0; t < numSteps; t++) {
    const X = reshape(slice(inputs, 0, t, t + 1), [batchSize, vocabSize]);
    const I = sigmoid(gate(X, W_xi, W_hi, b_i));
    const F = sigmoid(gate(X, W_xf, W_hf, b_f));
    const O = sigmoid(gate(X, W_xo, W_ho, b_o));
    const C_tilda = tanh(gate(X, W_xc, W_hc, b_c));
    C = add(mul(F, C), mul(I, C_tilda));
    H = mul(O, tanh(C));
    outputs.push(add(matmul(H, W_hq), b_q));
  }
  return [concat(outputs, 0), [H, C]];
}
