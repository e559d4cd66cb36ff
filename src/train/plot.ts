/**
 * Training curves as a PNG: one panel per chart (loss, accuracy), each with a frame, a zero-based
 * grid of quarter lines and one coloured polyline per series, scaled to the data. No text is
 * drawn (no font rasteriser); the series colours are listed in the returned legend.
 */
import { renameSync } from 'node:fs';
import { loadSharp } from '../io/sharp.ts';

type Rgb = readonly [number, number, number];

/** Curve colours, in the order charts use them (matplotlib's first six). */
export const PALETTE: readonly Rgb[] = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75]];

/** One curve of a chart. */
export interface PlotSeries {
  name: string;
  values: readonly number[];
  color: Rgb;
}

/** One panel. */
export interface PlotChart {
  title: string;
  series: readonly PlotSeries[];
}

const PANEL_W = 400;
const PANEL_H = 300;
const MARGIN = 24;

class Canvas {
  readonly data: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Uint8Array(width * height * 4).fill(255);
  }

  dot(x: number, y: number, c: Rgb): void {
    const xi = Math.round(x);
    const yi = Math.round(y);
    if (xi < 0 || yi < 0 || xi >= this.width || yi >= this.height) return;
    const o = (yi * this.width + xi) * 4;
    this.data[o] = c[0];
    this.data[o + 1] = c[1];
    this.data[o + 2] = c[2];
  }

  /** A line sampled at every pixel step of its longer axis, thickened by one pixel. */
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thick = false): void {
    const n = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    for (let i = 0; i <= n; i++) {
      const x = x0 + ((x1 - x0) * i) / n;
      const y = y0 + ((y1 - y0) * i) / n;
      this.dot(x, y, c);
      if (thick) {
        this.dot(x + 1, y, c);
        this.dot(x, y + 1, c);
      }
    }
  }
}

function drawChart(canvas: Canvas, left: number, chart: PlotChart): void {
  const x0 = left + MARGIN;
  const x1 = left + PANEL_W - MARGIN / 2;
  const y0 = PANEL_H - MARGIN;
  const y1 = MARGIN / 2;
  const grid: Rgb = [225, 225, 225];
  const axis: Rgb = [40, 40, 40];
  for (let q = 1; q < 4; q++) {
    const y = y0 + ((y1 - y0) * q) / 4;
    canvas.line(x0, y, x1, y, grid);
  }
  canvas.line(x0, y0, x1, y0, axis);
  canvas.line(x0, y0, x0, y1, axis);
  const finite = chart.series.flatMap((s) => s.values.filter(Number.isFinite));
  if (finite.length === 0) return;
  const hi = Math.max(...finite, 0) || 1;
  const lo = Math.min(0, ...finite);
  const longest = Math.max(...chart.series.map((s) => s.values.length));
  const px = (i: number) => (longest <= 1 ? (x0 + x1) / 2 : x0 + ((x1 - x0) * i) / (longest - 1));
  const py = (v: number) => y0 + ((y1 - y0) * (v - lo)) / (hi - lo);
  for (const s of chart.series) {
    s.values.forEach((v, i) => {
      if (!Number.isFinite(v)) return;
      const prev = s.values[i - 1];
      if (i > 0 && Number.isFinite(prev)) canvas.line(px(i - 1), py(prev), px(i), py(v), s.color, true);
      else canvas.line(px(i) - 1, py(v), px(i) + 1, py(v), s.color, true);
    });
  }
}

/** Renders the charts side by side into a PNG at `file` (written to a temp name, then renamed); returns a legend line. */
export async function plotCurves(file: string, charts: readonly PlotChart[]): Promise<string> {
  const canvas = new Canvas(PANEL_W * Math.max(1, charts.length), PANEL_H);
  charts.forEach((chart, i) => drawChart(canvas, i * PANEL_W, chart));
  const tmp = `${file}.tmp-${process.pid}`;
  const sharp = await loadSharp();
  await sharp(canvas.data, { raw: { width: canvas.width, height: canvas.height, channels: 4 } }).png().toFile(tmp);
  renameSync(tmp, file);
  return charts.map((c) => `${c.title}: ${c.series.map((s) => `${s.name}=rgb(${s.color.join(',')})`).join(' ')}`).join('; ');
}
