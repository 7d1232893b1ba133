import { describe, expect, it } from 'vitest';
import { PlotError } from './errors.ts';
import { renderLineChartSvg, type LineChartOptions } from './plot.ts';
import { escapeXml } from './xml.ts';

/**
 * A small well-formedness check: every tag closes in order, attributes are quoted, and text holds no raw
 * `<` or stray `&`. Enough to catch broken escaping or unbalanced markup without an XML library.
 */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(svg); m; m = tag.exec(svg)) {
    const text = svg.slice(last, m.index);
    expect(text).not.toMatch(/[<>]/);
    expect(text.replace(/&(amp|lt|gt|quot|apos);/g, '')).not.toContain('&');
    const [, closing, name, attrs, selfClosing] = m;
    expect(attrs!.replace(/&(amp|lt|gt|quot|apos);/g, '')).not.toContain('&');
    if (closing) expect(stack.pop()).toBe(name);
    else if (!selfClosing) stack.push(name!);
    last = tag.lastIndex;
  }
  expect(svg.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
}

/** All numbers in every polyline's points attribute, as [x, y] pairs. */
function polylinePoints(svg: string): [number, number][][] {
  return [...svg.matchAll(/<polyline points="([^"]*)"/g)].map((m) =>
    m[1]!
      .split(' ')
      .filter(Boolean)
      .map((pair) => pair.split(',').map(Number) as [number, number]),
  );
}

const base: LineChartOptions = {
  title: 'char-level RNN',
  xLabel: 'epoch',
  yLabel: 'perplexity',
  series: [
    { name: 'train', points: Array.from({ length: 50 }, (_, i) => [(i + 1) * 10, 1 + 26 * Math.exp(-i / 8)] as [number, number]) },
    { name: 'valid', points: Array.from({ length: 50 }, (_, i) => [(i + 1) * 10, 2 + 25 * Math.exp(-i / 9)] as [number, number]) },
  ],
};

describe('renderLineChartSvg', () => {
  it('renders a well-formed chart with labels, title, legend and one polyline per series', () => {
    const svg = renderLineChartSvg(base);
    assertWellFormed(svg);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('viewBox="0 0 640 400"');
    for (const text of ['>epoch<', '>perplexity<', '>char-level RNN<', '>train<', '>valid<']) expect(svg).toContain(text);
    expect(polylinePoints(svg)).toHaveLength(2);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('keeps every point inside the viewBox, linear and log', () => {
    for (const yLog of [false, true]) {
      const svg = renderLineChartSvg({ ...base, yLog, width: 800, height: 300 });
      for (const line of polylinePoints(svg)) {
        expect(line).toHaveLength(50);
        for (const [x, y] of line) {
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThanOrEqual(800);
          expect(y).toBeGreaterThanOrEqual(0);
          expect(y).toBeLessThanOrEqual(300);
        }
      }
    }
  });

  it('labels ticks at 1-2-5 values', () => {
    const svg = renderLineChartSvg(base);
    const labels = [...svg.matchAll(/text-anchor="middle">([\d.]+)<\/text>/g)].map((m) => m[1]);
    expect(labels).toEqual(['0', '100', '200', '300', '400', '500']);
    const logSvg = renderLineChartSvg({ ...base, yLog: true });
    const yLabels = [...logSvg.matchAll(/text-anchor="end">([\d.]+)<\/text>/g)].map((m) => m[1]);
    expect(yLabels).toEqual(['1', '2', '5', '10', '20', '50']);
  });

  it('handles a single point and a constant series without NaN', () => {
    for (const points of [[[1, 5]], [[1, 3], [2, 3], [3, 3]], [[4, 0]]] as [number, number][][]) {
      for (const yLog of [false, true]) {
        const svg = renderLineChartSvg({ xLabel: 'epoch', yLabel: 'perplexity', series: [{ name: 's', points }], yLog });
        assertWellFormed(svg);
        expect(svg).not.toMatch(/NaN|Infinity/);
        expect(polylinePoints(svg)).toHaveLength(1);
      }
    }
    expect(renderLineChartSvg({ xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[1, 5]] }] })).toContain('<circle');
  });

  it('skips NaN / infinite points (diverged training) and handles empty series', () => {
    const svg = renderLineChartSvg({
      xLabel: 'x',
      yLabel: 'y',
      series: [
        { name: 'a', points: [[1, 2], [2, NaN], [3, Infinity], [4, 1]] },
        { name: 'b', points: [] },
      ],
    });
    assertWellFormed(svg);
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(polylinePoints(svg).map((p) => p.length)).toEqual([2, 0]);
    expect(renderLineChartSvg({ xLabel: 'x', yLabel: 'y', series: [] })).not.toMatch(/NaN/);
  });

  it('escapes markup in titles, labels and series names', () => {
    const svg = renderLineChartSvg({
      title: 'a < b & "c"',
      xLabel: "<script>alert('x')</script>",
      yLabel: 'p\u0001pl',
      series: [{ name: 'lr=1 & clip<1>', points: [[0, 1], [1, 2]] }],
    });
    assertWellFormed(svg);
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('a &lt; b &amp; &quot;c&quot;');
    expect(svg).toContain('lr=1 &amp; clip&lt;1&gt;');
    expect(svg).toContain('>ppl<');
  });

  it('honours fixed limits and clips to the plot area', () => {
    const svg = renderLineChartSvg({ ...base, xLim: [10, 300] });
    expect(svg).toContain('clip-path="url(#');
    assertWellFormed(svg);
  });

  it('rejects bad sizes, limits and series with a PlotError', () => {
    expect(() => renderLineChartSvg({ ...base, width: NaN })).toThrow(PlotError);
    expect(() => renderLineChartSvg({ ...base, width: 10 })).toThrow('width must be a number from 160 to 20000 (px), got 10');
    expect(() => renderLineChartSvg({ ...base, xLim: [5, 1] })).toThrow('xLim must be [lo, hi] with two finite numbers lo < hi, got [5,1]');
    expect(() => renderLineChartSvg({ ...base, yLog: true, yLim: [0, 1] })).toThrow('0 < lo < hi');
    expect(() =>
      renderLineChartSvg({ xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[1, '2' as unknown as number]] }] }),
    ).toThrow('series "s" point 0 must be [x, y] numbers, got [1,"2"]');
  });
});

describe('escapeXml', () => {
  it('escapes the five XML specials and drops illegal control characters', () => {
    expect(escapeXml(`<a href="x">'&'</a>\u0000\u0007\t\n`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;\t\n');
  });
});
