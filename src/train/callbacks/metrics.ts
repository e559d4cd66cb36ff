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

/** Writes the epoch summary line, the metrics files and the curves plot. */
export class MetricsWriter implements TrainCallback {
  constructor(private readonly options: MetricsWriterOptions) {}

  /** Writes the files from the whole history, then logs the epoch's line. */
  async onEpochEnd(trainer: TrainerView, { record }: EpochEnd): Promise<void> {
    if (this.options.dir) await writeMetrics(this.options.dir, trainer.history);
    trainer.log(summary(record, this.options.epochs));
  }
}

/** Writes metrics.jsonl, metrics.csv (EMA columns when any record has them) and curves.png into dir. */
async function writeMetrics(dir: string, history: readonly EpochRecord[]): Promise<void> {
  writeFileSync(join(dir, 'metrics.jsonl'), history.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const columns = history.some((r) => r.emaTop1 !== undefined) ? [...CSV_COLUMNS, ...EMA_CSV_COLUMNS] : CSV_COLUMNS;
  writeFileSync(join(dir, 'metrics.csv'), [columns.join(','), ...history.map((r) => columns.map((k) => r[k] ?? '').join(','))].join('\n') + '\n');
  const nums = (k: keyof EpochRecord) => history.map((r) => r[k] ?? NaN);
  const x = history.map((r) => r.epoch);
  await plotCurves(join(dir, 'curves.png'), [
    { title: 'loss', series: [{ name: 'train', values: nums('trainLoss'), color: PALETTE[0], x }, { name: 'eval', values: nums('evalLoss'), color: PALETTE[1], x }] },
    {
      title: 'held-out accuracy', yLabel: 'accuracy', yFormat: 'percent',
      series: [{ name: 'top-1', values: nums('top1'), color: PALETTE[2], x }, { name: 'top-5', values: nums('top5'), color: PALETTE[3], x }],
    },
  ]);
}

/** The epoch's log line: losses, accuracies, throughput and time. */
function summary(r: EpochRecord, epochs: number): string {
  const evalPart = r.evalLoss !== null && r.top1 !== null && r.top5 !== null ? `, eval loss ${r.evalLoss.toFixed(4)}, top-1 ${(r.top1 * 100).toFixed(2)}%, top-5 ${(r.top5 * 100).toFixed(2)}%` : '';
  const emaPart = r.emaTop1 !== undefined ? `, EMA top-1 ${(r.emaTop1 * 100).toFixed(2)}%` : '';
  return `epoch ${r.epoch}/${epochs}: train loss ${r.trainLoss.toFixed(4)}${evalPart}${emaPart}, ${r.imagesPerSecond.toFixed(1)} img/s, ${formatDuration(r.seconds)}`;
}
