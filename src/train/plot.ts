/**
 * Training curves as a PNG people can read: one panel per chart, side by side, each with a
 * frame, ticks and tick labels on both axes, axis labels, a title, a light grid, one coloured
 * line per series and a legend naming the series; an optional figure title runs above. Drawn as
 * SVG with the text as outlines (plot-text.ts), rasterised by sharp.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { ArgumentError } from '../errors.ts';
import { loadSharp } from '../io/sharp.ts';
import { loadPlotText, type PlotText } from './plot-text.ts';

type Rgb = readonly [number, number, number];

/** Curve colours, in the order charts use them (matplotlib's first six). */
export const PALETTE: readonly Rgb[] = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75]];

/** One curve of a chart. */
export interface PlotSeries {
  name: string;
  values: readonly number[];
  color: Rgb;
  /** The x of each value (default 1, 2, …: epochs); NaN values leave gaps. */
  x?: readonly number[];
}

/** One panel. */
export interface PlotChart {
  title: string;
  series: readonly PlotSeries[];
  /** Default 'epoch'. */
  xLabel?: string;
  /** Default: the title. */
  yLabel?: string;
  /** 'percent' labels y ticks as percentages of 1 (for accuracies stored as fractions). */
  yFormat?: 'number' | 'percent';
}

/** Options of the whole figure. */
export interface PlotOptions {
  /** A title above all panels. */
  title?: string;
}

/** A rectangle in image pixels. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where one panel's parts were drawn. */
export interface ChartLayout {
  plot: Rect;
  title: Rect;
  xTicks: Rect;
  yTicks: Rect;
  xTickLabels: string[];
  yTickLabels: string[];
  xLabel: Rect;
  yLabel: Rect;
  /** Null when the chart has no series. */
  legend: Rect | null;
}

/** Where a figure's parts were drawn. */
export interface PlotLayout {
  width: number;
  height: number;
  title: Rect | null;
  charts: ChartLayout[];
}

/** The size of one panel in pixels. */
export const PANEL_SIZE = { width: 480, height: 360 } as const;
const FIGURE_TITLE_HEIGHT = 34;
const FONT = { tick: 12, label: 13, title: 15, figureTitle: 16, legend: 12 } as const;
const INK = '#222222';
const LEGEND_ROW = 18;

/** What drawing needs, loaded on first use so importing the package stays cheap. */
interface Tools {
  text: PlotText;
  scaleLinear: typeof import('d3-scale').scaleLinear;
}

interface Axis {
  /** Data value → pixel. */
  at: (v: number) => number;
  ticks: number[];
  labels: string[];
}

function finiteExtent(values: Iterable<number>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

/** Axis limits a margin beyond the data (as matplotlib's), ticks inside them at d3's nice steps. */
function makeAxis(tools: Tools, extent: [number, number] | null, range: [number, number], margin: number, options: { integer: boolean; percent: boolean }): Axis {
  let [lo, hi] = extent ?? [0, 1];
  const pad = hi > lo ? (hi - lo) * margin : Math.abs(lo) * 0.05 || 0.5;
  lo -= pad;
  hi += pad;
  const scale = tools.scaleLinear().domain([lo, hi]).range(range);
  let ticks = scale.ticks(6);
  if (options.integer) ticks = ticks.filter(Number.isInteger);
  const format = scale.tickFormat(6, options.percent ? '%' : undefined);
  return { at: (v) => scale(v), ticks, labels: ticks.map((t) => (options.integer ? String(t) : format(t))) };
}

function xsOf(s: PlotSeries): readonly number[] {
  return s.x ?? s.values.map((_, i) => i + 1);
}

function rgb(c: Rgb): string {
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function line(x1: number, y1: number, x2: number, y2: number, stroke: string, width = 1): string {
  return `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${stroke}" stroke-width="${width}"/>`;
}

/** The pixel points of each unbroken run of finite values. */
function segments(s: PlotSeries, x: Axis, y: Axis): [number, number][][] {
  const xs = xsOf(s);
  const runs: [number, number][][] = [[]];
  s.values.forEach((v, i) => {
    if (Number.isFinite(v) && Number.isFinite(xs[i])) runs[runs.length - 1].push([x.at(xs[i]), y.at(v)]);
    else if (runs[runs.length - 1].length > 0) runs.push([]);
  });
  return runs.filter((r) => r.length > 0);
}

function seriesSvg(s: PlotSeries, x: Axis, y: Axis): string {
  const runs = segments(s, x, y);
  const points = runs.reduce((n, r) => n + r.length, 0);
  const out = runs.map((r) => `<polyline fill="none" stroke="${rgb(s.color)}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round" points="${r.map(([px, py]) => `${px.toFixed(2)},${py.toFixed(2)}`).join(' ')}"/>`);
  // Markers show single points and, on short runs, where each epoch's value sits.
  for (const r of runs) {
    if (r.length > 1 && points > 40) continue;
    for (const [px, py] of r) out.push(`<circle cx="${px.toFixed(2)}" cy="${py.toFixed(2)}" r="2.5" fill="${rgb(s.color)}"/>`);
  }
  return out.join('');
}

/** The legend box in the corner of the plot that covers the fewest data points (matplotlib's 'best'). */
function placeLegend(plot: Rect, width: number, height: number, runs: [number, number][][]): Rect {
  const inset = 8;
  const corners: [number, number][] = [
    [plot.x + plot.width - inset - width, plot.y + inset],
    [plot.x + inset, plot.y + inset],
    [plot.x + inset, plot.y + plot.height - inset - height],
    [plot.x + plot.width - inset - width, plot.y + plot.height - inset - height],
  ];
  const samples: [number, number][] = [];
  for (const r of runs) {
    r.forEach(([px, py], i) => {
      const [qx, qy] = i + 1 < r.length ? r[i + 1] : [px, py];
      for (let k = 0; k < 8; k++) samples.push([px + ((qx - px) * k) / 8, py + ((qy - py) * k) / 8]);
    });
  }
  const covered = ([cx, cy]: [number, number]) => samples.filter(([px, py]) => px >= cx - 3 && px <= cx + width + 3 && py >= cy - 3 && py <= cy + height + 3).length;
  let best = corners[0];
  for (const c of corners.slice(1)) if (covered(c) < covered(best)) best = c;
  return { x: Math.round(best[0]), y: Math.round(best[1]), width, height };
}

function legendSvg(chart: PlotChart, box: Rect, text: PlotText): string {
  const parts = [`<rect x="${box.x + 0.5}" y="${box.y + 0.5}" width="${box.width}" height="${box.height}" rx="3" fill="white" fill-opacity="0.9" stroke="#bbbbbb"/>`];
  chart.series.forEach((s, i) => {
    const cy = box.y + 6 + i * LEGEND_ROW + LEGEND_ROW / 2;
    parts.push(line(box.x + 8, Math.round(cy) + 0.5, box.x + 32, Math.round(cy) + 0.5, rgb(s.color), 3));
    parts.push(text.path(s.name, box.x + 38, cy, FONT.legend, INK, { baseline: 'middle' }));
  });
  return parts.join('');
}

/** Grid lines, tick marks and tick labels of both axes. */
function gridAndTicksSvg(plot: Rect, x: Axis, y: Axis, text: PlotText): string {
  const bottom = plot.y + plot.height;
  const parts: string[] = [];
  for (const t of y.ticks) {
    const py = Math.round(y.at(t)) + 0.5;
    parts.push(line(plot.x, py, plot.x + plot.width, py, '#e8e8e8'), line(plot.x - 5, py, plot.x, py, INK));
  }
  for (const t of x.ticks) {
    const px = Math.round(x.at(t)) + 0.5;
    parts.push(line(px, plot.y, px, bottom, '#e8e8e8'), line(px, bottom, px, bottom + 5, INK));
  }
  y.ticks.forEach((t, i) => parts.push(text.path(y.labels[i], plot.x - 8, y.at(t), FONT.tick, INK, { anchor: 'end', baseline: 'middle' })));
  x.ticks.forEach((t, i) => parts.push(text.path(x.labels[i], x.at(t), bottom + 9, FONT.tick, INK, { anchor: 'middle', baseline: 'top' })));
  return parts.join('');
}

/** Lays out and draws one panel whose top-left corner is (left, top). */
function chartSvg(chart: PlotChart, index: number, left: number, top: number, tools: Tools): { svg: string; layout: ChartLayout } {
  const { text } = tools;
  const all = chart.series;
  const integerX = all.every((s) => xsOf(s).every((v) => !Number.isFinite(v) || Number.isInteger(v)));
  const yExtent = finiteExtent(all.flatMap((s) => s.values));
  const plotTop = top + 40;
  const bottom = top + PANEL_SIZE.height - 54;
  const y = makeAxis(tools, yExtent, [bottom, plotTop], 0.05, { integer: false, percent: chart.yFormat === 'percent' });
  // The widest y tick label decides where the plot area starts.
  const yTickWidth = Math.ceil(Math.max(0, ...y.labels.map((l) => text.width(l, FONT.tick))));
  const plotLeft = left + 10 + FONT.label + 10 + yTickWidth + 8;
  const plot: Rect = { x: plotLeft, y: plotTop, width: left + PANEL_SIZE.width - 18 - plotLeft, height: bottom - plotTop };
  const xExtent = finiteExtent(all.flatMap((s) => xsOf(s).filter((_, i) => Number.isFinite(s.values[i])))) ?? finiteExtent(all.flatMap(xsOf));
  const x = makeAxis(tools, xExtent, [plot.x, plot.x + plot.width], 0.03, { integer: integerX, percent: false });
  const parts = [gridAndTicksSvg(plot, x, y, text)];
  const runs = all.map((s) => segments(s, x, y));
  parts.push(`<clipPath id="plot${index}"><rect x="${plot.x}" y="${plot.y}" width="${plot.width}" height="${plot.height}"/></clipPath>`);
  parts.push(`<g clip-path="url(#plot${index})">${all.map((s) => seriesSvg(s, x, y)).join('')}</g>`);
  parts.push(`<rect x="${plot.x + 0.5}" y="${plot.y + 0.5}" width="${plot.width}" height="${plot.height}" fill="none" stroke="${INK}"/>`);
  const cx = plot.x + plot.width / 2;
  const cy = plot.y + plot.height / 2;
  if (yExtent === null) parts.push(text.path('no data', cx, cy, FONT.label, '#888888', { anchor: 'middle', baseline: 'middle' }));
  let legend: Rect | null = null;
  if (all.length > 0) {
    const width = Math.ceil(46 + Math.max(...all.map((s) => text.width(s.name, FONT.legend))));
    legend = placeLegend(plot, width, 8 + all.length * LEGEND_ROW, runs.flat());
    parts.push(legendSvg(chart, legend, text));
  }
  const xLabel = chart.xLabel ?? 'epoch';
  const yLabel = chart.yLabel ?? chart.title;
  const xLabelTop = bottom + 9 + FONT.tick + 10;
  parts.push(text.path(chart.title, cx, top + 14, FONT.title, INK, { anchor: 'middle', baseline: 'top' }));
  parts.push(text.path(xLabel, cx, xLabelTop, FONT.label, INK, { anchor: 'middle', baseline: 'top' }));
  parts.push(text.path(yLabel, left + 10 + FONT.label / 2, cy, FONT.label, INK, { anchor: 'middle', baseline: 'middle', rotate: -90 }));
  const xLabelWidth = text.width(xLabel, FONT.label);
  const yLabelWidth = text.width(yLabel, FONT.label);
  const titleWidth = text.width(chart.title, FONT.title);
  const layout: ChartLayout = {
    plot,
    title: { x: cx - titleWidth / 2, y: top + 14, width: titleWidth, height: text.capHeight(FONT.title) },
    xTicks: { x: plot.x - 20, y: bottom + 9, width: plot.width + 40, height: text.capHeight(FONT.tick) },
    yTicks: { x: plot.x - 8 - yTickWidth, y: plot.y - FONT.tick / 2, width: yTickWidth, height: plot.height + FONT.tick },
    xTickLabels: x.labels,
    yTickLabels: y.labels,
    xLabel: { x: cx - xLabelWidth / 2, y: xLabelTop, width: xLabelWidth, height: FONT.label },
    yLabel: { x: left + 10, y: cy - yLabelWidth / 2, width: FONT.label, height: yLabelWidth },
    legend,
  };
  return { svg: parts.join(''), layout };
}

/** Draws the charts side by side as an SVG document; returns it with the layout of its parts. */
export async function plotSvg(charts: readonly PlotChart[], options: PlotOptions = {}): Promise<{ svg: string; layout: PlotLayout }> {
  if (charts.length === 0) throw new ArgumentError('plot: expected at least one chart, got none');
  const [text, { scaleLinear }] = await Promise.all([loadPlotText(), import('d3-scale')]);
  const top = options.title ? FIGURE_TITLE_HEIGHT : 0;
  const width = PANEL_SIZE.width * charts.length;
  const height = PANEL_SIZE.height + top;
  const drawn = charts.map((c, i) => chartSvg(c, i, i * PANEL_SIZE.width, top, { text, scaleLinear }));
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`, `<rect width="${width}" height="${height}" fill="white"/>`];
  let title: Rect | null = null;
  if (options.title) {
    const w = text.width(options.title, FONT.figureTitle);
    title = { x: width / 2 - w / 2, y: 12, width: w, height: text.capHeight(FONT.figureTitle) };
    parts.push(text.path(options.title, width / 2, 12, FONT.figureTitle, INK, { anchor: 'middle', baseline: 'top' }));
  }
  parts.push(...drawn.map((d) => d.svg), '</svg>');
  return { svg: parts.join(''), layout: { width, height, title, charts: drawn.map((d) => d.layout) } };
}

/** Renders the charts to PNG bytes; returns them with the layout of the drawn parts. */
export async function renderPlot(charts: readonly PlotChart[], options: PlotOptions = {}): Promise<{ png: Buffer; layout: PlotLayout }> {
  const { svg, layout } = await plotSvg(charts, options);
  const sharp = await loadSharp();
  const png = await sharp(Buffer.from(svg)).png().toBuffer();
  return { png, layout };
}

/** Renders the charts side by side into a PNG at `file` (written to a temp name, then renamed); returns a legend line. */
export async function plotCurves(file: string, charts: readonly PlotChart[], options: PlotOptions = {}): Promise<string> {
  const { png } = await renderPlot(charts, options);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, png);
  renameSync(tmp, file);
  return charts.map((c) => `${c.title}: ${c.series.map((s) => `${s.name}=rgb(${s.color.join(',')})`).join(' ')}`).join('; ');
}
