/**
 * tinytape as a contender: the library's own `trainEpoch` (d2l's `train_epoch_ch8`) with SGD and
 * clipping, so the figure is exactly what `pnpm train` prints, plus WebGPU counters and memory.
 */
import type { Batch } from '@tinytape/data';
import { type LanguageModel, parameters, sgdUpdater, trainEpoch } from '@tinytape/rnn';
import { type Device, type WebGPUBackend, crossEntropy, engine, memory, webgpu } from '@tinytape/tensor';
import type { DeviceName } from './args.ts';
import { type Contender, type EpochResult, type GpuEpochCounters, type MemorySnapshot, errorLine } from './contender.ts';
import { buildModel } from './models.ts';
import type { TrainConfig } from './plan.ts';
import { tokensOf } from './workload.ts';

/** The device for a name, or the reason it cannot be had (no adapter, backend failing to start). */
export async function openDevice(name: DeviceName, cpuDevice: Device): Promise<Device | string> {
  if (name === 'cpu') return cpuDevice;
  try {
    return await webgpu();
  } catch (error) {
    return `webgpu unavailable: ${errorLine(error)}`;
  }
}

/** The WebGPU backend's counters, or null on the CPU. */
export function gpuBackend(device: Device): WebGPUBackend | null {
  return device.kind === 'webgpu' ? (device.backend as unknown as WebGPUBackend) : null;
}

/** Buffers the device holds for live tensors (the engine's tensor count is global, so it is not used here). */
export function deviceMemory(device: Device): MemorySnapshot {
  const d = memory(device).devices[device.kind];
  return { buffers: d?.liveBuffers, bytes: d?.liveBytes, pooledBuffers: d?.pooledBuffers };
}

export function tinytapeContender(config: TrainConfig, vocabSize: number, device: Device, seed: number): Contender {
  const net: LanguageModel = buildModel(config, vocabSize, device, seed);
  const params = parameters(net);
  const updater = sgdUpdater(params, config.lr);
  const gpu = gpuBackend(device);
  return {
    name: `tinytape/${device.kind}`,
    isPeer: false,
    async epoch(batches: readonly Batch[]): Promise<EpochResult> {
      // Drained first, so the epoch's figure holds only its own passes (timing adds no dispatches).
      const timed = gpu !== null && gpu.timing;
      if (timed) await gpu.gpuTime();
      const before = gpu?.stats();
      const liveTensorsBefore = engine.liveTensors;
      const start = performance.now();
      const [perplexity, tokensPerSec] = await trainEpoch(net, batches, crossEntropy, updater, device, false, { clip: config.clip });
      const seconds = (performance.now() - start) / 1000;
      const steps = batches.length;
      let counters: GpuEpochCounters | undefined;
      if (gpu !== null && before !== undefined) {
        const after = gpu.stats();
        const dispatches = after.dispatches - before.dispatches;
        const submits = after.submits - before.submits;
        const readbacks = after.readbacks - before.readbacks;
        counters = {
          dispatches,
          submits,
          readbacks,
          pipelines: after.pipelines - before.pipelines,
          dispatchesPerStep: dispatches / steps,
          submitsPerStep: submits / steps,
          readbacksPerStep: (readbacks - 1) / steps,
        };
        if (timed) {
          const kernel = await gpu.gpuTime();
          counters.kernelMsPerStep = kernel.ms / steps;
          counters.wallMsPerStep = (seconds * 1000) / steps;
        }
      }
      return { perplexity, tokensPerSec, seconds, tokens: tokensOf(batches), steps, gpu: counters, liveTensorsBefore, liveTensorsAfter: engine.liveTensors };
    },
    memory: () => deviceMemory(device),
    async dispose() {
      for (const p of params) p.dispose();
    },
  };
}
