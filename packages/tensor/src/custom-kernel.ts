/**
 * Kernels defined outside the engine: how another package (or a user) adds an op with its own code for
 * every backend, without touching `Backend`.
 *
 * A kernel names its input and output buffers (all float32) and gives one implementation per backend
 * language: a TypeScript loop over typed arrays for the `reference` backend (and, unless it brings a
 * faster one, for `wasm`), and WGSL for `webgpu`. `runKernel` (ops/custom.ts) checks the tensors,
 * allocates the outputs and dispatches to the device's backend. A kernel with one output may be
 * `differentiable`: it is then recorded on the tape like a built-in op, and its gradient rule is
 * registered with the autograd package under the kernel's name (`registerGradient(name, rule)`).
 *
 * ```ts
 * const cube = defineKernel<{ scale: number }>({
 *   name: 'scaledCube', inputs: ['x'], outputs: ['y'], writesAll: true, differentiable: true,
 *   reference: ({ inputs: [x], outputs: [y], sizes: [n], params }) => {
 *     for (let i = 0; i < n!; i++) y![i] = params.scale * x![i]! ** 3;
 *   },
 *   webgpu: { uniforms: { scale: 'f32' }, body: 'y[idx] = scale * x[idx] * x[idx] * x[idx];' },
 * });
 * const [y] = runKernel(cube, [x], [x.shape], { scale: 2 });
 * ```
 */
import type { UnaryOp } from './backend.ts';
import { ValueError } from './errors.ts';

/** The numbers a kernel is parameterised by (sizes, scalars), by name. */
export type KernelParams = Record<string, number>;

/** What a host (TypeScript or WebAssembly) implementation receives. */
export interface HostKernelArgs<P extends KernelParams> {
  /**
   * The float32 input buffers, in the order the kernel names them. The position of an int32 input
   * (`KernelSpec.intInputs`) holds an empty array; its values are in `ints`.
   */
  inputs: Float32Array[];
  /** The int32 inputs, in the order `KernelSpec.intInputs` names them. */
  ints: Int32Array[];
  /** The buffers the kernel updates in place (`KernelSpec.updates`), in that order. */
  updates: Float32Array[];
  /** The output buffers; each holds exactly as many elements as the matching entry of `sizes`. */
  outputs: Float32Array[];
  /** Element count of each output. */
  sizes: number[];
  params: P;
  /**
   * The backend's own unary kernel. A kernel that applies sigmoid, tanh or exp through it gets
   * exactly the float32 values the backend's separate ops give (vectorised on `wasm`).
   */
  unary(op: UnaryOp, x: Float32Array, out: Float32Array, size: number): void;
  /**
   * The backend's own axpy kernel: y[i] += alpha·x[i] for i < size, rounded once to float32, exactly
   * as `Tensor.axpy_` gives it (vectorised on `wasm`). An optimizer's update through it matches the
   * separate ops bit for bit.
   */
  axpy(y: Float32Array, x: Float32Array, alpha: number, size: number): void;
  /**
   * Sets x[0 .. size) to +0, as `x.fill(0, 0, size)` does, through the backend's own fill (on `wasm`,
   * wasm's memory.fill for arrays in its shared memory, where TypedArray fill is about 10x slower).
   */
  zero(x: Float32Array, size: number): void;
}

/** A host implementation of a kernel. */
export type HostKernel<P extends KernelParams> = (args: HostKernelArgs<P>) => void;

/** A WGSL scalar type a parameter is passed as. */
export type WgslScalar = 'u32' | 'i32' | 'f32';

/** What a WebGPU kernel may tune itself to. */
export interface WgslTarget {
  /** The adapter emulates a GPU on the CPU (lavapipe, SwiftShader): few threads, costly barriers. */
  software: boolean;
}

/**
 * The WebGPU implementation: the body of a compute shader. The backend writes the rest: each input
 * bound read-only (`array<f32>`, or `array<i32>` for `intInputs`), each updated buffer and output
 * read-write, under its own name; every parameter listed in `uniforms` as a `let` of its type; every
 * entry of `constants` as a module-scope `const` of type u32.
 *
 * A 1-D kernel (no `workgroups`) runs `threads` threads of 256 per workgroup; the thread index is
 * `idx`, and threads at or past `threads` return before the body runs. A workgroup kernel (with
 * `workgroups`) runs that many workgroups of `workgroupSize` threads; its body sees the workgroup's
 * index `group` and the thread's index within it `lid`, runs in every thread (so it may call
 * `workgroupBarrier()` in uniform control flow), and may use `var<workgroup>` arrays declared in
 * `functions`, sized by `constants`.
 */
export interface WgslKernel<P extends KernelParams> {
  /** The parameters the shader reads, with their WGSL types. */
  uniforms?: { readonly [K in keyof P]?: WgslScalar };
  /**
   * Values compiled into the shader as `const NAME: u32`, e.g. the size of a workgroup array; one
   * pipeline is built per distinct set of values.
   */
  constants?: (params: P, target: WgslTarget) => Record<string, number>;
  /** Helper functions and module-scope declarations, placed before the entry point. */
  functions?: string;
  /** WGSL statements run by each thread. */
  body: string;
  /** 1-D kernels: how many threads to run; the element count of the first output by default. */
  threads?: (params: P, sizes: readonly number[]) => number;
  /** Workgroup kernels: how many workgroups to run. */
  workgroups?: (params: P, target: WgslTarget) => number;
  /** Workgroup kernels: threads per workgroup (default 256, the most every adapter allows). */
  workgroupSize?: (params: P, target: WgslTarget) => number;
}

/** A kernel as passed to `defineKernel`. */
export interface KernelSpec<P extends KernelParams> {
  /** Unique name: the op name on the tape, in profiles and in the kernel trace. */
  name: string;
  /** Names of the input buffers (valid WGSL identifiers). */
  inputs: readonly string[];
  /** The inputs (by name) that are int32 rather than float32, such as token indices. */
  intInputs?: readonly string[];
  /**
   * Names of buffers the kernel changes in place (an optimizer's parameters): passed to `runKernel`
   * as its `updates` tensors, which must not be recorded for a gradient.
   */
  updates?: readonly string[];
  /** Names of the output buffers (freshly allocated by `runKernel`). */
  outputs: readonly string[];
  /** The kernel writes every element of every output, so they are allocated without zeroing. */
  writesAll?: boolean;
  /**
   * Recorded on the tape so gradients flow through it (one output only); register its rule with
   * autograd's `registerGradient(name, rule)`. Otherwise inputs that need a gradient are refused
   * while recording is on.
   */
  differentiable?: boolean;
  /** The plain loop: what the kernel means, run by the `reference` backend. */
  reference: HostKernel<P>;
  /** A faster host version for the `wasm` backend; `reference` runs there when absent. */
  wasm?: HostKernel<P>;
  /** The WebGPU version; the kernel cannot run on WebGPU without it. */
  webgpu?: WgslKernel<P>;
}

/** A kernel accepted by `defineKernel`: its spec, checked and frozen. */
export type CustomKernel<P extends KernelParams = KernelParams> = Readonly<KernelSpec<P>>;

const kernels = new Map<string, CustomKernel>();

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Names the generated WGSL already uses (backends/webgpu/wgsl.ts and custom.ts). */
const RESERVED = new Set(['p', 'pf', 'pi', 'params', 'Params', 'idx', 'main', 'wid', 'nwg', 'lid', 'group', 'negInf', 'nan', 'isNan']);

/**
 * Checks and registers a kernel; run it with `runKernel`. Throws a ValueError for a duplicate name,
 * a buffer name that is not a WGSL identifier, or a differentiable kernel with several outputs.
 */
export function defineKernel<P extends KernelParams>(spec: KernelSpec<P>): CustomKernel<P> {
  const names = [...spec.inputs, ...(spec.updates ?? []), ...spec.outputs, ...Object.keys(spec.webgpu?.uniforms ?? {})];
  for (const n of names) {
    if (!IDENTIFIER.test(n) || RESERVED.has(n)) throw new ValueError(`defineKernel ${spec.name}: '${n}' is not a valid buffer or parameter name`);
  }
  if (new Set(names).size !== names.length) throw new ValueError(`defineKernel ${spec.name}: buffer and parameter names must differ`);
  if (spec.outputs.length === 0 && (spec.updates ?? []).length === 0) {
    throw new ValueError(`defineKernel ${spec.name}: a kernel needs at least one output or updated buffer`);
  }
  for (const n of spec.intInputs ?? []) {
    if (!spec.inputs.includes(n)) throw new ValueError(`defineKernel ${spec.name}: int input '${n}' is not one of its inputs`);
  }
  if (spec.differentiable === true && (spec.updates ?? []).length > 0) {
    throw new ValueError(`defineKernel ${spec.name}: a kernel that updates buffers in place cannot be differentiable`);
  }
  if (spec.differentiable === true && spec.outputs.length !== 1) {
    throw new ValueError(`defineKernel ${spec.name}: only a kernel with one output can be differentiable`);
  }
  if (kernels.has(spec.name)) throw new ValueError(`defineKernel: a kernel named '${spec.name}' already exists`);
  const kernel = Object.freeze({ ...spec }) as CustomKernel<P>;
  kernels.set(spec.name, kernel as unknown as CustomKernel);
  return kernel;
}

/** Every kernel defined so far (in modules imported so far), in definition order. */
export function customKernels(): CustomKernel[] {
  return [...kernels.values()];
}
