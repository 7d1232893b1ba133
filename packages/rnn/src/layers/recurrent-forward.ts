/*
 * The whole recurrent pass as a function of its weights, so the layer classes and gradcheck share one
 * implementation. Per layer and direction: one matmul projects the inputs of every time step at once
 * ([numSteps*batch, in] x W_ihᵀ, the weight read transposed in place), then a loop runs only the
 * recurrent part step by step.
 */
import { type Tensor, type WebGPUBackend, ShapeError, fmtShape, reshape, scope, slice, stack } from '@tinytape/tensor';
import { projectFeatures } from '../kernels/feature-projection.ts';
import { joinFeatures, stackRows } from '../kernels/join.ts';
import { projectTokens } from '../kernels/token-projection.ts';
import { type CellKind, GATES, type Nonlinearity, foldsHiddenBias, gruStep, lstmStep, rnnStep, timeStep } from './cells.ts';
import { fitsWorkgroup } from '../kernels/sequence-kernels.ts';
import { wasmSequenceAvailable } from '../kernels/sequence-wasm.ts';
import { recurrentKernelSequence } from './sequence-kernel.ts';
import { recurrentSequence } from './sequence.ts';

/** The shape of a recurrent layer: what `recurrentForward` needs besides tensors. */
export interface RecurrentSpec {
  /** Which cell runs at each step. */
  mode: CellKind;
  /** Features of the input x. */
  inputSize: number;
  /** Features of the hidden state h (and of the LSTM's cell state c). */
  hiddenSize: number;
  /** Stacked layers; layer l > 0 reads layer l − 1's output. */
  numLayers: number;
  /** Also run each layer from the last step to the first and concatenate both outputs. */
  bidirectional: boolean;
  /** Activation of the plain RNN cell (default tanh); ignored by GRU and LSTM. */
  nonlinearity?: Nonlinearity;
}

/** What a recurrent pass returns, PyTorch's `(output, h_n)` or `(output, (h_n, c_n))`. */
export interface RecurrentResult {
  /** [numSteps, batch, numDirections*hidden]: the last layer's hidden state at every step. */
  output: Tensor;
  /** [numLayers*numDirections, batch, hidden]: every layer and direction's final hidden state. */
  h: Tensor;
  /** The LSTM's final cell states, same shape as `h`; absent for RNN and GRU. */
  c?: Tensor;
}

/**
 * Runs a (stacked, optionally bidirectional) RNN, GRU or LSTM over a sequence.
 *
 * The input is either features x [numSteps, batch, inputSize], or int32 token indices [batch,
 * numSteps] (d2l's X, batch-major) standing for their one-hot vectors over inputSize: the first
 * layer's input projection is then a row gather of W_ih (kernels/token-projection.ts), the same
 * values as the one-hot product, without building the one-hot tensor.
 *
 * @param weights - per layer, per direction (forward then backward): weight_ih [gates*hidden, in],
 *   weight_hh [gates*hidden, hidden], bias_ih and bias_hh [gates*hidden] — PyTorch's flat-weights order.
 * @param x - input [numSteps, batch, inputSize].
 * @param h0 - initial hidden states [numLayers*numDirections, batch, hidden], rows ordered layer 0
 *   forward, layer 0 backward, layer 1 forward, ...
 * @param c0 - the LSTM's initial cell states, same shape as `h0` (required for LSTM only).
 */
export function recurrentForward(
  spec: RecurrentSpec,
  weights: readonly Tensor[],
  x: Tensor,
  h0: Tensor,
  c0?: Tensor,
  options: RecurrentForwardOptions = {},
): RecurrentResult {
  const path = recurrencePath(options, x, spec.hiddenSize, GATES[spec.mode]);
  const directions = spec.bidirectional ? 2 : 1;
  checkInputs(spec, weights, x, h0, c0);
  const hN: Tensor[] = [];
  const cN: Tensor[] = [];
  let input: Tensor | null = x.dtype === 'int32' ? null : x;
  for (let layer = 0; layer < spec.numLayers; layer++) {
    const outputs: Tensor[] = [];
    for (let dir = 0; dir < directions; dir++) {
      const k = layer * directions + dir;
      const [wIh, wHh, bIh, bHh] = weights.slice(4 * k, 4 * k + 4) as [Tensor, Tensor, Tensor, Tensor];
      const projected = project(spec, input ?? x, { wIh, wHh, bIh, bHh });
      // The kernel path reads its row of the initial states in place; the others take it as a tensor.
      const start = path === 'kernel' ? { h0, c0, row: k } : { h0: stateRow(h0, k), c0: c0 && stateRow(c0, k), row: 0 };
      const run = runDirection(spec, projected, { wIh, wHh, bIh, bHh }, start, dir === 1, path);
      outputs.push(run.output);
      hN.push(run.h);
      if (run.c) cN.push(run.c);
    }
    // The next layer sees both directions side by side, forward features first.
    input = directions === 1 ? outputs[0]! : joinFeatures(outputs[0]!, outputs[1]!);
  }
  const output = input!;
  return spec.mode === 'lstm' ? { output, h: stackStates(hN), c: stackStates(cN) } : { output, h: stackStates(hN) };
}

/** [layers*directions, batch, hidden] from each layer and direction's final state (a view for one). */
function stackStates(states: Tensor[]): Tensor {
  return states.length === 1 ? reshape(states[0]!, [1, ...states[0]!.shape]) : stackRows(states);
}

/**
 * How a layer's recurrence runs over a sequence:
 * - 'kernel': one kernel per layer and direction for all time steps, forward and backward
 *   (sequence-kernel.ts); the default on WebGPU, where every dispatch costs host time (on a GPU up to
 *   GPU_KERNEL_MAX_WEIGHTS recurrent weights, see there), and on the CPU
 *   device where its wasm version runs (H a multiple of 4, the sequence's buffers within 512 MiB) and
 *   the sequence has at least 16 rows (steps x batch): one call into wasm per thread and pass.
 * - 'sequence': one tape entry per layer and direction whose forward and backward loop over time
 *   with the backend's matmul (sequence.ts); the default on the reference device and elsewhere.
 * - 'steps': every time step recorded op by op, as d2l writes it; the reference the others are
 *   tested against.
 */
export type RecurrencePath = 'kernel' | 'sequence' | 'steps';

/**
 * Fewest rows (steps x batch) for which the CPU device's default is the kernel path. Each wasm call
 * packs W_hh afresh, while the per-step path's matmul keeps a weight that has not changed packed
 * between calls: predicting one character at a time (one row a call) took 116 ms for 50 characters
 * of an LSTM 256 on the kernel path against 33 ms on the per-step one (RNN 256: 20 against 9 ms),
 * while a training batch (1,120 rows) runs twice as fast or more on the kernel path.
 */
const CPU_KERNEL_MIN_ROWS = 16;

/**
 * Most recurrent weights (G·H², G gate blocks) for which a GPU's default is the kernel path. Its
 * workgroups, one per batch row, each read all of W_hh at every step, so its GPU time grows with the
 * weights while the per-step path's matmuls spread each step over the whole GPU. On an H200
 * (2026-12-04, docs/webgpu-h200.md), one layer forward and backward (batch 32, 35 steps) took
 * 2.7 / 3.8 / 6.5 ms at hidden 256 (RNN / GRU / LSTM) on the kernel path against 6.0 / 6.0 / 6.1 on
 * the per-step one, and training the concise models at 256 ran at 4.0 / 1.7 / 1.3x the per-step
 * path's tokens/s; at 512 the RNN was even (5.0 against 5.2 ms), the GRU and LSTM 1.4x and 2.5x
 * slower, and at 1,024 and 2,048 every cell 1.5-10x slower. Software adapters keep the kernel path
 * at every size: their cost is per dispatch.
 */
const GPU_KERNEL_MAX_WEIGHTS = 2 ** 18;

/**
 * The path `options` ask for, or the device's default for a layer of `hidden` units and `gates` gate
 * blocks (1 RNN, 3 GRU, 4 LSTM).
 */
export function recurrencePath(options: RecurrentForwardOptions, x: Tensor, hidden: number, gates = 1): RecurrencePath {
  if (options.path !== undefined) return options.path;
  if (options.fused === false) return 'steps';
  if (x.device.kind === 'webgpu') {
    if (!fitsWorkgroup(hidden)) return 'sequence';
    const software = (x.device.backend as unknown as WebGPUBackend).target.software;
    return software || gates * hidden * hidden <= GPU_KERNEL_MAX_WEIGHTS ? 'kernel' : 'sequence';
  }
  const rows = x.dtype === 'int32' ? x.size : x.shape[0]! * x.shape[1]!; // steps x batch
  return x.device.kind === 'cpu' && rows >= CPU_KERNEL_MIN_ROWS && wasmSequenceAvailable(hidden, rows) ? 'kernel' : 'sequence';
}

/** How `recurrentForward` runs the recurrence. */
export interface RecurrentForwardOptions {
  /** Which implementation of the recurrence runs (see `RecurrencePath`; by default the device's best). */
  path?: RecurrencePath;
  /** `false` is `path: 'steps'` (kept for callers written before `path`). */
  fused?: boolean;
}

/** Weights of one layer and direction. */
interface DirectionWeights {
  wIh: Tensor;
  wHh: Tensor;
  bIh: Tensor;
  bHh: Tensor;
}

/**
 * The input projection of every step at once, [numSteps*batch, gates*hidden] time-major: one matmul
 * over all steps (the weight read transposed in place) plus the biases (kernels/feature-projection.ts),
 * or a row gather of W_ih for token indices. b_hh is folded in except for the GRU, whose reset gate
 * scales it.
 */
function project(spec: RecurrentSpec, input: Tensor, w: DirectionWeights): Tensor {
  const hiddenBias = foldsHiddenBias(spec.mode) ? w.bHh : undefined;
  if (input.dtype === 'int32') return projectTokens(input, w.wIh, w.bIh, hiddenBias);
  const [numSteps, batch, inSize] = input.shape as [number, number, number];
  return projectFeatures(reshape(input, [numSteps * batch, inSize]), w.wIh, w.bIh, hiddenBias);
}

/** One direction of one layer: output [numSteps, batch, hidden] in time order, plus the final state. */
function runDirection(
  spec: RecurrentSpec,
  projected: Tensor,
  w: DirectionWeights,
  start: { h0: Tensor; c0: Tensor | undefined; row: number },
  reverse: boolean,
  path: RecurrencePath,
): { output: Tensor; h: Tensor; c?: Tensor } {
  const { h0, c0 } = start;
  // A scope frees the per-step slices at once when nothing differentiates them (prediction); under
  // training the tape adopts the ones backward needs.
  return scope(() => {
    const batch = h0.shape[h0.rank - 2]!;
    const numSteps = projected.shape[0]! / batch;
    // The final state is the last step processed: the first in time for a reverse run.
    const last = reverse ? 0 : numSteps - 1;
    const attrs = { mode: spec.mode, nonlinearity: spec.nonlinearity ?? 'tanh', reverse };
    if (path === 'kernel') {
      const { states, hN, cN } = recurrentKernelSequence(attrs, projected, w, h0, c0, start.row);
      return cN === undefined ? { output: states, h: hN } : { output: states, h: hN, c: cN };
    }
    if (path === 'sequence') {
      const states = recurrentSequence(attrs, projected, w, h0, c0);
      if (spec.mode !== 'lstm') return { output: states, h: timeStep(states, last) };
      const hidden = h0.shape[1]!;
      const hs = slice(states, 2, 0, hidden);
      return { output: hs, h: timeStep(hs, last), c: timeStep(slice(states, 2, hidden), last) };
    }
    const outputs: Tensor[] = new Array<Tensor>(numSteps);
    let h = h0;
    let c = c0;
    for (let s = 0; s < numSteps; s++) {
      const t = reverse ? numSteps - 1 - s : s;
      const xp = slice(projected, 0, t * batch, (t + 1) * batch);
      if (spec.mode === 'lstm') [h, c] = lstmStep(xp, h, c!, w);
      else h = spec.mode === 'gru' ? gruStep(xp, h, w) : rnnStep(xp, h, w, spec.nonlinearity);
      outputs[t] = h;
    }
    const output = stack(outputs);
    return c === undefined ? { output, h } : { output, h, c };
  });
}

/** Row k of a [rows, batch, hidden] state as [batch, hidden] (a view when there is one row). */
function stateRow(state: Tensor, k: number): Tensor {
  const row = state.shape[0] === 1 ? state : slice(state, 0, k, k + 1);
  return reshape(row, state.shape.slice(1));
}

/** Throws a ShapeError naming the first input that does not fit `spec`. */
function checkInputs(spec: RecurrentSpec, weights: readonly Tensor[], x: Tensor, h0: Tensor, c0: Tensor | undefined): void {
  const name = spec.mode.toUpperCase();
  const directions = spec.bidirectional ? 2 : 1;
  const tokens = x.dtype === 'int32';
  if (tokens ? x.rank !== 2 : x.rank !== 3 || x.shape[2] !== spec.inputSize) {
    const want = tokens ? 'int32 tokens [batch, numSteps]' : `[numSteps, batch, ${spec.inputSize}]`;
    throw new ShapeError(`${name}: input must be ${want}, got ${fmtShape(x.shape)}`);
  }
  const [numSteps, batch] = tokens ? [x.shape[1]!, x.shape[0]!] : [x.shape[0]!, x.shape[1]!];
  if (numSteps === 0) throw new ShapeError(`${name}: input has no time steps: ${fmtShape(x.shape)}`);
  const stateShape = [spec.numLayers * directions, batch, spec.hiddenSize];
  const sameAsState = (t: Tensor) => t.rank === 3 && t.shape.every((d, i) => d === stateShape[i]);
  if (!sameAsState(h0)) {
    throw new ShapeError(`${name}: hidden state must be ${fmtShape(stateShape)} (layers*directions, batch, hidden), got ${fmtShape(h0.shape)}`);
  }
  if (spec.mode === 'lstm' && (c0 === undefined || !sameAsState(c0))) {
    throw new ShapeError(`${name}: cell state must be ${fmtShape(stateShape)}, got ${c0 ? fmtShape(c0.shape) : 'none'}`);
  }
  const expected = 4 * spec.numLayers * directions;
  if (weights.length !== expected) throw new ShapeError(`${name}: expected ${expected} weight tensors, got ${weights.length}`);
  const rows = GATES[spec.mode] * spec.hiddenSize;
  weights.forEach((w, i) => {
    const layer = Math.floor(i / (4 * directions));
    const inSize = layer === 0 ? spec.inputSize : directions * spec.hiddenSize;
    const want = [[rows, inSize], [rows, spec.hiddenSize], [rows], [rows]][i % 4]!;
    if (w.rank !== want.length || w.shape.some((d, j) => d !== want[j])) {
      throw new ShapeError(`${name}: weight ${i} must be ${fmtShape(want)}, got ${fmtShape(w.shape)}`);
    }
  });
}
