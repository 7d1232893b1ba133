/**
 * The whole-sequence recurrence kernels in WGSL: the loops of sequence-host.ts, one dispatch per layer
 * and direction for all time steps (the persistent-kernel idea of Diamos et al., "Persistent RNNs",
 * ICML 2016, written for WebGPU).
 *
 * Batch rows are independent, so each workgroup owns ROWS of them and loops over time inside the
 * kernel; no workgroup ever waits for another, which WebGPU could not express. Within a row, LANES
 * threads share the hidden units, UNITS each (unit j = lane + u·LANES), so any hidden size runs: at
 * H = 256 one unit per thread, at 512 / 1,024 / 2,048 two / four / eight. The state the next step
 * multiplies by W_hh lives in workgroup memory (H floats per row, at most 4,096 floats per workgroup:
 * the 16 KiB every adapter has); W_hh is read from storage each step (it stays in the GPU's cache),
 * transposed for the forward kernels so that adjacent threads (adjacent units) read adjacent
 * addresses: coalesced on a GPU, vector loads on a software adapter.
 * Between steps there are only workgroup barriers, which every thread reaches (idle threads of a
 * partial workgroup included), as WGSL's uniformity rules require.
 *
 * Backward walks time in reverse the same way. The product Wᵀ·dPre, the only work that couples the
 * units, goes one gate block at a time through the same H floats of workgroup memory, so the GRU's
 * and LSTM's backward need no more of it than the forward. σ and tanh are written as the engine's
 * unary kernels write them, so the kernels agree with the step-by-step ops.
 */
import type { WgslKernel, WgslTarget } from '@tinytape/tensor';
import type { LstmBackwardParams, SequenceParams, WeightGradParams } from './sequence-host.ts';

/** Floats of workgroup memory a kernel may use (maxComputeWorkgroupStorageSize's guaranteed 16 KiB). */
export const WORKGROUP_FLOATS = 4096;

/** How threads map onto a layer's batch rows and hidden units. */
export interface SequenceShape {
  /** Threads per batch row. */
  lanes: number;
  /** Batch rows per workgroup. */
  rows: number;
  /** Hidden units per thread. */
  units: number;
}

/**
 * The thread layout for `hidden` units and `batch` rows. On a GPU each workgroup takes one row with
 * up to 256 threads (as many workgroups as rows keep the GPU's cores busy). A software adapter runs
 * each workgroup as a loop on one CPU thread, where barriers and workgroup-memory reads cost dearly:
 * it gets fewer, fuller workgroups (about two, one per core) and few threads per row, each with many
 * units (each h read from workgroup memory then feeds them all). Up to 256 units a row is one thread:
 * on lavapipe (2026-12-04, forward and backward of one layer, B = 32, T = 35, interleaved best of 8)
 * that took the RNN 32 from 14-15 to 10.5 ms and the LSTM 32 from 39-42 to 31 ms against 32 threads a
 * row, and measured the same at 256; wider layers keep 32 threads a row.
 */
export function sequenceShape(hidden: number, batch: number, target: WgslTarget): SequenceShape {
  const lanes = target.software ? (hidden <= 256 ? 1 : 32) : Math.min(256, Math.ceil(hidden / 32) * 32);
  const fit = Math.max(1, Math.min(Math.floor(256 / lanes), Math.floor(WORKGROUP_FLOATS / hidden)));
  const rows = target.software ? Math.max(1, Math.min(fit, Math.ceil(batch / 2))) : 1;
  return { lanes, rows, units: Math.ceil(hidden / lanes) };
}

/**
 * WGSL adding Σ_i W[g·H + j, i]·h_i into accumulator `names[g]` for each of the thread's units j,
 * reading W_hhᵀ (`wT`, [H, G·H]). The units go in blocks of UB (up to 4), each block's sums kept in
 * locals over the whole loop over i and stored once: with many units a thread (a software adapter's
 * one thread a row), updating the unit arrays at every i kept them in memory. Within a block the loop
 * over i is outermost, so that each h_i read from workgroup memory feeds the block's units. Each sum
 * still runs over i in order from 0, so the block size changes no bit. A unit past H reads a valid
 * address (clamped), and its sum is never stored. On lavapipe (2026-12-04, hidden 32, batch 32, 35
 * steps, GPU time of the forward kernel alone from per-dispatch timestamps, two interleaved runs
 * each): the LSTM's 8.6-12.5 -> 4.2 ms, the GRU's 8.5-9.8 -> 3.6-4.5 ms. The same blocks in the
 * backward's carried product (carryBlock) were no faster there and were not kept.
 */
function recurrentProduct(names: readonly string[]): string {
  return `    ${names.map((n) => `var ${n} = array<f32, UNITS>();`).join('\n    ')}
    for (var u0 = 0u; u0 < UNITS; u0 += UB) {
      ${names.map((n) => `var ${n}B = array<f32, UB>();`).join('\n      ')}
      for (var i = 0u; i < H; i++) {
        let h = shared_[base + i];
        let col = i * ${names.length}u * H;
        for (var v = 0u; v < UB; v++) {
          let j = min(lane + (u0 + v) * LANES, H - 1u);
          ${names.map((n, g) => `${n}B[v] += wT[col + ${g}u * H + j] * h;`).join('\n          ')}
        }
      }
      for (var v = 0u; v < UB && u0 + v < UNITS; v++) {
        ${names.map((n) => `${n}[u0 + v] = ${n}B[v];`).join('\n        ')}
      }
    }`;
}

/** Whether the kernels can run a layer of `hidden` units (one row's state must fit workgroup memory). */
export function fitsWorkgroup(hidden: number): boolean {
  return hidden <= WORKGROUP_FLOATS;
}

const layout = {
  uniforms: { steps: 'u32', batch: 'u32', reverse: 'u32', relu: 'u32', origin: 'u32' },
  constants: ({ hidden, batch }: SequenceParams, target: WgslTarget) => {
    const { lanes, rows, units } = sequenceShape(hidden, batch, target);
    return { H: hidden, LANES: lanes, ROWS: rows, UNITS: units, UB: Math.min(4, units), SHARED: rows * hidden };
  },
  workgroups: ({ hidden, batch }: SequenceParams, target: WgslTarget) => Math.ceil(batch / sequenceShape(hidden, batch, target).rows),
  workgroupSize: ({ hidden, batch }: SequenceParams, target: WgslTarget) => {
    const { lanes, rows } = sequenceShape(hidden, batch, target);
    return lanes * rows;
  },
} as const;

// Shared by every kernel: activations as the engine writes them, the workgroup state, and where a
// thread stands. `at(s)` is the time of the s-th step processed.
const COMMON = `fn sig(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
fn th(x: f32) -> f32 { return tanh(clamp(x, -10.0, 10.0)); }
var<workgroup> shared_: array<f32, SHARED>;
fn at(s: u32, steps: u32, reverse: u32) -> u32 { return select(s, steps - 1u - s, reverse == 1u); }`;

const PREAMBLE = `  let slot = lid / LANES;
  let lane = lid % LANES;
  let b = group * ROWS + slot;
  let live = b < batch;
  let base = slot * H;`;

/**
 * The barrier between a row's threads, around each exchange of its state through workgroup memory.
 * With one thread a row (a software adapter, up to 256 units) a thread only ever reads what it wrote
 * itself, so the barrier is compiled out (LANES is a constant): on lavapipe each barrier suspends and
 * resumes every invocation of the workgroup, and the LSTM's backward has eight a time step. Without
 * them (2026-12-04, lavapipe, `pnpm bench --quick` at hidden 32, GPU kernel time per training step, two
 * interleaved runs each) the RNN went from 10.4-10.5 to 7.7-7.8 ms, the GRU from 20.2-24.5 to
 * 15.0-15.6 ms and the LSTM from 27.1-27.8 to 17.6-17.9 ms, with the same losses.
 */
const ROW_BARRIER = 'if (LANES > 1u) { workgroupBarrier(); }';

/** WGSL running `statements` for each of the thread's hidden units j (in a live batch row). */
function eachUnit(statements: string, indent = '  '): string {
  return `${indent}for (var u = 0u; u < UNITS; u++) {
${indent}  let j = lane + u * LANES;
${indent}  if (live && j < H) {
${indent}    ${statements.split('\n').join(`\n${indent}    `)}
${indent}  }
${indent}}`;
}

/** What a forward kernel adds to the common loop. */
interface ForwardCell {
  /** Accumulators of the recurrent product, one per gate block (see `recurrentProduct`). */
  gates: readonly string[];
  /** Per unit j of step row `row`: compute next[u] from the accumulators and write what is stored. */
  step: string;
  /** Declarations before the loop, and per unit what to load besides h0 and write besides hN. */
  declare?: string;
  load?: string;
  finish?: string;
}

/**
 * A forward kernel: each row's initial state into workgroup memory, then per step the recurrent
 * product, the cell, and the new state shared for the next step between two barriers; the final
 * state written at the end.
 */
function forwardKernel(cell: ForwardCell): WgslKernel<SequenceParams> {
  return {
    ...layout,
    functions: COMMON,
    body: `${PREAMBLE}
${cell.declare ?? ''}
${eachUnit(`shared_[base + j] = h0[origin + b * H + j];${cell.load ?? ''}`)}
  ${ROW_BARRIER}
  for (var s = 0u; s < steps; s++) {
    let row = at(s, steps, reverse) * batch + b;
${recurrentProduct(cell.gates)}
    var next: array<f32, UNITS>;
${eachUnit(cell.step, '    ')}
    ${ROW_BARRIER}
${eachUnit('shared_[base + j] = next[u];', '    ')}
    ${ROW_BARRIER}
  }
${eachUnit(`hN[b * H + j] = shared_[base + j];${cell.finish ?? ''}`)}`,
  };
}

/** RNN forward: buffers xp, wT (W_hhᵀ), h0 -> states, hN (the final state). */
export const rnnForwardWgsl = forwardKernel({
  gates: ['acc'],
  step: `let a = xp[row * H + j] + acc[u];
next[u] = select(th(a), max(a, 0.0), relu == 1u);
states[row * H + j] = next[u];`,
});

/** GRU forward: buffers xp, wT, bias, h0 -> states, saved (r, z, n, W_hn·h + b_hn), hN. */
export const gruForwardWgsl = forwardKernel({
  gates: ['pr', 'pz', 'pn'],
  step: `let hn = pn[u] + bias[2u * H + j];
let x = row * 3u * H + j;
let r = sig(xp[x] + (pr[u] + bias[j]));
let z = sig(xp[x + H] + (pz[u] + bias[H + j]));
let n = th(xp[x + 2u * H] + r * hn);
next[u] = n + z * (shared_[base + j] - n);
states[row * H + j] = next[u];
let o = row * 4u * H + j;
saved[o] = r;
saved[o + H] = z;
saved[o + 2u * H] = n;
saved[o + 3u * H] = hn;`,
});

/** LSTM forward: buffers xp, wT, h0, c0 -> states, saved (i, f, g, o, c), hN, cN. The cell state stays in registers. */
export const lstmForwardWgsl = forwardKernel({
  gates: ['pi', 'pf', 'pg', 'po'],
  declare: '  var c: array<f32, UNITS>;',
  load: '\nc[u] = c0[origin + b * H + j];',
  step: `let x = row * 4u * H + j;
let gi = sig(xp[x] + pi[u]);
let gf = sig(xp[x + H] + pf[u]);
let gg = th(xp[x + 2u * H] + pg[u]);
let go = sig(xp[x + 3u * H] + po[u]);
c[u] = gf * c[u] + gi * gg;
next[u] = go * th(c[u]);
states[row * H + j] = next[u];
let o = row * 5u * H + j;
saved[o] = gi;
saved[o + H] = gf;
saved[o + 2u * H] = gg;
saved[o + 3u * H] = go;
saved[o + 4u * H] = c[u];`,
  finish: '\ncN[b * H + j] = c[u];',
});

/**
 * Adds Wᵀ·d for gate block GATE into acc: every thread shares its units' d through workgroup memory,
 * then reads W_hh's column j (adjacent threads, adjacent addresses); each d_k read feeds every unit.
 */
function carryBlock(gate: string, values: string): string {
  return `    ${ROW_BARRIER}
${eachUnit(`shared_[base + j] = ${values}[u];`, '    ')}
    ${ROW_BARRIER}
    for (var k = 0u; k < H; k++) {
      let d = shared_[base + k];
      let wRow = (${gate} * H + k) * H;
      for (var u = 0u; u < UNITS; u++) { acc[u] += w[wRow + min(lane + u * LANES, H - 1u)] * d; }
    }`;
}

/** Row of the state step s started from, or batch·steps (none: the initial state) for the first. */
const PREVIOUS = `fn previousRow(s: u32, steps: u32, reverse: u32, batch: u32, b: u32) -> u32 {
  if (s == 0u) { return steps * batch; }
  return at(s - 1u, steps, reverse) * batch + b;
}`;

/** What a backward kernel adds to the common reverse-time loop. */
interface BackwardCell {
  /** Per-unit arrays the step fills, one per gate block: their Wᵀ products are the carried gradient. */
  blocks: readonly string[];
  /** Per unit j of step row `row` (started from row `prev`): with dh = g + carried, fill the blocks, write dPre. */
  step: string;
  declare?: string;
  /** Per unit, before the loop and after it (besides dh0). */
  init?: string;
  finish?: string;
  /** The kernel's own uniforms, when it has more than the layout's. */
  uniforms?: WgslKernel<LstmBackwardParams>['uniforms'];
}

/**
 * A backward kernel: time in reverse; per step each unit's gradients (`step`, which sets acc[u] to
 * what it carries besides the product), then Wᵀ times every gate block added into acc; dh0 at the end.
 */
function backwardKernel<P extends SequenceParams>(cell: BackwardCell): WgslKernel<P> {
  return {
    ...layout,
    ...(cell.uniforms ? { uniforms: cell.uniforms } : {}),
    functions: `${COMMON}\n${PREVIOUS}`,
    body: `${PREAMBLE}
  var acc: array<f32, UNITS>;
  ${cell.blocks.map((name) => `var ${name}: array<f32, UNITS>;`).join('\n  ')}
${cell.declare ?? ''}
${cell.init ? eachUnit(cell.init) : ''}
  for (var k = 0u; k < steps; k++) {
    let s = steps - 1u - k;
    let row = at(s, steps, reverse) * batch + b;
    let prev = previousRow(s, steps, reverse, batch, b);
${eachUnit(`let dh = g[row * H + j] + acc[u];\n${cell.step}`, '    ')}
${cell.blocks.map((name, gate) => carryBlock(`${gate}u`, name)).join('\n')}
  }
${eachUnit(`dh0[b * H + j] = acc[u];${cell.finish ?? ''}`)}`,
  } as WgslKernel<P>;
}

/** RNN backward: buffers g, w, states -> dPre, dh0. */
export const rnnBackwardWgsl = backwardKernel<SequenceParams>({
  blocks: ['da'],
  step: `let h = states[row * H + j];
da[u] = dh * select(1.0 - h * h, select(0.0, 1.0, h > 0.0), relu == 1u);
dPre[row * H + j] = da[u];
acc[u] = 0.0;`,
});

/** GRU backward: buffers g, w, states, saved, h0 -> dXp, dHp, dh0. */
export const gruBackwardWgsl = backwardKernel<SequenceParams>({
  blocks: ['dr', 'dz', 'dn'],
  step: `let o = row * 4u * H + j;
let r = saved[o];
let z = saved[o + H];
let n = saved[o + 2u * H];
let hn = saved[o + 3u * H];
let hPrev = select(states[min(prev, steps * batch - 1u) * H + j], h0[origin + b * H + j], prev == steps * batch);
let dnPre = dh * (1.0 - z) * (1.0 - n * n);
dz[u] = dh * (hPrev - n) * z * (1.0 - z);
dr[u] = dnPre * hn * r * (1.0 - r);
dn[u] = dnPre * r;
let x = row * 3u * H + j;
dXp[x] = dr[u];
dXp[x + H] = dz[u];
dXp[x + 2u * H] = dnPre;
dHp[x] = dr[u];
dHp[x + H] = dz[u];
dHp[x + 2u * H] = dn[u];
acc[u] = dh * z;`,
});

/** LSTM backward: buffers g, w, saved, c0, dcN -> dPre, dh0, dc0 (dcN seeds the cell carry when finalCell is 1). */
export const lstmBackwardWgsl = backwardKernel<LstmBackwardParams>({
  uniforms: { ...layout.uniforms, finalCell: 'u32' },
  blocks: ['di', 'df', 'dg', 'dout'],
  declare: '  var carryC: array<f32, UNITS>;',
  init: 'if (finalCell == 1u) { carryC[u] = dcN[b * H + j]; }',
  step: `let o = row * 5u * H + j;
let gi = saved[o];
let gf = saved[o + H];
let gg = saved[o + 2u * H];
let go = saved[o + 3u * H];
let tc = th(saved[o + 4u * H]);
let dc = carryC[u] + dh * go * (1.0 - tc * tc);
let cPrev = select(saved[min(prev, steps * batch - 1u) * 5u * H + 4u * H + j], c0[origin + b * H + j], prev == steps * batch);
di[u] = dc * gg * gi * (1.0 - gi);
df[u] = dc * cPrev * gf * (1.0 - gf);
dg[u] = dc * gi * (1.0 - gg * gg);
dout[u] = dh * tc * go * (1.0 - go);
let x = row * 4u * H + j;
dPre[x] = di[u];
dPre[x + H] = df[u];
dPre[x + 2u * H] = dg[u];
dPre[x + 3u * H] = dout[u];
carryC[u] = dc * gf;
acc[u] = 0.0;`,
  finish: '\ndc0[b * H + j] = carryC[u];',
});

/**
 * Row shares of the weight gradient's sum. On a GPU 16: each thread of a 4×4 block takes every 16th
 * batch row of each step, and the 16 partial blocks meet in workgroup memory. A hidden-256 RNN's
 * dW_hh has only 4,096 blocks: with one share, 16 workgroups of 256 threads for a GPU of 132 cores. On an H200
 * (2026-12-04, docs/webgpu-h200.md) a training step of the concise RNN 256 took 1.24 ms of GPU time
 * with one share, 0.95 with 4, 0.91 with 8 and 0.89 with 16. On a software adapter 1: its two cores
 * are busy with the blocks alone.
 */
function weightGradShares(target: WgslTarget): number {
  return target.software ? 1 : 16;
}

/**
 * dW_hh = dHpᵀ·prev and db_hh = Σ dHp (buffers d, states, h0 -> dW, db): each thread owns a 4×4 block
 * of dW (4 gate rows k, 4 units j) and walks its share of the rows (R shares, see `weightGradShares`)
 * with no workgroup memory until the end; the threads of the first unit block also sum db.
 */
export const weightGradWgsl: WgslKernel<WeightGradParams> = {
  uniforms: { steps: 'u32', batch: 'u32', reverse: 'u32', hidden: 'u32', gates: 'u32', origin: 'u32' },
  constants: (_p, target) => {
    const shares = weightGradShares(target);
    return { R: shares, BPW: 256 / shares, PART: shares > 1 ? 4096 : 1 };
  },
  workgroups: ({ hidden, gates }, target) => Math.ceil((Math.ceil((gates * hidden) / 4) * Math.ceil(hidden / 4)) / (256 / weightGradShares(target))),
  workgroupSize: () => 256,
  functions: `fn at(s: u32, steps: u32, reverse: u32) -> u32 { return select(s, steps - 1u - s, reverse == 1u); }
var<workgroup> part: array<f32, PART>;`,
  body: `  let GH = gates * hidden;
  let jBlocks = (hidden + 3u) / 4u;
  let share = lid / BPW;
  let blk = group * BPW + lid % BPW;
  let live = blk < ((GH + 3u) / 4u) * jBlocks;
  let k0 = (blk / jBlocks) * 4u;
  let j0 = (blk % jBlocks) * 4u;
  var acc = array<f32, 16>();
  var bsum = vec4<f32>(0.0);
  for (var s = 0u; live && s < steps; s++) {
    let t = at(s, steps, reverse);
    for (var b = share; b < batch; b += R) {
      let row = t * batch + b;
      var dv = vec4<f32>(0.0);
      for (var a = 0u; a < 4u; a++) { if (k0 + a < GH) { dv[a] = d[row * GH + k0 + a]; } }
      var pv = vec4<f32>(0.0);
      for (var c = 0u; c < 4u; c++) {
        let j = j0 + c;
        if (j < hidden) {
          if (s == 0u) { pv[c] = h0[origin + b * hidden + j]; }
          else { pv[c] = states[(at(s - 1u, steps, reverse) * batch + b) * hidden + j]; }
        }
      }
      for (var a = 0u; a < 4u; a++) {
        for (var c = 0u; c < 4u; c++) { acc[a * 4u + c] += dv[a] * pv[c]; }
      }
      bsum += dv;
    }
  }
  if (R > 1u) {
    // The shares' partial blocks through workgroup memory (16 floats a thread, then the 4 of db); the
    // first share adds the others in share order. 256 threads x 16 floats fill the 4,096.
    for (var e = 0u; e < 16u; e++) { part[lid * 16u + e] = acc[e]; }
    workgroupBarrier();
    if (share == 0u) {
      for (var r = 1u; r < R; r++) {
        for (var e = 0u; e < 16u; e++) { acc[e] += part[(r * BPW + lid) * 16u + e]; }
      }
    }
    workgroupBarrier();
    part[lid * 4u] = bsum.x; part[lid * 4u + 1u] = bsum.y; part[lid * 4u + 2u] = bsum.z; part[lid * 4u + 3u] = bsum.w;
    workgroupBarrier();
    if (share == 0u) {
      for (var r = 1u; r < R; r++) {
        let o = (r * BPW + lid) * 4u;
        bsum += vec4<f32>(part[o], part[o + 1u], part[o + 2u], part[o + 3u]);
      }
    }
  }
  if (live && share == 0u) {
    for (var a = 0u; a < 4u; a++) {
      let k = k0 + a;
      if (k < GH) {
        for (var c = 0u; c < 4u; c++) { if (j0 + c < hidden) { dW[k * hidden + j0 + c] = acc[a * 4u + c]; } }
        if (j0 == 0u) { db[k] = bsum[a]; }
      }
    }
  }`,
};
