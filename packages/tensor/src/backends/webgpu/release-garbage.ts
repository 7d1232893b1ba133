/*
 * Why the WebGPU backend ever asks for a garbage collection: WebGPU has no way to destroy a bind group;
 * Dawn's Node binding releases one only when V8 collects its JS wrapper. On Mesa's lavapipe every live
 * descriptor set is its own memory mapping, and a process may hold at most vm.max_map_count (65,530 by
 * default) of them. When V8 collects lazily (a large heap, as under a test runner), a long training run
 * can pile up tens of thousands of evicted-but-uncollected bind groups, lavapipe's next mmap fails and the
 * process dies with SIGSEGV inside vkCreateDescriptorPool. Collecting right after the cache drops its
 * bind groups bounds how many can be alive at once.
 */
import { fullGarbageCollector } from '../../node-runtime.ts';

/** A full collection, or null where none can be had (browsers, runtimes without V8's flags). */
const collect: (() => void) | null = findCollector();

/**
 * Runs a full garbage collection so the bind groups the cache just dropped are released now. Called at
 * most once per 16,384 new bind groups, so its cost (milliseconds) is negligible. A no-op outside Node.
 */
export function releaseGarbage(): void {
  collect?.();
}

function findCollector(): (() => void) | null {
  try {
    return fullGarbageCollector();
  } catch {
    return null;
  }
}
