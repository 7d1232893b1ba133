/*
 * The live perplexity chart: d2l's Animator (epoch on x, perplexity on y, one line) drawn as an SVG
 * that is redrawn whole after each epoch — a few hundred points at most, so no diffing is needed.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';
const WIDTH = 640;
const HEIGHT = 300;
const MARGIN = { left: 56, right: 16, top: 28, bottom: 40 };

/** A perplexity-per-epoch chart inside `svg`. */
export class PerplexityChart {
  private points: [number, number][] = [];
  private epochs = 1;
  private title = '';

  constructor(private readonly svg: SVGSVGElement) {
    svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
    svg.setAttribute('role', 'img');
    this.draw();
  }

  /** Starts an empty chart for a run of `epochs` epochs. */
  reset(title: string, epochs: number): void {
    this.points = [];
    this.title = title;
    this.epochs = epochs;
    this.draw();
  }

  /** Widens the x axis when a run is continued past its first target. */
  extend(epochs: number): void {
    this.epochs = Math.max(this.epochs, epochs);
    this.draw();
  }

  add(epoch: number, perplexity: number): void {
    this.points.push([epoch, perplexity]);
    this.draw();
  }

  private draw(): void {
    const svg = this.svg;
    svg.replaceChildren();
    svg.setAttribute('aria-label', `${this.title}: perplexity by epoch`);
    const plotW = WIDTH - MARGIN.left - MARGIN.right;
    const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
    const finite = this.points.filter(([, p]) => Number.isFinite(p));
    const ys = finite.map(([, p]) => p);
    // Fitted to the curve, as d2l's Animator does; perplexity never goes below 1.
    const low = ys.length > 0 ? Math.max(1, Math.min(...ys) * 0.95) : 1;
    const high = ys.length > 0 ? Math.max(...ys) * 1.02 : 30;
    const yTicks = niceTicks(low, Math.max(high, low + 0.5), 5);
    const yMin = yTicks[0]!;
    const yMax = yTicks[yTicks.length - 1]!;
    const xMax = Math.max(this.epochs, 2);
    const xTicks = niceTicks(1, xMax, 6).filter((t) => t >= 1 && t <= xMax && Number.isInteger(t));
    const x = (epoch: number) => MARGIN.left + ((epoch - 1) / (xMax - 1)) * plotW;
    const y = (value: number) => MARGIN.top + plotH - ((value - yMin) / (yMax - yMin)) * plotH;

    add(svg, 'rect', { x: MARGIN.left, y: MARGIN.top, width: plotW, height: plotH, class: 'plot-area' });
    for (const t of yTicks) {
      add(svg, 'line', { x1: MARGIN.left, x2: MARGIN.left + plotW, y1: y(t), y2: y(t), class: 'grid' });
      text(svg, formatTick(t), { x: MARGIN.left - 6, y: y(t) + 4, 'text-anchor': 'end', class: 'tick' });
    }
    for (const t of xTicks) {
      add(svg, 'line', { x1: x(t), x2: x(t), y1: MARGIN.top, y2: MARGIN.top + plotH, class: 'grid' });
      text(svg, String(t), { x: x(t), y: MARGIN.top + plotH + 16, 'text-anchor': 'middle', class: 'tick' });
    }
    text(svg, 'epoch', { x: MARGIN.left + plotW / 2, y: HEIGHT - 6, 'text-anchor': 'middle', class: 'label' });
    text(svg, 'perplexity', { x: 14, y: MARGIN.top + plotH / 2, 'text-anchor': 'middle', transform: `rotate(-90 14 ${MARGIN.top + plotH / 2})`, class: 'label' });
    text(svg, this.title, { x: MARGIN.left, y: 18, class: 'title' });
    if (finite.length > 0) {
      const d = finite.map(([e, p], i) => `${i === 0 ? 'M' : 'L'}${x(e).toFixed(1)},${y(p).toFixed(1)}`).join(' ');
      add(svg, 'path', { d, class: 'series' });
      const [lastEpoch, lastValue] = finite[finite.length - 1]!;
      add(svg, 'circle', { cx: x(lastEpoch), cy: y(lastValue), r: 3, class: 'series-dot' });
    }
  }
}

/** Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const rough = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.floor(lo / step) * step; t < hi + step * 0.999; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function formatTick(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

function add(parent: Element, tag: string, attrs: Record<string, string | number>): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  parent.append(el);
  return el;
}

function text(parent: Element, content: string, attrs: Record<string, string | number>): void {
  add(parent, 'text', attrs).textContent = content;
}
