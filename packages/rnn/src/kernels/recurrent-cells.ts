/*
 * One time step of a GRU or an LSTM as one kernel each: the building blocks of the fused recurrent
 * forward pass (layers/sequence.ts). They are custom kernels (defineKernel in @tinytape/tensor), with
 * the host loops in cells-host.ts and the WGSL in cells-wgsl.ts. They are not recorded on the tape — the
 * layer records its whole recurrence as one op with its own backward (layers/sequence-grad.ts) — so
 * they refuse inputs that would need a gradient while recording is on.
 */
import { type Tensor, ShapeError, defineKernel, fmtShape, runKernel } from '@tinytape/tensor';
import { type CellParams, gruCellHost, lstmCellHost } from './cells-host.ts';
import { gruCellWgsl, lstmCellWgsl } from './cells-wgsl.ts';

const gruKernel = defineKernel<CellParams>({
  name: 'gruCell',
  inputs: ['xp', 'hp', 'bias', 'h'],
  outputs: ['out'],
  writesAll: true,
  reference: gruCellHost,
  webgpu: gruCellWgsl,
});

const lstmKernel = defineKernel<CellParams>({
  name: 'lstmCell',
  inputs: ['xp', 'hp', 'c'],
  outputs: ['outH', 'outC'],
  writesAll: true,
  reference: lstmCellHost,
  webgpu: lstmCellWgsl,
});

/** [batch, hidden] of a cell's state, after checking that xp, hp (and bias) fit it. */
function checkCell(op: string, gates: number, xp: Tensor, hp: Tensor, state: Tensor, bias?: Tensor): CellParams {
  const [batch, hidden] = state.shape as [number, number];
  const want = [batch, gates * hidden];
  const fits = (t: Tensor) => t.rank === 2 && t.shape[0] === batch && t.shape[1] === gates * hidden;
  if (state.rank !== 2 || !fits(xp) || !fits(hp) || (bias !== undefined && (bias.rank !== 1 || bias.shape[0] !== gates * hidden))) {
    throw new ShapeError(
      `${op}: expected xp and hp ${fmtShape(want)}, state [batch, hidden]${bias ? ` and bias [${gates * hidden}]` : ''}; got ` +
        `${[xp, hp, state, ...(bias ? [bias] : [])].map((t) => fmtShape(t.shape)).join(', ')}`,
    );
  }
  return { batch, hidden };
}

/**
 * A GRU step with PyTorch's equations: xp [batch, 3·hidden] is x·W_ihᵀ + b_ih, hp [batch, 3·hidden] is
 * h·W_hhᵀ without its bias, `bias` is b_hh [3·hidden], h [batch, hidden]. Returns h' [batch, hidden]:
 * r = σ(xp_r + (hp_r + b_r)), z = σ(xp_z + (hp_z + b_z)), n = tanh(xp_n + r ⊙ (hp_n + b_n)),
 * h' = n + z ⊙ (h − n).
 */
export function gruCell(xp: Tensor, hp: Tensor, bias: Tensor, h: Tensor): Tensor {
  const params = checkCell('gruCell', 3, xp, hp, h, bias);
  return runKernel(gruKernel, [xp, hp, bias, h], [h.shape], params)[0]!;
}

/**
 * An LSTM step: xp [batch, 4·hidden] is x·W_ihᵀ with both biases, hp [batch, 4·hidden] is h·W_hhᵀ,
 * c [batch, hidden] the cell state; gate blocks i, f, g, o. Returns [h', c'] with
 * c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g), h' = σ(o) ⊙ tanh(c').
 */
export function lstmCell(xp: Tensor, hp: Tensor, c: Tensor): [Tensor, Tensor] {
  const params = checkCell('lstmCell', 4, xp, hp, c);
  const [h, cNext] = runKernel(lstmKernel, [xp, hp, c], [c.shape, c.shape], params);
  return [h!, cNext!];
}
