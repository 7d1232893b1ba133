/*
 * The recurrence of one layer and direction as one kernel and one tape entry, `recurrentKernelSequence`:
 * the default on WebGPU, where each dispatch costs host time and the per-step form issues dozens per
 * sequence. Forward is one dispatch (kernels/sequence-kernels.ts), which also saves the gates backward
 * needs; the gradient rule below is two: one kernel walks time in reverse for every step's
 * pre-activation gradient and the initial state's, one forms W_hh's (and the GRU's b_hh's) gradient
 * over all steps. Outputs and gradients equal `recurrentSequence` (sequence.ts) and the step-by-step
 * composition (packages/rnn/test/sequence-kernel.test.ts checks all three on every device).
 *
 * The kernel also writes the final states (hN, and the LSTM's cN), each recorded as a tape entry of its
 * own over the same inputs, so that nothing is sliced or copied out of the states. Their rules run the
 * same backward from that state's gradient alone; as gradients add, the entries together give the
 * whole gradient. In training the final states are only carried to the next batch, detached, and those
 * rules never run.
 */
import { noGrad, registerGradient } from '@tinytape/autograd';
import { type Tensor, padSlice, recordOp, reshape, zeros } from '@tinytape/tensor';
import { type SequenceParams, recurrentWeightGrad, sequenceBackward, sequenceForward } from '../kernels/sequence-kernels.ts';
import type { StepWeights } from './cells.ts';
import type { SequenceAttrs } from './sequence.ts';

/** What the kernel path records besides the sequence attributes: which row of h0 (and c0) it starts from. */
interface KernelAttrs extends SequenceAttrs {
  stateRow: number;
}

/** The kernels' sizes for a run of `xp` rows from row `stateRow` of h0 ([batch, hidden] or [rows, batch, hidden]). */
function paramsOf(attrs: KernelAttrs, xp: Tensor, h0: Tensor): SequenceParams {
  const [batch, hidden] = h0.shape.slice(-2) as [number, number];
  return {
    steps: xp.shape[0]! / batch, batch, hidden, reverse: attrs.reverse ? 1 : 0, relu: attrs.nonlinearity === 'relu' ? 1 : 0,
    origin: attrs.stateRow * batch * hidden,
  };
}

/** The gradient of a whole initial-state tensor from its row `row`'s gradient [batch, hidden]. */
function stateGradient(d: Tensor, state: Tensor, row: number): Tensor {
  if (state.rank === 2) return d;
  const asRow = reshape(d, [1, ...d.shape]);
  return state.shape[0] === 1 ? asRow : padSlice(asRow, state.shape, 0, row);
}

/** What `recurrentKernelSequence` returns. */
export interface KernelSequence {
  /** [numSteps, batch, hidden]: every hidden state, in time order. */
  states: Tensor;
  /** The final hidden state [batch, hidden]: the last step processed (the first in time for a reverse run). */
  hN: Tensor;
  /** The LSTM's final cell state [batch, hidden]. */
  cN?: Tensor;
}

/**
 * Runs one recurrent layer in one direction over a whole sequence in one kernel. xp is
 * [numSteps*batch, gates*hidden] time-major (both biases folded in for RNN and LSTM, b_ih only for the
 * GRU); h0 (and the LSTM's c0) [batch, hidden], or every layer and direction's initial states
 * [rows, batch, hidden] of which the run starts from row `stateRow` (read in place, not copied out).
 */
export function recurrentKernelSequence(
  sequence: SequenceAttrs, xp: Tensor, w: StepWeights, h0: Tensor, c0?: Tensor, stateRow = 0,
): KernelSequence {
  const attrs: KernelAttrs = { ...sequence, stateRow };
  const params = paramsOf(attrs, xp, h0);
  const extra = attrs.mode === 'gru' ? w.bHh : attrs.mode === 'lstm' ? c0 : undefined;
  const out = noGrad(() => sequenceForward(attrs.mode, params, xp, w.wHh, h0, extra));
  // The saved gates ride along as the last input, so the tape keeps them until backward has run.
  const inputs = [xp, w.wHh, h0];
  if (extra !== undefined) inputs.push(extra);
  if (out.saved !== null) inputs.push(out.saved);
  const states = recordOp('recurrentKernel', inputs, out.states, { ...attrs });
  // The weight gradient reads the hidden states, so they are an input of the final states' entries too.
  const hN = recordOp('recurrentKernelFinal', [...inputs, out.states], out.hN, { ...attrs });
  if (out.cN === undefined) return { states, hN };
  return { states, hN, cN: recordOp('recurrentKernelCell', [...inputs, out.states], out.cN, { ...attrs }) };
}

/**
 * Gradients of xp, W_hh, h0 and the extra input (b_hh or c0) from the states' gradient `g` or, for
 * the LSTM's final cell state, from that state's gradient `dcN`.
 */
function sequenceGradients(attrs: KernelAttrs, inputs: Tensor[], states: Tensor, g: Tensor, dcN?: Tensor): (Tensor | null)[] {
  const [xp, wHh, h0, extra, saved] = inputs as [Tensor, Tensor, Tensor, Tensor | undefined, Tensor | undefined];
  const params = paramsOf(attrs, xp, h0);
  const initial = attrs.mode === 'lstm' ? extra! : h0;
  const grads = sequenceBackward(attrs.mode, params, g, wHh, states, saved ?? null, initial, dcN);
  const [dW, db] = recurrentWeightGrad(attrs.mode, params, grads.dHp, states, h0);
  const dh0 = h0.requiresGrad ? stateGradient(grads.dh0, h0, attrs.stateRow) : null;
  if (attrs.mode === 'rnn') return [grads.dXp, dW, dh0];
  if (attrs.mode === 'gru') return [grads.dXp, dW, dh0, db, null];
  return [grads.dXp, dW, dh0, extra!.requiresGrad ? stateGradient(grads.dc0!, extra!, attrs.stateRow) : null, null];
}

registerGradient('recurrentKernel', (g, { inputs, output, attrs }) => sequenceGradients(attrs as unknown as KernelAttrs, inputs, output, g));

registerGradient('recurrentKernelFinal', (g, { inputs, attrs }) => {
  const a = attrs as unknown as KernelAttrs;
  const states = inputs[inputs.length - 1]!;
  // The final state's gradient, placed at the step it came from; zeros at every other step.
  const last = a.reverse ? 0 : states.shape[0]! - 1;
  const atLast = padSlice(reshape(g, [1, ...g.shape]), states.shape, 0, last);
  return [...sequenceGradients(a, inputs.slice(0, -1), states, atLast), null];
});

registerGradient('recurrentKernelCell', (g, { inputs, attrs }) => {
  const states = inputs[inputs.length - 1]!;
  // No gradient reaches the hidden states along this entry: zeros in their place.
  const none = zeros(states.shape, { device: states.device });
  return [...sequenceGradients(attrs as unknown as KernelAttrs, inputs.slice(0, -1), states, none, g), null];
});
