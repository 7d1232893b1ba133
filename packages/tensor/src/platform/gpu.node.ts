// WebGPU in Node: Dawn through the `webgpu` package (a native addon), loaded on first use.

/**
 * The object Dawn's `create()` returned. It must stay referenced while any adapter or device lives: if
 * it is garbage-collected, the process dies with SIGSEGV (or a pthread assertion on a fresh machine).
 * A module-level variable alone has not always been enough, so it is also pinned on globalThis.
 */
let dawnGpu: GPU | null = null;
const PIN = Symbol.for('tinytape.dawnGpu');

/**
 * Dawn's GPU object, created once per process; null when the `webgpu` package cannot be loaded (not
 * installed, or no prebuilt binary for this platform). Also installs `GPUBufferUsage` and the other
 * WebGPU globals for code that expects the browser's.
 */
export async function platformGpu(): Promise<GPU | null> {
  if (dawnGpu !== null) return dawnGpu;
  let mod: { create: (flags: string[]) => GPU; globals: object };
  try {
    mod = (await import('webgpu')) as unknown as typeof mod;
  } catch {
    return null;
  }
  if ((globalThis as { GPUBufferUsage?: unknown }).GPUBufferUsage === undefined) Object.assign(globalThis, mod.globals);
  dawnGpu = mod.create([]);
  (globalThis as Record<symbol, unknown>)[PIN] = dawnGpu;
  return dawnGpu;
}
