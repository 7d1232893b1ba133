/**
 * The per-step backward work of the GRU and LSTM sequence rule on WebGPU: the WGSL half of the kernels
 * in cell-grads.ts. One thread per (batch row, hidden unit) of the step; step t of the whole-sequence
 * inputs is read at its offset, so `idx` + t·batch·hidden addresses the unit in a
 * [numSteps, batch, hidden] tensor.
 */
import type { WgslKernel } from '@tinytape/tensor';
import type { StepGradParams } from './cell-grads-host.ts';

const UNIFORMS = { t: 'u32', batch: 'u32', hidden: 'u32', first: 'u32' } as const;
const threads = ({ batch, hidden }: StepGradParams) => batch * hidden;

/** GRU: buffers g, coef (Cr, Cz, Cn, A), z, carry, allHp and allXp (updated) -> dHp, dhz. */
export const gruStepGradWgsl: WgslKernel<StepGradParams> = {
  uniforms: UNIFORMS,
  threads,
  body: `  let j = idx % hidden;
  let b = idx / hidden;
  let at = t * batch * hidden + idx;
  var dh = g[at];
  if (first == 0u) { dh = dh + carry[idx]; }
  let c = (t * batch + b) * 4u * hidden + j;
  let o = b * 3u * hidden + j;
  let all = (t * batch + b) * 3u * hidden + j;
  let r = dh * coef[c];
  let z2 = dh * coef[c + hidden];
  let n = dh * coef[c + 2u * hidden];
  dHp[o] = r;
  dHp[o + hidden] = z2;
  dHp[o + 2u * hidden] = n;
  allHp[all] = r;
  allHp[all + hidden] = z2;
  allHp[all + 2u * hidden] = n;
  allXp[all] = r;
  allXp[all + hidden] = z2;
  allXp[all + 2u * hidden] = dh * coef[c + 3u * hidden];
  dhz[idx] = dh * z[at];`,
};

/** LSTM: buffers g, coef ([Ki, Kf, Kg, Ko, K1, f] per row), carryH, carryC, dhs and dcs (updated) -> gates, nextC. */
export const lstmStepGradWgsl: WgslKernel<StepGradParams> = {
  uniforms: UNIFORMS,
  threads,
  body: `  let j = idx % hidden;
  let b = idx / hidden;
  let at = t * batch * hidden + idx;
  let gRow = (t * batch + b) * 2u * hidden + j;
  var dh = g[gRow];
  var dcIn = g[gRow + hidden];
  if (first == 0u) {
    dh = dh + carryH[idx];
    dcIn = dcIn + carryC[idx];
  }
  let k = (t * batch + b) * 6u * hidden + j;
  let dc = dcIn + dh * coef[k + 4u * hidden];
  dhs[at] = dh;
  dcs[at] = dc;
  let o = b * 4u * hidden + j;
  gates[o] = dc * coef[k];
  gates[o + hidden] = dc * coef[k + hidden];
  gates[o + 2u * hidden] = dc * coef[k + 2u * hidden];
  gates[o + 3u * hidden] = dh * coef[k + 3u * hidden];
  nextC[idx] = dc * coef[k + 5u * hidden];`,
};
