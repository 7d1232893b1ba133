/*
 * One place that turns a model description into a model: the CLI builds what its flags ask for, and a
 * checkpoint's `config()` record rebuilds the same model for `generate`.
 */
import type { Device, Generator } from '@tinytape/tensor';
import type { CellKind, Nonlinearity } from '../layers/cells.ts';
import { GRU, LSTM, RNN } from '../layers/recurrent.ts';
import { GRU_PARAM_NAMES, getGruParams, gru, initGruState } from './gru-scratch.ts';
import { LSTM_PARAM_NAMES, getLstmParams, initLstmState, lstm } from './lstm-scratch.ts';
import { RNNModel } from './rnn-model.ts';
import { RNNModelScratch, SCRATCH_PARAM_NAMES, getParams, initRnnState, rnn } from './scratch.ts';
import type { LanguageModel } from './types.ts';

/** A from-scratch model (d2l §8.5, §9.1, §9.2) of the given cell. */
export interface ScratchModelSpec {
  model: 'scratch';
  cell: CellKind;
  vocabSize: number;
  numHiddens: number;
}

/** A concise model (d2l §8.6): RNNModel around nn.RNN, nn.GRU or nn.LSTM. */
export interface ConciseModelSpec {
  model: CellKind;
  vocabSize: number;
  numHiddens: number;
  numLayers: number;
  bidirectional: boolean;
  /** The plain RNN's activation (default tanh). */
  nonlinearity?: Nonlinearity;
}

/** Everything needed to build a model; what `LanguageModel.config()` records. */
export type ModelSpec = ScratchModelSpec | ConciseModelSpec;

const CELLS: readonly string[] = ['rnn', 'gru', 'lstm'];

/**
 * Builds a freshly initialised model on `device`. Parameters are drawn from the global generator
 * (`manualSeed`), or from `generator` for the concise models.
 */
export function createModel(spec: ModelSpec, device: Device, generator?: Generator): LanguageModel {
  const { vocabSize, numHiddens } = spec;
  if (spec.model === 'scratch') {
    switch (spec.cell) {
      case 'rnn':
        return new RNNModelScratch(vocabSize, numHiddens, device, getParams, initRnnState, rnn, SCRATCH_PARAM_NAMES, 'rnn');
      case 'gru':
        return new RNNModelScratch(vocabSize, numHiddens, device, getGruParams, initGruState, gru, GRU_PARAM_NAMES, 'gru');
      case 'lstm':
        return new RNNModelScratch(vocabSize, numHiddens, device, getLstmParams, initLstmState, lstm, LSTM_PARAM_NAMES, 'lstm');
    }
  }
  const opts = { numLayers: spec.numLayers, bidirectional: spec.bidirectional, device, generator };
  switch (spec.model) {
    case 'rnn':
      return new RNNModel(new RNN(vocabSize, numHiddens, { ...opts, nonlinearity: spec.nonlinearity }), vocabSize, { generator });
    case 'gru':
      return new RNNModel(new GRU(vocabSize, numHiddens, opts), vocabSize, { generator });
    case 'lstm':
      return new RNNModel(new LSTM(vocabSize, numHiddens, opts), vocabSize, { generator });
  }
}

/**
 * Reads a `config()` record (e.g. from a checkpoint's metadata) back into a ModelSpec.
 *
 * @throws RangeError naming the first missing or invalid field.
 */
export function parseModelSpec(config: Record<string, unknown>): ModelSpec {
  const size = (key: string): number => {
    const v = config[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`model config: "${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  };
  const { model } = config;
  if (model === 'scratch') {
    const { cell } = config;
    if (typeof cell !== 'string' || !CELLS.includes(cell)) throw new RangeError(`model config: unknown scratch cell ${JSON.stringify(cell)}`);
    return { model, cell: cell as CellKind, vocabSize: size('vocabSize'), numHiddens: size('numHiddens') };
  }
  if (typeof model !== 'string' || !CELLS.includes(model)) {
    throw new RangeError(`model config: unknown model ${JSON.stringify(model)} (expected scratch, rnn, gru or lstm)`);
  }
  const bidirectional = config.bidirectional ?? false;
  if (typeof bidirectional !== 'boolean') throw new RangeError(`model config: "bidirectional" must be true or false, got ${JSON.stringify(bidirectional)}`);
  const nonlinearity = config.nonlinearity ?? 'tanh';
  if (nonlinearity !== 'tanh' && nonlinearity !== 'relu') throw new RangeError(`model config: unknown nonlinearity ${JSON.stringify(nonlinearity)}`);
  return {
    model: model as CellKind,
    vocabSize: size('vocabSize'),
    numHiddens: size('numHiddens'),
    numLayers: config.numLayers === undefined ? 1 : size('numLayers'),
    bidirectional,
    ...(model === 'rnn' ? { nonlinearity } : {}),
  };
}
