/*
 * d2l.ai §8.5 "Recurrent Neural Networks from Scratch", kept in the book's shape: getParams,
 * initRnnState, rnn (one step per time slice) and RNNModelScratch tying them together.
 */
import {
  type Device, type Tensor, add, concat, keep, matmul, normal, oneHot, reshape, slice, tanh, transpose, zeros,
} from '@tinytape/tensor';
import type { LanguageModel, State } from './types.ts';

/** d2l's `get_params`: W_xh (V,H), W_hh (H,H), b_h (H), W_hq (H,V), b_q (V); weights N(0, 0.01²), zero biases. */
export function getParams(vocabSize: number, numHiddens: number, device: Device): Tensor[] {
  const numInputs = vocabSize;
  const numOutputs = vocabSize;
  const weight = (shape: number[], name: string): Tensor => named(normal(0, 0.01, shape, { device }), name);
  const W_xh = weight([numInputs, numHiddens], 'W_xh');
  const W_hh = weight([numHiddens, numHiddens], 'W_hh');
  const b_h = named(zeros([numHiddens], { device }), 'b_h');
  const W_hq = weight([numHiddens, numOutputs], 'W_hq');
  const b_q = named(zeros([numOutputs], { device }), 'b_q');
  const params = [W_xh, W_hh, b_h, W_hq, b_q];
  for (const p of params) keep(p.requireGrad());
  return params;
}

/** Names of the scratch RNN's parameters, in `getParams` order (also the checkpoint names). */
export const SCRATCH_PARAM_NAMES = ['W_xh', 'W_hh', 'b_h', 'W_hq', 'b_q'];

/** d2l's `init_rnn_state`: a one-tensor tuple holding zeros [batchSize, numHiddens]. */
export function initRnnState(batchSize: number, numHiddens: number, device: Device): State {
  return [zeros([batchSize, numHiddens], { device })];
}

/**
 * d2l's `rnn`: for each time step t, H = tanh(X_t W_xh + H W_hh + b_h) and Y_t = H W_hq + b_q.
 * `inputs` is [numSteps, batchSize, vocabSize]; the outputs are concatenated time-major into
 * [numSteps*batchSize, vocabSize].
 */
export function rnn(inputs: Tensor, state: State, params: Tensor[]): [Tensor, State] {
  const [W_xh, W_hh, b_h, W_hq, b_q] = params as [Tensor, Tensor, Tensor, Tensor, Tensor];
  let [H] = state as [Tensor];
  const [numSteps, batchSize, vocabSize] = inputs.shape as [number, number, number];
  const outputs: Tensor[] = [];
  for (let t = 0; t < numSteps; t++) {
    const X = reshape(slice(inputs, 0, t, t + 1), [batchSize, vocabSize]);
    H = tanh(add(add(matmul(X, W_xh), matmul(H, W_hh)), b_h));
    const Y = add(matmul(H, W_hq), b_q);
    outputs.push(Y);
  }
  return [concat(outputs, 0), [H]];
}

export type GetParamsFn = (vocabSize: number, numHiddens: number, device: Device) => Tensor[];
export type InitStateFn = (batchSize: number, numHiddens: number, device: Device) => State;
export type ForwardFn = (inputs: Tensor, state: State, params: Tensor[]) => [Tensor, State];

/**
 * d2l's `RNNModelScratch`: any from-scratch recurrent cell given as (getParams, initState, forwardFn).
 * `forward(X, state)` one-hot encodes Xᵀ ([numSteps, batchSize, vocabSize]) and runs the cell.
 */
export class RNNModelScratch implements LanguageModel {
  readonly params: Tensor[];

  constructor(
    readonly vocabSize: number,
    readonly numHiddens: number,
    device: Device,
    getParams: GetParamsFn,
    private readonly initState: InitStateFn,
    private readonly forwardFn: ForwardFn,
    /** Names for checkpoints; defaults to the scratch RNN's. */
    private readonly paramNames: string[] = SCRATCH_PARAM_NAMES,
    /** Which cell this is ('rnn', 'gru', 'lstm'), recorded in checkpoints. */
    readonly cell = 'rnn',
  ) {
    this.params = getParams(vocabSize, numHiddens, device);
    if (this.params.length !== paramNames.length) {
      throw new Error(`RNNModelScratch: getParams returned ${this.params.length} tensors, expected ${paramNames.length} names`);
    }
  }

  forward(X: Tensor, state: State): [Tensor, State] {
    const inputs = oneHot(transpose(X), this.vocabSize);
    return this.forwardFn(inputs, state, this.params);
  }

  beginState(batchSize: number, device: Device): State {
    return this.initState(batchSize, this.numHiddens, device);
  }

  namedParameters(): [string, Tensor][] {
    return this.params.map((p, i) => [this.paramNames[i]!, p]);
  }

  config(): Record<string, unknown> {
    return { model: 'scratch', cell: this.cell, vocabSize: this.vocabSize, numHiddens: this.numHiddens };
  }
}

function named(t: Tensor, name: string): Tensor {
  t.name = name;
  return t;
}
