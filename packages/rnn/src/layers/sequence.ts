/*
 * The recurrence of one layer and direction as a single tape entry, `recurrentSequence`.
 *
 * Run step by step, every time step records a dozen ops, and backward then pays for each of them: the
 * slice of the input projection taken at step t sends back a gradient as large as the whole projection,
 * and the recurrent weight's gradient is summed one [batch, hidden] product at a time. Recorded as one op,
 * the forward runs with recording off — the RNN cell as in cells.ts, the GRU and LSTM cells as one
 * kernel each per step (gruCell, lstmCell in kernels/) after the recurrent matmul — and the backward
 * (sequence-grad.ts) walks time once, keeping per step only what truly depends on the previous step,
 * then forms the weight gradients with one matmul over all steps. Outputs and gradients equal the
 * step-by-step composition (packages/rnn/test/sequence.test.ts checks both devices).
 */
import { noGrad } from '@tinytape/autograd';
import { type Tensor, concat, matmul, matmulAccumulate_, recordOp, relu, scope, slice, stack, tanh } from '@tinytape/tensor';
import { gruCell, lstmCell } from '../kernels/recurrent-cells.ts';
import type { CellKind, Nonlinearity, StepWeights } from './cells.ts';
import './sequence-grad.ts';

/** What `recurrentSequence` records besides its tensors; its gradient rule reads them back. */
export interface SequenceAttrs {
  mode: CellKind;
  nonlinearity: Nonlinearity;
  /** Run from the last time step to the first. */
  reverse: boolean;
}

/**
 * Runs one recurrent layer in one direction over a whole sequence.
 *
 * @param xp - input projections of every step, [numSteps*batch, gates*hidden], time-major; with both
 *   biases for RNN and LSTM, with b_ih only for the GRU.
 * @param h0 - initial hidden state [batch, hidden]; `c0` the LSTM's initial cell state.
 * @returns [numSteps, batch, hidden] hidden states in time order (for a reverse run too); for the LSTM
 *   [numSteps, batch, 2*hidden], each step's h followed by its c.
 */
export function recurrentSequence(
  attrs: SequenceAttrs,
  xp: Tensor,
  w: StepWeights,
  h0: Tensor,
  c0?: Tensor,
): Tensor {
  const batch = h0.shape[0]!;
  const numSteps = xp.shape[0]! / batch;
  const states = noGrad(() =>
    scope(() => {
      const hs = new Array<Tensor>(numSteps);
      const cs = new Array<Tensor>(numSteps);
      let h = h0;
      let c = c0;
      for (let s = 0; s < numSteps; s++) {
        const t = attrs.reverse ? numSteps - 1 - s : s;
        const x = slice(xp, 0, t * batch, (t + 1) * batch);
        // The gated cells run as one kernel after the recurrent product (the same arithmetic as
        // gruStep/lstmStep in cells.ts, which the step-by-step form records op by op).
        if (attrs.mode === 'lstm') [h, c] = lstmCell(x, matmul(h, w.wHh, { transB: true }), c!);
        else if (attrs.mode === 'gru') h = gruCell(x, matmul(h, w.wHh, { transB: true }), w.bHh, h);
        else {
          // rnnStep's arithmetic, with x (this step's own copy of the projection) taking the
          // recurrent product in place: one kernel and one buffer fewer per step.
          const pre = matmulAccumulate_(x, h, w.wHh, { transB: true });
          h = attrs.nonlinearity === 'relu' ? relu(pre) : tanh(pre);
        }
        hs[t] = h;
        if (c !== undefined) cs[t] = c;
      }
      return attrs.mode === 'lstm' ? concat([stack(hs), stack(cs)], 2) : stack(hs);
    }),
  );
  // The GRU reads b_hh inside the reset gate, so it is an input here; the others have it folded into xp.
  const inputs = [xp, w.wHh, h0];
  if (attrs.mode === 'gru') inputs.push(w.bHh);
  if (attrs.mode === 'lstm') inputs.push(c0!);
  return recordOp('recurrentSequence', inputs, states, { ...attrs });
}
