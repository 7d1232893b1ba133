/**
 * mulberry32: a tiny seeded generator of numbers in [0, 1), so that a failing test's inputs reproduce.
 * For the tensor package's tests (kernels checked against references on random inputs).
 */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
