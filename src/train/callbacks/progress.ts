/**
 * Training progress after each update: on a TTY a redrawn bar with the epoch's position, mean
 * loss, learning rate, images/s and ETA; on other streams the same as a plain line every
 * `every` updates and at the epoch's end, so logs stay readable.
 */
import { formatDuration, progressBar, StatusLine, type ProgressStream } from '../../io/progress.ts';
import type { StepEnd, TrainCallback, TrainerView } from './types.ts';

/** Where and how often ProgressLogger writes. */
export interface ProgressLoggerOptions {
  stream: ProgressStream;
  /** Epochs of the run, for the `epoch i/n` label. */
  epochs: number;
  /** Updates between plain lines on a non-TTY stream (default 50). */
  every?: number;
}

const BAR_WIDTH = 24;

/** Writes a progress bar (TTY) or progress lines (other streams) after each update. */
export class ProgressLogger implements TrainCallback {
  constructor(private readonly options: ProgressLoggerOptions) {}

  /** Draws the bar or writes a line for this update. */
  onStepEnd(_trainer: TrainerView, s: StepEnd): void {
    const { stream, epochs } = this.options;
    const { position, total } = s;
    const elapsed = (performance.now() - s.epochStarted) / 1000;
    const rate = elapsed > 0 ? s.images / elapsed : 0;
    const eta = total && position > 0 ? formatDuration((elapsed / position) * (total - position)) : '?';
    const head = `epoch ${s.epoch + 1}/${epochs}`;
    const tail = `${position}/${total ?? '?'} loss ${s.epochLoss.toFixed(4)} lr ${s.lr.toExponential(2)} ${rate.toFixed(1)} img/s ETA ${eta}`;
    if (stream.isTTY) {
      const line = new StatusLine(stream);
      line.draw(`${head} ${progressBar(total ? position / total : 0, BAR_WIDTH)} ${tail}`);
      if (total && position >= total) line.end();
    } else if (position % (this.options.every ?? 50) === 0 || (total && position >= total)) {
      stream.write(`${head} ${tail}\n`);
    }
  }
}
