/**
 * Reductions over the middle axis of x viewed as [outer, axis, inner]: sum, max and argmax.
 *
 * Two variants, chosen per call:
 * - 'loop': one thread per output element walks the axis (neighbouring threads read neighbouring
 *   `inner` elements, so loads coalesce). Best when there are many outputs or the axis is short.
 * - 'wg': one 256-thread workgroup per output element; threads stride over the axis, then a
 *   shared-memory tree reduction. Best for few outputs over a long axis (e.g. a full sum).
 *
 * Parameter words: 0 outer, 1 axis, 2 inner, 3 outputs (outer * inner).
 */
import type { AxisParams, ReduceOp } from '../../backend.ts';
import { type GpuBuf, type GpuContext, MAIN_1D, WG, grid1d, gridFor, prelude } from './context.ts';

const NEG_INF = 'negInf()';

/** max that lets NaN win (like the CPU backend and PyTorch), so a diverging model stays visible. */
const NMAX = `fn nmax(a: f32, b: f32) -> f32 {
  if (isNan(a)) { return a; }
  if (isNan(b)) { return b; }
  return max(a, b);
}
`;
/** Whether (v, j) beats the current best (b, i): NaN first, then larger, then the smaller index. */
const BETTER = `fn better(v: f32, j: u32, b: f32, i: u32) -> bool {
  if (j == 0xffffffffu) { return false; }
  if (i == 0xffffffffu) { return true; }
  if (isNan(b)) { return isNan(v) && j < i; }
  if (isNan(v)) { return true; }
  return v > b || (v == b && j < i);
}
`;

/** Whether one workgroup per output beats one thread per output. */
function useWorkgroups(p: AxisParams): boolean {
  const outputs = p.outer * p.inner;
  return p.axis >= 256 && outputs < 4096;
}

/** WGSL for base offset of output `o` and the axis stride. */
const BASE = `  let inner = p(2);
  let axis = p(1);
  let base = (o / inner) * axis * inner + o % inner;`;

const WG_MAIN = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let o = wid.y * nwg.x + wid.x;
  if (o >= p(3)) { return; }`;

/** Tree reduction of `sv` (and `si` for argmax) in workgroup memory; the result ends in slot 0. */
function tree(combine: string): string {
  return `  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { ${combine} }
    workgroupBarrier();
  }`;
}

function reduceSource(op: ReduceOp, variant: 'loop' | 'wg'): string {
  const init = op === 'sum' ? '0.0' : NEG_INF;
  const acc = op === 'sum' ? 'acc = acc + v;' : 'acc = nmax(acc, v);';
  const head = prelude([['x', 'r', 'f32'], ['out', 'w', 'f32']]) + (op === 'max' ? NMAX : '');
  if (variant === 'loop') {
    return `${head}
${MAIN_1D}
  let o = idx;
  if (o >= p(3)) { return; }
${BASE}
  var acc = ${init};
  for (var i = 0u; i < axis; i++) { let v = x[base + i * inner]; ${acc} }
  out[o] = acc;
}`;
  }
  const combine = op === 'sum' ? 'sv[lid] = sv[lid] + sv[lid + s];' : 'sv[lid] = nmax(sv[lid], sv[lid + s]);';
  return `${head}
var<workgroup> sv: array<f32, ${WG}>;
${WG_MAIN}
${BASE}
  var acc = ${init};
  for (var i = lid; i < axis; i += ${WG}u) { let v = x[base + i * inner]; ${acc} }
  sv[lid] = acc;
${tree(combine)}
  if (lid == 0u) { out[o] = sv[0]; }
}`;
}

function argmaxSource(variant: 'loop' | 'wg'): string {
  const head = prelude([['x', 'r', 'f32'], ['out', 'w', 'i32']]) + BETTER;
  if (variant === 'loop') {
    return `${head}
${MAIN_1D}
  let o = idx;
  if (o >= p(3)) { return; }
${BASE}
  var best = ${NEG_INF};
  var bi = 0u;
  for (var i = 0u; i < axis; i++) { let v = x[base + i * inner]; if (v > best || (isNan(v) && !isNan(best))) { best = v; bi = i; } }
  out[o] = i32(bi);
}`;
  }
  // Each thread sees its indices in increasing order and the tree keeps the smaller index on ties, so
  // the first maximum (or the first NaN) wins, as on the CPU.
  return `${head}
var<workgroup> sv: array<f32, ${WG}>;
var<workgroup> si: array<u32, ${WG}>;
${WG_MAIN}
${BASE}
  var best = ${NEG_INF};
  var bi = 0xffffffffu;
  for (var i = lid; i < axis; i += ${WG}u) { let v = x[base + i * inner]; if (better(v, i, best, bi)) { best = v; bi = i; } }
  sv[lid] = best;
  si[lid] = bi;
${tree(`let v = sv[lid + s]; let j = si[lid + s]; if (better(v, j, sv[lid], si[lid])) { sv[lid] = v; si[lid] = j; }`)}
  if (lid == 0u) { out[o] = i32(select(si[0], 0u, si[0] == 0xffffffffu)); }
}`;
}

function dispatchAxis(
  ctx: GpuContext,
  key: string,
  source: (v: 'loop' | 'wg') => string,
  x: GpuBuf,
  out: GpuBuf,
  p: AxisParams,
): void {
  const outputs = p.outer * p.inner;
  const variant = useWorkgroups(p) ? 'wg' : 'loop';
  ctx.run({
    key: `${key}:${variant}`,
    source: () => source(variant),
    params: [p.outer, p.axis, p.inner, outputs],
    bindings: [{ buf: x, access: 'r' }, { buf: out, access: 'w', covers: outputs }],
    groups: variant === 'wg' ? gridFor(outputs) : grid1d(outputs),
  });
}

export function reduce(ctx: GpuContext, op: ReduceOp, x: GpuBuf, out: GpuBuf, p: AxisParams): void {
  dispatchAxis(ctx, `reduce:${op}`, (v) => reduceSource(op, v), x, out, p);
}

export function argmax(ctx: GpuContext, x: GpuBuf, out: GpuBuf, p: AxisParams): void {
  dispatchAxis(ctx, 'argmax', argmaxSource, x, out, p);
}
