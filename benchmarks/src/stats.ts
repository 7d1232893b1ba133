/** Small statistics over timing samples. */

/** The median (mean of the middle two for an even count); NaN for no samples. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Smallest and largest sample, to show the spread next to a median. */
export function range(xs: readonly number[]): [number, number] {
  return xs.length === 0 ? [Number.NaN, Number.NaN] : [Math.min(...xs), Math.max(...xs)];
}

/**
 * The ratio of two interleaved series, taken round by round and then the median of those ratios.
 * Rounds run back to back, so both sides of one round saw nearly the same machine load; the ratio of
 * medians would mix samples taken minutes apart, which matters when other processes share the cores.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) if (b[i]! > 0 && Number.isFinite(a[i]!) && Number.isFinite(b[i]!)) ratios.push(a[i]! / b[i]!);
  return median(ratios);
}

/** |a − b| / |b|. */
export function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}
