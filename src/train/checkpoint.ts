/**
 * Training checkpoints: one directory `checkpoint-<step>/` per save, holding
 * `model.safetensors`, `optimizer.safetensors`, `model_ema.safetensors` when the run keeps an EMA
 * of the weights, and `state.json` (optimizer/scheduler/loader/RNG state, epoch, step, best
 * metric, arguments).
 *
 * Atomicity: everything is written into a hidden temp directory, `state.json` last and fsynced,
 * and the directory is then renamed into place. A checkpoint directory without `state.json` is
 * incomplete and ignored, so a process killed at any point leaves either the old checkpoints
 * alone or a stray temp directory (removed by the next save), never a half-written checkpoint.
 * Older checkpoints are pruned only after the new one is in place, each renamed to a hidden
 * name before its files are deleted; `best.json` (written
 * atomically) names the best one, which pruning keeps.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { TsvisionError, StateDictError } from '../errors.ts';
import { readSafetensors, writeSafetensors } from '../io/safetensors.ts';
import type { Module, StateDict } from '../nn/module.ts';
import type { GeneratorState } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { OptimizerStateDict, OptimizerStateMeta } from './optim/optimizer.ts';
import type { SchedulerState } from './scheduler.ts';
import type { LoaderState } from '../data/loader.ts';

/** A checkpoint that cannot be written, found or used. */
export class CheckpointError extends TsvisionError {
  constructor(message: string) {
    super('E_CHECKPOINT', message);
  }
}

export const CHECKPOINT_FORMAT = 'tsvision.checkpoint/1';
const STATE_FILE = 'state.json';
const MODEL_FILE = 'model.safetensors';
const OPTIMIZER_FILE = 'optimizer.safetensors';
const EMA_FILE = 'model_ema.safetensors';
const BEST_FILE = 'best.json';
const NAME = /^checkpoint-(\d+)$/;

/** The JSON part of a checkpoint. */
export interface CheckpointState {
  format: typeof CHECKPOINT_FORMAT;
  /** Model name the weights belong to (checked on resume). */
  model: string;
  /** Epochs completed. */
  epoch: number;
  /** Optimizer updates done. */
  step: number;
  bestMetric: number | null;
  optimizer: OptimizerStateMeta | null;
  scheduler: SchedulerState | null;
  loader: LoaderState | null;
  /** Generator states by name ('default' is the global generator). */
  rng: Record<string, GeneratorState>;
  /** The training arguments, for the record. */
  args: Record<string, unknown>;
  /** Anything else the trainer needs to continue (counters, history). */
  extra: Record<string, unknown>;
}

/** What a save writes: model tensors, optimizer state and the rest. */
export interface CheckpointContents {
  model: StateDict;
  optimizer: OptimizerStateDict | null;
  /** The EMA of the weights (ModelEma.stateDict()), when the run keeps one. */
  ema?: StateDict | null;
  state: Omit<CheckpointState, 'format' | 'optimizer'>;
}

/** A loaded checkpoint. */
export interface LoadedCheckpoint {
  path: string;
  model: Map<string, Tensor>;
  optimizer: OptimizerStateDict | null;
  /** The EMA weights, or null when the checkpoint has none. */
  ema: Map<string, Tensor> | null;
  state: CheckpointState;
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes JSON atomically: a temp file in the same directory, fsync, rename, fsync the directory.
 * On failure (a full disk) the temp file is removed and the old file, if any, is left as it was.
 */
export function writeJsonAtomic(file: string, value: unknown, dir: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, `${JSON.stringify(value, null, 1)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncPath(dir);
}

/** The step of a complete checkpoint directory name, or null. */
function stepOf(dir: string, name: string): number | null {
  const m = NAME.exec(name);
  return m && existsSync(join(dir, name, STATE_FILE)) ? Number(m[1]) : null;
}

/** Complete checkpoints under dir, oldest first. */
export function listCheckpoints(dir: string): { path: string; step: number }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => ({ path: join(dir, name), step: stepOf(dir, name) }))
    .filter((c): c is { path: string; step: number } => c.step !== null)
    .sort((a, b) => a.step - b.step);
}

/** The newest complete checkpoint under dir, or null. */
export function latestCheckpoint(dir: string): string | null {
  return listCheckpoints(dir).at(-1)?.path ?? null;
}

/** The checkpoint best.json names (null when none, or when it no longer exists). */
export function bestCheckpoint(dir: string): { path: string; metric: number } | null {
  const file = join(dir, BEST_FILE);
  if (!existsSync(file)) return null;
  const best = JSON.parse(readFileSync(file, 'utf8')) as { checkpoint: string; metric: number };
  const path = join(dir, best.checkpoint);
  return stepOf(dir, best.checkpoint) === null ? null : { path, metric: best.metric };
}

/** Records the checkpoint at `path` (inside dir) as the best one. */
export function markBest(dir: string, path: string, metric: number): void {
  writeJsonAtomic(join(dir, BEST_FILE), { checkpoint: basename(path), metric }, dir);
}

/**
 * Saves a complete checkpoint as `<dir>/checkpoint-<step>` and returns its path. Keeps the newest
 * `keep` checkpoints and the best one; older ones are deleted only after the new one is in place.
 */
export function saveCheckpoint(dir: string, contents: CheckpointContents, options: { keep?: number } = {}): string {
  const tmp = join(dir, `.checkpoint-${contents.state.step}.tmp-${process.pid}`);
  try {
    return writeCheckpoint(dir, tmp, contents, options.keep ?? 1);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    try {
      rmSync(tmp, { recursive: true, force: true });
    } catch {
      // the place is unwritable or gone; the next save cleans up a leftover temp dir
    }
    // The safetensors writer wraps the errno in its own error's message.
    const full = (e as NodeJS.ErrnoException).code === 'ENOSPC' || /\bENOSPC\b/.test((e as Error).message);
    const why = full ? 'the disk is full (ENOSPC); free some space or write to another directory' : (e as Error).message;
    throw Object.assign(new CheckpointError(`saveCheckpoint: could not write checkpoint-${contents.state.step} in ${dir}: ${why}; the previous checkpoints are kept`), { cause: e });
  }
}

function writeCheckpoint(dir: string, tmp: string, contents: CheckpointContents, keep: number): string {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) if (name.startsWith('.checkpoint-')) rmSync(join(dir, name), { recursive: true, force: true });
  const name = `checkpoint-${contents.state.step}`;
  const final = join(dir, name);
  mkdirSync(tmp);
  writeSafetensors(join(tmp, MODEL_FILE), contents.model, { format: 'pt', producer: 'tsvision trainer' });
  writeSafetensors(join(tmp, OPTIMIZER_FILE), contents.optimizer?.tensors ?? new Map(), { producer: 'tsvision trainer' });
  if (contents.ema) writeSafetensors(join(tmp, EMA_FILE), contents.ema, { format: 'pt', producer: 'tsvision trainer' });
  const state: CheckpointState = { format: CHECKPOINT_FORMAT, ...contents.state, optimizer: contents.optimizer?.meta ?? null };
  writeJsonAtomic(join(tmp, STATE_FILE), state, tmp);
  // A checkpoint of the same step (re-saved after a resume) is replaced: the old one goes only
  // once the new one is complete, under a temp name the next save cleans up if we die here.
  if (existsSync(final)) renameSync(final, join(dir, `.${name}.old-${process.pid}`));
  renameSync(tmp, final);
  fsyncPath(dir);
  rmSync(join(dir, `.${name}.old-${process.pid}`), { recursive: true, force: true });
  const best = bestCheckpoint(dir)?.path;
  const all = listCheckpoints(dir);
  for (const c of all.slice(0, Math.max(0, all.length - keep))) if (c.path !== best && c.path !== final) discard(dir, c.path);
  return final;
}

/**
 * Removes a checkpoint by first renaming it to a hidden name (atomic), so a kill during the
 * file-by-file delete cannot leave a visible directory whose state.json outlives its tensors.
 */
function discard(dir: string, path: string): void {
  const hidden = join(dir, `.${basename(path)}.old-${process.pid}`);
  renameSync(path, hidden);
  rmSync(hidden, { recursive: true, force: true });
}

/** Loads a checkpoint directory (or the newest one under an output directory). */
export function loadCheckpoint(path: string): LoadedCheckpoint {
  let dir = path;
  if (!existsSync(join(dir, STATE_FILE))) {
    const latest = latestCheckpoint(path);
    if (!latest) throw new CheckpointError(`loadCheckpoint: ${path} is not a complete checkpoint (no ${STATE_FILE}) and holds no checkpoint-<step> directory`);
    dir = latest;
  }
  const state = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as CheckpointState;
  if (state.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`loadCheckpoint: ${dir} has format ${String(state.format)}, expected ${CHECKPOINT_FORMAT}`);
  const model = readSafetensors(join(dir, MODEL_FILE)).tensors;
  const optimizer = state.optimizer ? { tensors: readSafetensors(join(dir, OPTIMIZER_FILE)).tensors, meta: state.optimizer } : null;
  const ema = existsSync(join(dir, EMA_FILE)) ? readSafetensors(join(dir, EMA_FILE)).tensors : null;
  return { path: dir, model, optimizer, ema, state };
}

/**
 * Copies checkpoint weights into a model, first checking that they fit: on a missing,
 * unexpected or mis-shaped key it throws a CheckpointError naming the first offending keys.
 */
export function loadModelWeights(model: Module, weights: Map<string, Tensor>, source: string): void {
  try {
    model.loadStateDict(weights);
  } catch (e) {
    if (!(e instanceof StateDictError)) throw e;
    const { missingKeys, unexpectedKeys, mismatchedKeys } = e;
    const first = (keys: readonly string[]) => keys.slice(0, 3).join(', ') + (keys.length > 3 ? `, … (${keys.length} in all)` : '');
    const parts: string[] = [];
    if (mismatchedKeys.length) parts.push(`shape mismatch ${first(mismatchedKeys.map((m) => `${m.key} [${m.checkpointShape}] vs model [${m.modelShape}]`))}`);
    if (missingKeys.length) parts.push(`missing ${first(missingKeys)}`);
    if (unexpectedKeys.length) parts.push(`unexpected ${first(unexpectedKeys)}`);
    throw new CheckpointError(`checkpoint ${source} does not fit the model (${model.constructor.name}): ${parts.join('; ')}`);
  }
}
