// A helper thread in a browser: a Web Worker made from a Blob URL, given its data by message.
//
// The wasm matmul's calling thread blocks in Atomics.wait until the helper's share is done, and a
// page's main thread may not block, nor share memory unless the page is cross-origin isolated. So a
// helper is made only when both hold: the code runs in a worker (as tinytape's page trains), and
// `crossOriginIsolated` is true (the page was served with COOP/COEP headers). Elsewhere the wasm
// kernels run on one thread.

import type { HelperWorker } from './threads-types.ts';

interface BrowserScope {
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  WorkerGlobalScope?: unknown;
  Worker?: new (url: string) => { postMessage(data: unknown): void; terminate(): void; onerror: unknown };
  Blob?: new (parts: string[], options: { type: string }) => unknown;
  URL?: { createObjectURL(blob: unknown): string };
}

const scope = globalThis as unknown as BrowserScope;

/** Whether this context may block on shared memory and start workers that share it. */
function canShareMemory(): boolean {
  return scope.crossOriginIsolated === true && scope.WorkerGlobalScope !== undefined && scope.Worker !== undefined;
}

/** Logical cores (navigator.hardwareConcurrency) where a helper can run, else 1. */
export function helperCores(): number {
  return canShareMemory() ? (scope.navigator?.hardwareConcurrency ?? 1) : 1;
}

/** Starts `main(data)` in a Web Worker; null where a helper cannot share memory with this thread. */
export function spawnHelper(main: string, data: unknown, onGone: () => void): HelperWorker | null {
  if (!canShareMemory() || scope.Blob === undefined || scope.URL === undefined) return null;
  const source = `onmessage = (event) => { onmessage = null; (${main})(event.data); };`;
  const url = scope.URL.createObjectURL(new scope.Blob([source], { type: 'text/javascript' }));
  // The URL is not revoked: the worker fetches it asynchronously, and one small Blob per process is
  // all it ever holds.
  try {
    const worker = new scope.Worker!(url);
    worker.onerror = onGone;
    worker.postMessage(data);
    return { terminate: () => worker.terminate() };
  } catch {
    return null;
  }
}
