/**
 * A dependency-free SVG line chart, the file-based stand-in for d2l's `Animator`: the training loop
 * re-renders it each epoch (e.g. perplexity against epoch) and writes it with {@link writeFileAtomic}
 * so a browser tab showing the file never sees half a chart.
 */
import { PlotError } from './errors.ts';
import { formatTick, linearScale, logScale, type AxisScale } from './ticks.ts';
import { escapeXml } from './xml.ts';

export { toCsv } from './csv.ts';
// Node only: in a browser it throws (see platform/files.browser.ts).
export { writeFileAtomic } from '#platform/files';

/** One named line of the chart. */
export interface LineSeries {
  /** Legend label. */
  name: string;
  /** Data points `[x, y]`; non-finite ones (and non-positive `y` on a log axis) are skipped, not drawn. */
  points: [number, number][];
}

/** Options of {@link renderLineChartSvg}. */
export interface LineChartOptions {
  /** Heading above the plot. */
  title?: string;
  /** Label under the x axis, e.g. `'epoch'`. */
  xLabel: string;
  /** Label left of the y axis, e.g. `'perplexity'`. */
  yLabel: string;
  /** The lines, drawn in order, each with its own colour and dash pattern. */
  series: LineSeries[];
  /** Width in px (default 640). */
  width?: number;
  /** Height in px (default 400). */
  height?: number;
  /** Log10 y axis, useful when perplexity falls from the vocabulary size to ~1. */
  yLog?: boolean;
  /** Fixed x range, like d2l's `xlim=[10, num_epochs]`, so the axis does not rescale every epoch. */
  xLim?: [number, number];
  /** Fixed y range. */
  yLim?: [number, number];
}

/** d2l's default formats ('-', 'm--', 'g-.', 'r:') first, then more colours for larger charts. */
const STYLES: { color: string; dash: string }[] = [
  { color: '#1f77b4', dash: '' },
  { color: '#bf00bf', dash: '6 3' },
  { color: '#008000', dash: '6 3 1.5 3' },
  { color: '#ff0000', dash: '1.5 3' },
  { color: '#ff7f0e', dash: '' },
  { color: '#8c564b', dash: '6 3' },
  { color: '#7f7f7f', dash: '6 3 1.5 3' },
  { color: '#17becf', dash: '1.5 3' },
];

const FONT_SIZE = 12;
/** Rough average glyph width of a sans-serif font, to size the legend box without measuring text. */
const CHAR_WIDTH = FONT_SIZE * 0.6;

/**
 * Renders a line chart as a standalone SVG document: framed axes with nice 1-2-5 ticks and labels,
 * grid lines, one `<polyline>` per series, a legend, and all text XML-escaped.
 *
 * @throws {@link PlotError} for a bad size, limits, or a series that is not `{name, points: [x, y][]}`.
 */
export function renderLineChartSvg(options: LineChartOptions): string {
  const { title, xLabel, yLabel, series, width = 640, height = 400, yLog = false, xLim, yLim } = options;
  checkSize('width', width);
  checkSize('height', height);
  if (!Array.isArray(series)) {
    throw new PlotError(`renderLineChartSvg: series must be an array of {name, points}, got ${typeof series}`);
  }
  const kept = series.map((s, i) => keepDrawable(s, i, yLog));

  const margin = { left: 64, right: 16, top: title ? 36 : 16, bottom: 48 };
  const area = {
    x0: margin.left,
    x1: width - margin.right,
    y0: margin.top,
    y1: height - margin.bottom,
  };
  const xScale = makeScale('xLim', kept.flatMap((p) => p.map(([x]) => x)), false, xLim);
  const yScale = makeScale('yLim', kept.flatMap((p) => p.map(([, y]) => y)), yLog, yLim);
  const px = (x: number): number => area.x0 + fraction(xScale, x) * (area.x1 - area.x0);
  const py = (y: number): number => area.y1 - fraction(yScale, y) * (area.y1 - area.y0);

  // The clip id encodes the geometry so two different charts inlined in one page cannot share a clip.
  const clipId = `tinytape-clip-${width}x${height}-${margin.top}`;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="sans-serif" font-size="${FONT_SIZE}">`,
    `<defs><clipPath id="${clipId}"><rect x="${area.x0}" y="${area.y0}" width="${area.x1 - area.x0}" height="${area.y1 - area.y0}"/></clipPath></defs>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
  );
  if (title) {
    out.push(`<text x="${fmt((area.x0 + area.x1) / 2)}" y="${fmt(margin.top / 2 + 5)}" text-anchor="middle" font-size="${FONT_SIZE + 2}">${escapeXml(title)}</text>`);
  }

  // Grid, ticks and tick labels.
  out.push('<g stroke="#e0e0e0" stroke-width="1">');
  for (const t of xScale.ticks) out.push(`<line x1="${fmt(px(t))}" y1="${area.y0}" x2="${fmt(px(t))}" y2="${area.y1}"/>`);
  for (const t of yScale.ticks) out.push(`<line x1="${area.x0}" y1="${fmt(py(t))}" x2="${area.x1}" y2="${fmt(py(t))}"/>`);
  out.push('</g>', '<g stroke="black" stroke-width="1">');
  for (const t of xScale.ticks) out.push(`<line x1="${fmt(px(t))}" y1="${area.y1}" x2="${fmt(px(t))}" y2="${area.y1 + 5}"/>`);
  for (const t of yScale.ticks) out.push(`<line x1="${area.x0 - 5}" y1="${fmt(py(t))}" x2="${area.x0}" y2="${fmt(py(t))}"/>`);
  out.push('</g>', '<g fill="black">');
  for (const t of xScale.ticks) {
    out.push(`<text x="${fmt(px(t))}" y="${area.y1 + 18}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`);
  }
  for (const t of yScale.ticks) {
    out.push(`<text x="${area.x0 - 8}" y="${fmt(py(t) + 4)}" text-anchor="end">${escapeXml(formatTick(t))}</text>`);
  }
  out.push('</g>');

  // Axis labels.
  out.push(`<text x="${fmt((area.x0 + area.x1) / 2)}" y="${height - 10}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  const yMid = fmt((area.y0 + area.y1) / 2);
  out.push(`<text x="16" y="${yMid}" text-anchor="middle" transform="rotate(-90 16 ${yMid})">${escapeXml(yLabel)}</text>`);

  // Lines, clipped to the plot area in case fixed limits cut some points off.
  out.push(`<g clip-path="url(#${clipId})" fill="none" stroke-width="1.5" stroke-linejoin="round">`);
  kept.forEach((points, i) => {
    const { color, dash } = STYLES[i % STYLES.length]!;
    const dashAttr = dash ? ` stroke-dasharray="${dash}"` : '';
    const coords = points.map(([x, y]) => `${fmt(px(x))},${fmt(py(y))}`).join(' ');
    out.push(`<polyline points="${coords}" stroke="${color}"${dashAttr}><title>${escapeXml(series[i]!.name)}</title></polyline>`);
    // A one-point polyline draws nothing, so mark a lone point with a dot.
    if (points.length === 1) out.push(`<circle cx="${fmt(px(points[0]![0]))}" cy="${fmt(py(points[0]![1]))}" r="3" fill="${color}"/>`);
  });
  out.push('</g>');

  // Frame last, so lines never paint over it.
  out.push(`<rect x="${area.x0}" y="${area.y0}" width="${area.x1 - area.x0}" height="${area.y1 - area.y0}" fill="none" stroke="black"/>`);
  out.push(...legend(series, area.x1, area.y0));
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Legend box in the top-right corner of the plot area, like matplotlib's default placement. */
function legend(series: LineSeries[], right: number, top: number): string[] {
  if (series.length === 0) return [];
  const row = FONT_SIZE + 6;
  const longest = Math.max(...series.map((s) => s.name.length));
  const boxW = 36 + longest * CHAR_WIDTH;
  const boxH = series.length * row + 8;
  const out = [
    `<g transform="translate(${fmt(right - boxW - 8)} ${top + 8})">`,
    `<rect x="0" y="0" width="${fmt(boxW)}" height="${boxH}" fill="white" fill-opacity="0.85" stroke="#c0c0c0"/>`,
  ];
  series.forEach((s, i) => {
    const { color, dash } = STYLES[i % STYLES.length]!;
    const cy = 4 + row * i + row / 2;
    const dashAttr = dash ? ` stroke-dasharray="${dash}"` : '';
    out.push(`<line x1="6" y1="${cy}" x2="26" y2="${cy}" stroke="${color}" stroke-width="1.5"${dashAttr}/>`);
    out.push(`<text x="32" y="${cy + 4}">${escapeXml(s.name)}</text>`);
  });
  out.push('</g>');
  return out;
}

/** Validates one series and returns only the points that can be placed on the axes. */
function keepDrawable(s: LineSeries, index: number, yLog: boolean): [number, number][] {
  if (s === null || typeof s !== 'object' || typeof s.name !== 'string' || !Array.isArray(s.points)) {
    throw new PlotError(`renderLineChartSvg: series ${index} must be {name: string, points: [x, y][]}`);
  }
  const kept: [number, number][] = [];
  s.points.forEach((p, j) => {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'number' || typeof p[1] !== 'number') {
      throw new PlotError(`renderLineChartSvg: series "${s.name}" point ${j} must be [x, y] numbers, got ${JSON.stringify(p)}`);
    }
    // Diverged training yields NaN/Infinity; skipping those keeps the rest of the curve readable.
    if (Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!yLog || p[1] > 0)) kept.push([p[0], p[1]]);
  });
  return kept;
}

/** Scale for the given values, or for caller-fixed limits when present. */
function makeScale(name: string, values: number[], log: boolean, lim: [number, number] | undefined): AxisScale {
  if (lim !== undefined) {
    const ok = Array.isArray(lim) && lim.length === 2 && lim.every(Number.isFinite) && lim[0] < lim[1] && (!log || lim[0] > 0);
    if (!ok) {
      const need = log ? 'two finite numbers 0 < lo < hi' : 'two finite numbers lo < hi';
      throw new PlotError(`renderLineChartSvg: ${name} must be [lo, hi] with ${need}, got ${JSON.stringify(lim)}`);
    }
    return log ? logScale(lim[0], lim[1], true) : linearScale(lim[0], lim[1], true);
  }
  if (values.length === 0) return log ? logScale(1, 10) : linearScale(0, 1);
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return log ? logScale(min, max) : linearScale(min, max);
}

/** Position of `v` along the scale, 0 at `lo` and 1 at `hi`. */
function fraction(scale: AxisScale, v: number): number {
  return scale.log
    ? (Math.log10(v) - Math.log10(scale.lo)) / (Math.log10(scale.hi) - Math.log10(scale.lo))
    : (v - scale.lo) / (scale.hi - scale.lo);
}

function checkSize(name: string, v: number): void {
  // Below ~160 px the margins leave no plot area at all.
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 160 || v > 20000) {
    throw new PlotError(`renderLineChartSvg: ${name} must be a number from 160 to 20000 (px), got ${String(v)}`);
  }
}

/** Coordinates with two decimals at most: enough for SVG, and keeps files small. */
function fmt(v: number): string {
  return String(Math.round(v * 100) / 100);
}
