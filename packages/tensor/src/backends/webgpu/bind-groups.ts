/**
 * Bind groups by the buffers they bind, cached. Creating one costs tens of microseconds in Dawn, and
 * the pool hands out the same buffers in the same order every training step (buffer-pool.ts), so
 * from the second step on every dispatch hits the cache. Each dispatch's parameters sit in a slot of
 * the uniform arena picked with a dynamic offset, so the slot is not part of the key.
 *
 * The cache is a trie keyed by each binding's (buffer id, access), walked with one Map.get on a small
 * integer per binding: no key string is built per dispatch.
 */
import type { GpuBuf } from './buffer-pool.ts';
import { releaseGarbage } from './release-garbage.ts';
import type { PipelineCache } from './pipelines.ts';
import { type Access, PARAM_WORDS } from './wgsl.ts';

/** One storage buffer of a dispatch. */
export interface Binding {
  buf: GpuBuf;
  /** 'r': read-only storage; 'w': written only (elements [0, covers) all overwritten when covers is set); 'rw'. */
  access: Access;
  /** Number of leading elements this dispatch is guaranteed to overwrite completely ('w' only). */
  covers?: number;
}

/**
 * One node of the trie: the path from the root spells a dispatch's bindings, one `bindingCode` per
 * step; `group` is the bind group for exactly that list.
 */
interface GroupNode {
  group?: GPUBindGroup;
  next?: Map<number, GroupNode>;
}

/** A binding as a trie key: buffer id and whether it is bound read-only (the layout follows from these). */
function bindingCode(b: Binding): number {
  return b.buf.id * 2 + (b.access === 'r' ? 0 : 1);
}

/**
 * Bound on cached groups, each holding a descriptor set (see release-garbage.ts). Training the book's
 * models makes 1,000-2,000 in all, nearly all in the first two steps; reaching the bound means the
 * buffers keep changing (a program that never repeats), and then the whole cache is dropped. Groups
 * naming a destroyed buffer are dropped the same way (after the pool's trim, rare), so there is no
 * per-buffer bookkeeping.
 */
const MAX_BIND_GROUPS = 16384;

/** The bind-group cache of one device. */
export class BindGroupCache {
  private root: GroupNode = {};
  private count = 0;
  /** Bind groups created (cache misses). */
  created = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: PipelineCache,
    /** The uniform buffer whose slots hold the parameters (binding 0 of every group). */
    private readonly arena: GPUBuffer,
  ) {}

  /** The (cached) bind group for `bindings`; marks their buffers as used by batch `batchId`. */
  groupFor(bindings: readonly Binding[], batchId: number): GPUBindGroup {
    let node = this.root;
    for (const b of bindings) {
      b.buf.usedIn = batchId;
      const code = bindingCode(b);
      const next = (node.next ??= new Map());
      let child = next.get(code);
      if (child === undefined) next.set(code, (child = {}));
      node = child;
    }
    if (node.group !== undefined) return node.group;
    if (this.count >= MAX_BIND_GROUPS) {
      this.drop();
      return this.groupFor(bindings, batchId); // re-walk the fresh trie
    }
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.arena, offset: 0, size: PARAM_WORDS * 4 } }];
    for (let i = 0; i < bindings.length; i++) entries.push({ binding: i + 1, resource: { buffer: bindings[i]!.buf.buffer } });
    node.group = this.device.createBindGroup({ layout: this.pipelines.layoutFor(bindings).group, entries });
    this.count++;
    this.created++;
    return node.group;
  }

  /** Empties the cache and has the dropped groups collected (see release-garbage.ts). */
  drop(): void {
    if (this.count === 0) return;
    this.root = {};
    this.count = 0;
    releaseGarbage();
  }

  /** Forgets every group without collecting (the device is being destroyed). */
  clear(): void {
    this.root = {};
    this.count = 0;
  }
}
