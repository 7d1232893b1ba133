/** PyTorch-style layers: `Linear` and the recurrent `RNN`, `GRU`, `LSTM`, plus their functional core. */
export { Linear } from './linear.ts';
export { RNN, GRU, LSTM, RecurrentLayer, type RecurrentOptions, type RNNOptions } from './recurrent.ts';
export { recurrentForward, type RecurrentSpec, type RecurrentResult, type RecurrentForwardOptions, type RecurrencePath } from './recurrent-forward.ts';
export { recurrentSequence, type SequenceAttrs } from './sequence.ts';
export { type CellKind, type Nonlinearity, GATES, rnnStep, gruStep, lstmStep, timeStep, type StepWeights } from './cells.ts';
export { uniformParameter, type ParamOptions } from './init.ts';
