/*
 * One time step of a GRU or an LSTM as one kernel (Backend.gruCell / lstmCell): the building blocks of
 * a fused recurrent forward pass. They are not recorded on the tape — a layer that uses them records
 * its whole recurrence as one op with its own backward — so they refuse inputs that would need a
 * gradient while recording is on.
 */
import { isGradEnabled } from '../engine.ts';
import { ShapeError, StateError, fmtShape } from '../errors.ts';
import type { Tensor } from '../tensor.ts';
import { allocTensor, commonDevice, expectDtype, expectTensor } from './util.ts';

function checkCell(op: string, gates: number, xp: Tensor, hp: Tensor, state: Tensor, bias?: Tensor): [number, number] {
  const inputs = bias === undefined ? [xp, hp, state] : [xp, hp, state, bias];
  inputs.forEach((t) => {
    expectTensor(op, t);
    expectDtype(op, t, 'float32');
  });
  commonDevice(op, inputs);
  if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    throw new StateError(`${op}: not differentiable on its own; call it inside noGrad (recurrent layers record their whole sequence as one op)`);
  }
  const [batch, hidden] = state.shape as [number, number];
  const want = [batch, gates * hidden];
  const fits = (t: Tensor) => t.rank === 2 && t.shape[0] === batch && t.shape[1] === gates * hidden;
  if (state.rank !== 2 || !fits(xp) || !fits(hp) || (bias !== undefined && (bias.rank !== 1 || bias.shape[0] !== gates * hidden))) {
    throw new ShapeError(
      `${op}: expected xp and hp ${fmtShape(want)}, state [batch, hidden]${bias ? ` and bias [${gates * hidden}]` : ''}; got ` +
        `${[xp, hp, state, ...(bias ? [bias] : [])].map((t) => fmtShape(t.shape)).join(', ')}`,
    );
  }
  return [batch, hidden];
}

/**
 * A GRU step with PyTorch's equations: xp [batch, 3·hidden] is x·W_ihᵀ + b_ih, hp [batch, 3·hidden] is
 * h·W_hhᵀ without its bias, `bias` is b_hh [3·hidden], h [batch, hidden]. Returns h' [batch, hidden].
 */
export function gruCell(xp: Tensor, hp: Tensor, bias: Tensor, h: Tensor): Tensor {
  const [batch, hidden] = checkCell('gruCell', 3, xp, hp, h, bias);
  const out = allocTensor(h.device, [batch, hidden], 'float32');
  h.device.backend.gruCell(xp.buffer('gruCell'), hp.buffer('gruCell'), bias.buffer('gruCell'), h.buffer('gruCell'), out.buffer('gruCell'), batch, hidden);
  return out;
}

/**
 * An LSTM step: xp [batch, 4·hidden] is x·W_ihᵀ with both biases, hp [batch, 4·hidden] is h·W_hhᵀ,
 * c [batch, hidden] the cell state; gate blocks i, f, g, o. Returns [h', c'].
 */
export function lstmCell(xp: Tensor, hp: Tensor, c: Tensor): [Tensor, Tensor] {
  const [batch, hidden] = checkCell('lstmCell', 4, xp, hp, c);
  const h = allocTensor(c.device, [batch, hidden], 'float32');
  const cNext = allocTensor(c.device, [batch, hidden], 'float32');
  c.device.backend.lstmCell(xp.buffer('lstmCell'), hp.buffer('lstmCell'), c.buffer('lstmCell'), h.buffer('lstmCell'), cNext.buffer('lstmCell'), batch, hidden);
  return [h, cNext];
}
