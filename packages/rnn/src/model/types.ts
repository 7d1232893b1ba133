import type { Device, Tensor } from '@tinytape/tensor';

/** A recurrent state: a tuple of tensors ([H] for an RNN or GRU, [H, C] for an LSTM). */
export type State = Tensor[];

/**
 * What the training loop and `predict` need from a language model: d2l's `net(X, state)` and
 * `net.begin_state(...)`, plus named parameters for clipping, updates and checkpoints.
 */
export interface LanguageModel {
  readonly vocabSize: number;
  /** X: int32 token ids [batchSize, numSteps] -> logits [numSteps*batchSize, vocabSize] (time-major) and the new state. */
  forward(X: Tensor, state: State): [Tensor, State];
  beginState(batchSize: number, device: Device): State;
  /** Every trainable tensor with its checkpoint name, in a fixed order. */
  namedParameters(): [string, Tensor][];
  /** The configuration needed to rebuild the model from a checkpoint. */
  config(): Record<string, unknown>;
}

/** The parameters of a model, in `namedParameters()` order. */
export function parameters(net: LanguageModel): Tensor[] {
  return net.namedParameters().map(([, p]) => p);
}
