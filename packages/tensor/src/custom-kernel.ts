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
  /** The input buffers, in the order the kernel names them. */
  inputs: Float32Array[];
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
}

/** A host implementation of a kernel. */
export type HostKernel<P extends KernelParams> = (args: HostKernelArgs<P>) => void;

/** A WGSL scalar type a parameter is passed as. */
export type WgslScalar = 'u32' | 'i32' | 'f32';

/**
 * The WebGPU implementation: the body of a 1-D compute shader. The backend writes the rest: each
 * input bound read-only and each output read-write under its own name (`array<f32>`), every
 * parameter listed in `uniforms` as a `let` of its type, and the thread index `idx`; threads at or
 * past `threads` return before the body runs.
 */
export interface WgslKernel<P extends KernelParams> {
  /** The parameters the shader reads, with their WGSL types. */
  uniforms?: { readonly [K in keyof P]?: WgslScalar };
  /** Helper functions, placed before the entry point. */
  functions?: string;
  /** WGSL statements run by thread `idx`. */
  body: string;
  /** How many threads to run; the element count of the first output by default. */
  threads?: (params: P, sizes: readonly number[]) => number;
}

/** A kernel as passed to `defineKernel`. */
export interface KernelSpec<P extends KernelParams> {
  /** Unique name: the op name on the tape, in profiles and in the kernel trace. */
  name: string;
  /** Names of the input buffers (valid WGSL identifiers). */
  inputs: readonly string[];
  /** Names of the output buffers. */
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
const RESERVED = new Set(['p', 'pf', 'pi', 'params', 'Params', 'idx', 'main', 'wid', 'nwg', 'lid', 'negInf', 'nan', 'isNan']);

/**
 * Checks and registers a kernel; run it with `runKernel`. Throws a ValueError for a duplicate name,
 * a buffer name that is not a WGSL identifier, or a differentiable kernel with several outputs.
 */
export function defineKernel<P extends KernelParams>(spec: KernelSpec<P>): CustomKernel<P> {
  const names = [...spec.inputs, ...spec.outputs, ...Object.keys(spec.webgpu?.uniforms ?? {})];
  for (const n of names) {
    if (!IDENTIFIER.test(n) || RESERVED.has(n)) throw new ValueError(`defineKernel ${spec.name}: '${n}' is not a valid buffer or parameter name`);
  }
  if (new Set(names).size !== names.length) throw new ValueError(`defineKernel ${spec.name}: buffer and parameter names must differ`);
  if (spec.outputs.length === 0) throw new ValueError(`defineKernel ${spec.name}: a kernel needs at least one output`);
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
