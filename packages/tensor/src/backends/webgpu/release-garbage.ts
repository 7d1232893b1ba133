/*
 * Why the WebGPU backend ever asks for a garbage collection: WebGPU has no way to destroy a bind group;
 * Dawn's Node binding releases one only when V8 collects its JS wrapper. On Mesa's lavapipe every live
 * descriptor set is its own memory mapping, and a process may hold at most vm.max_map_count (65,530 by
 * default) of them. When V8 collects lazily (a large heap, as under a test runner), a long training run
 * can pile up tens of thousands of evicted-but-uncollected bind groups, lavapipe's next mmap fails and the
 * process dies with SIGSEGV inside vkCreateDescriptorPool. Collecting right after the cache drops its
 * bind groups bounds how many can be alive at once.
 */
import { nodeBuiltin } from '../../node-runtime.ts';

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
  const v8 = nodeBuiltin<{ setFlagsFromString(flags: string): void }>('node:v8');
  const vm = nodeBuiltin<{ runInNewContext(code: string): unknown }>('node:vm');
  if (v8 === undefined || vm === undefined) return null;
  try {
    const existing = (globalThis as { gc?: unknown }).gc;
    if (typeof existing === 'function') return existing as () => void;
    // Exposing gc after start-up only affects contexts created afterwards, hence the fresh context.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}
