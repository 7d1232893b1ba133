/**
 * The machinery under every WebGPU kernel: buffer pool, command batching, the per-batch uniform arena
 * and the pipeline cache. Kernel files only describe *what* to dispatch (`GpuContext.run`); this file
 * decides *when* it reaches the GPU.
 *
 * - Buffers (`GpuBuf`) come from a pool bucketed by size class. `free()` puts a buffer straight back
 *   in the pool unless a not-yet-submitted command uses it; then it waits in `pending` until that
 *   batch is submitted (later commands are queue-ordered after it, so re-use is then always safe).
 *   A pending buffer may still be handed out by `alloc()` within the same batch: kernels recorded later
 *   in the same encoder run after the earlier ones that read it. Only `upload()`, whose writeBuffer
 *   would jump ahead of the unsubmitted commands, must never get one.
 * - `alloc()` hands out the free buffer with the lowest id (pool and pending together), so which buffer
 *   an allocation gets depends only on which buffers are free, not on the order they were freed in or
 *   on where a submit fell. Two identical training steps therefore get the same buffers in the same
 *   order, and from the second or third on they find every bind group in the cache (see below). With
 *   the LIFO reuse this replaced, the buffers came back permuted each step, and half to three quarters
 *   of every step's dispatches created a new bind group (about 30 µs each on an H100 host).
 *   `upload()` takes the lowest id too: when that buffer is still pending, it submits first.
 * - Dispatches are recorded into one command encoder and one compute pass, and submitted every
 *   `maxBatch` dispatches, on `flush()` and on `read()`.
 * - Each dispatch's parameters (sizes, strides, scalars) take one 256-byte slot of a CPU-side staging
 *   array; the whole arena is written to a uniform buffer with one `queue.writeBuffer` right before the
 *   batch is submitted. (writeBuffer runs on the queue timeline at once, i.e. before commands still
 *   sitting in an unsubmitted encoder, so it must never target a buffer those commands use.) The slot
 *   is picked with a dynamic offset, so a bind group depends only on the storage buffers and is cached
 *   (creating one costs tens of microseconds in Dawn; the pool hands out the same buffers each step).
 *   The cache is a trie keyed by each binding's (buffer id, access), walked with one Map.get on a
 *   small integer per binding: no key string is built per dispatch.
 * - `upload()` writes only into buffers no unsubmitted command touches (fresh or pooled ones).
 * - Pipelines are cached by a key naming the op and every variant baked into the shader; sizes and
 *   strides always travel as parameters, so an unrolled RNN reuses a handful of pipelines.
 * - A buffer bound read-only and writable in the same dispatch (e.g. unary(x, x)) is read through a
 *   temporary copy, since WebGPU forbids that aliasing.
 * - A pooled buffer handed out by `alloc()` is zeroed lazily: the zero fill is skipped when the first
 *   kernel that touches it overwrites it whole (the usual case: `out` of an op).
 */
import type { DType } from '../../dtype.ts';
import { DeviceError } from '../../errors.ts';
import { GpuFaults } from './faults.ts';
import { releaseGarbage } from './release-garbage.ts';

/** GPUBufferUsage / GPUMapMode / GPUShaderStage values, so we do not depend on globals being installed. */
export const USAGE = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
const MAP_READ_MODE = 0x1;
const STAGE_COMPUTE = 0x4;

/** Threads per workgroup of every 1-D kernel. */
export const WG = 256;
/** Bytes between two uniform slots (minUniformBufferOffsetAlignment is at most 256). */
const SLOT_BYTES = 256;
/** Bytes of parameters a kernel may use: 32 words (`array<vec4<u32>, 8>` in WGSL). */
export const PARAM_WORDS = 32;
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

/** A pooled GPUBuffer with its id. */
interface Slab {
  buffer: GPUBuffer;
  id: number;
}

/**
 * The free buffers of one size class, lowest id first (a binary min-heap on `id`). Handing out the
 * lowest id makes reuse independent of the order of frees; see the file comment.
 */
class FreeList {
  private readonly heap: Slab[] = [];

  get length(): number {
    return this.heap.length;
  }

  /** Id of the buffer `pop()` would return; Infinity when empty. */
  peekId(): number {
    return this.heap.length === 0 ? Infinity : this.heap[0]!.id;
  }

  push(slab: Slab): void {
    const h = this.heap;
    let i = h.length;
    h.push(slab);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.id <= slab.id) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = slab;
  }

  /** Removes and returns the buffer with the lowest id. */
  pop(): Slab | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined || h.length === 0) return top;
    // Sift `last` down from the root.
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && h[r]!.id < h[l]!.id ? r : l;
      if (h[c]!.id >= last.id) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }

  /**
   * Removes and returns the buffer with the highest id (the one least likely to be handed out next).
   * Sorting keeps the heap valid: an ascending array is a min-heap. Only trimPool calls this.
   */
  popHighest(): Slab | undefined {
    this.heap.sort((a, b) => a.id - b.id);
    return this.heap.pop();
  }

  /** Every buffer, emptying the list. */
  drain(): Slab[] {
    return this.heap.splice(0);
  }
}

/**
 * One node of the bind-group trie: the path from the root spells a dispatch's bindings, one
 * `bindingCode` per step; `group` is the bind group for exactly that list.
 */
interface GroupNode {
  group?: GPUBindGroup;
  next?: Map<number, GroupNode>;
}

/** A binding as a trie key: buffer id and whether it is bound read-only (the layout follows from these). */
function bindingCode(b: Binding): number {
  return b.buf.id * 2 + (b.access === 'r' ? 0 : 1);
}

export type Access = 'r' | 'w' | 'rw';

export interface Binding {
  buf: GpuBuf;
  /** 'r': read-only storage; 'w': written only (elements [0, covers) all overwritten when covers is set); 'rw'. */
  access: Access;
  /** Number of leading elements this dispatch is guaranteed to overwrite completely ('w' only). */
  covers?: number;
}

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
}

/** Rounds a byte count up to its pool size class: powers of two up to 64 KiB, then steps of 1/8 of a power of two. */
export function sizeClass(bytes: number): number {
  const b = Math.max(MIN_BUFFER_BYTES, bytes);
  const p = 2 ** Math.ceil(Math.log2(b));
  if (p <= 65536) return p;
  const step = p / 16; // between p/2 and p: steps of p/16 (6.25% .. 12.5% overhead)
  return Math.ceil(b / step) * step;
}

/** Workgroup counts for `threads` threads of a 1-D kernel: x up to 65535, overflow into y. */
export function grid1d(threads: number, perGroup = WG): [number, number, number] {
  return gridFor(Math.ceil(threads / perGroup));
}

/** Spreads `groups` workgroups over x and y (each dimension at most 65535). */
export function gridFor(groups: number): [number, number, number] {
  if (groups <= 65535) return [groups, 1, 1];
  return [65535, Math.ceil(groups / 65535), 1];
}

const f32View = new Float32Array(1);
const u32View = new Uint32Array(f32View.buffer);
/** The bit pattern of a float32, as a parameter word. */
export function f32bits(x: number): number {
  f32View[0] = x;
  return u32View[0]!;
}
/** The bit pattern of an int32, as a parameter word. */
export function i32bits(x: number): number {
  return x >>> 0;
}
/** The bit pattern of `value` stored as `dtype`. */
export function valueBits(value: number, dtype: DType): number {
  return dtype === 'float32' ? f32bits(value) : i32bits(Math.trunc(value) | 0);
}

export class GpuContext {
  readonly queue: GPUQueue;
  private readonly maxBatch: number;
  private readonly maxPooledBytes: number;

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

  // Memory.
  private readonly pool = new Map<number, FreeList>();
  private nextId = 0;
  /** Buffers freed while the unsubmitted batch still uses them, by size class. */
  private readonly pending = new Map<number, FreeList>();
  private readonly stagingPool = new Map<number, GPUBuffer[]>();
  liveBuffers = 0;
  liveBytes = 0;
  pooledBuffers = 0;
  pooledBytes = 0;

  // Pipelines.
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly layouts = new Map<string, { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout }>();
  /**
   * Bind groups by their bindings' (buffer id, access), as a trie (see GroupNode). Creating one costs
   * tens of microseconds in Dawn, and the pool hands out the same buffers in the same order every
   * training step, so from the second step on every dispatch hits the cache. The uniform slot is a
   * dynamic offset, so it is not part of the key.
   */
  private groupRoot: GroupNode = {};
  private groupCount = 0;
  /**
   * Bound on cached groups, each holding a descriptor set (see release-garbage.ts). Training the book's
   * models makes 1,000-2,000 in all, nearly all in the first two steps; reaching the bound means the
   * buffers keep changing (a program that never repeats), and then the whole cache is dropped. Groups
   * naming a destroyed buffer are dropped the same way (trimPool, rare), so no per-buffer bookkeeping.
   */
  private static readonly MAX_BIND_GROUPS = 16384;

  readonly counters: Stats = { dispatches: 0, submits: 0, readbacks: 0, pipelines: 0, bindGroups: 0 };
  destroyed = false;
  /** Device loss and out-of-memory reports, raised by the next use of the device (see faults.ts). */
  readonly faults = new GpuFaults();

  constructor(
    readonly device: GPUDevice,
    opts: ContextOptions = {},
  ) {
    this.queue = device.queue;
    this.maxBatch = opts.maxBatch ?? 128;
    this.maxPooledBytes = opts.maxPooledBytes ?? 512 * 1024 * 1024;
    // One slot per dispatch, plus headroom for the zero fills and alias copies a dispatch may add.
    const slots = this.maxBatch + 16;
    this.arena = device.createBuffer({ size: slots * SLOT_BYTES, usage: USAGE.UNIFORM | USAGE.COPY_DST });
    this.staging = new Uint32Array((slots * SLOT_BYTES) / 4);
  }

  // ---------------------------------------------------------------- buffers

  /**
   * A buffer of `size` elements; zeros unless `zero` is false (the caller overwrites it at once).
   * `forUpload` buffers are never ones the unsubmitted batch still uses (see the file comment).
   */
  alloc(size: number, zero = true, forUpload = false): GpuBuf {
    this.check();
    const bytes = sizeClass(size * 4);
    if (forUpload && (this.pending.get(bytes)?.peekId() ?? Infinity) < (this.pool.get(bytes)?.peekId() ?? Infinity)) {
      // An upload may not take a pending buffer, and skipping it would make the choice depend on where
      // the last submit fell. Submitting first moves it to the pool (a training step's uploads come
      // right after the previous step's frees, so this costs at most about one submit per step).
      this.submit();
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
      if (recycled !== undefined) buf.usedIn = this.batchId;
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

  /** A buffer holding `data`. */
  upload(data: ArrayBufferView & { length: number }): GpuBuf {
    const buf = this.alloc(data.length, false, true);
    // Safe: `buf` is fresh or pooled, so no unsubmitted command touches it.
    if (data.byteLength > 0) this.queue.writeBuffer(buf.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  free(buf: GpuBuf): void {
    if (this.destroyed) return;
    this.liveBuffers--;
    this.liveBytes -= buf.bytes;
    const slab = { buffer: buf.buffer, id: buf.id };
    if (this.encoder !== null && buf.usedIn === this.batchId) freeList(this.pending, buf.bytes).push(slab);
    else freeList(this.pool, buf.bytes).push(slab);
    this.pooledBuffers++;
    this.pooledBytes += buf.bytes;
  }

  /** Destroys pooled buffers until at most `maxPooledBytes` are kept. */
  private trimPool(): void {
    if (this.pooledBytes <= this.maxPooledBytes) return;
    const sizes = [...this.pool.keys()].sort((a, b) => b - a);
    let destroyed = false;
    for (const bytes of sizes) {
      const list = this.pool.get(bytes)!;
      while (list.length > 0 && this.pooledBytes > this.maxPooledBytes) {
        // The highest ids go first: the lowest are the ones the next allocations will ask for.
        list.popHighest()!.buffer.destroy();
        destroyed = true;
        this.pooledBuffers--;
        this.pooledBytes -= bytes;
      }
    }
    // Cached bind groups may name a destroyed buffer.
    if (destroyed) this.dropBindGroups();
  }

  /** Empties the bind-group cache and has the dropped groups collected (see release-garbage.ts). */
  private dropBindGroups(): void {
    if (this.groupCount === 0) return;
    this.groupRoot = {};
    this.groupCount = 0;
    releaseGarbage();
  }

  /** Copies `size` 32-bit words of `buf` to the host. */
  async read(buf: GpuBuf, size: number): Promise<ArrayBuffer> {
    this.check();
    const bytes = size * 4;
    if (bytes === 0) return new ArrayBuffer(0);
    if (buf.needsZero) return new ArrayBuffer(bytes);
    const cls = sizeClass(bytes);
    const staging =
      this.stagingPool.get(cls)?.pop() ?? this.device.createBuffer({ size: cls, usage: USAGE.MAP_READ | USAGE.COPY_DST });
    const encoder = this.beginEncoder();
    this.endPass();
    encoder.copyBufferToBuffer(buf.buffer, 0, staging, 0, bytes);
    this.submit();
    this.counters.readbacks++;
    await this.faults.guard(staging.mapAsync(MAP_READ_MODE, 0, bytes), `reading back ${bytes} bytes`);
    const out = staging.getMappedRange(0, bytes).slice(0);
    staging.unmap();
    pushTo(this.stagingPool, cls, staging);
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
    const pipeline = this.pipeline(key, source, bindings);
    this.beginEncoder();
    let pass = this.pass;
    if (pass === null) {
      pass = this.pass = this.encoder!.beginComputePass();
      this.lastPipeline = null;
    }
    const slot = this.slots++;
    const base = (slot * SLOT_BYTES) / 4;
    const n = params.length;
    for (let i = 0; i < n; i++) this.staging[base + i] = params[i]!;
    const group = this.bindGroup(bindings);
    if (pipeline !== this.lastPipeline) {
      pass.setPipeline(pipeline);
      this.lastPipeline = pipeline;
    }
    this.offsets[0] = slot * SLOT_BYTES;
    pass.setBindGroup(0, group, this.offsets);
    pass.dispatchWorkgroups(gx, gy, gz);
    this.counters.dispatches++;
  }

  /** The (cached) bind group for `bindings`; marks their buffers as used by the open batch. */
  private bindGroup(bindings: Binding[]): GPUBindGroup {
    let node = this.groupRoot;
    for (const b of bindings) {
      b.buf.usedIn = this.batchId;
      const code = bindingCode(b);
      const next = (node.next ??= new Map());
      let child = next.get(code);
      if (child === undefined) next.set(code, (child = {}));
      node = child;
    }
    if (node.group !== undefined) return node.group;
    if (this.groupCount >= GpuContext.MAX_BIND_GROUPS) {
      this.dropBindGroups();
      return this.bindGroup(bindings); // re-walk the fresh trie (usedIn is already set)
    }
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.arena, offset: 0, size: PARAM_WORDS * 4 } }];
    for (let i = 0; i < bindings.length; i++) entries.push({ binding: i + 1, resource: { buffer: bindings[i]!.buf.buffer } });
    node.group = this.device.createBindGroup({ layout: this.layoutFor(bindings).group, entries });
    this.groupCount++;
    this.counters.bindGroups++;
    return node.group;
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
    this.queue.submit([this.encoder.finish()]);
    this.counters.submits++;
    this.encoder = null;
    this.slots = 0;
    this.batchId++;
    for (const [bytes, list] of this.pending) {
      if (list.length === 0) continue;
      const pool = freeList(this.pool, bytes);
      for (const b of list.drain()) pool.push(b);
    }
    this.trimPool();
  }

  // ---------------------------------------------------------------- pipelines

  private layoutFor(bindings: Binding[]): { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout } {
    let sig = '';
    for (const b of bindings) sig += b.access === 'r' ? 'r' : 'w';
    let layout = this.layouts.get(sig);
    if (layout === undefined) {
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: STAGE_COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
      ];
      for (let i = 0; i < sig.length; i++) {
        entries.push({
          binding: i + 1,
          visibility: STAGE_COMPUTE,
          buffer: { type: sig[i] === 'r' ? 'read-only-storage' : 'storage' },
        });
      }
      const group = this.device.createBindGroupLayout({ entries });
      layout = { group, pipeline: this.device.createPipelineLayout({ bindGroupLayouts: [group] }) };
      this.layouts.set(sig, layout);
    }
    return layout;
  }

  private pipeline(key: string, source: () => string, bindings: Binding[]): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (p === undefined) {
      const module = this.device.createShaderModule({ label: key, code: source() });
      p = this.device.createComputePipeline({
        label: key,
        layout: this.layoutFor(bindings).pipeline,
        compute: { module, entryPoint: 'main' },
      });
      this.pipelines.set(key, p);
      this.counters.pipelines++;
    }
    return p;
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
    this.stagingPool.clear();
    this.pending.clear();
    this.pipelines.clear();
    this.groupRoot = {};
    this.groupCount = 0;
    this.device.destroy();
  }
}

/** The free list of size class `bytes`, created on first use. */
function freeList(map: Map<number, FreeList>, bytes: number): FreeList {
  let list = map.get(bytes);
  if (list === undefined) map.set(bytes, (list = new FreeList()));
  return list;
}

function pushTo<T>(map: Map<number, T[]>, bytes: number, buffer: T): void {
  const list = map.get(bytes);
  if (list === undefined) map.set(bytes, [buffer]);
  else list.push(buffer);
}

/**
 * The WGSL every kernel starts with: the parameter block (`p(i)` is word i as u32, `pf`/`pi` as f32/i32)
 * followed by the storage bindings, numbered from 1 in the order the dispatch passes them.
 */
export function prelude(bindings: ReadonlyArray<readonly [name: string, access: Access, type: 'f32' | 'i32' | 'u32']>): string {
  let s = `struct Params { w: array<vec4<u32>, ${PARAM_WORDS / 4}> }
@group(0) @binding(0) var<uniform> params: Params;
fn p(i: u32) -> u32 { return params.w[i >> 2u][i & 3u]; }
fn pf(i: u32) -> f32 { return bitcast<f32>(p(i)); }
fn pi(i: u32) -> i32 { return bitcast<i32>(p(i)); }
// Non-finite constants come from private variables: WGSL rejects them in constant expressions.
var<private> kNegInfBits: u32 = 0xff800000u;
var<private> kNanBits: u32 = 0x7fc00000u;
fn negInf() -> f32 { return bitcast<f32>(kNegInfBits); }
fn nan() -> f32 { return bitcast<f32>(kNanBits); }
// Tested on the bits: compilers may fold 'x != x' to false.
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
`;
  bindings.forEach(([name, access, type], i) => {
    s += `@group(0) @binding(${i + 1}) var<storage, ${access === 'r' ? 'read' : 'read_write'}> ${name}: array<${type}>;\n`;
  });
  return s;
}

/** Entry point of a 1-D kernel; `idx` is the global thread index (workgroups spread over x and y). */
export const MAIN_1D = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * ${WG}u + lid;`;

/** out[i] = bits for i < n: params [n, bits]. Dtype-agnostic (32-bit words). */
export function fillSource(): string {
  return `${prelude([['out', 'w', 'u32']])}
${MAIN_1D}
  if (idx >= p(0)) { return; }
  out[idx] = p(1);
}`;
}

function copyWordsSource(): string {
  return `${prelude([['src', 'r', 'u32'], ['dst', 'w', 'u32']])}
${MAIN_1D}
  if (idx >= p(0)) { return; }
  dst[idx] = src[idx];
}`;
}
