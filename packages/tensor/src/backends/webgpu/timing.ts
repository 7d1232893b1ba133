/**
 * GPU time of the compute passes, from WebGPU timestamp queries (the adapter's 'timestamp-query'
 * feature). Opt-in: `WebGPUBackendOptions.timing` or `TINYTAPE_GPU_TIMING=1`; when off, no object of
 * this file exists and the context records exactly what it records without it.
 *
 * - Every compute pass gets two slots of one query set (`timestampWrites`: its beginning and its end).
 * - Slots are resolved only when the set is full or when the total is asked for, not at each submit:
 *   resolveQuerySet's destination offset must be a multiple of 256 bytes, so resolving pass by pass
 *   would need one resolve buffer region per pass. The resolve and the copy into a MAP_READ buffer are
 *   recorded into the encoder being submitted, after its pass has ended, so a full set adds commands
 *   but no submit.
 * - The mapped values are summed asynchronously; a query slot is written again only by passes
 *   submitted after the resolve that read it, and queue order keeps those apart.
 * - These copies are not `readbacks` (the bench asserts none per training step); they are counted in
 *   `TimingStats`.
 */
import type { GpuFaults } from './faults.ts';

/** GPUBufferUsage and GPUMapMode bits (the globals are absent in Node before `webgpu` is loaded). */
const MAP_READ = 0x1;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const QUERY_RESOLVE = 0x200;
const MAP_READ_MODE = 0x1;

/** What `WebGPUBackend.gpuTime()` returns: GPU time of the passes that ended since the last call. */
export interface GpuTime {
  /** Compute passes timed. */
  passes: number;
  /** Their summed duration (end − beginning timestamps), in milliseconds. */
  ms: number;
}

/** Counters of the timing machinery itself, apart from the context's. */
export interface TimingStats {
  /** Query-set resolves copied back to the host. */
  readbacks: number;
  /** Command buffers submitted only to resolve (by `gpuTime()` with an otherwise empty batch). */
  submits: number;
  /** Passes left untimed because the query set was full (0 unless a batch holds more passes than slots). */
  untimed: number;
}

/** The timestamp query set of one device and the running total of the passes it timed. */
export class PassTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolveBuffer: GPUBuffer;
  /** MAP_READ buffers not being mapped, reused (creating one per resolve would cost more than the copy). */
  private readonly free: GPUBuffer[] = [];
  /** Reads in flight; `total()` waits for them. */
  private readonly pending = new Set<Promise<void>>();
  /** Passes given slots since the last resolve. */
  private used = 0;
  private passes = 0;
  private nanos = 0;
  private failure: unknown = null;
  readonly stats: TimingStats = { readbacks: 0, submits: 0, untimed: 0 };

  constructor(
    private readonly device: GPUDevice,
    private readonly faults: GpuFaults,
    /** Passes per query set (two slots each). */
    private readonly capacity = 256,
  ) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: 2 * capacity });
    this.resolveBuffer = device.createBuffer({ size: 16 * capacity, usage: QUERY_RESOLVE | COPY_SRC });
  }

  /** The timestamp writes for the next compute pass, or undefined when every slot is taken. */
  writes(): GPUComputePassTimestampWrites | undefined {
    if (this.used >= this.capacity) {
      this.stats.untimed++;
      return undefined;
    }
    const i = this.used++;
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Whether the set is full, so the encoder about to be submitted should `resolve` into it. */
  get full(): boolean {
    return this.used >= this.capacity;
  }

  /**
   * Records the resolve of every used slot, and its copy to a host-readable buffer, into `encoder`
   * (whose passes have ended). Returns the function to call once the encoder is submitted.
   */
  resolve(encoder: GPUCommandEncoder): () => void {
    const slots = 2 * this.used;
    const bytes = 8 * slots;
    const staging = this.free.pop() ?? this.device.createBuffer({ size: 16 * this.capacity, usage: MAP_READ | COPY_DST });
    encoder.resolveQuerySet(this.querySet, 0, slots, this.resolveBuffer, 0);
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, staging, 0, bytes);
    this.used = 0;
    return () => this.collect(staging, bytes);
  }

  /** Maps `staging` once the GPU is done with it and adds its pairs to the running total. */
  private collect(staging: GPUBuffer, bytes: number): void {
    this.stats.readbacks++;
    const read = this.faults
      .guard(staging.mapAsync(MAP_READ_MODE, 0, bytes), 'reading GPU timestamps')
      .then(() => {
        const t = new BigInt64Array(staging.getMappedRange(0, bytes));
        for (let i = 0; i + 1 < t.length; i += 2) {
          // Timestamps may be quantized (or, rarely, reordered) by the implementation: a pass that
          // appears to end before it began counts as zero time.
          const d = Number(t[i + 1]! - t[i]!);
          this.nanos += d > 0 ? d : 0;
          this.passes++;
        }
        staging.unmap();
        this.free.push(staging);
      })
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => this.pending.delete(read));
    this.pending.add(read);
  }

  /**
   * The total since the last call, reset: resolves the slots not yet resolved (in a command buffer of
   * their own, counted in `stats.submits`, not the context's) and waits for every read in flight.
   * Call it with no batch open, so that every timed pass has been submitted.
   */
  async take(): Promise<GpuTime> {
    if (this.used > 0) {
      const encoder = this.device.createCommandEncoder();
      const collect = this.resolve(encoder);
      this.device.queue.submit([encoder.finish()]);
      this.stats.submits++;
      collect();
    }
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    if (this.failure !== null) {
      const error = this.failure;
      this.failure = null;
      throw error;
    }
    const out = { passes: this.passes, ms: this.nanos / 1e6 };
    this.passes = 0;
    this.nanos = 0;
    return out;
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolveBuffer.destroy();
    for (const b of this.free) b.destroy();
    this.free.length = 0;
  }
}
