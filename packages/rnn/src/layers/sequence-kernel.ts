/*
 * The recurrence of one layer and direction as one kernel and one tape entry, `recurrentKernelSequence`:
 * the default on WebGPU, where each dispatch costs host time and the per-step form issues dozens per
 * sequence. Forward is one dispatch (kernels/sequence-kernels.ts), which also saves the gates backward
 * needs; the gradient rule below is two: one kernel walks time in reverse for every step's
 * pre-activation gradient and the initial state's, one forms W_hh's (and the GRU's b_hh's) gradient
 * over all steps. Outputs and gradients equal `recurrentSequence` (sequence.ts) and the step-by-step
 * composition (packages/rnn/test/sequence-kernel.test.ts checks all three on every device).
 */
import { noGrad, registerGradient } from '@tinytape/autograd';
import { type Tensor, recordOp } from '@tinytape/tensor';
import { type SequenceParams, recurrentWeightGrad, sequenceBackward, sequenceForward } from '../kernels/sequence-kernels.ts';
import type { StepWeights } from './cells.ts';
import type { SequenceAttrs } from './sequence.ts';

/** The kernels' sizes for a run of `xp` rows from an initial state h0 [batch, hidden]. */
function paramsOf(attrs: SequenceAttrs, xp: Tensor, h0: Tensor): SequenceParams {
  const [batch, hidden] = h0.shape as [number, number];
  return { steps: xp.shape[0]! / batch, batch, hidden, reverse: attrs.reverse ? 1 : 0, relu: attrs.nonlinearity === 'relu' ? 1 : 0 };
}

/**
 * Runs one recurrent layer in one direction over a whole sequence in one kernel. Takes and returns
 * what `recurrentSequence` does: xp [numSteps*batch, gates*hidden] time-major (both biases folded in
 * for RNN and LSTM, b_ih only for the GRU), the initial states, and [numSteps, batch, hidden] states in
 * time order ([numSteps, batch, 2*hidden], h then c, for the LSTM).
 */
export function recurrentKernelSequence(attrs: SequenceAttrs, xp: Tensor, w: StepWeights, h0: Tensor, c0?: Tensor): Tensor {
  const params = paramsOf(attrs, xp, h0);
  const extra = attrs.mode === 'gru' ? w.bHh : attrs.mode === 'lstm' ? c0 : undefined;
  const [states, saved] = noGrad(() => sequenceForward(attrs.mode, params, xp, w.wHh, h0, extra));
  // The saved gates ride along as the last input, so the tape keeps them until backward has run.
  const inputs = [xp, w.wHh, h0];
  if (extra !== undefined) inputs.push(extra);
  if (saved !== null) inputs.push(saved);
  return recordOp('recurrentKernel', inputs, states, { ...attrs });
}

registerGradient('recurrentKernel', (g, { inputs, output, attrs }) => {
  const a = attrs as unknown as SequenceAttrs;
  const [xp, wHh, h0, extra, saved] = inputs as [Tensor, Tensor, Tensor, Tensor | undefined, Tensor | undefined];
  const params = paramsOf(a, xp, h0);
  const initial = a.mode === 'lstm' ? extra! : h0;
  const grads = sequenceBackward(a.mode, params, g, wHh, output, saved ?? null, initial);
  const [dW, db] = recurrentWeightGrad(a.mode, params, grads.dHp, output, h0);
  const dh0 = h0.requiresGrad ? grads.dh0 : null;
  if (a.mode === 'rnn') return [grads.dXp, dW, dh0];
  if (a.mode === 'gru') return [grads.dXp, dW, dh0, db, null];
  return [grads.dXp, dW, dh0, extra!.requiresGrad ? grads.dc0! : null, null];
});
