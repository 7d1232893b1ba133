/**
 * The machinery under every WebGPU kernel. Kernel files only describe *what* to dispatch
 * (`GpuContext.run`); this file decides *when* it reaches the GPU, and composes the parts that each
 * do one job: buffer-pool.ts (storage buffers, pooled by size class), bind-groups.ts (the bind-group
 * cache), pipelines.ts (compiled pipelines and layouts), readback.ts (staging buffers for reads) and
 * wgsl.ts (what every shader source shares).
 *
 * - Dispatches are recorded into one command encoder and one compute pass, and submitted every
 *   `maxBatch` dispatches, on `flush()` and on `read()`.
 * - Each dispatch's parameters (sizes, strides, scalars) take one 256-byte slot of a CPU-side staging
 *   array; the whole arena is written to a uniform buffer with one `queue.writeBuffer` right before the
 *   batch is submitted. (writeBuffer runs on the queue timeline at once, i.e. before commands still
 *   sitting in an unsubmitted encoder, so it must never target a buffer those commands use.) The slot
 *   is picked with a dynamic offset, so a bind group depends only on the storage buffers and is cached.
 * - `upload()` writes only into buffers no unsubmitted command touches (fresh or pooled ones).
 * - A buffer bound read-only and writable in the same dispatch (e.g. unary(x, x)) is read through a
 *   temporary copy, since WebGPU forbids that aliasing.
 * - A pooled buffer handed out zeroed is zeroed lazily, by a fill recorded before the first kernel that
 *   does not overwrite it whole.
 * - With `timing` on, each compute pass writes timestamps (timing.ts); off, the timer is null and
 *   nothing else is recorded.
 */
import { DeviceError } from '../../errors.ts';
import { BindGroupCache, type Binding } from './bind-groups.ts';
import { BufferPool, GpuBuf, USAGE } from './buffer-pool.ts';
import { GpuFaults } from './faults.ts';
import { PipelineCache } from './pipelines.ts';
import { Readback } from './readback.ts';
import { type GpuTime, PassTimer, type TimingStats } from './timing.ts';
import { copyWordsSource, fillSource, grid1d } from './wgsl.ts';

// Kernel files import everything they need from this module.
export { GpuBuf, sizeClass } from './buffer-pool.ts';
export type { Binding } from './bind-groups.ts';
export { type Access, MAIN_1D, PARAM_WORDS, WG, f32bits, fillSource, grid1d, gridFor, i32bits, prelude, valueBits } from './wgsl.ts';

/** Bytes between two uniform slots (minUniformBufferOffsetAlignment is at most 256). */
const SLOT_BYTES = 256;

export interface Dispatch {
  /** Pipeline cache key: op plus every variant that changes the shader source. */
  key: string;
  /** Builds the WGSL source, called once per key. */
  source: () => string;
  /** Parameter words (at most PARAM_WORDS), written into this dispatch's uniform slot. */
  params: ArrayLike<number>;
  bindings: Binding[];
  /** Workgroup counts (x, y, z). */
  groups: readonly [number, number, number];
}

export interface Stats {
  dispatches: number;
  submits: number;
  readbacks: number;
  pipelines: number;
  /** Bind groups created (cache misses); a repeated training step should add none. */
  bindGroups: number;
}

export interface ContextOptions {
  /** Dispatches per submitted command buffer (default 128). */
  maxBatch?: number;
  /** Pooled free bytes kept at most; buffers beyond are destroyed (default 512 MiB). */
  maxPooledBytes?: number;
  /**
   * Time every compute pass with timestamp queries (`gpuTime()`). The device must have been created
   * with the 'timestamp-query' feature; createWebGPUBackend sees to that.
   */
  timing?: boolean;
}

export class GpuContext {
  readonly queue: GPUQueue;
  private readonly maxBatch: number;

  // Command recording.
  private batchId = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private slots = 0;
  private readonly arena: GPUBuffer;
  private readonly staging: Uint32Array;
  /**
   * The dynamic offset of setBindGroup, as a plain array reused for every dispatch: dawn.node converts
   * it faster than the (Uint32Array, start, length) form (about 0.4 µs less per call in a micro-benchmark
   * on lavapipe).
   */
  private readonly offsets = [0];
  /** The pipeline last set on the open pass (setPipeline is skipped when it repeats). */
  private lastPipeline: GPUComputePipeline | null = null;

  private readonly pool: BufferPool;
  private readonly pipelines: PipelineCache;
  private readonly groups: BindGroupCache;
  private readonly readback: Readback;
  /** Null unless timing was asked for: then every pass is timed. */
  private readonly timer: PassTimer | null;

  private readonly calls = { dispatches: 0, submits: 0, readbacks: 0 };
  destroyed = false;
  /** Device loss and out-of-memory reports, raised by the next use of the device (see faults.ts). */
  readonly faults = new GpuFaults();

  constructor(
    readonly device: GPUDevice,
    opts: ContextOptions = {},
  ) {
    this.queue = device.queue;
    this.maxBatch = opts.maxBatch ?? 128;
    // One slot per dispatch, plus headroom for the zero fills and alias copies a dispatch may add.
    const slots = this.maxBatch + 16;
    this.arena = device.createBuffer({ size: slots * SLOT_BYTES, usage: USAGE.UNIFORM | USAGE.COPY_DST });
    this.staging = new Uint32Array((slots * SLOT_BYTES) / 4);
    const batch = this;
    this.pool = new BufferPool(device, this.faults, {
      get batchId() {
        return batch.batchId;
      },
      get recording() {
        return batch.encoder !== null;
      },
      submit: () => this.submit(),
    }, opts.maxPooledBytes ?? 512 * 1024 * 1024);
    this.pipelines = new PipelineCache(device);
    this.groups = new BindGroupCache(device, this.pipelines, this.arena);
    this.readback = new Readback(device, this.faults);
    this.timer = opts.timing === true ? new PassTimer(device, this.faults) : null;
  }

  /** Whether compute passes are timed (see `gpuTime`). */
  get timing(): boolean {
    return this.timer !== null;
  }

  /** The timer's own counters (its resolves are not `readbacks`), or null when timing is off. */
  get timingCounters(): TimingStats | null {
    return this.timer === null ? null : { ...this.timer.stats };
  }

  /** GPU time of the passes since the last call (see PassTimer.take); submits the open batch first. */
  async gpuTime(): Promise<GpuTime> {
    this.check();
    if (this.timer === null) throw new DeviceError('webgpu: gpuTime() needs a backend created with timing on (and an adapter with timestamp-query)');
    this.submit();
    return this.timer.take();
  }

  /** Cumulative counters: kernels dispatched, command buffers submitted, readbacks, pipelines, bind groups. */
  get counters(): Stats {
    return { ...this.calls, pipelines: this.pipelines.compiled, bindGroups: this.groups.created };
  }

  get liveBuffers(): number {
    return this.pool.liveBuffers;
  }
  get liveBytes(): number {
    return this.pool.liveBytes;
  }
  get pooledBuffers(): number {
    return this.pool.pooledBuffers;
  }
  get pooledBytes(): number {
    return this.pool.pooledBytes;
  }

  // ---------------------------------------------------------------- buffers

  /**
   * A buffer of `size` elements; zeros unless `zero` is false (the caller overwrites it at once).
   * `forUpload` buffers are never ones the unsubmitted batch still uses (see buffer-pool.ts).
   */
  alloc(size: number, zero = true, forUpload = false): GpuBuf {
    this.check();
    return this.pool.alloc(size, zero, forUpload);
  }

  /** A buffer holding `data`. */
  upload(data: ArrayBufferView & { length: number }): GpuBuf {
    const buf = this.alloc(data.length, false, true);
    // Safe: `buf` is fresh or pooled, so no unsubmitted command touches it.
    if (data.byteLength > 0) this.queue.writeBuffer(buf.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  free(buf: GpuBuf): void {
    if (this.destroyed) return;
    this.pool.free(buf);
  }

  /** Copies `size` 32-bit words of `buf` to the host, submitting everything recorded before. */
  async read(buf: GpuBuf, size: number): Promise<ArrayBuffer> {
    this.check();
    const bytes = size * 4;
    if (bytes === 0) return new ArrayBuffer(0);
    if (buf.needsZero) return new ArrayBuffer(bytes);
    const out = this.readback.read(
      buf,
      bytes,
      (copy) => {
        const encoder = this.beginEncoder();
        this.endPass();
        copy(encoder);
      },
      () => {
        this.submit();
        this.calls.readbacks++;
      },
    );
    return out;
  }

  // ---------------------------------------------------------------- dispatch

  /** Records one compute dispatch (submitted later, see the file comment). */
  run(d: Dispatch): void {
    this.check();
    const [gx, gy, gz] = d.groups;
    if (gx === 0 || gy === 0 || gz === 0) return;
    const bindings = d.bindings;
    // Lazy zeroing of pooled buffers.
    for (const b of bindings) {
      if (!b.buf.needsZero) continue;
      if (b.access === 'w' && (b.covers ?? 0) >= b.buf.size) b.buf.needsZero = false;
      else this.zero(b.buf);
    }
    // A buffer bound both read-only and writable in one dispatch is a validation error: read a copy.
    // (Plain loops, not list.some(): this runs for every binding of every dispatch.)
    let temps: GpuBuf[] | null = null;
    let list = bindings;
    for (let i = 0; i < list.length; i++) {
      const b = list[i]!;
      if (b.access !== 'r') continue;
      let aliased = false;
      for (let j = 0; j < list.length && !aliased; j++) aliased = list[j]!.access !== 'r' && list[j]!.buf.buffer === b.buf.buffer;
      if (!aliased) continue;
      const tmp = this.alloc(b.buf.bytes / 4, false);
      this.copyWords(b.buf, tmp, b.buf.bytes / 4);
      if (list === bindings) list = bindings.slice();
      list[i] = { buf: tmp, access: 'r' };
      (temps ??= []).push(tmp);
    }
    this.record(d.key, d.source, d.params, list, gx, gy, gz);
    if (temps !== null) for (const t of temps) this.free(t);
    if (this.slots >= this.maxBatch) this.submit();
  }

  private record(
    key: string,
    source: () => string,
    params: ArrayLike<number>,
    bindings: Binding[],
    gx: number,
    gy: number,
    gz: number,
  ): void {
    if (this.slots >= this.maxBatch + 16) this.submit();
    const pipeline = this.pipelines.pipeline(key, source, bindings);
    this.beginEncoder();
    let pass = this.pass;
    if (pass === null) {
      pass = this.pass = this.encoder!.beginComputePass(this.timer === null ? undefined : { timestampWrites: this.timer.writes() });
      this.lastPipeline = null;
    }
    const slot = this.slots++;
    const base = (slot * SLOT_BYTES) / 4;
    const n = params.length;
    for (let i = 0; i < n; i++) this.staging[base + i] = params[i]!;
    const group = this.groups.groupFor(bindings, this.batchId);
    if (pipeline !== this.lastPipeline) {
      pass.setPipeline(pipeline);
      this.lastPipeline = pipeline;
    }
    this.offsets[0] = slot * SLOT_BYTES;
    pass.setBindGroup(0, group, this.offsets);
    pass.dispatchWorkgroups(gx, gy, gz);
    this.calls.dispatches++;
  }

  /** Zero-fills a pooled buffer before its first partial use. */
  private zero(buf: GpuBuf): void {
    buf.needsZero = false;
    this.record('fill', fillSource, [buf.size, 0], [{ buf, access: 'w' }], ...grid1d(buf.size));
  }

  /** dst[i] = src[i] for i < words (used to break read/write aliasing). */
  private copyWords(src: GpuBuf, dst: GpuBuf, words: number): void {
    this.record('copyWords', copyWordsSource, [words], [{ buf: src, access: 'r' }, { buf: dst, access: 'w' }], ...grid1d(words));
  }

  private beginEncoder(): GPUCommandEncoder {
    return (this.encoder ??= this.device.createCommandEncoder());
  }

  private endPass(): void {
    if (this.pass !== null) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Submits the recorded batch: uniform arena first, then the command buffer; then recycles pending frees. */
  submit(): void {
    if (this.encoder === null || this.destroyed) return;
    this.endPass();
    if (this.slots > 0) this.queue.writeBuffer(this.arena, 0, this.staging.buffer, 0, this.slots * SLOT_BYTES);
    // A full query set is resolved by the commands of this batch (after its pass), not a submit of its own.
    const collect = this.timer?.full === true ? this.timer.resolve(this.encoder) : null;
    this.queue.submit([this.encoder.finish()]);
    this.calls.submits++;
    collect?.();
    this.encoder = null;
    this.slots = 0;
    this.batchId++;
    this.pool.releasePending();
    // Cached bind groups may name a buffer the trim destroyed.
    if (this.pool.trim()) this.groups.drop();
  }

  // ---------------------------------------------------------------- lifetime

  private check(): void {
    this.faults.throwIfFaulted();
    if (this.destroyed) throw new DeviceError('webgpu: the device was released (releaseDevices() or destroy()); create tensors on a new one');
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.encoder = null;
    this.pass = null;
    this.pool.clear();
    this.readback.clear();
    this.pipelines.clear();
    this.groups.clear();
    this.timer?.destroy();
    this.device.destroy();
  }
}
