/**
 * The training loop: epochs of (micro-)batches with gradient accumulation, gradient clipping,
 * bf16 mixed precision, a per-update LR schedule, evaluation after each epoch, logs (JSONL, CSV,
 * a PNG of the curves), a non-finite guard, atomic checkpoints and exact resume.
 *
 * bf16 mixed precision: the model's parameters and buffers are cast to bfloat16 (Module.to keeps
 * the Parameter objects, so an optimizer built before still holds them), inputs are cast to
 * bf16, forward and backward run in bf16, and the optimizer keeps an f32 master copy of every
 * bf16 parameter in its state, updates the master and writes the rounded value back. Losses are
 * computed in f32 (the loss functions upcast). No loss scaler is needed: bf16 has f32's range.
 *
 * Exact resume: a checkpoint holds the weights, the optimizer state (f32 masters included), the
 * scheduler state, the loader position (epoch, batch, seed: the loader derives every random choice
 * from these), the generators' (seed, offset) and the trainer's counters. Checkpoints are taken at
 * update boundaries only, so no half-accumulated gradient is ever lost; a resumed run repeats the
 * uninterrupted one bit for bit.
 *
 * EMA (timm's --model-ema): a ModelEma is updated after every applied update with the update
 * count as its step, evaluated after each epoch beside the model when it holds a module (the
 * record's emaEvalLoss, emaTop1, emaTop5), and saved in every checkpoint. The best checkpoint is
 * still chosen by the model's own top-1, since that is the model the checkpoint's weights hold.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError, TsvisionError } from '../errors.ts';
import type { Module } from '../nn/module.ts';
import { noGrad } from '../tensor/autograd.ts';
import { defaultGenerator, type Generator } from '../tensor/random.ts';
import { Tensor } from '../tensor/tensor.ts';
import { cast, mul } from '../tensor/index.ts';
import type { DataLoader } from '../data/loader.ts';
import { formatDuration } from '../io/progress.ts';
import { clipGradNorm_ } from './clip.ts';
import { crossEntropy, distillationLoss, type DistillationType } from './losses.ts';
import type { Optimizer } from './optim/optimizer.ts';
import type { LRScheduler } from './scheduler.ts';
import { ConfusionMatrix, RunningAverage, targetRanks } from './metrics.ts';
import { bestCheckpoint, loadCheckpoint, loadModelWeights, markBest, saveCheckpoint, type CheckpointState } from './checkpoint.ts';
import { PALETTE, plotCurves } from './plot.ts';
import type { ModelEma } from './ema.ts';

/** The loss (or a gradient) became NaN or infinite and the trainer was told to stop. */
export class NonFiniteError extends TsvisionError {
  readonly step: number;
  constructor(message: string, step: number) {
    super('E_NON_FINITE', message);
    this.step = step;
  }
}

/** A model the trainer can run: forward gives logits [N, C], or a (cls, dist) pair for DeiT students. */
export interface TrainableModel extends Module {
  forward(x: Tensor): Tensor | readonly [Tensor, Tensor];
}

/** A teacher for distillation (DeiT): its logits drive the distillation term. */
export interface TeacherOptions {
  model: Module & { forward(x: Tensor): Tensor };
  type: Exclude<DistillationType, 'none'>;
  alpha?: number;
  tau?: number;
}

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
}

/** Evaluation results. */
export interface EvalResult {
  loss: number;
  top1: number;
  top5: number;
  count: number;
  confusion: ConfusionMatrix;
}

export interface TrainerOptions {
  model: TrainableModel;
  /** Model name recorded in checkpoints and checked on resume. */
  modelName?: string;
  optimizer: Optimizer;
  /** Stepped per update (stepUpdate) and per epoch (step); each schedule applies the one it was built for. */
  scheduler?: LRScheduler | null;
  trainLoader: DataLoader;
  evalLoader?: DataLoader | null;
  numClasses: number;
  epochs: number;
  /**
   * Micro-batches per optimizer update (default 1); each loss is scaled by 1/(micro-batches in the
   * update). Updates are aligned to the epoch start; the last one of an epoch may be shorter (a
   * loader of unknown length cannot tell, so there it carries into the next epoch).
   */
  accumSteps?: number;
  /** Max total L2 norm of the gradients (none by default). */
  clipGrad?: number | null;
  /** 'bf16': cast the model to bfloat16 and train in mixed precision (f32 masters in the optimizer). */
  amp?: 'bf16' | null;
  /** Label smoothing for class-index targets (soft targets from Mixup carry their own). */
  smoothing?: number;
  teacher?: TeacherOptions | null;
  /** An EMA of the weights, built on the model before the Trainer (which may cast the model to bf16); see the module comment. */
  modelEma?: ModelEma | null;
  /** On a NaN/Inf loss or gradient: throw NonFiniteError (default) or skip the update. */
  onNonFinite?: 'stop' | 'skip';
  /** Where checkpoints, logs and the plot go (nothing is written without it). */
  outputDir?: string | null;
  /** Also checkpoint every n updates (default: only at the end of each epoch). */
  checkpointEvery?: number | null;
  /** Newest checkpoints kept besides the best one (default 1). */
  keepCheckpoints?: number;
  /** Generators besides the default one whose state is saved and restored. */
  generators?: Record<string, Generator>;
  /** Training arguments recorded in checkpoints. */
  args?: Record<string, unknown>;
  /** Stop after this many updates in total (a kill switch for tests and budgets). */
  maxSteps?: number | null;
  onStep?: (info: StepInfo) => void;
  /** Log lines (epoch summaries, saves); default console.error. */
  log?: (line: string) => void;
  /** Progress output: a redrawn bar on a TTY stream, plain lines every `progressEvery` updates otherwise; null for none. */
  progressStream?: NodeJS.WriteStream | null;
  progressEvery?: number;
  /** Save a checkpoint and stop on SIGINT (default true). */
  handleSigint?: boolean;
  /**
   * Keep fully frozen submodules (every parameter has requiresGrad false) in eval mode while
   * training, so a linear probe neither updates the backbone's norm statistics nor drops paths in it.
   */
  frozenEval?: boolean;
}

/** The outcome of fit(). */
export interface FitResult {
  history: EpochRecord[];
  /** Every update's loss (the mean over its micro-batches), in order, including those before a resume. */
  stepLosses: number[];
  interrupted: boolean;
  lastCheckpoint: string | null;
}

interface Counters {
  step: number;
  skipped: number;
  bestMetric: number | null;
  stepLosses: number[];
  history: EpochRecord[];
  /** The running train loss of a partly done epoch. */
  epochLossSum: number;
  epochLossCount: number;
}

const CSV_COLUMNS: (keyof EpochRecord)[] = ['epoch', 'step', 'trainLoss', 'lr', 'evalLoss', 'top1', 'top5', 'imagesPerSecond', 'seconds', 'skippedSteps'];
const EMA_CSV_COLUMNS: (keyof EpochRecord)[] = ['emaEvalLoss', 'emaTop1', 'emaTop5'];

function firstLogits(out: Tensor | readonly [Tensor, Tensor]): Tensor {
  return out instanceof Tensor ? out : out[0];
}

/** Trains a classifier; see the module comment for the guarantees. */
export class Trainer {
  readonly options: TrainerOptions;
  private readonly accumSteps: number;
  private readonly log: (line: string) => void;
  private counters: Counters = { step: 0, skipped: 0, bestMetric: null, stepLosses: [], history: [], epochLossSum: 0, epochLossCount: 0 };
  private interruptRequested = false;

  constructor(options: TrainerOptions) {
    const accum = options.accumSteps ?? 1;
    if (!Number.isInteger(accum) || accum < 1) throw new ArgumentError(`Trainer: accumSteps must be a positive integer, got ${accum}`);
    if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new ArgumentError(`Trainer: epochs must be a positive integer, got ${options.epochs}`);
    if (options.clipGrad != null && !(options.clipGrad > 0)) throw new ArgumentError(`Trainer: clipGrad must be > 0, got ${options.clipGrad}`);
    if (options.amp != null && options.amp !== 'bf16') throw new ArgumentError(`Trainer: amp must be 'bf16' or null, got '${String(options.amp)}'`);
    this.options = options;
    this.accumSteps = accum;
    this.log = options.log ?? ((line) => console.error(line));
    if (options.amp === 'bf16') options.model.to('bfloat16');
  }

  /** Training mode for the model, with frozen submodules in eval mode when frozenEval is set. */
  private setTrainMode(): void {
    const { model } = this.options;
    model.train();
    if (!this.options.frozenEval) return;
    for (const m of model.modules()) {
      const ps = m.parameters();
      if (m !== model && ps.length > 0 && ps.every((p) => !p.requiresGrad)) m.eval();
    }
  }

  private get inputDtype() {
    return this.options.amp === 'bf16' ? 'bfloat16' : 'float32';
  }

  private generators(): Record<string, Generator> {
    return { default: defaultGenerator, ...this.options.generators };
  }

  /** Restores everything from a checkpoint (a checkpoint directory or an output directory), before fit(). */
  resume(path: string): CheckpointState {
    const ckpt = loadCheckpoint(path);
    const { state } = ckpt;
    if (this.options.modelName && state.model && state.model !== this.options.modelName) {
      throw new ArgumentError(`Trainer.resume: checkpoint ${ckpt.path} is for model '${state.model}', not '${this.options.modelName}'`);
    }
    loadModelWeights(this.options.model, ckpt.model, ckpt.path);
    const ema = this.options.modelEma;
    if (ema && ckpt.ema) ema.loadStateDict(ckpt.ema);
    else if (ema) ema.set(this.options.model);
    if (ckpt.optimizer) this.options.optimizer.loadStateDict(ckpt.optimizer);
    if (state.scheduler && this.options.scheduler) this.options.scheduler.loadStateDict(state.scheduler);
    if (state.loader) this.options.trainLoader.loadStateDict(state.loader);
    const gens = this.generators();
    for (const [name, s] of Object.entries(state.rng)) gens[name]?.setState(s);
    const extra = state.extra as Partial<Counters>;
    this.counters = {
      step: state.step,
      skipped: extra.skipped ?? 0,
      bestMetric: state.bestMetric,
      stepLosses: extra.stepLosses ?? [],
      history: extra.history ?? [],
      epochLossSum: extra.epochLossSum ?? 0,
      epochLossCount: extra.epochLossCount ?? 0,
    };
    this.log(`resumed from ${ckpt.path} (epoch ${state.epoch}, step ${state.step})`);
    return state;
  }

  private save(): string | null {
    const dir = this.options.outputDir;
    if (!dir) return null;
    const c = this.counters;
    const rng = Object.fromEntries(Object.entries(this.generators()).map(([k, g]) => [k, g.getState()]));
    const loader = this.options.trainLoader.stateDict();
    const path = saveCheckpoint(
      dir,
      {
        model: this.options.model.stateDict(),
        optimizer: this.options.optimizer.stateDict(),
        ema: this.options.modelEma?.stateDict() ?? null,
        state: {
          model: this.options.modelName ?? '',
          epoch: loader.epoch,
          step: c.step,
          bestMetric: c.bestMetric,
          scheduler: this.options.scheduler?.stateDict() ?? null,
          loader,
          rng,
          args: this.options.args ?? {},
          extra: { skipped: c.skipped, stepLosses: c.stepLosses, history: c.history, epochLossSum: c.epochLossSum, epochLossCount: c.epochLossCount },
        },
      },
      { keep: this.options.keepCheckpoints ?? 1 },
    );
    return path;
  }

  private lossOf(out: Tensor | readonly [Tensor, Tensor], images: Tensor, labels: Tensor): Tensor {
    const smoothing = this.options.smoothing ?? 0;
    const base = (logits: Tensor, target: Tensor) => crossEntropy(cast(logits, 'float32'), target, target.dtype === 'int64' ? { labelSmoothing: smoothing } : {});
    const teacher = this.options.teacher;
    if (!teacher) return base(firstLogits(out), labels);
    const teacherLogits = noGrad(() => cast(teacher.model.forward(cast(images, teacher.model.parameters()[0]?.dtype ?? 'float32')), 'float32'));
    const pair: readonly [Tensor, Tensor] = out instanceof Tensor ? [out, out] : out;
    return distillationLoss([cast(pair[0], 'float32'), cast(pair[1], 'float32')], teacherLogits, labels, { type: teacher.type, alpha: teacher.alpha, tau: teacher.tau, baseCriterion: base });
  }

  private gradientsFinite(): boolean {
    return noGrad(() => this.options.optimizer.paramGroups.every((g) => g.params.every((p) => p.grad === null || Number.isFinite(p.grad.abs().amax().item()))));
  }

  private nonFinite(what: string, value: number, epoch: number): void {
    const { optimizer } = this.options;
    optimizer.zeroGrad();
    const step = this.counters.step + 1;
    if ((this.options.onNonFinite ?? 'stop') === 'stop') {
      throw new NonFiniteError(`training stopped at update ${step} (epoch ${epoch + 1}): the ${what} is ${value}; the last checkpoint is kept. Lower the learning rate, enable --clip-grad, or pass onNonFinite 'skip' to skip such updates`, step);
    }
    this.counters.skipped++;
    this.log(`update ${step}: the ${what} is ${value}; skipped (${this.counters.skipped} skipped so far)`);
  }

  /** Evaluates the model on a loader: mean loss, top-1/top-5 accuracy and a confusion matrix. */
  evaluate(loader: DataLoader): Promise<EvalResult> {
    return evaluate(this.options.model, loader, this.options.numClasses, this.inputDtype);
  }

  private progress(epoch: number, position: number, total: number | undefined, loss: number, lr: number, images: number, started: number): void {
    const stream = this.options.progressStream;
    if (!stream) return;
    const elapsed = (performance.now() - started) / 1000;
    const rate = elapsed > 0 ? images / elapsed : 0;
    const eta = total && position > 0 ? formatDuration((elapsed / position) * (total - position)) : '?';
    const head = `epoch ${epoch + 1}/${this.options.epochs}`;
    const tail = `${position}/${total ?? '?'} loss ${loss.toFixed(4)} lr ${lr.toExponential(2)} ${rate.toFixed(1)} img/s ETA ${eta}`;
    if (stream.isTTY) {
      const width = 24;
      const filled = total ? Math.round((width * position) / total) : 0;
      stream.write(`\r${head} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${tail}\x1b[K`);
      if (total && position >= total) stream.write('\n');
    } else if (position % (this.options.progressEvery ?? 50) === 0 || (total && position >= total)) {
      stream.write(`${head} ${tail}\n`);
    }
  }

  private async writeLogs(): Promise<void> {
    const dir = this.options.outputDir;
    if (!dir) return;
    const h = this.counters.history;
    writeFileSync(join(dir, 'metrics.jsonl'), h.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const columns = h.some((r) => r.emaTop1 !== undefined) ? [...CSV_COLUMNS, ...EMA_CSV_COLUMNS] : CSV_COLUMNS;
    writeFileSync(join(dir, 'metrics.csv'), [columns.join(','), ...h.map((r) => columns.map((k) => r[k] ?? '').join(','))].join('\n') + '\n');
    const nums = (k: keyof EpochRecord) => h.map((r) => (typeof r[k] === 'number' ? (r[k] as number) : NaN));
    await plotCurves(join(dir, 'curves.png'), [
      { title: 'loss', series: [{ name: 'train', values: nums('trainLoss'), color: PALETTE[0] }, { name: 'eval', values: nums('evalLoss'), color: PALETTE[1] }] },
      { title: 'accuracy', series: [{ name: 'top1', values: nums('top1'), color: PALETTE[2] }, { name: 'top5', values: nums('top5'), color: PALETTE[3] }] },
    ]);
  }

  /** Trains to the configured number of epochs (continuing after resume()), evaluating and checkpointing each epoch. */
  async fit(): Promise<FitResult> {
    const o = this.options;
    const { model, optimizer, trainLoader } = o;
    if (o.outputDir) mkdirSync(o.outputDir, { recursive: true });
    const onSigint = () => {
      if (this.interruptRequested) process.exit(130);
      this.interruptRequested = true;
      this.log('interrupt: saving a checkpoint after the current update (press Ctrl-C again to quit at once)');
    };
    const handleSigint = o.handleSigint ?? true;
    if (handleSigint) process.on('SIGINT', onSigint);
    let lastCheckpoint: string | null = null;
    const params = optimizer.paramGroups.flatMap((g) => g.params);
    const stopAt = o.maxSteps ?? Infinity;
    try {
      this.setTrainMode();
      optimizer.zeroGrad();
      const c = this.counters;
      while (trainLoader.stateDict().epoch < o.epochs && c.step < stopAt) {
        const epoch = trainLoader.stateDict().epoch;
        const started = performance.now();
        let images = 0;
        let updateLoss = 0;
        let badLoss: number | null = null;
        let stopped = false;
        for await (const batch of trainLoader) {
          // Read per batch: a loader over a PipelineSpec learns its length at its first batch.
          const total = trainLoader.length;
          const position = trainLoader.stateDict().position;
          const lastOfEpoch = total !== undefined && position >= total;
          // An update spans accumSteps micro-batches, aligned to the epoch start (fewer at its end).
          const groupStart = Math.floor((position - 1) / this.accumSteps) * this.accumSteps;
          const groupSize = total === undefined ? this.accumSteps : Math.min(this.accumSteps, total - groupStart);
          const out = model.forward(cast(batch.images, this.inputDtype));
          const loss = this.lossOf(out, batch.images, batch.labels);
          const value = loss.item();
          images += batch.images.shape[0];
          if (!Number.isFinite(value)) {
            if ((o.onNonFinite ?? 'stop') === 'stop') this.nonFinite('loss', value, epoch);
            badLoss = value;
          } else if (badLoss === null) {
            (groupSize > 1 ? mul(loss, 1 / groupSize) : loss).backward();
            updateLoss += value / groupSize;
          }
          if (position - groupStart < groupSize && !lastOfEpoch) continue;
          if (badLoss !== null) {
            this.nonFinite('loss', badLoss, epoch);
            badLoss = null;
            updateLoss = 0;
            continue;
          }
          const norm = o.clipGrad != null ? clipGradNorm_(params, o.clipGrad) : null;
          const finite = norm === null ? this.gradientsFinite() : Number.isFinite(norm);
          if (!finite) {
            this.nonFinite('gradient norm', norm ?? NaN, epoch);
            updateLoss = 0;
            continue;
          }
          optimizer.step();
          optimizer.zeroGrad();
          c.step++;
          o.modelEma?.update(model, c.step);
          o.scheduler?.stepUpdate(c.step);
          c.stepLosses.push(updateLoss);
          c.epochLossSum += updateLoss;
          c.epochLossCount++;
          const lr = optimizer.paramGroups[0].lr;
          o.onStep?.({ epoch, step: c.step, loss: updateLoss, lr });
          this.progress(epoch, position, total, c.epochLossSum / c.epochLossCount, lr, images, started);
          updateLoss = 0;
          // Batches built on this thread resolve as microtasks only: yield to the event loop so a
          // pending SIGINT handler runs before the next update.
          if (handleSigint) await new Promise((resolve) => setImmediate(resolve));
          const periodic = o.checkpointEvery != null && c.step % o.checkpointEvery === 0 && !lastOfEpoch;
          if (periodic) lastCheckpoint = this.save() ?? lastCheckpoint;
          if (this.interruptRequested || c.step >= stopAt) {
            if (!lastOfEpoch) {
              if (!periodic) lastCheckpoint = this.save() ?? lastCheckpoint;
              stopped = true;
              break;
            }
          }
        }
        if (stopped) break;
        o.scheduler?.step(epoch + 1);
        const seconds = (performance.now() - started) / 1000;
        const evalResult = o.evalLoader ? await this.evaluate(o.evalLoader) : null;
        const emaModule = o.modelEma?.module as TrainableModel | null | undefined;
        const emaResult = o.evalLoader && emaModule ? await evaluate(emaModule, o.evalLoader, o.numClasses, emaModule.parameters()[0]?.dtype === 'bfloat16' ? 'bfloat16' : 'float32') : null;
        this.setTrainMode();
        const record: EpochRecord = {
          epoch: epoch + 1,
          step: c.step,
          trainLoss: c.epochLossCount ? c.epochLossSum / c.epochLossCount : NaN,
          lr: optimizer.paramGroups[0].lr,
          evalLoss: evalResult?.loss ?? null,
          top1: evalResult?.top1 ?? null,
          top5: evalResult?.top5 ?? null,
          imagesPerSecond: seconds > 0 ? images / seconds : 0,
          seconds,
          skippedSteps: c.skipped,
          ...(emaResult ? { emaEvalLoss: emaResult.loss, emaTop1: emaResult.top1, emaTop5: emaResult.top5 } : {}),
        };
        c.history.push(record);
        c.epochLossSum = 0;
        c.epochLossCount = 0;
        const metric = evalResult?.top1 ?? null;
        const improved = metric !== null && (c.bestMetric === null || metric > c.bestMetric);
        if (improved) c.bestMetric = metric;
        lastCheckpoint = this.save() ?? lastCheckpoint;
        if (improved && lastCheckpoint && o.outputDir) markBest(o.outputDir, lastCheckpoint, metric);
        await this.writeLogs();
        this.log(
          `epoch ${record.epoch}/${o.epochs}: train loss ${record.trainLoss.toFixed(4)}` +
            (evalResult ? `, eval loss ${evalResult.loss.toFixed(4)}, top-1 ${(evalResult.top1 * 100).toFixed(2)}%, top-5 ${(evalResult.top5 * 100).toFixed(2)}%` : '') +
            (emaResult ? `, EMA top-1 ${(emaResult.top1 * 100).toFixed(2)}%` : '') +
            `, ${record.imagesPerSecond.toFixed(1)} img/s, ${formatDuration(seconds)}`,
        );
        if (this.interruptRequested) break;
      }
    } finally {
      if (handleSigint) process.off('SIGINT', onSigint);
    }
    return { history: this.counters.history, stepLosses: this.counters.stepLosses, interrupted: this.interruptRequested, lastCheckpoint };
  }

  /** The best eval top-1 so far and where it was saved. */
  best(): { metric: number | null; path: string | null } {
    const dir = this.options.outputDir;
    return { metric: this.counters.bestMetric, path: dir ? (bestCheckpoint(dir)?.path ?? null) : null };
  }
}

/** Evaluates a classifier on a loader (in eval mode, restoring train mode after): mean loss, top-1/top-5 accuracy and a confusion matrix. */
export async function evaluate(model: TrainableModel, loader: DataLoader, numClasses: number, inputDtype: 'float32' | 'bfloat16' = 'float32'): Promise<EvalResult> {
  const wasTraining = model.training;
  model.eval();
  const loss = new RunningAverage();
  const confusion = new ConfusionMatrix(numClasses);
  let hit1 = 0;
  let hit5 = 0;
  let count = 0;
  try {
    for await (const batch of loader) {
      noGrad(() => {
        const logits = cast(firstLogits(model.forward(cast(batch.images, inputDtype))), 'float32');
        const n = batch.labels.shape[0];
        loss.update(crossEntropy(logits, batch.labels).item(), n);
        const ranks = targetRanks(logits, batch.labels);
        hit1 += ranks.filter((r) => r < 1).length;
        hit5 += ranks.filter((r) => r < 5).length;
        count += n;
        confusion.update(logits, batch.labels);
      });
    }
  } finally {
    model.train(wasTraining);
  }
  return { loss: loss.average, top1: count ? hit1 / count : 0, top5: count ? hit5 / count : 0, count, confusion };
}
