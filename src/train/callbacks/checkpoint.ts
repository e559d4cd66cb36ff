/**
 * When the trainer's checkpoints are taken: every `every` updates inside an epoch, when the run
 * stops mid-epoch (Ctrl-C, maxSteps), and at each epoch's end, which also marks the checkpoint
 * best when its eval top-1 improved. Checkpoints are taken at update boundaries only, so a
 * resumed run repeats the uninterrupted one bit for bit.
 *
 * A checkpoint that a resume could not read (ResumeInfo.skipped) and that lives in the output
 * directory is moved aside to `<name>.unreadable` before the first save: later saves would
 * otherwise prune it or replace it at the same step, and its other files may be all someone has.
 */
import { existsSync, renameSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { CheckpointError, markBest, saveCheckpoint } from '../checkpoint.ts';
import type { EpochEnd, StepEnd, TrainCallback, TrainerView } from './types.ts';

/** Where CheckpointSaver writes and how many it keeps. */
export interface CheckpointSaverOptions {
  dir: string;
  /** Also save every n updates (default: only at the end of each epoch). */
  every?: number | null;
  /** Newest checkpoints kept besides the best one (default 1). */
  keep?: number;
}

/** Saves the trainer's checkpoints (see the module comment for when). */
export class CheckpointSaver implements TrainCallback {
  /** The newest checkpoint this saver wrote. */
  lastCheckpoint: string | null = null;
  private savedStep: number | null = null;

  constructor(private readonly options: CheckpointSaverOptions) {}

  /** Moves the output directory's unreadable checkpoints out of the way of saving and pruning. */
  onFitStart(trainer: TrainerView): void {
    for (const { path } of trainer.resumed?.skipped ?? []) {
      if (resolve(dirname(path)) !== resolve(this.options.dir) || !existsSync(path)) continue;
      const aside = freeName(`${path}.unreadable`);
      try {
        renameSync(path, aside);
      } catch (e) {
        throw Object.assign(new CheckpointError(`cannot move the unreadable ${path} aside (to ${basename(aside)}), and saving would prune or replace it: ${(e as Error).message}`), { cause: e });
      }
      trainer.log(`kept the unreadable ${basename(path)} as ${aside}; it is no longer resumed from, pruned or replaced`);
    }
  }

  /** The periodic save inside an epoch (the epoch's end saves anyway). */
  onStepEnd(trainer: TrainerView, s: StepEnd): void {
    const every = this.options.every;
    if (every != null && s.step % every === 0 && !s.lastOfEpoch) this.save(trainer);
  }

  /** A run stopped mid-epoch keeps its state, unless this very update was just saved. */
  onStop(trainer: TrainerView): void {
    if (this.savedStep !== trainer.step) this.save(trainer);
  }

  /** The epoch's checkpoint, marked best when its top-1 improved. */
  onEpochEnd(trainer: TrainerView, { record, improved }: EpochEnd): void {
    const path = this.save(trainer);
    if (improved && record.top1 !== null) markBest(this.options.dir, path, record.top1);
  }

  private save(trainer: TrainerView): string {
    const path = saveCheckpoint(this.options.dir, trainer.checkpointContents(), { keep: this.options.keep ?? 1, warn: (m) => trainer.log(m) });
    this.lastCheckpoint = path;
    this.savedStep = trainer.step;
    return path;
  }
}

/** `path`, or `path-2`, `path-3`, ... when taken. */
function freeName(path: string): string {
  let candidate = path;
  for (let i = 2; existsSync(candidate); i++) candidate = `${path}-${i}`;
  return candidate;
}
