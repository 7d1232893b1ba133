// The per-step backward work of the GRU and LSTM sequence rule (layers/sequence-grad.ts) on the CPU
// backends (`reference` and `wasm`): the host half of the kernels in cell-grads.ts. Each value is
// rounded to float32 (Math.fround) wherever the op-by-op loop it replaces stored a float32 tensor, so
// the fused step gives bit for bit what the separate add / mul ops gave.
//
// Step t of the [numSteps, batch, ...] inputs is read at its offset, so the rule needs no per-step
// slice copies; what the rule later uses over all steps at once goes straight into its row of a
// whole-sequence buffer (the GRU's gate gradients, the LSTM's dh and dc), so no stack either.

import type { HostKernelArgs } from '@tinytape/tensor';

const f = Math.fround;

/** What a step-gradient kernel runs over: step `t` of `numSteps`, and whether a carry exists (`first` 0). */
export type StepGradParams = { t: number; batch: number; hidden: number; first: number };

/**
 * GRU: inputs g, coef (Cr, Cz, Cn, A per row), z, carry; updates allHp, allXp; outputs dHp, dhz.
 * dh = g_t + carry, dHp = dh ⊙ [Cr, Cz, Cn]_t (also into row t of allHp), dXp = dh ⊙ [Cr, Cz, A]_t
 * (into row t of allXp), dhz = dh ⊙ z_t.
 */
export function gruStepGradHost({
  inputs: [g, coef, z, carry],
  updates: [allHp, allXp],
  outputs: [dHp, dhz],
  params,
}: HostKernelArgs<StepGradParams>): void {
  const { t, batch, hidden, first } = params;
  for (let b = 0; b < batch; b++) {
    const at = (t * batch + b) * hidden; // row b of step t in a [numSteps, batch, hidden] tensor
    const row = b * hidden; // row b of a [batch, hidden] tensor
    const c = (t * batch + b) * 4 * hidden; // row b of step t in coef [numSteps, batch, 4, hidden]
    const o = b * 3 * hidden;
    const all = (t * batch + b) * 3 * hidden; // row b of step t in allHp and allXp
    for (let j = 0; j < hidden; j++) {
      const dh = first ? g![at + j]! : f(g![at + j]! + carry![row + j]!);
      const r = f(dh * coef![c + j]!);
      const zz = f(dh * coef![c + hidden + j]!);
      const n = f(dh * coef![c + 2 * hidden + j]!);
      dHp![o + j] = allHp![all + j] = allXp![all + j] = r;
      dHp![o + hidden + j] = allHp![all + hidden + j] = allXp![all + hidden + j] = zz;
      dHp![o + 2 * hidden + j] = allHp![all + 2 * hidden + j] = n;
      allXp![all + 2 * hidden + j] = dh * coef![c + 3 * hidden + j]!;
      dhz![row + j] = dh * z![at + j]!;
    }
  }
}

/**
 * LSTM: inputs g (h then c per row), coef ([Ki, Kf, Kg, Ko, K1, f] per row), carryH, carryC; updates
 * dhs, dcs; outputs gates, nextC. dh = g_h + carryH, dc = (g_c + carryC) + dh ⊙ K1,
 * gates = [dc ⊙ Ki, dc ⊙ Kf, dc ⊙ Kg, dh ⊙ Ko], nextC = dc ⊙ f.
 */
export function lstmStepGradHost({
  inputs: [g, coef, carryH, carryC],
  updates: [dhs, dcs],
  outputs: [gates, nextC],
  params,
}: HostKernelArgs<StepGradParams>): void {
  const { t, batch, hidden, first } = params;
  for (let b = 0; b < batch; b++) {
    const at = (t * batch + b) * hidden;
    const row = b * hidden;
    const gRow = (t * batch + b) * 2 * hidden; // g holds h's gradient then c's in each row
    const k = (t * batch + b) * 6 * hidden;
    const o = b * 4 * hidden;
    for (let j = 0; j < hidden; j++) {
      const dh = first ? g![gRow + j]! : f(g![gRow + j]! + carryH![row + j]!);
      const dcIn = first ? g![gRow + hidden + j]! : f(g![gRow + hidden + j]! + carryC![row + j]!);
      const dc = f(dcIn + f(dh * coef![k + 4 * hidden + j]!));
      dhs![at + j] = dh;
      dcs![at + j] = dc;
      gates![o + j] = dc * coef![k + j]!;
      gates![o + hidden + j] = dc * coef![k + hidden + j]!;
      gates![o + 2 * hidden + j] = dc * coef![k + 2 * hidden + j]!;
      gates![o + 3 * hidden + j] = dh * coef![k + 3 * hidden + j]!;
      nextC![row + j] = dc * coef![k + 5 * hidden + j]!;
    }
  }
}
