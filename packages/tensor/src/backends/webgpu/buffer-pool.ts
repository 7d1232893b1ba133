/**
 * Device buffers for tensors, pooled by size class.
 *
 * - `free()` puts a buffer straight back in the pool unless a not-yet-submitted command uses it; then it
 *   waits in `pending` until that batch is submitted (later commands are queue-ordered after it, so
 *   re-use is then always safe). A pending buffer may still be handed out by `alloc()` within the same
 *   batch: kernels recorded later in the same encoder run after the earlier ones that read it. Only an
 *   upload, whose writeBuffer would jump ahead of the unsubmitted commands, must never get one.
 * - `alloc()` hands out the free buffer with the lowest id (pool and pending together), so which buffer
 *   an allocation gets depends only on which buffers are free, not on the order they were freed in or
 *   on where a submit fell. Two identical training steps therefore get the same buffers in the same
 *   order, and from the second or third on they find every bind group in the cache (bind-groups.ts).
 *   With the LIFO reuse this replaced, the buffers came back permuted each step, and half to three
 *   quarters of every step's dispatches created a new bind group (about 30 µs each on an H100 host).
 *   An upload takes the lowest id too: when that buffer is still pending, the batch is submitted first.
 * - A pooled buffer handed out zeroed is zeroed lazily (`needsZero`): the zero fill is skipped when
 *   the first kernel that touches it overwrites it whole (the usual case: `out` of an op).
 */
import { GpuFaults } from './faults.ts';
import { type FreeList, freeList } from './free-list.ts';

/** GPUBufferUsage values, so we do not depend on globals being installed. */
export const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;

const MIN_BUFFER_BYTES = 16;

/** A device buffer handed out to tensors. `size` is the element count asked for; `bytes` what it holds. */
export class GpuBuf {
  /** Id of the last batch whose commands use this buffer. */
  usedIn = -1;
  /** Pooled buffer whose old contents must be zeroed before anything reads it. */
  needsZero = false;
  constructor(
    readonly buffer: GPUBuffer,
    /** Unique id of `buffer` (bind-group cache key). */
    readonly id: number,
    readonly bytes: number,
    readonly size: number,
  ) {}
}

/** Rounds a byte count up to its pool size class: powers of two up to 64 KiB, then steps of 1/8 of a power of two. */
export function sizeClass(bytes: number): number {
  const b = Math.max(MIN_BUFFER_BYTES, bytes);
  const p = 2 ** Math.ceil(Math.log2(b));
  if (p <= 65536) return p;
  const step = p / 16; // between p/2 and p: steps of p/16 (6.25% .. 12.5% overhead)
  return Math.ceil(b / step) * step;
}

/** What the pool needs to know about command recording (see context.ts). */
export interface BatchState {
  /** Id of the batch being recorded. */
  readonly batchId: number;
  /** Whether an encoder holds commands not yet submitted. */
  readonly recording: boolean;
  /** Submits the recorded batch. */
  submit(): void;
}

/** The pool of one device's storage buffers, with the live and pooled counts `memory()` reports. */
export class BufferPool {
  private readonly pool = new Map<number, FreeList>();
  /** Buffers freed while the unsubmitted batch still uses them, by size class. */
  private readonly pending = new Map<number, FreeList>();
  private nextId = 0;
  liveBuffers = 0;
  liveBytes = 0;
  pooledBuffers = 0;
  pooledBytes = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly faults: GpuFaults,
    private readonly batch: BatchState,
    /** Pooled free bytes kept at most; buffers beyond are destroyed by `trim`. */
    private readonly maxPooledBytes: number,
  ) {}

  /**
   * A buffer of `size` elements; zeros unless `zero` is false (the caller overwrites it at once).
   * `forUpload` buffers are never ones the unsubmitted batch still uses (see the file comment).
   */
  alloc(size: number, zero: boolean, forUpload: boolean): GpuBuf {
    const bytes = sizeClass(size * 4);
    if (forUpload && (this.pending.get(bytes)?.peekId() ?? Infinity) < (this.pool.get(bytes)?.peekId() ?? Infinity)) {
      // An upload may not take a pending buffer, and skipping it would make the choice depend on where
      // the last submit fell. Submitting first moves it to the pool (a training step's uploads come
      // right after the previous step's frees, so this costs at most about one submit per step).
      this.batch.submit();
    }
    // The lowest id among the free buffers of this class, pending ones included.
    const pooled = this.pool.get(bytes);
    const pending = this.pending.get(bytes);
    const recycled = !forUpload && pending !== undefined && pending.peekId() < (pooled?.peekId() ?? Infinity) ? pending.pop() : undefined;
    const slab = recycled ?? pooled?.pop();
    let buf: GpuBuf;
    if (slab !== undefined) {
      buf = new GpuBuf(slab.buffer, slab.id, bytes, size);
      // Still used by unsubmitted commands of its previous life: freeing it again must keep it pending.
      if (recycled !== undefined) buf.usedIn = this.batch.batchId;
      this.pooledBuffers--;
      this.pooledBytes -= bytes;
      buf.needsZero = zero && size > 0;
    } else {
      // A new GPUBuffer is zero-initialised by WebGPU.
      this.faults.checkSize(this.device, bytes, size);
      const fresh = this.faults.createBuffer(this.device, { size: bytes, usage: USAGE.STORAGE | USAGE.COPY_SRC | USAGE.COPY_DST }, size);
      buf = new GpuBuf(fresh, this.nextId++, bytes, size);
    }
    this.liveBuffers++;
    this.liveBytes += bytes;
    return buf;
  }

  /** Takes `buf` back: into the pool, or into `pending` while the unsubmitted batch uses it. */
  free(buf: GpuBuf): void {
    this.liveBuffers--;
    this.liveBytes -= buf.bytes;
    const slab = { buffer: buf.buffer, id: buf.id };
    if (this.batch.recording && buf.usedIn === this.batch.batchId) freeList(this.pending, buf.bytes).push(slab);
    else freeList(this.pool, buf.bytes).push(slab);
    this.pooledBuffers++;
    this.pooledBytes += buf.bytes;
  }

  /** Moves the buffers freed during the batch just submitted into the pool. */
  releasePending(): void {
    for (const [bytes, list] of this.pending) {
      if (list.length === 0) continue;
      const pool = freeList(this.pool, bytes);
      for (const b of list.drain()) pool.push(b);
    }
  }

  /**
   * Destroys pooled buffers until at most `maxPooledBytes` are kept, highest ids first (the lowest are
   * the ones the next allocations will ask for). Returns whether any was destroyed: cached bind groups
   * may then name a destroyed buffer.
   */
  trim(): boolean {
    if (this.pooledBytes <= this.maxPooledBytes) return false;
    const sizes = [...this.pool.keys()].sort((a, b) => b - a);
    let destroyed = false;
    for (const bytes of sizes) {
      const list = this.pool.get(bytes)!;
      while (list.length > 0 && this.pooledBytes > this.maxPooledBytes) {
        list.popHighest()!.buffer.destroy();
        destroyed = true;
        this.pooledBuffers--;
        this.pooledBytes -= bytes;
      }
    }
    return destroyed;
  }

  /** Forgets every pooled buffer (the device is being destroyed, which frees them all). */
  clear(): void {
    this.pool.clear();
    this.pending.clear();
  }
}
