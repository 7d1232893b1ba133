/*
 * The input projection of the concise models, x·W_ihᵀ + bias with x one-hot, as the row gather it is:
 * xp[t·batch + b, k] = W_ih[k, X[b, t]] + bias[k]. One dispatch forward and one backward on WebGPU,
 * instead of transpose + oneHot + matmul + bias add (and their gradients). The values are exactly
 * those of the one-hot composition: a one-hot row times W_ihᵀ sums W_ih[k, v] with zeros, which is
 * W_ih[k, v] itself, and the bias is added to it once, as the broadcast add does.
 *
 * Two kernel pairs, one with b_hh folded into the bias (RNN, LSTM) and one without (GRU: its b_hh
 * sits inside the reset gate), because a kernel's inputs are fixed and an absent tensor cannot be
 * passed as zeros without changing what the tape differentiates.
 */
import { registerGradient } from '@tinytape/autograd';
import { DTypeError, type HostKernelArgs, ShapeError, type Tensor, ValueError, defineKernel, fmtShape, runKernel } from '@tinytape/tensor';
import { gatherRowsWasm, sumRowsWasm } from './row-sums-wasm.ts';
import { type ProjectionGradParams, type ProjectionSizes, forwardWgsl, gradWgsl } from './token-projection-wgsl.ts';

/**
 * The forward on the CPU backends; `bHh` is undefined for the GRU variant. It first forms the table
 * row[v] = W_ih[:, v] + bias (and a last row, 0 + bias, for tokens outside the vocabulary: the product
 * of an all-zero one-hot row), so each row of xp is a contiguous copy rather than a strided walk down
 * a column of W_ih.
 */
function forwardHost(args: HostKernelArgs<ProjectionSizes>): void {
  const { ints: [X], outputs: [xp], params: { batch, steps, rows, vocab } } = args;
  const table = projectionTable(args);
  for (let t = 0; t < steps; t++) {
    for (let b = 0; b < batch; b++) {
      const tok = X![b * steps + t]!;
      const from = (tok < 0 || tok >= vocab ? vocab : tok) * rows;
      xp!.set(table.subarray(from, from + rows), (t * batch + b) * rows);
    }
  }
}

/** forwardWasm's table and tokens, kept between calls (they are copied into wasm memory at once). */
let tableScratch = new Float32Array(0);
let tokenScratch = new Int32Array(0);

/**
 * The rows of xp by token: row v = W_ih[:, v] + bias for v < vocab, and row vocab = 0 + bias. Into
 * `into` when given (at least (vocab + 1)·rows long), else a new array.
 */
function projectionTable({ inputs, params: { rows, vocab } }: HostKernelArgs<ProjectionSizes>, into?: Float32Array): Float32Array {
  const [, wIh, bIh, bHh] = inputs as [unknown, Float32Array, Float32Array, Float32Array | undefined];
  const table = into ?? new Float32Array((vocab + 1) * rows);
  const bias = table.subarray(vocab * rows);
  for (let k = 0; k < rows; k++) bias[k] = bHh === undefined ? bIh[k]! : bIh[k]! + bHh[k]!;
  // Row by row of the table, so the writes run along it (a column of W_ih at a time is read with a
  // stride): at [1024, 28] 190 µs column by column, 64 µs this way.
  for (let v = 0; v < vocab; v++) {
    const to = v * rows;
    for (let k = 0, from = v; k < rows; k++, from += vocab) table[to + k] = wIh[from]! + bias[k]!;
  }
  for (let k = 0; k < rows; k++) bias[k] = 0 + bias[k]!; // the all-zero one-hot row's sum: 0 + bias (−0 becomes +0)
  return table;
}

/** X's tokens in xp's (and g's) row order: time-major, t·batch + b, where X is batch-major. */
function timeMajor(X: Int32Array, batch: number, steps: number, into?: Int32Array): Int32Array {
  const tokens = into ?? new Int32Array(steps * batch);
  for (let t = 0; t < steps; t++) for (let b = 0; b < batch; b++) tokens[t * batch + b] = X[b * steps + t]!;
  return tokens;
}

/**
 * forwardHost with its row copies in wasm (row-sums-wasm.ts), written straight into xp where it lies
 * in the wasm memory: the same table, so the same bits. Copying the 1,120 rows of a [32, 35] batch
 * one `set` each took about 0.4 ms, most of it making a subarray per row.
 */
function forwardWasm(args: HostKernelArgs<ProjectionSizes>): void {
  const { ints: [X], outputs: [xp], params: { batch, steps, rows, vocab } } = args;
  if (tableScratch.length < (vocab + 1) * rows) tableScratch = new Float32Array((vocab + 1) * rows);
  if (tokenScratch.length < steps * batch) tokenScratch = new Int32Array(steps * batch);
  const table = projectionTable(args, tableScratch);
  const tokens = timeMajor(X!, batch, steps, tokenScratch);
  if (!gatherRowsWasm(table, tokens, xp!, steps * batch, rows, vocab)) forwardHost(args);
}

/**
 * The gradient on the CPU backends: every (k, v) and bias sum runs over the rows in order, rounded
 * to float32 at each step, as the WGSL threads sum them. dW is gathered transposed ([vocab, rows],
 * contiguous in k like g's rows) and transposed at the end; the order of each sum is unchanged.
 */
function gradHost({ ints: [X], inputs, outputs: [dW, dbIh, dbHh], params }: HostKernelArgs<ProjectionGradParams>): void {
  const { batch, steps, rows, vocab } = params;
  const g = inputs[1]!;
  const dWt = new Float32Array(vocab * rows);
  dbIh!.fill(0);
  for (let t = 0; t < steps; t++) {
    for (let b = 0; b < batch; b++) {
      const tok = X![b * steps + t]!;
      const r = (t * batch + b) * rows;
      for (let k = 0; k < rows; k++) dbIh![k] += g[r + k]!;
      if (tok < 0 || tok >= vocab) continue;
      const to = tok * rows;
      for (let k = 0; k < rows; k++) dWt[to + k] += g[r + k]!;
    }
  }
  for (let k = 0; k < rows; k++) {
    for (let v = 0; v < vocab; v++) dW![k * vocab + v] = dWt[v * rows + k]!;
  }
  dbHh?.set(dbIh!);
}

/** gradHost with its sums in wasm (row-sums-wasm.ts): the same float32 results, bit for bit. */
function gradWasm(args: HostKernelArgs<ProjectionGradParams>): void {
  const { ints: [X], inputs, outputs: [dW, dbIh, dbHh], params: { batch, steps, rows, vocab } } = args;
  // The rows of g are time-major (t·batch + b), X batch-major: the tokens in g's row order.
  const tokens = timeMajor(X!, batch, steps);
  const dWt = new Float32Array(vocab * rows);
  if (!sumRowsWasm(inputs[1]!, steps * batch, rows, dbIh!, tokens, dWt, vocab)) return gradHost(args);
  for (let k = 0; k < rows; k++) {
    for (let v = 0; v < vocab; v++) dW![k * vocab + v] = dWt[v * rows + k]!;
  }
  dbHh?.set(dbIh!);
}

/** The forward kernel without (GRU) or with b_hh folded in. */
const defineForward = (withHh: boolean) =>
  defineKernel<ProjectionSizes>({
    name: withHh ? 'tokenProjection' : 'tokenProjectionIh',
    inputs: withHh ? ['tokens', 'wIh', 'bIh', 'bHh'] : ['tokens', 'wIh', 'bIh'],
    intInputs: ['tokens'],
    outputs: ['xp'],
    writesAll: true,
    differentiable: true,
    reference: forwardHost,
    wasm: forwardWasm,
    webgpu: forwardWgsl(withHh),
  });
const forwardKernels = [defineForward(false), defineForward(true)] as const;

/** The gradient kernel: dW and db_ih, and db_hh when b_hh was folded in. */
const defineGrad = (withHh: boolean) =>
  defineKernel<ProjectionGradParams>({
    name: withHh ? 'tokenProjectionGrad' : 'tokenProjectionIhGrad',
    inputs: ['tokens', 'g'],
    intInputs: ['tokens'],
    outputs: withHh ? ['dW', 'dbIh', 'dbHh'] : ['dW', 'dbIh'],
    writesAll: true,
    reference: gradHost,
    wasm: gradWasm,
    webgpu: gradWgsl(withHh),
  });
const gradKernels = [defineGrad(false), defineGrad(true)] as const;

/** Checks the arguments of `projectTokens` and returns the sizes the kernels run with. */
function checkProjection(X: Tensor, wIh: Tensor, bIh: Tensor, bHh: Tensor | undefined): ProjectionSizes {
  const op = 'projectTokens';
  if (X.dtype !== 'int32') throw new DTypeError(`${op}: tokens X must be int32, got ${X.dtype} tensor ${fmtShape(X.shape)}`);
  if (X.rank !== 2) throw new ShapeError(`${op}: tokens X must be [batch, numSteps], got ${fmtShape(X.shape)}`);
  if (wIh.rank !== 2 || wIh.shape[1] === 0) {
    throw new ShapeError(`${op}: wIh must be [rows, vocab] with vocab ≥ 1, got ${fmtShape(wIh.shape)}`);
  }
  const [rows, vocab] = wIh.shape as [number, number];
  for (const [name, b] of [['bIh', bIh], ['bHh', bHh]] as const) {
    if (b !== undefined && (b.rank !== 1 || b.shape[0] !== rows)) {
      throw new ShapeError(`${op}: ${name} must be [${rows}] to match wIh ${fmtShape(wIh.shape)}, got ${fmtShape(b.shape)}`);
    }
  }
  const [batch, steps] = X.shape as [number, number];
  return { batch, steps, rows, vocab };
}

/**
 * The one-hot input projection of a recurrent layer, as a row gather: X int32 [batch, numSteps]
 * (d2l's batch-major tokens), wIh [rows, vocab], bIh [rows] and, for RNN and LSTM, bHh [rows].
 * Returns xp [numSteps·batch, rows], time-major, with
 * xp[t·batch + b, k] = wIh[k, X[b, t]] + (bIh[k] + bHh[k]) — bit for bit what
 * `add(matmul(reshape(oneHot(transpose(X), vocab), [numSteps·batch, vocab]), wIh, { transB: true }), add(bIh, bHh))`
 * gives on the CPU backends (float32 round-off on WebGPU). A token outside [0, vocab) gives the bias
 * alone, as its all-zero one-hot row does, and no weight gradient. Differentiable in wIh, bIh and
 * bHh; one dispatch forward and one backward on WebGPU.
 *
 * Throws a DTypeError for a non-int32 X and a ShapeError naming the shape for a misshapen argument.
 */
export function projectTokens(X: Tensor, wIh: Tensor, bIh: Tensor, bHh?: Tensor): Tensor {
  const sizes = checkProjection(X, wIh, bIh, bHh);
  const kernel = forwardKernels[bHh === undefined ? 0 : 1];
  const inputs = bHh === undefined ? [X, wIh, bIh] : [X, wIh, bIh, bHh];
  return runKernel(kernel, inputs, [[sizes.steps * sizes.batch, sizes.rows]], sizes)[0]!;
}

/** Options of `projectTokensBackward`. */
export interface ProjectionGradOptions {
  /**
   * Vocabulary columns per WebGPU thread (default: chosen by adapter). Exposed so the tests can run
   * both of the adapters' choices on whichever adapter they have; the result is the same for any.
   */
  vocabBlock?: number;
}

/**
 * The gradients of `projectTokens` given g = dLoss/dxp [numSteps·batch, rows]: [dwIh, dbIh] and,
 * when `withHh`, dbHh (the same values as dbIh, in a buffer of its own). One dispatch on WebGPU. This
 * is what the registered gradient rule runs; X and wIh's shape are those of the forward call.
 */
export function projectTokensBackward(
  g: Tensor,
  X: Tensor,
  wIhShape: readonly number[],
  withHh: boolean,
  options: ProjectionGradOptions = {},
): Tensor[] {
  const [rows, vocab] = wIhShape as [number, number];
  const [batch, steps] = X.shape as [number, number];
  if (X.rank !== 2 || wIhShape.length !== 2 || !(vocab >= 1)) {
    throw new ShapeError(`projectTokensBackward: expected X [batch, numSteps] and wIh [rows, vocab ≥ 1], got ${fmtShape(X.shape)} and ${fmtShape(wIhShape)}`);
  }
  const block = options.vocabBlock ?? 0;
  if (!Number.isInteger(block) || block < 0) throw new ValueError(`projectTokensBackward: vocabBlock must be a non-negative integer, got ${block}`);
  if (g.rank !== 2 || g.shape[0] !== steps * batch || g.shape[1] !== rows) {
    throw new ShapeError(`projectTokensBackward: g must be ${fmtShape([steps * batch, rows])}, got ${fmtShape(g.shape)}`);
  }
  const params: ProjectionGradParams = { batch, steps, rows, vocab, block };
  const shapes = withHh ? [wIhShape, [rows], [rows]] : [wIhShape, [rows]];
  return runKernel(gradKernels[withHh ? 1 : 0], [X, g], shapes, params);
}

for (const withHh of [false, true]) {
  registerGradient(forwardKernels[withHh ? 1 : 0].name, (g, { inputs: [X, wIh] }) => [null, ...projectTokensBackward(g, X!, wIh!.shape, withHh)]);
}
