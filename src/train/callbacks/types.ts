/**
 * The trainer's callback interface: what a callback sees of a run (TrainerView) and the hooks it
 * may implement. The trainer calls each hook on its callbacks in list order and awaits it, so a
 * callback's effects (a checkpoint, a log line) land at the same point of every run.
 */
import type { CheckpointContents, SkippedCheckpoint } from '../checkpoint.ts';

/** What the trainer reports after each applied optimizer update (skipped ones are not reported). */
export interface StepInfo {
  epoch: number;
  step: number;
  loss: number;
  lr: number;
}

/** One epoch's record, as written to metrics.jsonl / metrics.csv. */
export interface EpochRecord {
  epoch: number;
  step: number;
  trainLoss: number;
  lr: number;
  evalLoss: number | null;
  top1: number | null;
  top5: number | null;
  imagesPerSecond: number;
  seconds: number;
  skippedSteps: number;
  /** With an EMA that holds a module and an eval loader: the EMA weights' evaluation. */
  emaEvalLoss?: number;
  emaTop1?: number;
  emaTop5?: number;
  /** Contrastive (CLIP) runs: top1/top5 are zero-shot accuracy among every class name; this is top-1 among the held-out classes' names only. */
  heldOutTop1?: number;
  /** Contrastive (CLIP) runs: text→image recall@1/5/10 on held-out pairs. */
  recallAt1?: number;
  recallAt5?: number;
  recallAt10?: number;
}

/** An applied update, with where it stands in its epoch. */
export interface StepEnd extends StepInfo {
  /** Batches of this epoch consumed so far, and in all (undefined while the loader does not know). */
  position: number;
  total: number | undefined;
  /** This update ended the epoch: the epoch's end (evaluation, checkpoint) follows. */
  lastOfEpoch: boolean;
  /** Mean loss of this epoch's updates so far. */
  epochLoss: number;
  /** Images this epoch so far, and when it started (performance.now()). */
  images: number;
  epochStarted: number;
}

/** A finished epoch: its record (already in the history) and whether it set a new best top-1. */
export interface EpochEnd {
  record: EpochRecord;
  improved: boolean;
}

/** Where a resumed run came from, and the newer checkpoints it could not read. */
export interface ResumeInfo {
  path: string;
  skipped: readonly SkippedCheckpoint[];
}

/** The part of a Trainer that callbacks use. */
export interface TrainerView {
  /** Optimizer updates done. */
  readonly step: number;
  /** Records of the finished epochs, resumed ones included. */
  readonly history: readonly EpochRecord[];
  /** Set by resume(): where the run continues from. */
  readonly resumed: ResumeInfo | null;
  /** Everything a checkpoint of the run's present state holds. */
  checkpointContents(): CheckpointContents;
  /** Ends the run after the current update (taking a checkpoint when it is mid-epoch), as Ctrl-C does. */
  requestStop(): void;
  /** The run's log (epoch summaries, saves, warnings). */
  log(line: string): void;
}

/** Hooks a callback may implement; each gets the trainer first. */
export interface TrainCallback {
  /** Before the first update of fit(). */
  onFitStart?(trainer: TrainerView): void | Promise<void>;
  /** After each applied update. */
  onStepEnd?(trainer: TrainerView, step: StepEnd): void | Promise<void>;
  /** The run stops before the end of its epoch (a stop request or maxSteps). */
  onStop?(trainer: TrainerView): void | Promise<void>;
  /** At the end of an epoch, after the model's evaluation: fields this callback adds to the epoch's record. */
  onEvaluate?(trainer: TrainerView): Promise<Partial<EpochRecord>>;
  /** After the epoch's record is in the history. */
  onEpochEnd?(trainer: TrainerView, epoch: EpochEnd): void | Promise<void>;
  /** When fit() ends, normally or by an error. */
  onFitEnd?(trainer: TrainerView): void | Promise<void>;
}
