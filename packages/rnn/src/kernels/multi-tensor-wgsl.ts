/**
 * The WGSL half of the multi-tensor kernels (multi-tensor.ts): one shader per kernel and per number of
 * tensors it binds, since a kernel's buffers are named, not indexed. Tensor j of a dispatch is bound as
 * `grad<j>` (and `param<j>`, `mean<j>`, `sq<j>`), its element count is the uniform `size<j>`.
 *
 * The norm kernels are workgroup kernels over a fixed grid of GROUPS workgroups of LANES threads that
 * stride over every tensor they bind; each workgroup sums what it saw in workgroup memory. The grid
 * does not grow with the tensors, so the partial sums fit one small buffer that the clipping kernel
 * folds again in each of its workgroups (cheaper than another dispatch to fold them once). The update
 * kernels (SGD, Adam) are 1-D: thread i updates element i of every tensor that long.
 */
import type { KernelParams, WgslKernel, WgslTarget } from '@tinytape/tensor';

/** Slots of the partial-sum buffer: at least the largest GROUPS below. */
export const PARTIAL_SLOTS = 64;

/**
 * The norm kernels' grid. A GPU gets enough workgroups to spread a large weight over its cores; a
 * software adapter (lavapipe: a few CPU threads, costly barriers) gets few, narrow ones. LANES must be
 * a power of two (the tree sum halves it) and at least GROUPS (the clipping kernel loads one partial
 * per thread).
 */
function grid(target: WgslTarget): { GROUPS: number; LANES: number } {
  return target.software ? { GROUPS: 8, LANES: 64 } : { GROUPS: PARTIAL_SLOTS, LANES: 256 };
}

/** The uniforms `size0` .. `size<count−1>`, as u32. */
function sizeUniforms(count: number): Record<string, 'u32'> {
  return Object.fromEntries(Array.from({ length: count }, (_, j) => [`size${j}`, 'u32' as const]));
}

/** `line(j)` for j < count, one per line. */
const each = (count: number, line: (j: number) => string): string => Array.from({ length: count }, (_, j) => line(j)).join('\n');

/**
 * The workgroup sum: every thread passes its value and gets the workgroup's total back. Called once,
 * in uniform control flow (its barriers must be reached by every thread).
 */
const LANE_SUM = `var<workgroup> lanes: array<f32, LANES>;
fn laneSum(lid: u32, value: f32) -> f32 {
  lanes[lid] = value;
  workgroupBarrier();
  for (var half = LANES / 2u; half > 0u; half /= 2u) {
    if (lid < half) { lanes[lid] += lanes[lid + half]; }
    workgroupBarrier();
  }
  return lanes[0];
}`;

/** The parts every norm kernel shares: the grid and the workgroup sum. */
function gridded(count: number, uniforms: Record<string, 'u32' | 'f32'>, body: string): WgslKernel<KernelParams> {
  return {
    uniforms: { ...sizeUniforms(count), ...uniforms },
    constants: (_p, target) => grid(target),
    workgroups: (_p, target) => grid(target).GROUPS,
    workgroupSize: (_p, target) => grid(target).LANES,
    functions: LANE_SUM,
    body,
  };
}

/** `statement` (which reads and writes element `i`) for every element of tensor j this thread strides over. */
const strided = (j: number, statement: string): string =>
  `  for (var i = group * LANES + lid; i < size${j}; i += GROUPS * LANES) { ${statement} }`;

/**
 * Sums of squares: workgroup w writes partials[w] = Σ grad² over the elements it strides over (plus
 * carry[w], the partials of the tensors before, when `carried`); workgroup 0 zeroes the unused slots.
 */
export function squaresWgsl(count: number, carried: boolean): WgslKernel<KernelParams> {
  return gridded(count, {}, `  var s = 0.0;
${each(count, (j) => strided(j, `let x = grad${j}[i]; s += x * x;`))}
  let total = laneSum(lid, s);
  if (lid == 0u) { partials[group] = total${carried ? ' + carry[group]' : ''}; }
  if (group == 0u) {
    for (var k = GROUPS + lid; k < ${PARTIAL_SLOTS}u; k += LANES) { partials[k] = 0.0; }
  }`);
}

/**
 * Clipping: every workgroup folds the partials the same way (so all get the same norm, bit for bit),
 * then scales its share of every gradient by min(1, θ/‖g‖). Written as a comparison, θ/‖g‖ is only
 * formed when it is below 1: WGSL leaves θ/0 undefined. A NaN norm gives a NaN scale, as min(NaN, 1)
 * does on the host. `withNorm`: workgroup 0 also writes the norm.
 */
export function clipWgsl(count: number, withNorm: boolean): WgslKernel<KernelParams> {
  return gridded(count, { theta: 'f32' }, `  var s = 0.0;
  if (lid < GROUPS) { s = partials[lid]; }
  let l2 = sqrt(laneSum(lid, s));
  var scale = 1.0;
  if (isNan(l2)) { scale = nan(); } else if (l2 > theta) { scale = theta / l2; }
${withNorm ? '  if (group == 0u && lid == 0u) { norm[0] = l2; }' : ''}
  if (scale != 1.0) {
${each(count, (j) => `  ${strided(j, `grad${j}[i] = grad${j}[i] * scale;`)}`)}
  }`);
}

/** Threads of a 1-D update kernel: one per element of its longest tensor. */
function longest(count: number): (params: KernelParams) => number {
  return (params) => Math.max(0, ...Array.from({ length: count }, (_, j) => params[`size${j}`]!));
}

/** SGD: param ← param + alpha·grad (alpha = −lr/batchSize), then grad ← 0; fma as the axpy kernel. */
export function sgdWgsl(count: number): WgslKernel<KernelParams> {
  return {
    uniforms: { alpha: 'f32', ...sizeUniforms(count) },
    threads: longest(count),
    body: each(count, (j) => `  if (idx < size${j}) {
    param${j}[idx] = fma(alpha, grad${j}[idx], param${j}[idx]);
    grad${j}[idx] = 0.0;
  }`),
  };
}

/**
 * Adam, in the order of the ops it replaces (adam.ts): m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
 * param ← param + stepSize · m / (√v · invRoot2 + eps), then grad ← 0.
 */
export function adamWgsl(count: number): WgslKernel<KernelParams> {
  return {
    uniforms: {
      stepSize: 'f32', beta1: 'f32', oneMinusBeta1: 'f32', beta2: 'f32', oneMinusBeta2: 'f32', invRoot2: 'f32', eps: 'f32',
      ...sizeUniforms(count),
    },
    threads: longest(count),
    body: each(count, (j) => `  if (idx < size${j}) {
    let g = grad${j}[idx];
    let m = fma(oneMinusBeta1, g, mean${j}[idx] * beta1);
    let v = fma(oneMinusBeta2, g * g, sq${j}[idx] * beta2);
    mean${j}[idx] = m;
    sq${j}[idx] = v;
    param${j}[idx] = fma(stepSize, m / (sqrt(v) * invRoot2 + eps), param${j}[idx]);
    grad${j}[idx] = 0.0;
  }`),
  };
}
