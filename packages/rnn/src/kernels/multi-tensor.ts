/*
 * Multi-tensor kernels for the end of a training step: gradient clipping and the optimizer updates
 * touch every parameter, and done op by op they cost a WebGPU step two dispatches per parameter for the
 * clipping and two (SGD) or about ten (Adam) for the update. Here one dispatch handles a chunk of
 * tensors: as many as fit the storage buffers a dispatch may bind on the device (`bufferBudget`).
 *
 * Clipping runs in two stages: sums of squares into a small buffer of partial sums (one dispatch per
 * chunk, each adding the previous chunk's partials), then one dispatch per chunk that folds the partials
 * into the norm and scales its gradients. The norm stays on the device; nothing is read back.
 *
 * The host versions (reference and wasm backends) compute each element as the op-by-op code did, in
 * the same order and with the same float32 roundings, so the updates are bit for bit what the
 * separate ops gave; only the norm's summation order differs (four interleaved double-precision sums
 * over all gradients, see addSquares, instead of a float32 sum of per-tensor sums). The update kernels
 * zero the gradients and mark them so (`Storage.markZeroed`), which lets the next backward take its
 * gradient as `.grad` instead of adding it to the zeros.
 */
import {
  type CustomKernel, type Device, type HostKernel, type KernelParams, ShapeError, type Tensor, ValueError, type WebGPUBackend, defineKernel,
  fmtShape, runKernel, sameShape,
} from '@tinytape/tensor';
import { PARTIAL_SLOTS, adamWgsl, clipWgsl, sgdWgsl, squaresWgsl } from './multi-tensor-wgsl.ts';

/** Storage buffers every WebGPU adapter lets one dispatch bind (maxStorageBuffersPerShaderStage's default). */
const PORTABLE_BUFFERS = 8;
/**
 * Most buffers a chunk uses even where the device allows more: 16 is what Dawn grants on lavapipe, and
 * it keeps every chunk's sizes within a dispatch's parameter words.
 */
const MOST_BUFFERS = 16;

/**
 * How many storage buffers one dispatch may bind on `device`: the WebGPU device's limit (tinytape asks
 * for the adapter's), between 8 and 16; 16 on the CPU devices, where a chunk is just a loop.
 */
export function bufferBudget(device: Device): number {
  if (device.kind !== 'webgpu') return MOST_BUFFERS;
  const limit = (device.backend as unknown as WebGPUBackend).device.limits.maxStorageBuffersPerShaderStage;
  return Math.max(PORTABLE_BUFFERS, Math.min(MOST_BUFFERS, limit));
}

/** Tensors per dispatch for a budget of `buffers`, from the other buffers each kernel binds. */
function chunkSizes(buffers: number) {
  return {
    /** Sums of squares: the gradients (read) and the partial sums (written). */
    squaresFirst: buffers - 1,
    /** Sums of squares after the first chunk: also the previous chunk's partials. */
    squaresNext: buffers - 2,
    /** Clipping: the gradients (scaled in place), the partials and the norm. */
    clipFirst: buffers - 2,
    /** Clipping after the first chunk, which alone writes the norm. */
    clipNext: buffers - 1,
    /** SGD: a parameter and its gradient each. */
    sgd: Math.floor(buffers / 2),
    /** Adam: a parameter, its gradient and its two moments each. */
    adam: Math.floor(buffers / 4),
  };
}

/** Adam's per-step numbers, as the op-by-op update used them (host numbers; float32 on WebGPU). */
export type AdamStepParams = {
  /** −lr / (1 − β₁ᵗ). */
  stepSize: number;
  beta1: number;
  /** 1 − β₁, formed on the host once. */
  oneMinusBeta1: number;
  beta2: number;
  /** 1 − β₂, formed on the host once. */
  oneMinusBeta2: number;
  /** 1 / √(1 − β₂ᵗ). */
  invRoot2: number;
  eps: number;
};

const names = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, j) => `${prefix}${j}`);

/** The element counts of a chunk's tensors, as the kernels' `size<j>` parameters. */
const sizesOf = (tensors: readonly Tensor[]): KernelParams => Object.fromEntries(tensors.map((t, j) => [`size${j}`, t.size]));

/** `items` split into a chunk of `first` and chunks of `rest` (at least one chunk, maybe empty). */
function chunked<T>(items: readonly T[], first: number, rest: number): T[][] {
  const out = [items.slice(0, first)];
  for (let i = first; i < items.length; i += rest) out.push(items.slice(i, i + rest));
  return out;
}

/** The kernel for `count` tensors, made on first use (a device with more buffers uses more counts). */
function variants(make: (count: number) => CustomKernel<KernelParams>): (count: number) => CustomKernel<KernelParams> {
  const made = new Map<number, CustomKernel<KernelParams>>();
  return (count) => {
    let kernel = made.get(count);
    if (kernel === undefined) made.set(count, (kernel = make(count)));
    return kernel;
  };
}

// ---------------------------------------------------------------- host versions

/**
 * sum + Σ fround(g[i]²) for i < n, in doubles. The rounding is square()'s, which stored the square as
 * float32 before sum() read it. Four running sums (elements i ≡ 0, 1, 2, 3 mod 4, the first starting
 * from `sum`), added pairwise at the end: one chain of dependent additions waits out each addition's
 * latency, four keep the adder busy (the scratch RNN 512's 290 K gradients: about 0.35 -> 0.1 ms a
 * step). The order is fixed, so the norm is the same from run to run. A function of its own, so that
 * its loop is compiled once for every tensor and call rather than inside each kernel's closure.
 */
function addSquares(sum: number, g: Float32Array, n: number): number {
  let s0 = sum;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const whole = n - (n % 4);
  for (let i = 0; i < whole; i += 4) {
    s0 += Math.fround(g[i]! * g[i]!);
    s1 += Math.fround(g[i + 1]! * g[i + 1]!);
    s2 += Math.fround(g[i + 2]! * g[i + 2]!);
    s3 += Math.fround(g[i + 3]! * g[i + 3]!);
  }
  for (let i = whole; i < n; i++) s0 += Math.fround(g[i]! * g[i]!);
  return (s0 + s1) + (s2 + s3);
}

/** partials[0] = Σ over the gradients of fround(g²) (and the carried partials first), in doubles. */
function squaresHost(count: number, carried: boolean): HostKernel<KernelParams> {
  return ({ inputs, outputs: [partials], params }) => {
    let sum = 0;
    if (carried) for (let k = 0; k < PARTIAL_SLOTS; k++) sum += inputs[0]![k]!;
    for (let j = 0; j < count; j++) {
      sum = addSquares(sum, inputs[carried ? j + 1 : j]!, params[`size${j}`]!);
    }
    partials!.fill(0, 0, PARTIAL_SLOTS);
    partials![0] = sum;
  };
}

/**
 * min(1, θ/‖g‖) as the old `minimum(div(θ, norm), 1)` rounded it, written as a comparison so an all-zero
 * gradient gives 1 even for θ = 0 (where θ/0 would be NaN); a NaN norm gives NaN.
 */
function clipScale(norm: number, theta: number): number {
  if (Number.isNaN(norm)) return NaN;
  return norm > theta ? Math.fround(theta / norm) : 1;
}

/** Folds the partials into the norm, writes it (`withNorm`) and scales the gradients by clipScale. */
function clipHost(count: number, withNorm: boolean): HostKernel<KernelParams> {
  return ({ inputs: [partials], updates, outputs, params }) => {
    let sum = 0;
    for (let k = 0; k < PARTIAL_SLOTS; k++) sum += partials![k]!;
    const norm = Math.fround(Math.sqrt(Math.fround(sum)));
    if (withNorm) outputs[0]![0] = norm;
    const scale = clipScale(norm, params.theta!);
    if (scale === 1) return; // g·1 is g: nothing to write
    for (let j = 0; j < count; j++) {
      const g = updates[j]!;
      const n = params[`size${j}`]!;
      for (let i = 0; i < n; i++) g[i] = g[i]! * scale;
    }
  };
}

/**
 * p ← p + alpha·g rounded once, through the backend's own axpy (vectorised on the wasm backend: the
 * scratch RNN 512's 290 K parameters took 0.66 -> 0.26 ms a step, --profile over 12 epochs), then
 * g ← 0; updates are p0, g0, p1, g1, ...
 */
function sgdHost(count: number): HostKernel<KernelParams> {
  return ({ updates, params, axpy, zero }) => {
    const alpha = params.alpha!;
    for (let j = 0; j < count; j++) {
      const p = updates[2 * j]!;
      const g = updates[2 * j + 1]!;
      const n = params[`size${j}`]!;
      axpy(p, g, alpha, n);
      zero(g, n);
    }
  };
}

/**
 * Adam per element, each line one op of the old sequence with its float32 rounding (a store into a
 * Float32Array or Math.fround): m.mul_(β₁).axpy_(g, 1−β₁); v.mul_(β₂).axpy_(square(g), 1−β₂);
 * denom = sqrt(v)·invRoot2 + eps; p.axpy_(m / denom, stepSize); g ← 0. Updates are p, g, m, v per tensor.
 */
function adamHost(count: number): HostKernel<KernelParams> {
  return ({ updates, params, zero }) => {
    const { stepSize, beta1, oneMinusBeta1, beta2, oneMinusBeta2, invRoot2, eps } = params as AdamStepParams;
    for (let j = 0; j < count; j++) {
      const [p, grad, m, v] = updates.slice(4 * j, 4 * j + 4) as [Float32Array, Float32Array, Float32Array, Float32Array];
      const n = params[`size${j}`]!;
      for (let i = 0; i < n; i++) {
        const g = grad[i]!;
        m[i] = Math.fround(m[i]! * beta1) + oneMinusBeta1 * g;
        v[i] = Math.fround(v[i]! * beta2) + oneMinusBeta2 * Math.fround(g * g);
        const denom = Math.fround(Math.fround(Math.fround(Math.sqrt(v[i]!)) * invRoot2) + eps);
        p[i] = p[i]! + stepSize * Math.fround(m[i]! / denom);
      }
      zero(grad, n);
    }
  };
}

// ---------------------------------------------------------------- kernels

const squareSums = variants((count) => defineKernel<KernelParams>({
  name: `multiTensorSquares${count}`,
  inputs: names('grad', count),
  outputs: ['partials'],
  writesAll: true,
  reference: squaresHost(count, false),
  webgpu: squaresWgsl(count, false),
}));

const carriedSquares = variants((count) => defineKernel<KernelParams>({
  name: `multiTensorSquaresCarried${count}`,
  inputs: ['carry', ...names('grad', count)],
  outputs: ['partials'],
  writesAll: true,
  reference: squaresHost(count, true),
  webgpu: squaresWgsl(count, true),
}));

const clips = variants((count) => defineKernel<KernelParams>({
  name: `multiTensorClip${count}`,
  inputs: ['partials'],
  updates: names('grad', count),
  outputs: ['norm'],
  writesAll: true,
  reference: clipHost(count, true),
  webgpu: clipWgsl(count, true),
}));

const moreClips = variants((count) => defineKernel<KernelParams>({
  name: `multiTensorClipMore${count}`,
  inputs: ['partials'],
  updates: names('grad', count),
  outputs: [],
  reference: clipHost(count, false),
  webgpu: clipWgsl(count, false),
}));

const sgds = variants((count) => defineKernel<KernelParams>({
  name: `multiTensorSgd${count}`,
  inputs: [],
  updates: Array.from({ length: count }, (_, j) => [`param${j}`, `grad${j}`]).flat(),
  outputs: [],
  reference: sgdHost(count),
  webgpu: sgdWgsl(count),
}));

const adams = variants((count) => defineKernel<KernelParams>({
  name: `multiTensorAdam${count}`,
  inputs: [],
  updates: Array.from({ length: count }, (_, j) => [`param${j}`, `grad${j}`, `mean${j}`, `sq${j}`]).flat(),
  outputs: [],
  reference: adamHost(count),
  webgpu: adamWgsl(count),
}));

// ---------------------------------------------------------------- entry points

/**
 * Scales `grads` in place by min(1, θ/‖g‖), ‖g‖ the L2 norm of all of them together, and returns that
 * norm (before clipping) as a device scalar, without reading anything back. Gradients that are all
 * zero are left as they are. Call it inside `noGrad`.
 *
 * @throws ValueError when `grads` is empty.
 */
export function clipGradients(grads: readonly Tensor[], theta: number): Tensor {
  if (grads.length === 0) throw new ValueError('clipGradients: no gradients to clip');
  const sizes = chunkSizes(bufferBudget(grads[0]!.device));
  let partials: Tensor | null = null;
  for (const chunk of chunked(grads, sizes.squaresFirst, sizes.squaresNext)) {
    const carry: Tensor | null = partials;
    const kernel = carry === null ? squareSums(chunk.length) : carriedSquares(chunk.length);
    [partials] = runKernel(kernel, carry === null ? chunk : [carry, ...chunk], [[PARTIAL_SLOTS]], sizesOf(chunk)) as [Tensor];
    carry?.dispose();
  }
  let norm: Tensor | null = null;
  for (const chunk of chunked(grads, sizes.clipFirst, sizes.clipNext)) {
    const params = { ...sizesOf(chunk), theta };
    // Only the first chunk's kernel writes the norm; the others fold the same partials to the same value.
    if (norm === null) [norm] = runKernel(clips(chunk.length), [partials!], [[]], params, chunk) as [Tensor];
    else runKernel(moreClips(chunk.length), [partials!], [], params, chunk);
  }
  partials!.dispose();
  return norm!;
}

/** Checks that every list in `companions` (gradients, moments) holds one tensor of each parameter's shape. */
function checkShapes(op: string, params: readonly Tensor[], companions: Record<string, readonly Tensor[]>): void {
  for (const [name, list] of Object.entries(companions)) {
    if (list.length !== params.length) throw new ValueError(`${op}: ${params.length} parameters but ${list.length} ${name}`);
    list.forEach((t, i) => {
      if (!sameShape(t.shape, params[i]!.shape)) {
        throw new ShapeError(`${op}: parameter ${i} is ${fmtShape(params[i]!.shape)} but its ${name} entry is ${fmtShape(t.shape)}`);
      }
    });
  }
}

/**
 * SGD for every parameter together: p ← p + alpha·g (alpha = −lr/batchSize), then g ← 0, marked as
 * zeroed for the next backward. Call it inside `noGrad` (the parameters require grad).
 */
export function sgdStep(params: readonly Tensor[], grads: readonly Tensor[], alpha: number): void {
  checkShapes('sgdStep', params, { grads });
  if (params.length === 0) return;
  const chunk = chunkSizes(bufferBudget(params[0]!.device)).sgd;
  for (let start = 0; start < params.length; start += chunk) {
    const ps = params.slice(start, start + chunk);
    const gs = grads.slice(start, start + chunk);
    runKernel(sgds(ps.length), [], [], { alpha, ...sizesOf(ps) }, ps.flatMap((p, j) => [p, gs[j]!]));
    for (const g of gs) g.storage.markZeroed();
  }
}

/**
 * Adam for every parameter together (see adam.ts for the rule): the moments `means` and `squares` and
 * the parameters are updated in place, the gradients zeroed and marked so. Call it inside `noGrad`.
 */
export function adamStep(
  params: readonly Tensor[], grads: readonly Tensor[], means: readonly Tensor[], squares: readonly Tensor[], step: AdamStepParams,
): void {
  checkShapes('adamStep', params, { grads, means, squares });
  if (params.length === 0) return;
  const chunk = chunkSizes(bufferBudget(params[0]!.device)).adam;
  for (let start = 0; start < params.length; start += chunk) {
    const ps = params.slice(start, start + chunk);
    const updated = ps.flatMap((p, j) => [p, grads[start + j]!, means[start + j]!, squares[start + j]!]);
    runKernel(adams(ps.length), [], [], { ...step, ...sizesOf(ps) }, updated);
    for (let j = 0; j < ps.length; j++) grads[start + j]!.storage.markZeroed();
  }
}
