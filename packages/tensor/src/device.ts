import type { Backend } from './backend.ts';
import { createWasmBackend } from './backends/cpu/index.ts';
import { createReferenceBackend } from './backends/reference/index.ts';
import { traceKernels } from './debug-trace.ts';
import { DeviceError, ValueError } from './errors.ts';

/**
 * Which device: `cpu` (the fast CPU backend, `wasm`), `reference` (the plain-loop oracle on the CPU)
 * or `webgpu`.
 */
export type DeviceKind = 'cpu' | 'reference' | 'webgpu';

/**
 * Where tensors live and ops run: the CPU, or a WebGPU adapter. Mirrors d2l's `d2l.cpu()`,
 * `d2l.try_gpu()`. A device wraps one backend (a table of kernels): `cpu()` the `wasm` backend,
 * `reference()` the `reference` one, `webgpu()` the `webgpu` one.
 */
export class Device {
  constructor(
    readonly kind: DeviceKind,
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
let referenceDevice: Device | null = null;
let gpuDevice: Promise<Device | null> | null = null;

/** The CPU device: the `wasm` backend (WebAssembly SIMD kernels, TypeScript where they do not pay). */
export function cpu(): Device {
  cpuDevice ??= new Device('cpu', traceKernels(createWasmBackend()), 'cpu');
  return cpuDevice;
}

/**
 * The reference device: the `reference` backend, every kernel a plain TypeScript loop. Slow, and the
 * definition of what each op computes; the other devices are tested against it.
 */
export function reference(): Device {
  referenceDevice ??= new Device('reference', traceKernels(createReferenceBackend()), 'reference');
  return referenceDevice;
}

/** The names `device()` accepts: each backend's name, and `cpu` for the `wasm` one. */
export const DEVICE_NAMES = ['cpu', 'wasm', 'reference', 'webgpu'] as const;

/**
 * The device a name selects: `cpu` or `wasm` (the same device), `reference`, or `webgpu` (a
 * DeviceError without an adapter). For command lines and configuration files.
 */
export async function device(name: string): Promise<Device> {
  switch (name) {
    case 'cpu':
    case 'wasm':
      return cpu();
    case 'reference':
      return reference();
    case 'webgpu':
      return webgpu();
    default:
      throw new ValueError(`unknown device '${name}': expected one of ${DEVICE_NAMES.join(', ')}`);
  }
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
    return new Device('webgpu', traceKernels(backend), `webgpu (${name})`);
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
