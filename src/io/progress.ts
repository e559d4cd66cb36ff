/**
 * Progress of a byte transfer (a download): bytes done of total, rate and time left. Reports go
 * to a callback when one is given, else to one self-rewriting line on stderr when stderr is a
 * terminal; nothing is printed when stderr is a file or a pipe (logs stay clean).
 */

/** One report on a transfer. */
export interface TransferProgress {
  /** What is transferred, e.g. `timm/vit_base_patch16_224.augreg2_in21k_ft_in1k/model.safetensors`. */
  label: string;
  /** Bytes present so far, including any resumed prefix. */
  done: number;
  /** Bytes in all, when the server said. */
  total: number | undefined;
  /** Bytes per second received by this transfer so far. */
  rate: number;
  /** Seconds left at that rate, when total and rate are known. */
  eta: number | undefined;
}

/** Receives progress reports; `done` never decreases within one transfer. */
export type ProgressCallback = (progress: TransferProgress) => void;

/** A terminal-like stream: stderr, or a stand-in in tests. */
export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

// Reports are throttled so a fast transfer of many small chunks costs nothing; first and last always go out.
const REPORT_INTERVAL_MS = 100;

/** Decimal byte count as a terminal shows it: `512 B`, `45.1 MB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    ++unit;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Seconds as `7s`, `2m05s`, `1h02m`. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One line describing a report: label, bytes done / total, percent, rate, ETA. */
export function formatProgress(p: TransferProgress): string {
  const parts = [p.label];
  if (p.total !== undefined) {
    const percent = p.total > 0 ? Math.floor((100 * p.done) / p.total) : 100;
    parts.push(`${formatBytes(p.done)} / ${formatBytes(p.total)}`, `${percent}%`);
  } else {
    parts.push(formatBytes(p.done));
  }
  if (p.rate > 0) parts.push(`${formatBytes(p.rate)}/s`);
  if (p.eta !== undefined) parts.push(`ETA ${formatDuration(p.eta)}`);
  return parts.join('  ');
}

/** A bar of `width` cells, `fraction` of them filled: `[######      ]`. */
export function progressBar(fraction: number, width: number): string {
  const filled = Math.max(0, Math.min(width, Math.round(width * fraction)));
  return `[${'#'.repeat(filled)}${' '.repeat(width - filled)}]`;
}

/** One self-rewriting line on a terminal: each draw replaces the last, cut to the terminal's width; end() moves to a new line. */
export class StatusLine {
  constructor(private readonly stream: ProgressStream) {}

  /** Replaces the line with text. */
  draw(text: string): void {
    const width = this.stream.columns ?? 0;
    this.stream.write(`\r${width > 1 && text.length >= width ? text.slice(0, width - 1) : text}\x1b[K`);
  }

  /** Leaves the line as it is and starts a new one. */
  end(): void {
    this.stream.write('\n');
  }
}

/** Tracks one transfer and reports it to `onProgress`, or to `stream` when that is a TTY. */
export class ProgressReporter {
  private readonly startedAt = performance.now();
  private readonly startDone: number;
  private done: number;
  private lastReportAt = -Infinity;
  private readonly line: StatusLine | undefined;

  constructor(
    private readonly label: string,
    private readonly total: number | undefined,
    resumedFrom: number,
    private readonly onProgress?: ProgressCallback,
    stream: ProgressStream = process.stderr,
  ) {
    this.startDone = resumedFrom;
    this.done = resumedFrom;
    this.line = !onProgress && stream.isTTY ? new StatusLine(stream) : undefined;
  }

  /** Bytes present so far. */
  get bytes(): number {
    return this.done;
  }

  /** Counts `bytes` more received. */
  advance(bytes: number): void {
    this.done += bytes;
    const now = performance.now();
    if (now - this.lastReportAt >= REPORT_INTERVAL_MS) this.report(now);
  }

  /** Sends the final report and ends the terminal line. */
  finish(): void {
    this.report(performance.now());
    this.line?.end();
  }

  private report(now: number): void {
    this.lastReportAt = now;
    const seconds = (now - this.startedAt) / 1000;
    const rate = seconds > 0 ? (this.done - this.startDone) / seconds : 0;
    const eta = this.total !== undefined && rate > 0 ? Math.max(0, this.total - this.done) / rate : undefined;
    const progress: TransferProgress = { label: this.label, done: this.done, total: this.total, rate, eta };
    if (this.onProgress) {
      this.onProgress(progress);
    } else {
      this.line?.draw(formatProgress(progress));
    }
  }
}
