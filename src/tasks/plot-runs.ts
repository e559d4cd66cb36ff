/**
 * `tsvision plot RUN...`: overlays the per-epoch curves of training runs (their metrics.jsonl)
 * in one image, e.g. a fine-tuning run beside the same training from scratch.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError } from '../errors.ts';
import { PALETTE, plotCurves, type PlotSeries } from '../train/plot.ts';

/** A run to draw: its output directory (holding metrics.jsonl) and its legend name. */
export interface RunCurves {
  dir: string;
  name: string;
}

/** Reads a run's per-epoch records; ArgumentError when the directory holds no training log or a line is not JSON. */
export function readRunMetrics(dir: string): Record<string, number | null>[] {
  const file = join(dir, 'metrics.jsonl');
  if (!existsSync(file)) throw new ArgumentError(`plot: ${dir} has no metrics.jsonl; expected a 'tsvision train --output' directory`);
  return readFileSync(file, 'utf8').split('\n').flatMap((line, i) => {
    if (line.trim() === '') return [];
    try {
      return [JSON.parse(line) as Record<string, number | null>];
    } catch {
      throw new ArgumentError(`plot: ${file} line ${i + 1} is not a JSON record (a truncated log?): '${line.slice(0, 60)}'`);
    }
  });
}

/** Writes one PNG with a train-loss panel and a top-1 panel, one curve per run, titled with the run names; returns the legend. */
export async function plotRuns(runs: readonly RunCurves[], file: string): Promise<string> {
  if (runs.length === 0) throw new ArgumentError('plot: give at least one run directory');
  if (runs.length > PALETTE.length) throw new ArgumentError(`plot: at most ${PALETTE.length} runs fit one chart, got ${runs.length}`);
  const records = runs.map((r) => readRunMetrics(r.dir));
  const series = (key: string): PlotSeries[] => runs.map((r, i) => ({
    name: r.name,
    values: records[i].map((e) => e[key] ?? NaN),
    x: records[i].map((e, j) => e.epoch ?? j + 1),
    color: PALETTE[i],
  }));
  return plotCurves(file, [
    { title: 'train loss', yLabel: 'loss', series: series('trainLoss') },
    { title: 'top-1 (held out)', yLabel: 'top-1 accuracy', yFormat: 'percent', series: series('top1') },
  ], { title: runs.map((r) => r.name).join(' vs ') });
}
