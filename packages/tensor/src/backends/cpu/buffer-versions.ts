/**
 * A version stamp per buffer of the wasm backend, so a cache of a buffer's contents (the wasm matmul's
 * resident weights) can tell whether the values it copied are still current: it keeps the version it
 * copied at and compares. The backend stamps a buffer whenever it hands one out and whenever a kernel
 * writes one, in one place (see `stampWrites` in index.ts), so no kernel has to remember to.
 */

const versions = new WeakMap<object, number>();
/** One counter for all buffers: a stamp is never reused, even for a buffer that was never stamped. */
let clock = 0;

/** Records that `buf`'s contents changed. */
export function markWritten(buf: object): void {
  versions.set(buf, ++clock);
}

/** The stamp of `buf`'s current contents (0 while it was never written through the backend). */
export function versionOf(buf: object): number {
  return versions.get(buf) ?? 0;
}
