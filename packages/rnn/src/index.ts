/**
 * @tinytape/rnn — d2l.ai chapter 8's character-level RNN language model on tinytape:
 * the from-scratch model, clipping, SGD, prediction, the training loop, checkpoints and the CLI.
 */
export type { LanguageModel, State } from './model/types.ts';
export { parameters } from './model/types.ts';
export {
  getParams, initRnnState, rnn, RNNModelScratch, SCRATCH_PARAM_NAMES,
  type GetParamsFn, type InitStateFn, type ForwardFn,
} from './model/scratch.ts';
export { gradClipping } from './train/clipping.ts';
export { sgd, sgdUpdater, type Updater } from './train/sgd.ts';
export { predict, type PredictOptions } from './train/predict.ts';
export { trainEpoch, transposeRows, NonFiniteLossError, type Loss, type TrainEpochOptions } from './train/train-epoch.ts';
export { train, type TrainOptions, type TrainResult, type EpochRecord } from './train/train.ts';
