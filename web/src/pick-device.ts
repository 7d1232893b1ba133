/*
 * The worker's choice of device, with the reason said in words: WebGPU when asked for (or `auto`) and
 * the browser gives an adapter; otherwise the wasm CPU backend, saying what was missing.
 */
import { type Device, type WebGPUBackend, cpu, webgpu } from '@tinytape/tensor';
import type { DeviceChoice } from './config.ts';
import type { DeviceReport } from './protocol.ts';

/** What a worker's global scope offers that the choice looks at. */
interface WorkerScope {
  crossOriginIsolated?: boolean;
  navigator: { gpu?: GPU; hardwareConcurrency?: number };
}

/**
 * The threads the wasm backend uses here: two when this worker may block on shared memory (the page is
 * cross-origin isolated) and the machine has two cores, else one. Mirrors the tensor package's rule.
 */
export function cpuThreads(): { threads: number; why: string } {
  const scope = globalThis as unknown as WorkerScope;
  if (scope.crossOriginIsolated !== true) {
    return { threads: 1, why: 'the page is not cross-origin isolated (serve it with COOP/COEP headers, as pnpm web does)' };
  }
  if ((scope.navigator.hardwareConcurrency ?? 1) < 2) return { threads: 1, why: 'the browser reports one core' };
  return { threads: 2, why: 'the page is cross-origin isolated' };
}

/** A device and the report the page shows about it. */
export interface PickedDevice {
  device: Device;
  report: DeviceReport;
}

/**
 * Picks the device for `choice`; never throws: a WebGPU that cannot start falls back to the CPU, saying
 * why. `auto` also passes over a fallback adapter (a software emulation), which `webgpu` takes.
 */
export async function pickDevice(choice: DeviceChoice): Promise<PickedDevice> {
  const { threads, why } = cpuThreads();
  const onCpu = (reason: string): PickedDevice => ({
    device: cpu(),
    report: { kind: 'cpu', adapter: null, threads, reason: `${reason}; the wasm CPU backend runs on ${threads} thread${threads > 1 ? 's' : ''} (${why})` },
  });
  if (choice === 'cpu') return onCpu('device=cpu was asked for');
  const asked = choice === 'webgpu' ? 'device=webgpu was asked for, but ' : '';
  const gpu = (globalThis as unknown as WorkerScope).navigator.gpu;
  if (gpu === undefined) return onCpu(`${asked}this browser has no WebGPU in workers (navigator.gpu is missing)`);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (error) {
    return onCpu(`${asked}navigator.gpu.requestAdapter() failed: ${(error as Error).message}`);
  }
  if (adapter === null) {
    return onCpu(`${asked}navigator.gpu gave no WebGPU adapter (WebGPU is switched off or this GPU is blocked; Chromium on Linux needs --enable-unsafe-webgpu)`);
  }
  // `info` is recent (older browsers lack it), and isFallbackAdapter moved onto it from the adapter.
  const flags = adapter as { info?: { isFallbackAdapter?: boolean }; isFallbackAdapter?: boolean };
  const fallback = flags.info?.isFallbackAdapter === true || flags.isFallbackAdapter === true;
  if (fallback && choice === 'auto') {
    // SwiftShader and the like emulate a GPU on the CPU, several times slower than the wasm backend.
    return onCpu('device=auto, and the browser\'s WebGPU adapter is a fallback adapter (a CPU emulation of a GPU, slower than the wasm backend; device=webgpu uses it anyway)');
  }
  let device: Device;
  try {
    device = await webgpu();
  } catch (error) {
    return onCpu(`${asked}WebGPU did not start: ${(error as Error).message}`);
  }
  return {
    device,
    report: {
      kind: 'webgpu',
      adapter: describeAdapter((device.backend as WebGPUBackend).adapterInfo, fallback),
      threads,
      reason: choice === 'webgpu' ? 'device=webgpu was asked for and the browser gave an adapter' : 'device=auto, and the browser gave a WebGPU adapter',
    },
  };
}

/**
 * The adapter in words. Browsers often leave `description` empty for privacy, so vendor and
 * architecture stand in; a fallback adapter is a CPU emulation (SwiftShader) and slow.
 */
export function describeAdapter(info: { vendor: string; architecture: string; device: string; description: string }, fallback: boolean): string {
  const parts = [info.description || [info.vendor, info.architecture, info.device].filter(Boolean).join(' ') || 'unnamed adapter'];
  if (fallback) parts.push('(fallback adapter: a CPU emulation of a GPU)');
  return parts.join(' ');
}
