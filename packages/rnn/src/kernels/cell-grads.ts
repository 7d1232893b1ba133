/*
 * One backward time step of the GRU and the LSTM as one kernel each: the per-step elementwise work of
 * the sequence rule (layers/sequence-grad.ts), which the op-by-op loop did as half a dozen small ops
 * per step (slice copies of the step, add, broadcast mul, concat). The recurrent product with W_hh stays
 * the engine's matmul. The kernels read step t of the whole-sequence tensors at its offset and write
 * the step's dh (and dc) into its row of a [numSteps, batch, hidden] buffer updated in place, so the
 * loop makes no slice copies and the rule no stack afterwards. Host loops in cell-grads-host.ts, WGSL
 * in cell-grads-wgsl.ts. Not recorded on the tape: backward runs them with recording off.
 */
import { type Tensor, ShapeError, defineKernel, fmtShape, runKernel } from '@tinytape/tensor';
import { type StepGradParams, gruStepGradHost, lstmStepGradHost } from './cell-grads-host.ts';
import { gruStepGradWgsl, lstmStepGradWgsl } from './cell-grads-wgsl.ts';

const gruKernel = defineKernel<StepGradParams>({
  name: 'gruStepGrad',
  inputs: ['g', 'coef', 'z', 'carry'],
  updates: ['allHp', 'allXp'],
  outputs: ['dHp', 'dhz'],
  writesAll: true,
  reference: gruStepGradHost,
  webgpu: gruStepGradWgsl,
});

const lstmKernel = defineKernel<StepGradParams>({
  name: 'lstmStepGrad',
  // One coefficient tensor, not four: with the carries, the updated rows and the outputs that makes
  // 8 buffers, the most every WebGPU adapter lets one dispatch bind.
  inputs: ['g', 'coef', 'carryH', 'carryC'],
  updates: ['dhs', 'dcs'],
  outputs: ['gates', 'nextC'],
  writesAll: true,
  reference: lstmStepGradHost,
  webgpu: lstmStepGradWgsl,
});

/** Throws a ShapeError naming `op` unless every tensor has its expected shape. */
function expectShapes(op: string, t: number, numSteps: number, checks: [string, Tensor, number[]][]): void {
  if (!Number.isInteger(t) || t < 0 || t >= numSteps) throw new ShapeError(`${op}: step ${t} out of range for ${numSteps} steps`);
  for (const [name, x, want] of checks) {
    if (x.rank !== want.length || x.shape.some((d, i) => d !== want[i])) {
      throw new ShapeError(`${op}: expected ${name} ${fmtShape(want)}, got ${fmtShape(x.shape)}`);
    }
  }
}

/**
 * One backward step of a GRU layer at time t. With dh = g_t + carry (just g_t when `carry` is null, the
 * first step backward visits), returns dHp = dh ⊙ [Cr, Cz, Cn]_t, [batch, 3·hidden] (the gradient of the
 * step's recurrent product h·W_hhᵀ + b_hh), and dhz = dh ⊙ z_t, [batch, hidden] (the direct part of
 * the carry to step t−1); it also writes dHp into row t of `allHp` and the input projection's gradient
 * dh ⊙ [Cr, Cz, A]_t into row t of `allXp`, so the rule has both for every step when the loop ends.
 *
 * @param g - the gradient of the layer's outputs, [numSteps, batch, hidden].
 * @param coef - per step [Cr, Cz, Cn, A], [numSteps, batch, 4, hidden]: the coefficients of dh in the
 *   gradients of the r, z and n blocks of the recurrent product, and in the n block of the projection's.
 * @param z - the update gate of every step, [numSteps, batch, hidden].
 * @param carry - what the later step sends back to this one, [batch, hidden], or null.
 * @param allHp - [numSteps, batch, 3·hidden], updated in place at row t; `allXp` likewise.
 */
export function gruStepGrad(
  t: number, g: Tensor, coef: Tensor, z: Tensor, carry: Tensor | null, allHp: Tensor, allXp: Tensor,
): { dHp: Tensor; dhz: Tensor } {
  const [numSteps = 0, batch = 0, hidden = 0] = g.shape;
  const state = [numSteps, batch, hidden];
  const gates = [numSteps, batch, 3 * hidden];
  expectShapes('gruStepGrad', t, numSteps, [
    ['g', g, state],
    ['coef', coef, [numSteps, batch, 4, hidden]],
    ['z', z, state],
    ...(carry === null ? [] : ([['carry', carry, [batch, hidden]]] as [string, Tensor, number[]][])),
    ['allHp', allHp, gates],
    ['allXp', allXp, gates],
  ]);
  // With no carry the kernel reads none; g stands in for the buffer it leaves unread.
  const params = { t, batch, hidden, first: carry === null ? 1 : 0 };
  const [dHp, dhz] = runKernel(gruKernel, [g, coef, z, carry ?? g], [[batch, 3 * hidden], [batch, hidden]], params, [allHp, allXp]);
  return { dHp: dHp!, dhz: dhz! };
}

/**
 * One backward step of an LSTM layer at time t. With dh = g_h + carry.h and
 * dc = (g_c + carry.c) + dh ⊙ K1_t (no carry terms when `carry` is null), writes dh and dc into row t
 * of `dhs` and `dcs` and returns the gate pre-activations' gradient
 * gates = [dc ⊙ Ki, dc ⊙ Kf, dc ⊙ Kg, dh ⊙ Ko], [batch, 4·hidden], and the cell-state carry to step
 * t−1, nextC = dc ⊙ f_t, [batch, hidden].
 *
 * @param g - the gradient of the layer's outputs, [numSteps, batch, 2·hidden] (h then c in each row).
 * @param coef - per step [Ki, Kf, Kg, Ko, K1, f], [numSteps, batch, 6, hidden]: the coefficients of dc in
 *   the i, f, g gates' gradients, of dh in the o gate's and in dc, and the forget gate.
 * @param carry - what the later step sends back, h's part and c's, each [batch, hidden]; or null.
 * @param dhs - [numSteps, batch, hidden], updated in place at row t; `dcs` likewise for dc.
 */
export function lstmStepGrad(
  t: number,
  g: Tensor,
  coef: Tensor,
  carry: { h: Tensor; c: Tensor } | null,
  dhs: Tensor,
  dcs: Tensor,
): { gates: Tensor; nextC: Tensor } {
  const [numSteps = 0, batch = 0, twice = 0] = g.shape;
  const hidden = twice / 2;
  const state = [numSteps, batch, hidden];
  expectShapes('lstmStepGrad', t, numSteps, [
    ['g', g, [numSteps, batch, 2 * hidden]],
    ['coef', coef, [numSteps, batch, 6, hidden]],
    ...(carry === null ? [] : ([['carry.h', carry.h, [batch, hidden]], ['carry.c', carry.c, [batch, hidden]]] as [string, Tensor, number[]][])),
    ['dhs', dhs, state],
    ['dcs', dcs, state],
  ]);
  const params = { t, batch, hidden, first: carry === null ? 1 : 0 };
  // With no carry the kernel reads none; g stands in for the buffers it leaves unread.
  const inputs = [g, coef, carry?.h ?? g, carry?.c ?? g];
  const [gates, nextC] = runKernel(lstmKernel, inputs, [[batch, 4 * hidden], [batch, hidden]], params, [dhs, dcs]);
  return { gates: gates!, nextC: nextC! };
}
