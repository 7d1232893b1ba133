/**
 * Row-wise kernels over x [rows, cols]: softmax, log-softmax, cross-entropy and its gradient.
 *
 * Every row is normalised with the log-sum-exp trick (max first, then sum of exp(x - max)). Two variants:
 * - 'thread': one thread per row walking its columns (short rows, e.g. a 28-character vocabulary);
 * - 'wg': one 256-thread workgroup per row, max and sum reduced in workgroup memory (long rows).
 *
 * crossEntropy runs one dispatch for a small batch of short rows (one workgroup: every row's loss and
 * their mean), else two: per-row losses into a scratch buffer, then one workgroup sums them and divides
 * by rows. crossEntropyBackward reads g = gradOut[0] on the device (no readback).
 *
 * Parameter words: 0 rows, 1 cols, 2 scale (f32: 1/rows for the cross-entropy kernels).
 */
import { type GpuBuf, type GpuContext, MAIN_1D, WG, f32bits, grid1d, gridFor, prelude } from './context.ts';

type Mode = 'softmax' | 'logSoftmax' | 'ceRows' | 'ceBackward';
type Variant = 'thread' | 'wg';

const NEG_INF = 'negInf()';

function bindingsFor(mode: Mode): Array<readonly [string, 'r' | 'w', 'f32' | 'i32']> {
  switch (mode) {
    case 'softmax':
    case 'logSoftmax':
      return [['x', 'r', 'f32'], ['out', 'w', 'f32']];
    case 'ceRows':
      return [['x', 'r', 'f32'], ['targets', 'r', 'i32'], ['out', 'w', 'f32']];
    case 'ceBackward':
      return [['x', 'r', 'f32'], ['targets', 'r', 'i32'], ['gradOut', 'r', 'f32'], ['out', 'w', 'f32']];
  }
}

/**
 * The per-column write once `mx` (row max) and `sum` (of exp(x - mx)) are known; `i` is the column and
 * `v` the logit. ceRows instead writes one loss per row (see rowFinish).
 */
function colWrite(mode: Mode): string {
  switch (mode) {
    case 'softmax':
      return 'out[base + i] = exp(v - mx) / sum;';
    case 'logSoftmax':
      return 'out[base + i] = v - mx - log(sum);';
    case 'ceBackward':
      // An out-of-range target gives a NaN row, as on the CPU.
      return `out[base + i] = select(${NAN}, g * (exp(v - mx) / sum - select(0.0, 1.0, i32(i) == t)), t >= 0 && u32(t) < cols);`;
    case 'ceRows':
      return '';
  }
}

const NAN = 'nan()';

/** Loss of one row: log-sum-exp minus the target logit. An out-of-range target poisons it with NaN. */
const CE_ROW = `let t = targets[row];
    var loss = ${NAN};
    if (t >= 0 && u32(t) < cols) { loss = log(sum) + mx - x[base + u32(t)]; }
    out[row] = loss;`;

function rowSource(mode: Mode, variant: Variant): string {
  const head = prelude(bindingsFor(mode));
  const setup =
    mode === 'ceBackward' ? `  let g = gradOut[0] * pf(2);\n  let t = targets[row];\n` : '';
  if (variant === 'thread') {
    return `${head}
${MAIN_1D}
  let row = idx;
  if (row >= p(0)) { return; }
  let cols = p(1);
  let base = row * cols;
  var mx = ${NEG_INF};
  for (var i = 0u; i < cols; i++) { mx = max(mx, x[base + i]); }
  var sum = 0.0;
  for (var i = 0u; i < cols; i++) { sum = sum + exp(x[base + i] - mx); }
${setup}  ${mode === 'ceRows' ? CE_ROW : `for (var i = 0u; i < cols; i++) { let v = x[base + i]; ${colWrite(mode)} }`}
}`;
  }
  return `${head}
var<workgroup> sv: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p(0)) { return; }
  let cols = p(1);
  let base = row * cols;
  var m = ${NEG_INF};
  for (var i = lid; i < cols; i += ${WG}u) { m = max(m, x[base + i]); }
  sv[lid] = m;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { sv[lid] = max(sv[lid], sv[lid + s]); }
    workgroupBarrier();
  }
  let mx = sv[0];
  workgroupBarrier();
  var acc = 0.0;
  for (var i = lid; i < cols; i += ${WG}u) { acc = acc + exp(x[base + i] - mx); }
  sv[lid] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { sv[lid] = sv[lid] + sv[lid + s]; }
    workgroupBarrier();
  }
  let sum = sv[0];
${setup}  ${
    mode === 'ceRows'
      ? `if (lid == 0u) {\n    ${CE_ROW}\n  }`
      : `for (var i = lid; i < cols; i += ${WG}u) { let v = x[base + i]; ${colWrite(mode)} }`
  }
}`;
}

function rowKernel(
  ctx: GpuContext,
  mode: Mode,
  inputs: GpuBuf[],
  out: GpuBuf,
  rows: number,
  cols: number,
  scale: number,
): void {
  const variant: Variant = cols <= 64 ? 'thread' : 'wg';
  const covers = mode === 'ceRows' ? rows : rows * cols;
  ctx.run({
    key: `rows:${mode}:${variant}`,
    source: () => rowSource(mode, variant),
    params: [rows, cols, f32bits(scale)],
    bindings: [...inputs.map((buf) => ({ buf, access: 'r' as const })), { buf: out, access: 'w', covers }],
    groups: variant === 'thread' ? grid1d(rows) : gridFor(rows),
  });
}

export function softmax(ctx: GpuContext, x: GpuBuf, out: GpuBuf, rows: number, cols: number, log: boolean): void {
  rowKernel(ctx, log ? 'logSoftmax' : 'softmax', [x], out, rows, cols, 1);
}

/**
 * Up to this many rows of short logits, one workgroup computes every row's loss and their mean in one
 * dispatch (a character model's batch: 1,120 rows of 28). Beyond it, or for long rows, the loss takes
 * one dispatch per row block and a second for the mean, so that the rows run in parallel.
 */
const SINGLE_PASS_ROWS = 16384;

/** Mean cross-entropy in one workgroup: each thread sums the losses of rows lid, lid + WG, ... */
function meanLossSource(): string {
  return `${prelude(bindingsFor('ceRows'))}
var<workgroup> sv: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  let rows = p(0);
  let cols = p(1);
  var total = 0.0;
  for (var row = lid; row < rows; row += ${WG}u) {
    let base = row * cols;
    var mx = ${NEG_INF};
    for (var i = 0u; i < cols; i++) { mx = max(mx, x[base + i]); }
    var sum = 0.0;
    for (var i = 0u; i < cols; i++) { sum = sum + exp(x[base + i] - mx); }
    let t = targets[row];
    var loss = ${NAN};
    if (t >= 0 && u32(t) < cols) { loss = log(sum) + mx - x[base + u32(t)]; }
    total = total + loss;
  }
  sv[lid] = total;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { sv[lid] = sv[lid] + sv[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[0] = sv[0] * pf(2); }
}`;
}

export function crossEntropy(ctx: GpuContext, logits: GpuBuf, targets: GpuBuf, out: GpuBuf, rows: number, cols: number): void {
  if (cols <= 64 && rows <= SINGLE_PASS_ROWS) {
    ctx.run({
      key: 'ceMean',
      source: meanLossSource,
      params: [rows, cols, f32bits(rows > 0 ? 1 / rows : 0)],
      bindings: [{ buf: logits, access: 'r' }, { buf: targets, access: 'r' }, { buf: out, access: 'w', covers: 1 }],
      groups: [1, 1, 1],
    });
    return;
  }
  const losses = ctx.alloc(rows, false);
  rowKernel(ctx, 'ceRows', [logits, targets], losses, rows, cols, 1);
  ctx.run({
    key: 'sumScale',
    source: () => `${prelude([['xs', 'r', 'f32'], ['out', 'w', 'f32']])}
var<workgroup> sv: array<f32, ${WG}>;
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < p(0); i += ${WG}u) { acc = acc + xs[i]; }
  sv[lid] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { sv[lid] = sv[lid] + sv[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[0] = sv[0] * pf(2); }
}`,
    params: [rows, 0, f32bits(rows > 0 ? 1 / rows : 0)],
    bindings: [{ buf: losses, access: 'r' }, { buf: out, access: 'w', covers: 1 }],
    groups: [1, 1, 1],
  });
  ctx.free(losses);
}

export function crossEntropyBackward(
  ctx: GpuContext,
  logits: GpuBuf,
  targets: GpuBuf,
  gradOut: GpuBuf,
  out: GpuBuf,
  rows: number,
  cols: number,
): void {
  rowKernel(ctx, 'ceBackward', [logits, targets, gradOut], out, rows, cols, rows > 0 ? 1 / rows : 0);
}
