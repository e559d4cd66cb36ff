/**
 * The run's record after each epoch: a summary line on the log and, with an output directory,
 * metrics.jsonl and metrics.csv (every epoch so far, resumed ones included) and curves.png.
 * They are written before the epoch's checkpoint, so a failed save does not lose the epoch's numbers.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration } from '../../io/progress.ts';
import { PALETTE, plotCurves } from '../plot.ts';
import type { EpochEnd, EpochRecord, TrainCallback, TrainerView } from './types.ts';

/** Where MetricsWriter writes. */
export interface MetricsWriterOptions {
  /** The output directory; null: the log line only. */
  dir: string | null;
  /** Epochs of the run, for the `epoch i/n` label. */
  epochs: number;
}

const CSV_COLUMNS: (keyof EpochRecord)[] = ['epoch', 'step', 'trainLoss', 'lr', 'evalLoss', 'top1', 'top5', 'imagesPerSecond', 'seconds', 'skippedSteps'];
const EMA_CSV_COLUMNS: (keyof EpochRecord)[] = ['emaEvalLoss', 'emaTop1', 'emaTop5'];
const CLIP_CSV_COLUMNS: (keyof EpochRecord)[] = ['heldOutTop1', 'recallAt1', 'recallAt5', 'recallAt10'];

/** Writes the epoch summary line, the metrics files and the curves plot. */
export class MetricsWriter implements TrainCallback {
  constructor(private readonly options: MetricsWriterOptions) {}

  /** Writes the files from the whole history, then logs the epoch's line. */
  async onEpochEnd(trainer: TrainerView, { record }: EpochEnd): Promise<void> {
    if (this.options.dir) await writeMetrics(this.options.dir, trainer.history);
    trainer.log(summary(record, this.options.epochs));
  }
}

/** Writes metrics.jsonl, metrics.csv (EMA and recall columns when any record has them) and curves.png into dir. */
async function writeMetrics(dir: string, history: readonly EpochRecord[]): Promise<void> {
  writeFileSync(join(dir, 'metrics.jsonl'), history.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const recall = history.some((r) => r.recallAt5 !== undefined);
  const columns = [...CSV_COLUMNS, ...(history.some((r) => r.emaTop1 !== undefined) ? EMA_CSV_COLUMNS : []), ...(recall ? CLIP_CSV_COLUMNS : [])];
  writeFileSync(join(dir, 'metrics.csv'), [columns.join(','), ...history.map((r) => columns.map((k) => r[k] ?? '').join(','))].join('\n') + '\n');
  const nums = (k: keyof EpochRecord) => history.map((r) => r[k] ?? NaN);
  const x = history.map((r) => r.epoch);
  await plotCurves(join(dir, 'curves.png'), [
    {
      title: 'loss',
      series: [
        { name: 'train', values: nums('trainLoss'), color: PALETTE[0], x },
        ...(history.some((r) => r.evalLoss !== null) ? [{ name: 'eval', values: nums('evalLoss'), color: PALETTE[1], x }] : []),
      ],
    },
    {
      title: recall ? 'zero-shot accuracy' : 'held-out accuracy', yLabel: 'accuracy', yFormat: 'percent',
      series: [
        { name: 'top-1', values: nums('top1'), color: PALETTE[2], x },
        { name: 'top-5', values: nums('top5'), color: PALETTE[3], x },
        ...(history.some((r) => r.heldOutTop1 !== undefined) ? [{ name: 'top-1 among held-out', values: nums('heldOutTop1'), color: PALETTE[1], x }] : []),
      ],
    },
    ...(recall
      ? [{
          title: 'text→image recall', yLabel: 'recall', yFormat: 'percent' as const,
          series: [{ name: 'R@1', values: nums('recallAt1'), color: PALETTE[4], x }, { name: 'R@5', values: nums('recallAt5'), color: PALETTE[5], x }, { name: 'R@10', values: nums('recallAt10'), color: PALETTE[0], x }],
        }]
      : []),
  ]);
}

/** The epoch's log line: losses, accuracies, throughput and time. */
function summary(r: EpochRecord, epochs: number): string {
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  const evalPart = r.evalLoss !== null && r.top1 !== null && r.top5 !== null ? `, eval loss ${r.evalLoss.toFixed(4)}, top-1 ${pct(r.top1)}, top-5 ${pct(r.top5)}` : '';
  const heldOutPart = r.heldOutTop1 !== undefined ? ` (top-1 among the held-out classes ${pct(r.heldOutTop1)})` : '';
  const zeroShotPart = r.evalLoss === null && r.top1 !== null && r.top5 !== null ? `, zero-shot top-1 ${pct(r.top1)}, top-5 ${pct(r.top5)}${heldOutPart}` : '';
  const emaPart = r.emaTop1 !== undefined ? `, EMA top-1 ${pct(r.emaTop1)}` : '';
  const recallPart = r.recallAt5 !== undefined ? `, text→image R@1 ${pct(r.recallAt1 ?? NaN)}, R@5 ${pct(r.recallAt5)}, R@10 ${pct(r.recallAt10 ?? NaN)}` : '';
  return `epoch ${r.epoch}/${epochs}: train loss ${r.trainLoss.toFixed(4)}${evalPart}${zeroShotPart}${emaPart}${recallPart}, ${r.imagesPerSecond.toFixed(1)} img/s, ${formatDuration(r.seconds)}`;
}
