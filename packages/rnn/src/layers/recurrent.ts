/*
 * `nn.RNN`, `nn.GRU` and `nn.LSTM`: parameter holders around `recurrentForward`, with PyTorch's
 * contract — input (numSteps, batch, inputSize), state (numLayers*numDirections, batch, hidden) or the
 * LSTM's pair (h, c), output (numSteps, batch, numDirections*hidden) — and PyTorch's parameter names,
 * shapes, order and U(±1/√hidden) initialisation, so a checkpoint loads into the PyTorch module as is.
 */
import { type Device, type Tensor, StateError, zeros } from '@tinytape/tensor';
import type { State } from '../model/types.ts';
import { type CellKind, GATES, type Nonlinearity } from './cells.ts';
import { type ParamOptions, uniformParameter } from './init.ts';
import { checkSize } from './linear.ts';
import { type RecurrencePath, type RecurrentSpec, recurrentForward } from './recurrent-forward.ts';

/** Options shared by RNN, GRU and LSTM (PyTorch's keyword arguments, camel-cased). */
export interface RecurrentOptions extends ParamOptions {
  /** Stacked layers (default 1). */
  numLayers?: number;
  /** Add a direction that reads the sequence backwards (default false). */
  bidirectional?: boolean;
  /**
   * How the recurrence runs: one kernel per layer and direction ('kernel', WebGPU's default), one op
   * looping over time ('sequence', the CPU's default) or op by op ('steps'); see `RecurrencePath`.
   */
  path?: RecurrencePath;
}

/** Options of the plain RNN. */
export interface RNNOptions extends RecurrentOptions {
  /** 'tanh' (default) or 'relu'. */
  nonlinearity?: Nonlinearity;
}

/**
 * What RNN, GRU and LSTM share. `S` is the state PyTorch passes: one tensor h for RNN and GRU, the pair
 * [h, c] for the LSTM.
 */
export abstract class RecurrentLayer<S> {
  /** Stacked layers. */
  readonly numLayers: number;
  /** Whether each layer also runs backwards in time. */
  readonly bidirectional: boolean;
  /** 2 when bidirectional, else 1. */
  readonly numDirections: number;
  /** The recurrence's implementation; undefined picks the device's default. May be changed at any time. */
  path: RecurrencePath | undefined;
  private readonly params: [string, Tensor][] = [];

  protected constructor(
    /** Which cell runs at each step. */
    readonly mode: CellKind,
    /** Features of each input step. */
    readonly inputSize: number,
    /** Features of the hidden state. */
    readonly hiddenSize: number,
    opts: RecurrentOptions,
    /** The plain RNN's activation; GRU and LSTM have fixed ones. */
    readonly nonlinearity: Nonlinearity = 'tanh',
  ) {
    const layerName = mode.toUpperCase();
    checkSize(layerName, 'inputSize', inputSize);
    checkSize(layerName, 'hiddenSize', hiddenSize);
    this.numLayers = opts.numLayers ?? 1;
    checkSize(layerName, 'numLayers', this.numLayers);
    this.bidirectional = opts.bidirectional ?? false;
    this.numDirections = this.bidirectional ? 2 : 1;
    this.path = opts.path;
    const rows = GATES[mode] * hiddenSize;
    const bound = 1 / Math.sqrt(hiddenSize);
    // PyTorch's order: per layer, per direction, weight_ih, weight_hh, bias_ih, bias_hh; values are drawn
    // in this order, so a seed fixes every parameter.
    for (let layer = 0; layer < this.numLayers; layer++) {
      const layerInput = layer === 0 ? inputSize : this.numDirections * hiddenSize;
      for (let dir = 0; dir < this.numDirections; dir++) {
        const suffix = `_l${layer}${dir === 1 ? '_reverse' : ''}`;
        const add = (name: string, shape: number[]) => this.params.push([name, uniformParameter(shape, bound, name, opts)]);
        add(`weight_ih${suffix}`, [rows, layerInput]);
        add(`weight_hh${suffix}`, [rows, hiddenSize]);
        add(`bias_ih${suffix}`, [rows]);
        add(`bias_hh${suffix}`, [rows]);
      }
    }
  }

  /** The sizes and options `recurrentForward` needs. */
  get spec(): RecurrentSpec {
    const { mode, inputSize, hiddenSize, numLayers, bidirectional, nonlinearity } = this;
    return { mode, inputSize, hiddenSize, numLayers, bidirectional, nonlinearity };
  }

  /** Parameters under their PyTorch names (`weight_ih_l0`, ..., `bias_hh_l1_reverse`), in PyTorch's order. */
  namedParameters(): [string, Tensor][] {
    return this.params.map(([name, p]) => [name, p]);
  }

  /** The parameters in `namedParameters()` order. */
  parameters(): Tensor[] {
    return this.params.map(([, p]) => p);
  }

  /** PyTorch's `all_weights`: one [weight_ih, weight_hh, bias_ih, bias_hh] list per layer and direction. */
  get allWeights(): Tensor[][] {
    const out: Tensor[][] = [];
    for (let i = 0; i < this.params.length; i += 4) out.push(this.parameters().slice(i, i + 4));
    return out;
  }

  /** Device of the parameters. */
  get device(): Device {
    return this.params[0]![1].device;
  }

  /**
   * Runs the layer over a sequence.
   *
   * @param x - [numSteps, batch, inputSize]; or int32 token indices [batch, numSteps] (d2l's X) standing
   *   for their one-hot vectors, which the layer reads as a row gather of W_ih.
   * @param state - initial state (zeros when omitted, as in PyTorch).
   * @returns the output [numSteps, batch, numDirections*hidden] and the final state.
   */
  forward(x: Tensor, state?: S): [Tensor, S] {
    const batch = x.dtype === 'int32' ? x.shape[0]! : x.rank === 3 ? x.shape[1]! : 1;
    const [h0, c0] = state === undefined ? this.toState(this.beginState(batch, x.device)) : this.toState(state);
    const { output, h, c } = recurrentForward(this.spec, this.parameters(), x, h0!, c0, this.path === undefined ? {} : { path: this.path });
    return [output, this.fromState(c === undefined ? [h] : [h, c])];
  }

  /** A zero state for `batchSize` sequences, like d2l's `begin_state` (on the parameters' device by default). */
  beginState(batchSize: number, device: Device = this.device): S {
    const shape = [this.numLayers * this.numDirections, batchSize, this.hiddenSize];
    const parts = this.mode === 'lstm' ? 2 : 1;
    return this.fromState(Array.from({ length: parts }, () => zeros(shape, { device })));
  }

  /** The state as the list the training loop carries: [h], or [h, c] for the LSTM. */
  abstract toState(state: S): State;

  /** The inverse of `toState`. */
  abstract fromState(state: State): S;
}

/** `nn.RNN`: h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu). Its state is one tensor h. */
export class RNN extends RecurrentLayer<Tensor> {
  /**
   * @param inputSize - features of each input step.
   * @param hiddenSize - features of the hidden state.
   */
  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super('rnn', inputSize, hiddenSize, opts, opts.nonlinearity ?? 'tanh');
  }

  toState(state: Tensor): State {
    return [state];
  }

  fromState(state: State): Tensor {
    return single('RNN', state);
  }
}

/**
 * `nn.GRU`, gate order r, z, n: r = σ(W_ir x + b_ir + W_hr h + b_hr), z likewise,
 * n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h. Its state is one tensor h.
 */
export class GRU extends RecurrentLayer<Tensor> {
  /**
   * @param inputSize - features of each input step.
   * @param hiddenSize - features of the hidden state.
   */
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super('gru', inputSize, hiddenSize, opts);
  }

  toState(state: Tensor): State {
    return [state];
  }

  fromState(state: State): Tensor {
    return single('GRU', state);
  }
}

/**
 * `nn.LSTM`, gate order i, f, g, o: c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c'). Its state is the pair [h, c].
 */
export class LSTM extends RecurrentLayer<[Tensor, Tensor]> {
  /**
   * @param inputSize - features of each input step.
   * @param hiddenSize - features of the hidden and cell states.
   */
  constructor(inputSize: number, hiddenSize: number, opts: RecurrentOptions = {}) {
    super('lstm', inputSize, hiddenSize, opts);
  }

  toState(state: [Tensor, Tensor]): State {
    return [state[0], state[1]];
  }

  fromState(state: State): [Tensor, Tensor] {
    if (state.length !== 2) throw new StateError(`LSTM: the state is the pair [h, c], got ${state.length} tensors`);
    return [state[0]!, state[1]!];
  }
}

function single(layer: string, state: State): Tensor {
  if (state.length !== 1) throw new StateError(`${layer}: the state is one tensor h, got ${state.length}`);
  return state[0]!;
}
