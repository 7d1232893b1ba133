/**
 * The WGSL half of the token projection (token-projection.ts): the forward row gather and its
 * gradient, each one dispatch. Tokens arrive batch-major (d2l's X, [batch, numSteps]) while the rows
 * of xp are time-major (row r = t·batch + b), so both kernels read token X[b·numSteps + t] for row r
 * instead of transposing X first. A token is compared as u32, so a negative one wraps to a huge value
 * and falls outside [0, vocab) with the too-large ones: such a row reads no weight and adds to no
 * gradient column, as its all-zero one-hot row would.
 */
import type { WgslKernel } from '@tinytape/tensor';

/**
 * Sizes both kernels are parameterised by (also the attributes the tape records). A type, not an
 * interface: kernel parameters must fit Record<string, number>.
 */
export type ProjectionSizes = {
  /** Sequences in the batch: X's first dimension. */
  batch: number;
  /** Time steps: X's second dimension. */
  steps: number;
  /** Rows of W_ih (gates · hidden): the columns of xp. */
  rows: number;
  /** Columns of W_ih: the vocabulary size. */
  vocab: number;
};

/** The gradient kernel's parameters: the sizes plus how many vocabulary columns each thread owns. */
export type ProjectionGradParams = ProjectionSizes & {
  /** Vocabulary columns per thread; 0 picks by adapter (see `vocabBlock`). */
  block: number;
};

const SIZES = { batch: 'u32', steps: 'u32', rows: 'u32', vocab: 'u32' } as const;

/** Forward: threads per workgroup and xp rows per workgroup. */
function forwardShape(software: boolean): { lanes: number; rowsPer: number } {
  return software ? { lanes: 32, rowsPer: 8 } : { lanes: 64, rowsPer: 1 };
}

/**
 * xp[r, k] = W_ih[k, X[b, t]] + bias[k]. A workgroup takes RPW rows of xp; for each it reads the
 * row's token once (the same for all its threads) and its threads write the row's columns k = lid,
 * lid + WG, ... — consecutive addresses, and no per-element division.
 *
 * Measured on lavapipe (llvmpipe, Mesa 25.0.7, 2 cores), rows = 1120 (35 steps × 32 batch), vocab 28,
 * W-rows 32 / 256 / 1024, median of three means over 20 dispatches: 0.7 / 1.4 / 8 ms, against
 * 3.8 / 11 / 46 ms for the composition it replaces (transpose, oneHot, matmul, two adds). A first
 * version with one thread per element of xp (three integer divisions each) took 3.0 / 20 / 71 ms:
 * slower than the matmul alone. WG 8 to 64 and RPW 8 to 32 were within the noise of each other; RPW = 1
 * cost up to 5× at WG = 8, as lavapipe pays per workgroup. A GPU gets one row per workgroup, for
 * parallelism (not measured: no GPU at hand).
 */
export function forwardWgsl(withHh: boolean): WgslKernel<ProjectionSizes> {
  // bias = b_ih + b_hh rounded to f32 first, as add(bIh, bHh) stores it before the broadcast add.
  const bias = withHh ? '(bIh[k] + bHh[k])' : 'bIh[k]';
  return {
    uniforms: SIZES,
    constants: (_p, target) => ({ WG: forwardShape(target.software).lanes, RPW: forwardShape(target.software).rowsPer }),
    workgroupSize: (_p, target) => forwardShape(target.software).lanes,
    workgroups: (p, target) => Math.ceil((p.steps * p.batch) / forwardShape(target.software).rowsPer),
    body: `  let r0 = group * RPW;
  let r1 = min(r0 + RPW, steps * batch);
  for (var r = r0; r < r1; r++) {
    let t = r / batch;
    let tok = u32(tokens[(r - t * batch) * steps + t]);
    let out = r * rows;
    if (tok < vocab) {
      for (var k = lid; k < rows; k += WG) { xp[out + k] = wIh[k * vocab + tok] + ${bias}; }
    } else {
      for (var k = lid; k < rows; k += WG) { xp[out + k] = 0.0 + ${bias}; }
    }
  }`,
  };
}

/** Gradient threads a GPU gets before larger vocabulary blocks start cutting the compare work. */
const GPU_THREADS = 65536;

/**
 * Vocabulary columns per gradient thread (see `gradWgsl`): the whole vocabulary on a software
 * adapter; on a GPU one column, or as many as keep about GPU_THREADS threads for a large vocabulary.
 */
export function vocabBlock(p: ProjectionGradParams, software: boolean): number {
  if (p.block > 0) return Math.min(p.block, p.vocab);
  if (software) return p.vocab;
  return Math.min(p.vocab, Math.max(1, Math.floor((p.rows * p.vocab) / GPU_THREADS)));
}

/** Threads per workgroup of the gradient kernel. */
function gradWorkgroup(software: boolean): number {
  // lavapipe runs each workgroup as a loop on one core: small workgroups let both cores share as few
  // as 32 threads (W-rows = 32, one block). Sizes 8 to 64 measured within the noise of each other
  // there. 64 fills whole warps on a GPU.
  return software ? 16 : 64;
}

/**
 * The whole gradient in one dispatch: dW_ih[k, v] = Σ_{r: token r = v} g[r, k] and
 * db_ih[k] = db_hh[k] = Σ_r g[r, k].
 *
 * Thread (vb, k) owns W_ih's row k over the vocabulary block [vb·VB, vb·VB + VB) and walks all rows
 * in order; threads of block 0 also sum the bias gradient. Nothing is shared between threads, so
 * there are no atomics and no barriers, and each thread zeroes its own columns first, so the outputs
 * need no separate zero fill. Every (k, v) is summed in row order: the same float32 result for any
 * block size, and the same as the host loop. A thread keeps the running sum of the column it last
 * touched in a register and only goes through memory when the token changes, so with VB = 1 (one
 * column per thread) it is a register accumulation.
 *
 * The block size trades compare work (rows · W-rows · vocab / VB) for parallelism (W-rows · vocab / VB
 * threads). Measured on lavapipe (llvmpipe, Mesa 25.0.7, 2 cores), rows = 1120 (35 steps × 32 batch),
 * vocab 28, median of three means over 20 dispatches, for W-rows 32 / 256 / 1024:
 *   VB = 28 (one thread per k):          0.34 /  1.4 /  4.4 ms
 *   VB = 4:                              1.0  /  4.2 / 21   ms
 *   VB = 1 (one thread per (k, v)):      1.7  / 15   / 46   ms
 *   the composition's backward (gᵀ·oneHot matmul + sum over rows): 0.9 / 7.9 / 32 ms
 * A software adapter gets VB = vocab: its two cores gain nothing from more threads, and the work is
 * then rows · W-rows, independent of the vocabulary. A GPU (not measured: none at hand) gets VB = 1
 * for d2l's sizes (W-rows · vocab under 2 · GPU_THREADS): 28 × more threads than one per k, each a
 * register sum over a loop whose token loads all threads of a warp share, instead of a chain of
 * dependent global read-modify-writes on only W-rows threads. A large vocabulary (1000+ characters)
 * gets blocks that keep about GPU_THREADS threads, cutting the compare work by the block size.
 */
export function gradWgsl(withHh: boolean): WgslKernel<ProjectionGradParams> {
  const biasOut = withHh ? 'dbIh[k] = total;\n    dbHh[k] = total;' : 'dbIh[k] = total;';
  return {
    uniforms: SIZES,
    constants: (p, target) => ({ VB: vocabBlock(p, target.software), WG: gradWorkgroup(target.software) }),
    workgroupSize: (_p, target) => gradWorkgroup(target.software),
    workgroups: (p, target) => Math.ceil((p.rows * Math.ceil(p.vocab / vocabBlock(p, target.software))) / gradWorkgroup(target.software)),
    body: `  let id = group * WG + lid;
  if (id >= rows * ((vocab + VB - 1u) / VB)) { return; }
  let k = id % rows;
  let lo = (id / rows) * VB;
  let hi = min(lo + VB, vocab);
  let base = k * vocab;
  for (var v = lo; v < hi; v++) { dW[base + v] = 0.0; }
  let sumsBias = lo == 0u;
  var cur = hi;
  var run = 0.0;
  var total = 0.0;
  for (var t = 0u; t < steps; t++) {
    for (var b = 0u; b < batch; b++) {
      let tok = u32(tokens[b * steps + t]);
      let mine = tok >= lo && tok < hi;
      if (mine || sumsBias) {
        let gv = g[(t * batch + b) * rows + k];
        if (sumsBias) { total += gv; }
        if (mine) {
          if (tok != cur) {
            if (cur < hi) { dW[base + cur] = run; }
            cur = tok;
            run = dW[base + tok];
          }
          run += gv;
        }
      }
    }
  }
  if (cur < hi) { dW[base + cur] = run; }
  if (sumsBias) {
    ${biasOut}
  }`,
  };
}
