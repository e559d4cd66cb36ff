/**
 * The training loop: epochs of (micro-)batches with gradient accumulation, gradient clipping,
 * bf16 mixed precision, a per-update LR schedule, evaluation after each epoch, a non-finite
 * guard and exact resume. What a micro-batch computes is a TrainObjective: classification
 * (ClassificationObjective, the default) or CLIP's contrastive loss (./contrastive.ts).
 * `trainStep` runs one micro-batch and applies the update it completes,
 * `endEpoch` evaluates and records the epoch, and everything around them (progress, checkpoints,
 * metrics files, Ctrl-C, the EMA) is a callback (./callbacks/) that the options switch on.
 *
 * bf16 mixed precision: the model's parameters and buffers are cast to bfloat16 (Module.to keeps
 * the Parameter objects, so an optimizer built before still holds them), inputs are cast to
 * bf16, forward and backward run in bf16, and the optimizer keeps an f32 master copy of every
 * bf16 parameter in its state, updates the master and writes the rounded value back. Losses are
 * computed in f32 (the loss functions upcast). No loss scaler is needed: bf16 has f32's range.
 *
 * Exact resume: a checkpoint holds the weights, the optimizer state (f32 masters included), the
 * scheduler state, the loader position (epoch, batch, seed: the loader derives every random choice
 * from these), the generators' (seed, offset), the EMA and the trainer's counters. Checkpoints are
 * taken at update boundaries only, so no half-accumulated gradient is ever lost; a resumed run
 * repeats the uninterrupted one bit for bit.
 *
 * EMA (timm's --model-ema): see callbacks/ema.ts. The best checkpoint is still chosen by the
 * model's own top-1, since that is the model the checkpoint's weights hold.
 */
import { mkdirSync } from 'node:fs';
import { ArgumentError, TsvisionError } from '../errors.ts';
import type { Module } from '../nn/module.ts';
import { noGrad } from '../tensor/autograd.ts';
import { defaultGenerator, type Generator } from '../tensor/random.ts';
import { Tensor } from '../tensor/tensor.ts';
import { cast, mul } from '../tensor/index.ts';
import type { Batch, DataLoader } from '../data/loader.ts';
import { clipGradNorm_ } from './clip.ts';
import { crossEntropy, distillationLoss, type DistillationType } from './losses.ts';
import type { Optimizer } from './optim/optimizer.ts';
import type { LRScheduler } from './scheduler.ts';
import { bestCheckpoint, loadCheckpoint, loadModelWeights, type CheckpointContents, type CheckpointState } from './checkpoint.ts';
import type { ModelEma } from './ema.ts';
import { evaluate, firstLogits, type EvalResult, type TrainableModel } from './evaluate.ts';
import type { EpochRecord, ResumeInfo, StepInfo, TrainCallback, TrainerView } from './callbacks/types.ts';
import { CheckpointSaver } from './callbacks/checkpoint.ts';
import { EmaUpdater } from './callbacks/ema.ts';
import { InterruptGuard } from './callbacks/interrupt.ts';
import { MetricsWriter } from './callbacks/metrics.ts';
import { ProgressLogger } from './callbacks/progress.ts';

/** The loss (or a gradient) became NaN or infinite and the trainer was told to stop. */
export class NonFiniteError extends TsvisionError {
  readonly step: number;
  constructor(message: string, step: number) {
    super('E_NON_FINITE', message);
    this.step = step;
  }
}

/** A teacher for distillation (DeiT): its logits drive the distillation term. */
export interface TeacherOptions {
  model: Module & { forward(x: Tensor): Tensor };
  type: Exclude<DistillationType, 'none'>;
  alpha?: number;
  tau?: number;
}

/**
 * What a training step computes: forward, loss and backward of a micro-batch. The default is
 * classification (cross-entropy with label smoothing, or DeiT distillation); CLIP's contrastive
 * objective (./contrastive.ts) is another.
 */
export interface TrainObjective {
  /**
   * One micro-batch: forward, loss and, unless `spoiled` (an earlier micro-batch of this update had a
   * non-finite loss), backward into the accumulated gradients. Returns this micro-batch's share of
   * the update's loss (non-finite when its loss is), or null while it only collects micro-batches
   * for one at the end of the update.
   */
  microStep(batch: Batch, micro: MicroBatch, spoiled: boolean): number | null;
}

export interface TrainerOptions {
  /** The model: a classifier (forward(images) → logits) unless `objective` says how to train it. */
  model: Module;
  /** The loss (default: classification with `smoothing` and `teacher`). */
  objective?: TrainObjective;
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
  /** An EMA of the weights, built on the model before the Trainer (which may cast the model to bf16); see callbacks/ema.ts. */
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
  /** More callbacks, called after the standard ones. */
  callbacks?: readonly TrainCallback[];
}

/** The outcome of fit(). */
export interface FitResult {
  history: EpochRecord[];
  /** Every update's loss (the mean over its micro-batches), in order, including those before a resume. */
  stepLosses: number[];
  /** A stop was requested (Ctrl-C, or a callback's requestStop). */
  interrupted: boolean;
  lastCheckpoint: string | null;
}

/** Where a micro-batch sits in its update. */
export interface MicroBatch {
  epoch: number;
  /** Micro-batches in this update (each loss is scaled by its inverse). */
  groupSize: number;
  /** This micro-batch completes the update: step the optimizer after it. */
  closesUpdate: boolean;
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

/** Trains a model (a classifier unless an objective says otherwise); see the module comment for the guarantees. */
export class Trainer implements TrainerView {
  readonly options: TrainerOptions;
  readonly log: (line: string) => void;
  private readonly accumSteps: number;
  private readonly callbacks: TrainCallback[];
  private readonly saver: CheckpointSaver | null;
  private readonly objective: TrainObjective;
  private counters: Counters = { step: 0, skipped: 0, bestMetric: null, stepLosses: [], history: [], epochLossSum: 0, epochLossCount: 0 };
  /** The update being accumulated: its loss so far, or the non-finite loss that spoils it. */
  private pending: { loss: number; badLoss: number | null } = { loss: 0, badLoss: null };
  private stopRequested = false;
  private resumedFrom: ResumeInfo | null = null;

  constructor(options: TrainerOptions) {
    const accum = options.accumSteps ?? 1;
    if (!Number.isInteger(accum) || accum < 1) throw new ArgumentError(`Trainer: accumSteps must be a positive integer, got ${accum}`);
    if (!Number.isInteger(options.epochs) || options.epochs < 1) throw new ArgumentError(`Trainer: epochs must be a positive integer, got ${options.epochs}`);
    if (options.clipGrad != null && !(options.clipGrad > 0)) throw new ArgumentError(`Trainer: clipGrad must be > 0, got ${options.clipGrad}`);
    if (options.amp != null && options.amp !== 'bf16') throw new ArgumentError(`Trainer: amp must be 'bf16' or null, got '${String(options.amp)}'`);
    this.options = options;
    this.accumSteps = accum;
    this.log = options.log ?? ((line) => console.error(line));
    this.saver = options.outputDir ? new CheckpointSaver({ dir: options.outputDir, every: options.checkpointEvery, keep: options.keepCheckpoints }) : null;
    this.callbacks = this.standardCallbacks().concat(options.callbacks ?? []);
    if (options.amp === 'bf16') options.model.to('bfloat16');
    this.objective = options.objective ?? new ClassificationObjective(options.model as TrainableModel, options.amp === 'bf16' ? 'bfloat16' : 'float32', options.smoothing ?? 0, options.teacher ?? null);
  }

  // Per update they run in this order: EMA, onStep, progress, Ctrl-C, periodic checkpoint; per
  // epoch the metrics files come before the checkpoint.
  private standardCallbacks(): TrainCallback[] {
    const o = this.options;
    const list: TrainCallback[] = [];
    if (o.modelEma) list.push(new EmaUpdater({ ema: o.modelEma, model: o.model as TrainableModel, evalLoader: o.evalLoader ?? null, numClasses: o.numClasses }));
    const onStep = o.onStep;
    if (onStep) list.push({ onStepEnd: (_, { epoch, step, loss, lr }) => onStep({ epoch, step, loss, lr }) });
    if (o.progressStream) list.push(new ProgressLogger({ stream: o.progressStream, epochs: o.epochs, every: o.progressEvery }));
    if (o.handleSigint ?? true) list.push(new InterruptGuard());
    list.push(new MetricsWriter({ dir: o.outputDir ?? null, epochs: o.epochs }));
    if (this.saver) list.push(this.saver);
    return list;
  }

  /** Optimizer updates done. */
  get step(): number {
    return this.counters.step;
  }

  /** Records of the finished epochs. */
  get history(): readonly EpochRecord[] {
    return this.counters.history;
  }

  /** Where resume() continued from, and the newer checkpoints it could not read. */
  get resumed(): ResumeInfo | null {
    return this.resumedFrom;
  }

  /** Ends fit() after the current update; mid-epoch a checkpoint is taken first. */
  requestStop(): void {
    this.stopRequested = true;
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

  /**
   * Restores everything from a checkpoint (a checkpoint directory, or the newest readable one under
   * an output directory, logging the newer ones it skipped and why), before fit().
   */
  resume(path: string): CheckpointState {
    const ckpt = loadCheckpoint(path);
    const { state } = ckpt;
    for (const s of ckpt.skipped) this.log(`resume: skipped ${s.path}, which cannot be read: ${s.reason}`);
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
    this.resumedFrom = { path: ckpt.path, skipped: ckpt.skipped };
    this.log(`resumed from ${ckpt.path} (epoch ${state.epoch}, step ${state.step})`);
    return state;
  }

  /** Everything a checkpoint of the present state holds: weights, optimizer, EMA, schedule, loader, generators, counters. */
  checkpointContents(): CheckpointContents {
    const c = this.counters;
    const rng = Object.fromEntries(Object.entries(this.generators()).map(([k, g]) => [k, g.getState()]));
    const loader = this.options.trainLoader.stateDict();
    return {
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
    };
  }

  private gradientsFinite(): boolean {
    return noGrad(() => this.options.optimizer.paramGroups.every((g) => g.params.every((p) => p.grad === null || Number.isFinite(p.grad.abs().amax().item()))));
  }

  private nonFinite(what: string, value: number, epoch: number): void {
    this.options.optimizer.zeroGrad();
    const step = this.counters.step + 1;
    if ((this.options.onNonFinite ?? 'stop') === 'stop') {
      throw new NonFiniteError(`training stopped at update ${step} (epoch ${epoch + 1}): the ${what} is ${value}; the last checkpoint is kept. Lower the learning rate, enable --clip-grad, or pass onNonFinite 'skip' to skip such updates`, step);
    }
    this.counters.skipped++;
    this.log(`update ${step}: the ${what} is ${value}; skipped (${this.counters.skipped} skipped so far)`);
  }

  /**
   * Runs one micro-batch: forward, loss, backward into the accumulated gradients; when it closes
   * its update, clips, checks and applies it. Returns the applied update, or null (accumulating,
   * or a non-finite update skipped; with onNonFinite 'stop' that throws NonFiniteError instead).
   */
  trainStep(batch: Batch, micro: MicroBatch): StepInfo | null {
    const o = this.options;
    const pending = this.pending;
    const share = this.objective.microStep(batch, micro, pending.badLoss !== null);
    if (share !== null && !Number.isFinite(share)) {
      if ((o.onNonFinite ?? 'stop') === 'stop') this.nonFinite('loss', share, micro.epoch);
      pending.badLoss = share;
    } else if (share !== null && pending.badLoss === null) {
      pending.loss += share;
    }
    if (!micro.closesUpdate) return null;
    const { loss: updateLoss, badLoss } = pending;
    this.pending = { loss: 0, badLoss: null };
    if (badLoss !== null) {
      this.nonFinite('loss', badLoss, micro.epoch);
      return null;
    }
    return this.applyUpdate(micro.epoch, updateLoss);
  }

  private applyUpdate(epoch: number, updateLoss: number): StepInfo | null {
    const { optimizer, clipGrad, scheduler } = this.options;
    const norm = clipGrad != null ? clipGradNorm_(optimizer.paramGroups.flatMap((g) => g.params), clipGrad) : null;
    const finite = norm === null ? this.gradientsFinite() : Number.isFinite(norm);
    if (!finite) {
      this.nonFinite('gradient norm', norm ?? NaN, epoch);
      return null;
    }
    optimizer.step();
    optimizer.zeroGrad();
    const c = this.counters;
    c.step++;
    scheduler?.stepUpdate(c.step);
    c.stepLosses.push(updateLoss);
    c.epochLossSum += updateLoss;
    c.epochLossCount++;
    return { epoch, step: c.step, loss: updateLoss, lr: optimizer.paramGroups[0].lr };
  }

  /**
   * Closes an epoch: the per-epoch schedule step, the evaluations (the model's and the callbacks'),
   * the record in the history, the best top-1, then the callbacks' onEpochEnd (files, checkpoint).
   */
  async endEpoch(epoch: number, images: number, started: number): Promise<EpochRecord> {
    const o = this.options;
    const c = this.counters;
    o.scheduler?.step(epoch + 1);
    const seconds = (performance.now() - started) / 1000;
    const evalResult = o.evalLoader ? await this.evaluate(o.evalLoader) : null;
    const extra: Partial<EpochRecord> = {};
    for (const cb of this.callbacks) if (cb.onEvaluate) Object.assign(extra, await cb.onEvaluate(this));
    this.setTrainMode();
    const record: EpochRecord = {
      epoch: epoch + 1,
      step: c.step,
      trainLoss: c.epochLossCount ? c.epochLossSum / c.epochLossCount : NaN,
      lr: o.optimizer.paramGroups[0].lr,
      evalLoss: evalResult?.loss ?? null,
      top1: evalResult?.top1 ?? null,
      top5: evalResult?.top5 ?? null,
      imagesPerSecond: seconds > 0 ? images / seconds : 0,
      seconds,
      skippedSteps: c.skipped,
      ...extra,
    };
    c.history.push(record);
    c.epochLossSum = 0;
    c.epochLossCount = 0;
    const metric = record.top1;
    const improved = metric !== null && (c.bestMetric === null || metric > c.bestMetric);
    if (improved) c.bestMetric = metric;
    for (const cb of this.callbacks) await cb.onEpochEnd?.(this, { record, improved });
    return record;
  }

  /** Runs the rest of the loader's epoch; false when the run stopped before its end. */
  private async runEpoch(stopAt: number): Promise<boolean> {
    const { trainLoader } = this.options;
    const c = this.counters;
    const epoch = trainLoader.stateDict().epoch;
    const started = performance.now();
    let images = 0;
    this.pending = { loss: 0, badLoss: null };
    for await (const batch of trainLoader) {
      // Read per batch: a loader over a PipelineSpec learns its length at its first batch.
      const total = trainLoader.length;
      const position = trainLoader.stateDict().position;
      const lastOfEpoch = total !== undefined && position >= total;
      // An update spans accumSteps micro-batches, aligned to the epoch start (fewer at its end).
      const groupStart = Math.floor((position - 1) / this.accumSteps) * this.accumSteps;
      const groupSize = total === undefined ? this.accumSteps : Math.min(this.accumSteps, total - groupStart);
      images += batch.images.shape[0];
      const info = this.trainStep(batch, { epoch, groupSize, closesUpdate: position - groupStart >= groupSize || lastOfEpoch });
      if (!info) continue;
      const stepEnd = { ...info, position, total, lastOfEpoch, epochLoss: c.epochLossSum / c.epochLossCount, images, epochStarted: started };
      for (const cb of this.callbacks) await cb.onStepEnd?.(this, stepEnd);
      if ((this.stopRequested || c.step >= stopAt) && !lastOfEpoch) {
        for (const cb of this.callbacks) await cb.onStop?.(this);
        return false;
      }
    }
    await this.endEpoch(epoch, images, started);
    return true;
  }

  /** Trains to the configured number of epochs (continuing after resume()), evaluating and checkpointing each epoch. */
  async fit(): Promise<FitResult> {
    const o = this.options;
    if (o.outputDir) mkdirSync(o.outputDir, { recursive: true });
    const stopAt = o.maxSteps ?? Infinity;
    try {
      for (const cb of this.callbacks) await cb.onFitStart?.(this);
      this.setTrainMode();
      o.optimizer.zeroGrad();
      while (o.trainLoader.stateDict().epoch < o.epochs && this.counters.step < stopAt) {
        if (!(await this.runEpoch(stopAt)) || this.stopRequested) break;
      }
    } finally {
      for (const cb of this.callbacks) await cb.onFitEnd?.(this);
    }
    return { history: this.counters.history, stepLosses: this.counters.stepLosses, interrupted: this.stopRequested, lastCheckpoint: this.saver?.lastCheckpoint ?? null };
  }

  /** Evaluates the model on a loader: mean loss, top-1/top-5 accuracy and a confusion matrix. */
  evaluate(loader: DataLoader): Promise<EvalResult> {
    return evaluate(this.options.model as TrainableModel, loader, this.options.numClasses, this.inputDtype);
  }

  /** The best eval top-1 so far and where it was saved. */
  best(): { metric: number | null; path: string | null } {
    const dir = this.options.outputDir;
    return { metric: this.counters.bestMetric, path: dir ? (bestCheckpoint(dir)?.path ?? null) : null };
  }
}

/** Classification: cross-entropy of the logits (label smoothing for class indices), or DeiT distillation with a teacher. */
export class ClassificationObjective implements TrainObjective {
  constructor(
    private readonly model: TrainableModel,
    private readonly inputDtype: 'float32' | 'bfloat16',
    private readonly smoothing = 0,
    private readonly teacher: TeacherOptions | null = null,
  ) {}

  /** Cross-entropy (or distillation) of one micro-batch, backward scaled by 1/groupSize. */
  microStep(batch: Batch, micro: MicroBatch, spoiled: boolean): number {
    const out = this.model.forward(cast(batch.images, this.inputDtype));
    const loss = this.lossOf(out, batch.images, batch.labels);
    const value = loss.item();
    if (!Number.isFinite(value) || spoiled) return value / micro.groupSize;
    (micro.groupSize > 1 ? mul(loss, 1 / micro.groupSize) : loss).backward();
    return value / micro.groupSize;
  }

  private lossOf(out: Tensor | readonly [Tensor, Tensor], images: Tensor, labels: Tensor): Tensor {
    const base = (logits: Tensor, target: Tensor) => crossEntropy(cast(logits, 'float32'), target, target.dtype === 'int64' ? { labelSmoothing: this.smoothing } : {});
    const teacher = this.teacher;
    if (!teacher) return base(firstLogits(out), labels);
    const teacherLogits = noGrad(() => cast(teacher.model.forward(cast(images, teacher.model.parameters()[0]?.dtype ?? 'float32')), 'float32'));
    const pair: readonly [Tensor, Tensor] = out instanceof Tensor ? [out, out] : out;
    return distillationLoss([cast(pair[0], 'float32'), cast(pair[1], 'float32')], teacherLogits, labels, { type: teacher.type, alpha: teacher.alpha, tau: teacher.tau, baseCriterion: base });
  }
}
