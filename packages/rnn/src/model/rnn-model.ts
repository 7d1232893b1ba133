/*
 * d2l.ai §8.6's `RNNModel`: a concise recurrent layer (RNN, GRU or LSTM, any depth, either direction)
 * followed by a Linear output layer over the vocabulary. Its parameters are named as in PyTorch's
 * state_dict of the book's model (`rnn.weight_ih_l0`, ..., `linear.weight`, `linear.bias`).
 */
import { type Device, ShapeError, type Tensor, fmtShape, reshape } from '@tinytape/tensor';
import type { ParamOptions } from '../layers/init.ts';
import { Linear } from '../layers/linear.ts';
import type { RecurrentLayer } from '../layers/recurrent.ts';
import type { LanguageModel, State } from './types.ts';

/**
 * A language model around a recurrent layer. `forward(X, state)` runs the layer on the one-hot
 * vectors of Xᵀ ([numSteps, batch, vocabSize], as d2l writes it; the layer reads them as a row gather
 * of W_ih rather than building them), flattens its output to [numSteps*batch, numDirections*hidden]
 * and maps every row to logits over the vocabulary.
 */
export class RNNModel<S> implements LanguageModel {
  /** The output layer: Linear(numDirections*hidden, vocabSize). */
  readonly linear: Linear;
  /** 2 for a bidirectional layer, else 1. */
  readonly numDirections: number;
  /** Hidden units per direction of the recurrent layer. */
  readonly numHiddens: number;

  /**
   * @param rnn - the recurrent layer; its inputSize must be `vocabSize` (it reads one-hot vectors).
   * @param vocabSize - tokens in the vocabulary.
   * @param opts - random stream of the output layer (it is created on the recurrent layer's device).
   */
  constructor(
    readonly rnn: RecurrentLayer<S>,
    readonly vocabSize: number,
    opts: Pick<ParamOptions, 'generator'> = {},
  ) {
    if (rnn.inputSize !== vocabSize) {
      throw new RangeError(`RNNModel: the layer reads ${rnn.inputSize} features but the vocabulary has ${vocabSize} tokens`);
    }
    this.numDirections = rnn.numDirections;
    this.numHiddens = rnn.hiddenSize;
    this.linear = new Linear(this.numDirections * this.numHiddens, vocabSize, { device: rnn.device, generator: opts.generator });
  }

  forward(X: Tensor, state: State): [Tensor, State] {
    if (X.dtype !== 'int32' || X.rank !== 2) throw new ShapeError(`RNNModel: X must be int32 tokens [batch, numSteps], got ${X.dtype} ${fmtShape(X.shape)}`);
    // The layer takes the tokens themselves: the same values as oneHot(Xᵀ), gathered from W_ih.
    const [Y, next] = this.rnn.forward(X, this.rnn.fromState(state));
    const output = this.linear.forward(reshape(Y, [-1, Y.shape[2]!]));
    return [output, this.rnn.toState(next)];
  }

  /** Zeros [numDirections*numLayers, batchSize, hidden]: [h] for RNN and GRU, [h, c] for the LSTM. */
  beginState(batchSize: number, device: Device): State {
    return this.rnn.toState(this.rnn.beginState(batchSize, device));
  }

  namedParameters(): [string, Tensor][] {
    return [
      ...this.rnn.namedParameters().map(([name, p]): [string, Tensor] => [`rnn.${name}`, p]),
      ...this.linear.namedParameters().map(([name, p]): [string, Tensor] => [`linear.${name}`, p]),
    ];
  }

  config(): Record<string, unknown> {
    const { mode, numLayers, bidirectional, nonlinearity } = this.rnn;
    return {
      model: mode,
      vocabSize: this.vocabSize,
      numHiddens: this.numHiddens,
      numLayers,
      bidirectional,
      ...(mode === 'rnn' ? { nonlinearity } : {}),
    };
  }
}
