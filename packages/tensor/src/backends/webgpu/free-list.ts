/** A pooled GPUBuffer with its id. */
export interface Slab {
  buffer: GPUBuffer;
  id: number;
}

/**
 * The free buffers of one size class, lowest id first (a binary min-heap on `id`). Handing out the
 * lowest id makes reuse independent of the order of frees (see buffer-pool.ts).
 */
export class FreeList {
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
   * Sorting keeps the heap valid: an ascending array is a min-heap. Only the pool's trim calls this.
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

/** The free list of size class `bytes` in `map`, created on first use. */
export function freeList(map: Map<number, FreeList>, bytes: number): FreeList {
  let list = map.get(bytes);
  if (list === undefined) map.set(bytes, (list = new FreeList()));
  return list;
}
