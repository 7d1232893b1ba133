/**
 * Builds tinytape's model for a training config: d2l §8.5's scratch RNN, §8.6's concise `RNNModel`
 * around `RNN`, `GRU` or `LSTM` (PyTorch's layers, PyTorch's U(±1/√H) initialisation), or the same
 * `RNNModel` around a 2-layer bidirectional `LSTM` (d2l §9.3's deep and §9.4's bidirectional layers).
 */
import { GRU, LSTM, type LanguageModel, RNN, RNNModel, RNNModelScratch, getParams, initRnnState, rnn } from '@tinytape/rnn';
import { type Device, manualSeed } from '@tinytape/tensor';
import type { TrainConfig } from './plan.ts';

/**
 * A freshly initialised model for `config` on `device`, seeded so that every device starts from the
 * same numbers (tinytape draws on the host), and so that workload.ts can draw them once more on the
 * CPU and hand a copy to the peers.
 */
export function buildModel(config: TrainConfig, vocabSize: number, device: Device, seed: number): LanguageModel {
  manualSeed(seed);
  const { hidden } = config;
  // The scratch model steps through time op by op whatever `recurrence` says.
  const path = config.recurrence;
  switch (config.model) {
    case 'scratch-rnn':
      return new RNNModelScratch(vocabSize, hidden, device, getParams, initRnnState, rnn);
    case 'concise-rnn':
      return new RNNModel(new RNN(vocabSize, hidden, { device, path }), vocabSize);
    case 'concise-gru':
      return new RNNModel(new GRU(vocabSize, hidden, { device, path }), vocabSize);
    case 'concise-lstm':
      return new RNNModel(new LSTM(vocabSize, hidden, { device, path }), vocabSize);
    case 'deep-bilstm':
      // RNNModel reads numDirections off the layer: its output layer takes 2·hidden features.
      return new RNNModel(new LSTM(vocabSize, hidden, { device, numLayers: 2, bidirectional: true, path }), vocabSize);
  }
}
