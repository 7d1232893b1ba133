// The GRU and LSTM time steps on the CPU backends (`reference` and `wasm`): the host half of the cell
// kernels in recurrent-cells.ts. Every intermediate is rounded to float32 where the same formula
// written as separate tensor ops would store it, and σ and tanh are applied by the backend's own
// `unary` kernel, so a fused step gives exactly what the step-by-step ops give on that backend
// (vectorised WebAssembly on `wasm`, the reference loops on `reference`).
//
// The step is done in passes over [batch, hidden] blocks rather than one loop per element: the
// pre-activations are gathered into scratch blocks, σ / tanh run over whole blocks (vectorised in wasm,
// where they cost a fifth of Math.exp / Math.tanh per element), and a last pass combines them. The
// transcendental functions dominated the one-loop form.

import type { HostKernelArgs } from '@tinytape/tensor';

const f = Math.fround;

/** Reused between calls (the kernels are synchronous and never nest); grows to the largest step seen. */
let scratch = new Float32Array(0);

function scratchFor(floats: number): Float32Array {
  if (scratch.length < floats) scratch = new Float32Array(floats);
  return scratch;
}

// Each pass is its own function. In one function with several long loops, V8 compiles the first
// loop on the fly (on-stack replacement) before the later ones have run, and that code then bails out
// at them for lack of type feedback, call after call: measured in training, the passes ran at
// 7-8 ns per element instead of about 1.

/** rz[b, j] = xp[b, j] + (hp[b, j] + bias[j]) for the 2·hidden r and z columns. */
function gruGateInputs(xp: Float32Array, hp: Float32Array, bias: Float32Array, rz: Float32Array, batch: number, hidden: number): void {
  for (let b = 0; b < batch; b++) {
    const row = 3 * b * hidden;
    const dst = 2 * b * hidden;
    for (let j = 0; j < 2 * hidden; j++) rz[dst + j] = xp[row + j]! + f(hp[row + j]! + bias[j]!);
  }
}

/** nPre[b, j] = xp_n + r ⊙ (hp_n + b_hn). */
function gruCandidateInputs(
  xp: Float32Array, hp: Float32Array, bias: Float32Array, rz: Float32Array, nPre: Float32Array, batch: number, hidden: number,
): void {
  for (let b = 0; b < batch; b++) {
    const row = 3 * b * hidden + 2 * hidden;
    const r = 2 * b * hidden;
    const state = b * hidden;
    for (let j = 0; j < hidden; j++) {
      nPre[state + j] = xp[row + j]! + f(rz[r + j]! * f(hp[row + j]! + bias[2 * hidden + j]!));
    }
  }
}

/** out = n + z ⊙ (h − n). */
function gruCombine(rz: Float32Array, n: Float32Array, h: Float32Array, out: Float32Array, batch: number, hidden: number): void {
  for (let b = 0; b < batch; b++) {
    const z = 2 * b * hidden + hidden;
    const state = b * hidden;
    for (let j = 0; j < hidden; j++) {
      const nj = n[state + j]!;
      out[state + j] = nj + f(rz[z + j]! * f(h[state + j]! - nj));
    }
  }
}

/** One GRU step, out = n + z ⊙ (h − n) with PyTorch's gates; inputs xp, hp, bias (b_hh), h. */
export function gruCellHost({ inputs: [xp, hp, bias, h], outputs: [out], params, unary }: HostKernelArgs<CellParams>): void {
  const { batch, hidden } = params;
  const size = batch * hidden;
  const s = scratchFor(3 * size);
  // rz: [batch, 2·hidden], r then z in each row, as the adjacent blocks of xp; nPre: [batch, hidden].
  const rz = s.subarray(0, 2 * size);
  const nPre = s.subarray(2 * size, 3 * size);
  gruGateInputs(xp!, hp!, bias!, rz, batch, hidden);
  unary('sigmoid', rz, rz, 2 * size);
  gruCandidateInputs(xp!, hp!, bias!, rz, nPre, batch, hidden);
  unary('tanh', nPre, nPre, size);
  gruCombine(rz, nPre, h!, out!, batch, hidden);
}

/**
 * The LSTM gate pre-activations xp + hp, rearranged into four [batch, hidden] planes of `s`:
 * i, f, o back to back (one σ call covers them), then g.
 */
function lstmGateInputs(xp: Float32Array, hp: Float32Array, s: Float32Array, batch: number, hidden: number): void {
  const size = batch * hidden;
  for (let b = 0; b < batch; b++) {
    const row = 4 * b * hidden;
    const state = b * hidden;
    for (let j = 0; j < hidden; j++) {
      s[state + j] = xp[row + j]! + hp[row + j]!;
      s[size + state + j] = xp[row + hidden + j]! + hp[row + hidden + j]!;
      s[3 * size + state + j] = xp[row + 2 * hidden + j]! + hp[row + 2 * hidden + j]!;
      s[2 * size + state + j] = xp[row + 3 * hidden + j]! + hp[row + 3 * hidden + j]!;
    }
  }
}

/** c' = f ⊙ c + i ⊙ g from the activated planes. */
function lstmCellState(s: Float32Array, c: Float32Array, outC: Float32Array, size: number): void {
  for (let k = 0; k < size; k++) outC[k] = f(s[size + k]! * c[k]!) + f(s[k]! * s[3 * size + k]!);
}

/** h' = o ⊙ tanh(c'), with tanh(c') in the g plane. */
function lstmHidden(s: Float32Array, outH: Float32Array, size: number): void {
  for (let k = 0; k < size; k++) outH[k] = s[2 * size + k]! * s[3 * size + k]!;
}

/** One LSTM step, c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g), h' = σ(o) ⊙ tanh(c'); inputs xp, hp, c; outputs h', c'. */
export function lstmCellHost({ inputs: [xp, hp, c], outputs: [outH, outC], params, unary }: HostKernelArgs<CellParams>): void {
  const size = params.batch * params.hidden;
  const s = scratchFor(4 * size);
  const sigmas = s.subarray(0, 3 * size);
  const g = s.subarray(3 * size, 4 * size);
  lstmGateInputs(xp!, hp!, s, params.batch, params.hidden);
  unary('sigmoid', sigmas, sigmas, 3 * size);
  unary('tanh', g, g, size);
  lstmCellState(s, c!, outC!, size);
  // tanh(c') goes into the g plane, which is no longer needed.
  unary('tanh', outC!, g, size);
  lstmHidden(s, outH!, size);
}

/** The sizes a cell kernel runs over. */
export type CellParams = { batch: number; hidden: number };
