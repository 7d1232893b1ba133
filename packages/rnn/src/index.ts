/**
 * @tinytape/rnn — d2l.ai chapters 8 and 9's character-level language models on tinytape: the
 * from-scratch RNN, GRU and LSTM, PyTorch-style layers (Linear, RNN, GRU, LSTM) with the concise
 * RNNModel, clipping, SGD and Adam, prediction, the training loop, checkpoints and the CLI.
 */
export type { LanguageModel, State } from './model/types.ts';
export { parameters } from './model/types.ts';
export {
  getParams, initRnnState, rnn, RNNModelScratch, SCRATCH_PARAM_NAMES,
  type GetParamsFn, type InitStateFn, type ForwardFn,
} from './model/scratch.ts';
export { getGruParams, initGruState, gru, GRU_PARAM_NAMES } from './model/gru-scratch.ts';
export { getLstmParams, initLstmState, lstm, LSTM_PARAM_NAMES } from './model/lstm-scratch.ts';
export { RNNModel } from './model/rnn-model.ts';
export { createModel, parseModelSpec, type ModelSpec, type ScratchModelSpec, type ConciseModelSpec } from './model/create.ts';
export {
  Linear, RNN, GRU, LSTM, RecurrentLayer, recurrentForward, rnnStep, gruStep, lstmStep, uniformParameter, GATES,
  type RecurrentOptions, type RNNOptions, type RecurrentSpec, type RecurrentResult, type CellKind, type Nonlinearity,
  type StepWeights, type ParamOptions, type RecurrentForwardOptions, type RecurrencePath,
} from './layers/index.ts';
export { gradClipping } from './train/clipping.ts';
export { sgd, sgdUpdater, type Updater } from './train/sgd.ts';
export { adam, type AdamOptions, type AdamUpdater } from './train/adam.ts';
export { predict, unknownCharacters, type PredictOptions } from './train/predict.ts';
export { trainEpoch, transposeRows, NonFiniteLossError, type Loss, type TrainEpochOptions } from './train/train-epoch.ts';
export { train, type TrainOptions, type TrainResult, type EpochRecord } from './train/train.ts';
export {
  saveCheckpoint, loadCheckpoint, checkpointToBytes, checkpointFromBytes, loadParameters, vocabFromCheckpoint, modelFromCheckpoint, OPTIMIZER_TENSOR_PREFIX,
  type CheckpointInfo, type LoadedCheckpoint, type SaveCheckpointOptions,
} from './checkpoint.ts';
export {
  trainingCheckpoint, readTrainingState, restoreTraining, TRAINING_STATE_KEY,
  type TrainingState, type OptimizerState, type RunParts, type WordRng,
} from './train/resume.ts';
export { MAX_TEXT_BYTES, SNIFF_BYTES, binaryProblem, textBytesProblem, textSizeProblem, tooShortMessage } from './text-checks.ts';
export {
  TinytapeUserError, CheckpointError, CliError, FileWriteError, PlotError, RunStoppedError, NonFiniteParameterError,
} from './io/errors.ts';
