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
 * atomically) names the best one, which pruning keeps. While best.json cannot be read, nothing is
 * pruned (the best one is unknown), and the save says so without failing: its checkpoint was written.
 *
 * Reading: a file that cannot be read or parsed is a CheckpointError naming it. Loading an output
 * directory takes the newest checkpoint that reads completely, listing the newer ones it skipped
 * and why, so a resume never quietly starts over nor quietly loses a damaged checkpoint.
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
  /** Newer checkpoints under the same output directory that could not be read. */
  skipped: SkippedCheckpoint[];
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

/** Parses a JSON file, or throws a CheckpointError naming it (unreadable, truncated, not JSON). */
function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw Object.assign(new CheckpointError(`${file} cannot be read: ${(e as Error).message}`), { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw Object.assign(new CheckpointError(`${file} is not valid JSON (${text.length} bytes; truncated?): ${(e as Error).message}`), { cause: e });
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// The fields a resume reads without further checks; the nested states are checked by their owners.
function isCheckpointState(v: Record<string, unknown>): v is Record<string, unknown> & CheckpointState {
  return typeof v.epoch === 'number' && typeof v.step === 'number' && isRecord(v.rng) && isRecord(v.args) && isRecord(v.extra);
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

/**
 * The checkpoint best.json names (null when none, or when it no longer exists); a best.json that
 * cannot be read or lacks its fields is a CheckpointError naming it.
 */
export function bestCheckpoint(dir: string): { path: string; metric: number } | null {
  const file = join(dir, BEST_FILE);
  if (!existsSync(file)) return null;
  const best = readJson(file);
  if (!isRecord(best) || typeof best.checkpoint !== 'string' || typeof best.metric !== 'number') {
    throw new CheckpointError(`${file}: expected {"checkpoint": "checkpoint-<step>", "metric": <number>}, got ${JSON.stringify(best).slice(0, 80)}`);
  }
  return stepOf(dir, best.checkpoint) === null ? null : { path: join(dir, best.checkpoint), metric: best.metric };
}

/** Records the checkpoint at `path` (inside dir) as the best one. */
export function markBest(dir: string, path: string, metric: number): void {
  writeJsonAtomic(join(dir, BEST_FILE), { checkpoint: basename(path), metric }, dir);
}

/** How saveCheckpoint keeps older checkpoints and reports what it could not tidy. */
export interface SaveCheckpointOptions {
  /** Newest checkpoints kept besides the best one (default 1). */
  keep?: number;
  /**
   * Told when the checkpoint was written but older ones were not pruned (an unreadable best.json,
   * a failed delete); default: a process warning.
   */
  warn?: (message: string) => void;
}

/**
 * Saves a complete checkpoint as `<dir>/checkpoint-<step>` and returns its path. Keeps the newest
 * `keep` checkpoints and the best one; older ones are deleted only after the new one is in place.
 */
export function saveCheckpoint(dir: string, contents: CheckpointContents, options: SaveCheckpointOptions = {}): string {
  const tmp = join(dir, `.checkpoint-${contents.state.step}.tmp-${process.pid}`);
  let final: string;
  try {
    final = writeCheckpoint(dir, tmp, contents);
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
  const warn = options.warn ?? ((message: string) => process.emitWarning(message, 'CheckpointWarning'));
  try {
    pruneCheckpoints(dir, final, options.keep ?? 1);
  } catch (e) {
    warn(`saved ${final}, but kept every older checkpoint: ${(e as Error).message}`);
  }
  return final;
}

function writeCheckpoint(dir: string, tmp: string, contents: CheckpointContents): string {
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
  return final;
}

/** Deletes all but the newest `keep` checkpoints, never the best one nor `latest`; throws when best.json cannot be read. */
function pruneCheckpoints(dir: string, latest: string, keep: number): void {
  const best = bestCheckpoint(dir)?.path;
  const all = listCheckpoints(dir);
  for (const c of all.slice(0, Math.max(0, all.length - keep))) if (c.path !== best && c.path !== latest) discard(dir, c.path);
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

/** A checkpoint that loadCheckpoint passed over, and why. */
export interface SkippedCheckpoint {
  path: string;
  reason: string;
}

/**
 * Loads a checkpoint directory, or the newest checkpoint under an output directory that reads
 * completely: newer ones that cannot be read are listed in `skipped` with the reason. Throws a
 * CheckpointError naming the file when the named checkpoint, or every one under the directory,
 * cannot be read.
 */
export function loadCheckpoint(path: string): LoadedCheckpoint {
  if (existsSync(join(path, STATE_FILE))) return readCheckpoint(path, []);
  const found = listCheckpoints(path).reverse();
  if (found.length === 0) throw new CheckpointError(`loadCheckpoint: ${path} is not a complete checkpoint (no ${STATE_FILE}) and holds no checkpoint-<step> directory`);
  const skipped: SkippedCheckpoint[] = [];
  for (const { path: dir } of found) {
    try {
      return readCheckpoint(dir, skipped);
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      skipped.push({ path: dir, reason: e.message });
    }
  }
  throw new CheckpointError(`loadCheckpoint: no checkpoint under ${path} can be read: ${skipped.map((c) => `${basename(c.path)}: ${c.reason}`).join('; ')}`);
}

function readCheckpoint(dir: string, skipped: SkippedCheckpoint[]): LoadedCheckpoint {
  const file = join(dir, STATE_FILE);
  const state = readJson(file);
  if (!isRecord(state) || state.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${file} has format ${String(isRecord(state) ? state.format : state)}, expected ${CHECKPOINT_FORMAT}`);
  }
  if (!isCheckpointState(state)) throw new CheckpointError(`${file} lacks a field of a ${CHECKPOINT_FORMAT} state (numbers epoch and step, objects rng, args and extra)`);
  const tensors = (name: string) => {
    try {
      return readSafetensors(join(dir, name)).tensors;
    } catch (e) {
      if (!(e instanceof TsvisionError)) throw e;
      throw Object.assign(new CheckpointError(e.message), { cause: e });
    }
  };
  const model = tensors(MODEL_FILE);
  const optimizer = state.optimizer ? { tensors: tensors(OPTIMIZER_FILE), meta: state.optimizer } : null;
  const ema = existsSync(join(dir, EMA_FILE)) ? tensors(EMA_FILE) : null;
  return { path: dir, model, optimizer, ema, state, skipped };
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
    throw new CheckpointError(`checkpoint ${source} does not fit the model (${model.constructor.name}): ${e.summary()}`);
  }
}
