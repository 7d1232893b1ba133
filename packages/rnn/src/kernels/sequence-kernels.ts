/*
 * A recurrent layer's whole sequence, one kernel per layer and direction: forward (every hidden state,
 * plus what backward needs), backward (every step's pre-activation gradient and the initial state's),
 * and the recurrent weight's gradient as one product over all steps. Custom kernels (defineKernel in
 * @tinytape/tensor) with the plain loops of sequence-host.ts for the reference device, one call into
 * wasm per thread for the CPU device (sequence-wasm.ts) and the WGSL of sequence-wgsl.ts for WebGPU.
 * They are not recorded on the tape themselves: layers/sequence-kernel.ts records the sequence as one
 * op and calls the backward kernels from its gradient rule.
 */
import { type Tensor, defineKernel, runKernel, transpose } from '@tinytape/tensor';
import type { CellKind } from '../layers/cells.ts';
import {
  type LstmBackwardParams, type SequenceParams, type WeightGradParams, gruBackwardHost, gruForwardHost, lstmBackwardHost, lstmForwardHost, rnnBackwardHost,
  rnnForwardHost, weightGradHost,
} from './sequence-host.ts';
import {
  gruBackwardWgsl, gruForwardWgsl, lstmBackwardWgsl, lstmForwardWgsl, rnnBackwardWgsl, rnnForwardWgsl, weightGradWgsl,
} from './sequence-wgsl.ts';
import {
  gruBackwardWasm, gruForwardWasm, lstmBackwardWasm, lstmForwardWasm, rnnBackwardWasm, rnnForwardWasm, weightGradWasm,
} from './sequence-wasm.ts';

export type { SequenceParams } from './sequence-host.ts';
export { fitsWorkgroup } from './sequence-wgsl.ts';

const common = { writesAll: true } as const;

const forwardKernels = {
  rnn: defineKernel<SequenceParams>({
    ...common, name: 'rnnSequence', inputs: ['xp', 'wT', 'h0'], outputs: ['states', 'hN'], reference: rnnForwardHost, wasm: rnnForwardWasm, webgpu: rnnForwardWgsl,
  }),
  gru: defineKernel<SequenceParams>({
    ...common, name: 'gruSequence', inputs: ['xp', 'wT', 'bias', 'h0'], outputs: ['states', 'saved', 'hN'], reference: gruForwardHost, wasm: gruForwardWasm,
    webgpu: gruForwardWgsl,
  }),
  lstm: defineKernel<SequenceParams>({
    ...common, name: 'lstmSequence', inputs: ['xp', 'wT', 'h0', 'c0'], outputs: ['states', 'saved', 'hN', 'cN'], reference: lstmForwardHost, wasm: lstmForwardWasm,
    webgpu: lstmForwardWgsl,
  }),
};

const backwardKernels = {
  rnn: defineKernel<SequenceParams>({
    ...common, name: 'rnnSequenceBackward', inputs: ['g', 'w', 'states'], outputs: ['dPre', 'dh0'], reference: rnnBackwardHost, wasm: rnnBackwardWasm,
    webgpu: rnnBackwardWgsl,
  }),
  gru: defineKernel<SequenceParams>({
    ...common, name: 'gruSequenceBackward', inputs: ['g', 'w', 'states', 'saved', 'h0'], outputs: ['dXp', 'dHp', 'dh0'],
    reference: gruBackwardHost, wasm: gruBackwardWasm, webgpu: gruBackwardWgsl,
  }),
};

const lstmBackwardKernel = defineKernel<LstmBackwardParams>({
  ...common, name: 'lstmSequenceBackward', inputs: ['g', 'w', 'saved', 'c0', 'dcN'], outputs: ['dPre', 'dh0', 'dc0'],
  reference: lstmBackwardHost, wasm: lstmBackwardWasm, webgpu: lstmBackwardWgsl,
});

const weightGradKernel = defineKernel<WeightGradParams>({
  ...common, name: 'recurrentWeightGrad', inputs: ['d', 'states', 'h0'], outputs: ['dW', 'db'], reference: weightGradHost, wasm: weightGradWasm,
  webgpu: weightGradWgsl,
});

/** Gate blocks per cell, and what forward saves per row for backward (in units of hidden). */
const GATES: Record<CellKind, number> = { rnn: 1, gru: 3, lstm: 4 };

/** What `sequenceForward` gives. */
export interface SequenceOutputs {
  /** Every hidden state, [T, B, H] in time order. */
  states: Tensor;
  /** What backward needs besides the states (GRU and LSTM): [T·B, 4H] or the LSTM's [T·B, 5H]. */
  saved: Tensor | null;
  /** The final hidden state [B, H] (of the last step processed). */
  hN: Tensor;
  /** The LSTM's final cell state [B, H]. */
  cN?: Tensor;
}

/**
 * Runs a layer's recurrence over all steps. `extra` is b_hh for the GRU and c0 for the LSTM. The
 * kernels read W_hh transposed (see sequence-wgsl.ts): one transposing copy, then the recurrence.
 */
export function sequenceForward(mode: CellKind, params: SequenceParams, xp: Tensor, wHh: Tensor, h0: Tensor, extra?: Tensor): SequenceOutputs {
  const { steps, batch, hidden } = params;
  const wT = transpose(wHh);
  const states = [steps, batch, hidden];
  const state = [batch, hidden];
  if (mode === 'rnn') {
    const [out, hN] = runKernel(forwardKernels.rnn, [xp, wT, h0], [states, state], params);
    return { states: out!, saved: null, hN: hN! };
  }
  if (mode === 'gru') {
    const [out, saved, hN] = runKernel(forwardKernels.gru, [xp, wT, extra!, h0], [states, [steps * batch, 4 * hidden], state], params);
    return { states: out!, saved: saved!, hN: hN! };
  }
  const [out, saved, hN, cN] = runKernel(forwardKernels.lstm, [xp, wT, h0, extra!], [states, [steps * batch, 5 * hidden], state, state], params);
  return { states: out!, saved: saved!, hN: hN!, cN: cN! };
}

/** What `sequenceBackward` gives: the input projection's gradient, the recurrent product's, and the initial states'. */
export interface SequenceGradients {
  /** d(xp) [T·B, G·H]. */
  dXp: Tensor;
  /** d(h·W_hhᵀ (+ b_hh)) [T·B, G·H]: dXp itself except for the GRU's n block. */
  dHp: Tensor;
  dh0: Tensor;
  /** The LSTM's d(c0). */
  dc0?: Tensor;
}

/**
 * Runs backward through a layer's recurrence given the gradient `g` of its states; for the LSTM,
 * `initial` is c0, and `dcN` (optional) the gradient of its final cell state.
 */
export function sequenceBackward(
  mode: CellKind, params: SequenceParams, g: Tensor, wHh: Tensor, states: Tensor, saved: Tensor | null, initial: Tensor, dcN?: Tensor,
): SequenceGradients {
  const { steps, batch, hidden } = params;
  const pre = [steps * batch, GATES[mode] * hidden];
  const state = [batch, hidden];
  if (mode === 'rnn') {
    const [dPre, dh0] = runKernel(backwardKernels.rnn, [g, wHh, states], [pre, state], params);
    return { dXp: dPre!, dHp: dPre!, dh0: dh0! };
  }
  if (mode === 'gru') {
    const [dXp, dHp, dh0] = runKernel(backwardKernels.gru, [g, wHh, states, saved!, initial], [pre, pre, state], params);
    return { dXp: dXp!, dHp: dHp!, dh0: dh0! };
  }
  // Without a final-cell gradient the kernel does not read dcN; c0 stands in for the binding.
  const lstmParams = { ...params, finalCell: dcN === undefined ? 0 : 1 };
  const [dPre, dh0, dc0] = runKernel(lstmBackwardKernel, [g, wHh, saved!, initial, dcN ?? initial], [pre, state, state], lstmParams);
  return { dXp: dPre!, dHp: dPre!, dh0: dh0!, dc0: dc0! };
}

/** dW_hh [G·H, H] and db_hh [G·H] from the recurrent product's gradient over all steps. */
export function recurrentWeightGrad(mode: CellKind, params: SequenceParams, dHp: Tensor, states: Tensor, h0: Tensor): [Tensor, Tensor] {
  const gates = GATES[mode];
  const [dW, db] = runKernel(weightGradKernel, [dHp, states, h0], [[gates * params.hidden, params.hidden], [gates * params.hidden]], {
    ...params, gates,
  });
  return [dW!, db!];
}
