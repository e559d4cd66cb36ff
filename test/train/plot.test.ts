/**
 * Training-curve plots: the PNG has the panel size, and its tick labels, axis labels, titles and
 * legend are drawn where the layout says (dark text pixels there, series colours in the legend).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { ArgumentError } from '../../src/errors.ts';
import { PALETTE, PANEL_SIZE, plotCurves, plotSvg, renderPlot, type PlotChart, type Rect } from '../../src/train/plot.ts';

interface Raw {
  data: Buffer;
  width: number;
  height: number;
}

async function decode(png: Buffer): Promise<Raw> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Pixels inside `r` for which `match` holds. */
function count(img: Raw, r: Rect, match: (p: [number, number, number]) => boolean): number {
  let n = 0;
  for (let y = Math.max(0, Math.floor(r.y)); y < Math.min(img.height, Math.ceil(r.y + r.height)); y++) {
    for (let x = Math.max(0, Math.floor(r.x)); x < Math.min(img.width, Math.ceil(r.x + r.width)); x++) {
      const o = (y * img.width + x) * 3;
      if (match([img.data[o], img.data[o + 1], img.data[o + 2]])) n++;
    }
  }
  return n;
}

const dark = (p: [number, number, number]) => p.every((v) => v < 110);
const near = (c: readonly number[]) => (p: [number, number, number]) => p.every((v, i) => Math.abs(v - c[i]) <= 3);

const epochs = 10;
const loss = Array.from({ length: epochs }, (_, i) => 2.3 * Math.exp(-i / 3) + 0.2);
const charts: PlotChart[] = [
  { title: 'loss', series: [{ name: 'train', values: loss, color: PALETTE[0] }, { name: 'eval', values: loss.map((v) => v + 0.1), color: PALETTE[1] }] },
  { title: 'top-1 (held out)', yLabel: 'accuracy', yFormat: 'percent', series: [{ name: 'top1', values: loss.map((v) => 1 - v / 3), color: PALETTE[2] }] },
];

test('renderPlot draws tick labels, axis labels, titles and a legend where its layout says', async () => {
  const { png, layout } = await renderPlot(charts, { title: 'resnet18 on shapes' });
  const img = await decode(png);
  assert.equal(img.width, 2 * PANEL_SIZE.width);
  assert.equal(img.height, layout.height);
  assert.ok(layout.height > PANEL_SIZE.height, 'a figure title adds a strip above the panels');
  assert.ok(count(img, layout.title!, dark) > 50, 'figure title');
  layout.charts.forEach((c, i) => {
    for (const part of ['title', 'xTicks', 'yTicks', 'xLabel', 'yLabel'] as const) {
      assert.ok(count(img, c[part], dark) > 30, `chart ${i} ${part}: no text pixels in ${JSON.stringify(c[part])}`);
    }
    // Tick labels sit outside the plot frame, beside and below it.
    assert.ok(c.yTicks.x + c.yTicks.width <= c.plot.x && c.xTicks.y >= c.plot.y + c.plot.height);
    assert.ok(c.legend && count(img, c.legend, dark) > 30, `chart ${i} legend text`);
    for (const s of charts[i].series) assert.ok(count(img, c.legend!, near(s.color)) > 20, `chart ${i} legend swatch for ${s.name}`);
  });
  // Nothing drawn in the gutter between the y label and the panel edge.
  const gutter = layout.charts[1];
  assert.equal(count(img, { x: PANEL_SIZE.width, y: gutter.plot.y, width: 8, height: gutter.plot.height }, (p) => p.some((v) => v < 250)), 0);
});

test('tick labels: whole epochs on x, percentages for a percent chart, plain numbers otherwise', async () => {
  const { layout } = await renderPlot(charts);
  assert.equal(layout.title, null);
  assert.equal(layout.height, PANEL_SIZE.height);
  const [lossChart, top1Chart] = layout.charts;
  assert.ok(lossChart.xTickLabels.length >= 3);
  assert.ok(lossChart.xTickLabels.every((l) => /^\d+$/.test(l) && Number(l) >= 1 && Number(l) <= epochs), lossChart.xTickLabels.join(' '));
  assert.ok(top1Chart.yTickLabels.length >= 3 && top1Chart.yTickLabels.every((l) => /^\d+%$/.test(l)), top1Chart.yTickLabels.join(' '));
  assert.ok(lossChart.yTickLabels.every((l) => /^\d+(\.\d+)?$/.test(l)), lossChart.yTickLabels.join(' '));
});

test('the legend goes to the corner the curves leave free', async () => {
  const rising = Array.from({ length: 20 }, (_, i) => i);
  const { layout } = await renderPlot([{ title: 'rising', series: [{ name: 'a', values: rising, color: PALETTE[0] }] }]);
  const { plot, legend } = layout.charts[0];
  // The diagonal covers upper right and lower left: the legend takes the upper left.
  assert.ok(legend!.x < plot.x + plot.width / 2 && legend!.y < plot.y + plot.height / 2, JSON.stringify({ plot, legend }));
});

test('series with gaps or no finite values still draw; no charts is an ArgumentError', async () => {
  const { png, layout } = await renderPlot([
    { title: 'eval', series: [{ name: 'eval', values: [NaN, NaN], color: PALETTE[1] }, { name: 'gappy', values: [1, NaN, 3, 2], color: PALETTE[2] }] },
    { title: 'no eval split', series: [{ name: 'top1', values: [NaN, NaN], color: PALETTE[2] }] },
  ]);
  assert.equal((await decode(png)).width, 2 * PANEL_SIZE.width);
  assert.ok(layout.charts.every((c) => c.legend));
  // A chart without values still spans the epochs its series have.
  assert.deepEqual(layout.charts[1].xTickLabels, ['1', '2']);
  await assert.rejects(renderPlot([]), ArgumentError);
});

test('plotCurves writes the PNG through a temp name and returns the series colours', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsv-curves-'));
  const file = join(dir, 'curves.png');
  const legend = await plotCurves(file, charts);
  assert.match(legend, /^loss: train=rgb\(31,119,180\) eval=rgb\(255,127,14\); top-1 \(held out\): top1=rgb\(44,160,44\)$/);
  assert.deepEqual(readdirSync(dir), ['curves.png']);
  const meta = await sharp(readFileSync(file)).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 2 * PANEL_SIZE.width, PANEL_SIZE.height]);
});

test('text needs no system fonts: a process whose fontconfig finds none draws the same pixels', async () => {
  // Without fonts, SVG <text> would come out as boxes; the plot's text is outlines from the bundled font.
  const { svg } = await plotSvg(charts, { title: 'outlines' });
  assert.doesNotMatch(svg, /<text/);
  const dir = mkdtempSync(join(tmpdir(), 'tsv-nofonts-'));
  mkdirSync(join(dir, 'fonts'));
  const conf = join(dir, 'fonts.conf');
  writeFileSync(conf, `<?xml version="1.0"?><fontconfig><dir>${join(dir, 'fonts')}</dir><cachedir>${join(dir, 'cache')}</cachedir></fontconfig>`);
  const out = join(dir, 'plot.png');
  const probe = `
    import { writeFileSync } from 'node:fs';
    import { PALETTE, renderPlot } from './src/train/plot.ts';
    const { png } = await renderPlot([{ title: 'loss', series: [{ name: 'train', values: [2, 1.2, 0.7], color: PALETTE[0] }] }], { title: 'no fonts' });
    writeFileSync(${JSON.stringify(out)}, png);
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { encoding: 'utf8', env: { ...process.env, FONTCONFIG_FILE: conf } });
  assert.equal(run.status, 0, run.stderr);
  const here = await renderPlot([{ title: 'loss', series: [{ name: 'train', values: [2, 1.2, 0.7], color: PALETTE[0] }] }], { title: 'no fonts' });
  const [a, b] = await Promise.all([decode(readFileSync(out)), decode(here.png)]);
  assert.ok(count(a, here.layout.charts[0].xLabel, dark) > 30);
  assert.ok(a.data.equals(b.data), 'the plot drawn without system fonts differs from the one drawn with them');
});
