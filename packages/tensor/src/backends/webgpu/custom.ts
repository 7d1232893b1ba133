/**
 * Custom kernels (custom-kernel.ts) on WebGPU: the kernel's WGSL body wrapped into a complete compute
 * shader. Inputs are bound read-only, then updated buffers and outputs writable, under their own names,
 * in the order the kernel lists them; parameter word 0 is the thread count (1-D kernels) and the
 * kernel's uniforms follow, each declared as a `let` before the body runs. A workgroup kernel gets its
 * own workgroup size and count instead of the 1-D grid (see `WgslKernel`).
 */
import type { CustomKernel, KernelParams, WgslScalar, WgslTarget } from '../../custom-kernel.ts';
import { DeviceError } from '../../errors.ts';
import { type GpuBuf, type GpuContext, MAIN_1D, PARAM_WORDS, f32bits, gridFor, grid1d, i32bits, prelude } from './context.ts';

/** WGSL that reads parameter word `i` as `type`. */
const READ_WORD: Record<WgslScalar, (i: number) => string> = {
  u32: (i) => `p(${i}u)`,
  i32: (i) => `pi(${i}u)`,
  f32: (i) => `pf(${i}u)`,
};

/** The parameter word of `value` passed as `type`. */
const WORD: Record<WgslScalar, (value: number) => number> = {
  u32: (v) => v >>> 0,
  i32: (v) => i32bits(Math.trunc(v) | 0),
  f32: f32bits,
};

/** The most threads per workgroup every WebGPU adapter supports (maxComputeInvocationsPerWorkgroup). */
const MAX_WORKGROUP = 256;

/** The full shader source of `kernel`, with `constants` compiled in and `size` threads per workgroup. */
function sourceOf<P extends KernelParams>(kernel: CustomKernel<P>, constants: Record<string, number>, size: number): string {
  const wgsl = kernel.webgpu!;
  const uniforms = Object.entries(wgsl.uniforms ?? {}) as [string, WgslScalar][];
  const ints = new Set(kernel.intInputs ?? []);
  const buffers = [
    ...kernel.inputs.map((name) => [name, 'r', ints.has(name) ? 'i32' : 'f32'] as const),
    ...(kernel.updates ?? []).map((name) => [name, 'rw', 'f32'] as const),
    ...kernel.outputs.map((name) => [name, 'w', 'f32'] as const),
  ];
  const consts = Object.entries(constants).map(([name, v]) => `const ${name}: u32 = ${v >>> 0}u;`).join('\n');
  const lets = uniforms.map(([name, type], i) => `  let ${name}: ${type} = ${READ_WORD[type](i + 1)};`).join('\n');
  const entry = wgsl.workgroups === undefined
    ? `${MAIN_1D}
  if (idx >= p(0)) { return; }`
    : `@compute @workgroup_size(${size})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let group = wid.y * nwg.x + wid.x;`;
  return `${prelude(buffers)}
${consts}
${wgsl.functions ?? ''}
${entry}
${lets}
${wgsl.body}
}`;
}

/**
 * Records one dispatch of `kernel`; throws a DeviceError when the kernel has no WGSL version. `outputs`
 * holds the updated buffers first, then the new outputs (ops/custom.ts).
 */
export function runKernel<P extends KernelParams>(
  ctx: GpuContext, target: WgslTarget, kernel: CustomKernel<P>, inputs: GpuBuf[], outputs: GpuBuf[], sizes: number[], params: P,
): void {
  const wgsl = kernel.webgpu;
  if (wgsl === undefined) throw new DeviceError(`${kernel.name}: this kernel has no WebGPU version (KernelSpec.webgpu)`);
  const uniforms = Object.entries(wgsl.uniforms ?? {}) as [string, WgslScalar][];
  if (uniforms.length + 1 > PARAM_WORDS) throw new DeviceError(`${kernel.name}: at most ${PARAM_WORDS - 1} uniforms fit a dispatch`);
  const buffers = inputs.length + outputs.length;
  const most = ctx.device.limits.maxStorageBuffersPerShaderStage;
  if (buffers > most) {
    throw new DeviceError(`${kernel.name}: binds ${buffers} storage buffers, but this WebGPU device allows ${most} per dispatch`);
  }
  const constants = wgsl.constants?.(params, target) ?? {};
  const updated = kernel.updates?.length ?? 0;
  const outSizes = sizes.slice(updated);
  const grouped = wgsl.workgroups !== undefined;
  const size = grouped ? (wgsl.workgroupSize?.(params, target) ?? MAX_WORKGROUP) : MAX_WORKGROUP;
  if (!Number.isInteger(size) || size < 1 || size > MAX_WORKGROUP) {
    throw new DeviceError(`${kernel.name}: workgroupSize must be 1 to ${MAX_WORKGROUP}, got ${size}`);
  }
  const threads = grouped ? 0 : (wgsl.threads?.(params, outSizes) ?? outSizes[0] ?? 0);
  const covers = kernel.writesAll === true;
  const constKey = Object.entries(constants).map(([k, v]) => `${k}=${v}`).join(',');
  ctx.run({
    key: `kernel:${kernel.name}${grouped ? `@${size}` : ''}${constKey ? `:${constKey}` : ''}`,
    source: () => sourceOf(kernel, constants, size),
    params: [threads, ...uniforms.map(([name, type]) => WORD[type](params[name]!))],
    bindings: [
      ...inputs.map((buf) => ({ buf, access: 'r' as const })),
      ...outputs.map((buf, i) =>
        i < updated ? { buf, access: 'rw' as const } : { buf, access: 'w' as const, ...(covers ? { covers: sizes[i]! } : {}) },
      ),
    ],
    groups: grouped ? gridFor(wgsl.workgroups!(params, target)) : grid1d(threads),
  });
}
