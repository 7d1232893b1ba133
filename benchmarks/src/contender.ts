/**
 * A contender trains one model, one epoch at a time, on batches it is handed: tinytape on a device,
 * or a peer library on one of its backends. The interleaving runner only sees this interface.
 */
import type { Batch } from '@tinytape/data';

export interface EpochResult {
  perplexity: number;
  /** d2l's figure: tokens of the epoch / wall time of the epoch (the epoch's one readback included). */
  tokensPerSec: number;
  seconds: number;
  tokens: number;
  /** Minibatches (training steps) in the epoch. */
  steps: number;
  /** WebGPU counters over this epoch (tinytape on WebGPU only). */
  gpu?: GpuEpochCounters;
  /**
   * The library's live-tensor count just before and just after this epoch. The count is global to the
   * library, but nothing else runs during the epoch, so the difference is this contender's.
   */
  liveTensorsBefore?: number;
  liveTensorsAfter?: number;
}

/** What the WebGPU backend counted over one epoch, and per training step. */
export interface GpuEpochCounters {
  dispatches: number;
  submits: number;
  readbacks: number;
  /** Pipelines compiled during the epoch (0 once warm: every shader is cached). */
  pipelines: number;
  dispatchesPerStep: number;
  submitsPerStep: number;
  /** Readbacks inside the steps: the epoch's total less the one loss readback at its end. Must be 0. */
  readbacksPerStep: number;
  /**
   * With `--gpu-timing` on an adapter with timestamp queries: GPU time of the epoch's compute passes
   * per step (timestamp queries), and the epoch's wall time per step to set it against.
   */
  kernelMsPerStep?: number;
  wallMsPerStep?: number;
}

/**
 * What one contender holds on its device, in whatever units its library reports: tinytape's backend
 * buffers (per device), TensorFlow.js's data buffers of the contender's backend. jax-js reports none.
 */
export interface MemorySnapshot {
  /** Device buffers held for live tensors. */
  buffers?: number;
  bytes?: number;
  /** Free buffers kept in a pool for reuse (tinytape WebGPU). */
  pooledBuffers?: number;
}

export interface Contender {
  /** e.g. 'tinytape/cpu', 'tfjs-wasm'. */
  readonly name: string;
  readonly isPeer: boolean;
  /** One training epoch over `batches` (state carried over between batches, as d2l's sequential iterator wants). */
  epoch(batches: readonly Batch[]): Promise<EpochResult>;
  memory(): MemorySnapshot;
  /** Frees everything the contender holds. */
  dispose(): Promise<void>;
}

/** Everything up to the first line of an error, for one-line notes in the report. */
export function errorLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.slice(0, 300);
}
