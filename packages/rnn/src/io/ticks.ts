/**
 * Axis scales with "nice" tick values (1, 2, 5 times a power of ten), the way a human would label a chart.
 * Kept apart from the SVG code so the arithmetic can be tested on its own.
 */

/** An axis: its domain `[lo, hi]` in data units and the tick values inside it, ascending. */
export interface AxisScale {
  /** Lower end of the domain (data units). */
  lo: number;
  /** Upper end of the domain (data units); always greater than `lo`. */
  hi: number;
  /** Tick values within `[lo, hi]`, ascending. */
  ticks: number[];
  /** True when positions are proportional to log10 of the value. */
  log: boolean;
}

/** Relative slack for comparisons, so 0.1 * 3 still counts as "at" 0.3. */
const EPS = 1e-9;

/**
 * The 1-2-5 step that splits `span` into about `target` intervals.
 *
 * @param span - positive, finite extent of the data.
 */
export function niceStep(span: number, target = 6): number {
  const raw = span / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  // Thresholds are the geometric midpoints between 1, 2, 5 and 10, so the step nearest the raw one wins.
  const nice = norm < Math.SQRT2 ? 1 : norm < Math.sqrt(10) ? 2 : norm < Math.sqrt(50) ? 5 : 10;
  return nice * magnitude;
}

/** Rounds away binary noise such as 0.30000000000000004, so ticks print cleanly. */
function clean(v: number): number {
  return Number(v.toPrecision(12));
}

/**
 * A linear axis covering `[min, max]`. The domain is widened to whole steps unless `exact` is set (for a
 * caller-fixed range such as `[1, numEpochs]`), in which case only the ticks are nice.
 */
export function linearScale(min: number, max: number, exact = false): AxisScale {
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    // A constant series still needs a visible range; 50% of the value (or 1 around zero) keeps it centred.
    const pad = min === 0 ? 1 : Math.abs(min) * 0.5;
    min -= pad;
    max += pad;
  }
  const step = niceStep(max - min);
  const lo = exact ? min : clean(Math.floor(min / step + EPS) * step);
  const hi = exact ? max : clean(Math.ceil(max / step - EPS) * step);
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - EPS); k <= Math.floor(hi / step + EPS); k++) {
    ticks.push(clean(k * step));
  }
  return { lo, hi, ticks, log: false };
}

/**
 * A log10 axis covering `[min, max]` (both > 0). Spans up to four decades get ticks at 1, 2 and 5 times
 * each power of ten; wider spans get powers of ten only, thinned so there are at most about seven.
 */
export function logScale(min: number, max: number, exact = false): AxisScale {
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    min /= 2;
    max *= 2;
  }
  const decades = Math.log10(max) - Math.log10(min);
  const stride = decades > 4 ? Math.ceil(decades / 7) : 1;
  const mantissas = decades > 4 ? [1] : [1, 2, 5];
  const candidates: number[] = [];
  // Reach one stride past the data on both sides so a candidate at or beyond each end always exists.
  const first = Math.floor(Math.log10(min)) - stride;
  const last = Math.ceil(Math.log10(max)) + stride;
  for (let e = first; e <= last; e++) {
    if (stride > 1 && e % stride !== 0) continue;
    for (const m of mantissas) candidates.push(clean(m * 10 ** e));
  }
  const lo = exact ? min : Math.max(...candidates.filter((c) => c <= min * (1 + EPS)));
  const hi = exact ? max : Math.min(...candidates.filter((c) => c >= max * (1 - EPS)));
  const ticks = candidates.filter((c) => c >= lo * (1 - EPS) && c <= hi * (1 + EPS));
  return { lo, hi, ticks, log: true };
}

/** Short label for a tick: plain decimals in a readable range, exponent notation (`1e-5`) outside it. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 1e6 || abs < 1e-4) {
    return clean(v).toExponential().replace('e+', 'e');
  }
  return String(clean(v));
}
