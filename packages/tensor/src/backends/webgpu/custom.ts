/**
 * Custom kernels (custom-kernel.ts) on WebGPU: the kernel's WGSL body wrapped into a complete 1-D
 * compute shader. Inputs are bound read-only and outputs writable under their own names, in the order
 * the kernel lists them; parameter word 0 is the thread count and the kernel's uniforms follow, each
 * declared as a `let` before the body runs.
 */
import type { CustomKernel, KernelParams, WgslScalar } from '../../custom-kernel.ts';
import { DeviceError } from '../../errors.ts';
import { type GpuBuf, type GpuContext, MAIN_1D, PARAM_WORDS, f32bits, grid1d, i32bits, prelude } from './context.ts';

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

/** The full shader source of `kernel`. */
function sourceOf<P extends KernelParams>(kernel: CustomKernel<P>): string {
  const wgsl = kernel.webgpu!;
  const uniforms = Object.entries(wgsl.uniforms ?? {}) as [string, WgslScalar][];
  const buffers = [
    ...kernel.inputs.map((name) => [name, 'r', 'f32'] as const),
    ...kernel.outputs.map((name) => [name, 'w', 'f32'] as const),
  ];
  const lets = uniforms.map(([name, type], i) => `  let ${name}: ${type} = ${READ_WORD[type](i + 1)};`).join('\n');
  return `${prelude(buffers)}
${wgsl.functions ?? ''}
${MAIN_1D}
  if (idx >= p(0)) { return; }
${lets}
${wgsl.body}
}`;
}

/** Records one dispatch of `kernel`; throws a DeviceError when the kernel has no WGSL version. */
export function runKernel<P extends KernelParams>(
  ctx: GpuContext, kernel: CustomKernel<P>, inputs: GpuBuf[], outputs: GpuBuf[], sizes: number[], params: P,
): void {
  const wgsl = kernel.webgpu;
  if (wgsl === undefined) throw new DeviceError(`${kernel.name}: this kernel has no WebGPU version (KernelSpec.webgpu)`);
  const uniforms = Object.entries(wgsl.uniforms ?? {}) as [string, WgslScalar][];
  if (uniforms.length + 1 > PARAM_WORDS) throw new DeviceError(`${kernel.name}: at most ${PARAM_WORDS - 1} uniforms fit a dispatch`);
  const threads = wgsl.threads?.(params, sizes) ?? sizes[0]!;
  const covers = kernel.writesAll === true;
  ctx.run({
    key: `kernel:${kernel.name}`,
    source: () => sourceOf(kernel),
    params: [threads, ...uniforms.map(([name, type]) => WORD[type](params[name]!))],
    bindings: [
      ...inputs.map((buf) => ({ buf, access: 'r' as const })),
      ...outputs.map((buf, i) => ({ buf, access: 'w' as const, ...(covers ? { covers: sizes[i]! } : {}) })),
    ],
    groups: grid1d(threads),
  });
}
