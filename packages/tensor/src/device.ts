import type { Backend } from './backend.ts';
import { createCpuBackend } from './backends/cpu/index.ts';
import { DeviceError } from './errors.ts';

/**
 * Where tensors live and ops run: the CPU, or a WebGPU adapter. Mirrors d2l's `d2l.cpu()`,
 * `d2l.try_gpu()`. A device wraps one backend (a table of kernels).
 */
export class Device {
  constructor(
    readonly kind: 'cpu' | 'webgpu',
    readonly backend: Backend,
    /** e.g. 'cpu' or 'webgpu (llvmpipe)'. */
    readonly description: string,
  ) {}

  /** Submits any queued GPU work (a no-op on the CPU). */
  flush(): void {
    this.backend.flush();
  }

  toString(): string {
    return this.kind;
  }
}

let cpuDevice: Device | null = null;
let gpuDevice: Promise<Device | null> | null = null;

/** The CPU device (plain TypeScript kernels). */
export function cpu(): Device {
  cpuDevice ??= new Device('cpu', createCpuBackend(), 'cpu');
  return cpuDevice;
}

/**
 * The WebGPU device, created on first call and shared afterwards. Throws a DeviceError when no adapter
 * exists. Call `releaseDevices()` when done: a live Dawn device keeps Node running.
 */
export async function webgpu(): Promise<Device> {
  const device = await maybeWebgpu();
  if (device === null) {
    throw new DeviceError(
      'webgpu: no WebGPU adapter found (in Node this needs a Vulkan driver; without a GPU, install Mesa 25 lavapipe)',
    );
  }
  return device;
}

/** The WebGPU device when an adapter exists, otherwise the CPU (d2l's `try_gpu()`). */
export async function tryGpu(): Promise<Device> {
  return (await maybeWebgpu()) ?? cpu();
}

async function maybeWebgpu(): Promise<Device | null> {
  gpuDevice ??= (async () => {
    const { createWebGPUBackend } = await import('./backends/webgpu/index.ts');
    const backend = await createWebGPUBackend();
    if (backend === null) return null;
    const info = backend.adapterInfo;
    const name = info.description || info.device || info.architecture || info.vendor || 'unknown adapter';
    return new Device('webgpu', backend, `webgpu (${name})`);
  })();
  return gpuDevice;
}

/** Destroys the WebGPU device (if one was made) so the process can exit; tensors on it become unusable. */
export async function releaseDevices(): Promise<void> {
  const pending = gpuDevice;
  gpuDevice = null;
  const device = pending === null ? null : await pending;
  device?.backend.destroy();
}
