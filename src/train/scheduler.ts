/**
 * Learning-rate schedules with timm's semantics (timm.scheduler): cosine with restarts and
 * k-decay, polynomial (power 1 = linear decay to lr_min), step and multistep, each with a
 * linear warm-up. Like timm, a scheduler is stateless in time: the training loop passes the
 * epoch to `step(epoch)` at the end of each epoch (t_in_epochs) or the update count to
 * `stepUpdate(numUpdates)` after each optimizer update (per-step schedules), and the
 * scheduler writes `lr` into every parameter group. timm's lr noise options are not
 * implemented.
 */
import { ArgumentError } from '../errors.ts';

/** The part of an optimizer a scheduler needs: parameter groups with a writable `lr`. */
export interface SchedulableOptimizer {
  paramGroups: { lr: number; initialLr?: number; lrScale?: number }[];
}

/** Options every schedule shares: the linear warm-up and the time unit. */
export interface WarmupOptions {
  /** Warm-up length in t units (default 0: none). */
  warmupT?: number;
  /** lr at t = 0 of the warm-up (default 0). */
  warmupLrInit?: number;
  /** Whether the schedule starts after the warm-up (t shifted by warmupT) rather than under it. */
  warmupPrefix?: boolean;
  /** true: t counts epochs (step); false: t counts optimizer updates (stepUpdate). Default true. */
  tInEpochs?: boolean;
}

/** Options of the cycle-based schedules (cosine, poly), as timm's CosineLRScheduler. */
export interface CycleOptions extends WarmupOptions {
  /** Length of the first cycle in t units. */
  tInitial: number;
  /** lr at the end of each cycle and after the last one (default 0). */
  lrMin?: number;
  /** Each cycle is cycleMul times longer than the previous (default 1). */
  cycleMul?: number;
  /** Each cycle's peak lr is cycleDecay times the previous (default 1). */
  cycleDecay?: number;
  /** Number of cycles; afterwards lr stays at lrMin (default 1). */
  cycleLimit?: number;
  /** k-decay exponent applied to the cycle position (default 1). */
  kDecay?: number;
}

/** Options of PolyLRScheduler. */
export interface PolyOptions extends CycleOptions {
  /** Exponent of (1 − t/T) (default 0.5; 1 gives a linear decay). */
  power?: number;
}

/** Options of StepLRScheduler: lr · decayRate^floor(t / decayT). */
export interface StepOptions extends WarmupOptions {
  decayT: number;
  decayRate?: number;
}

/** Options of MultiStepLRScheduler: lr · decayRate^(number of milestones ≤ t + 1). */
export interface MultiStepOptions extends WarmupOptions {
  /** Sorted milestones in t units. */
  milestones: readonly number[];
  decayRate?: number;
}

/** A scheduler's saved state: its kind, configuration, base lrs and the last t applied. */
export interface SchedulerState {
  kind: string;
  config: Record<string, unknown>;
  baseValues: number[];
  lastT: number | null;
}

const finite = (op: string, name: string, v: number, min = -Infinity) => {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new ArgumentError(`${op}: ${name} must be a finite number >= ${min}, got ${String(v)}`);
  return v;
};

/** Base of the schedules: warm-up, group bookkeeping, stepping and state. */
export abstract class LRScheduler {
  readonly optimizer: SchedulableOptimizer;
  abstract readonly kind: string;
  /** Each group's lr before scheduling (its initialLr). */
  baseValues: number[];
  tInEpochs: boolean;
  warmupT: number;
  warmupLrInit: number;
  warmupPrefix: boolean;
  /** The last t passed to a step that applied (null before any). */
  lastT: number | null = null;
  protected warmupSteps: number[] = [];

  constructor(op: string, optimizer: SchedulableOptimizer, options: WarmupOptions, defaultPrefix: boolean) {
    if (!optimizer || !Array.isArray(optimizer.paramGroups)) throw new ArgumentError(`${op}: optimizer must have paramGroups`);
    optimizer.paramGroups.forEach((g, i) => {
      finite(op, `paramGroups[${i}].lr`, g.lr);
      g.initialLr ??= g.lr;
    });
    this.optimizer = optimizer;
    this.baseValues = optimizer.paramGroups.map((g) => g.initialLr!);
    this.tInEpochs = options.tInEpochs ?? true;
    this.warmupT = finite(op, 'warmupT', options.warmupT ?? 0, 0);
    this.warmupLrInit = finite(op, 'warmupLrInit', options.warmupLrInit ?? 0, 0);
    this.warmupPrefix = options.warmupPrefix ?? defaultPrefix;
    this.setGroups(this.baseValues);
    this.initWarmup();
  }

  protected initWarmup(): void {
    if (this.warmupT) {
      this.warmupSteps = this.baseValues.map((v) => (v - this.warmupLrInit) / this.warmupT);
      this.setGroups(this.baseValues.map(() => this.warmupLrInit));
    } else {
      this.warmupSteps = this.baseValues.map(() => 1);
    }
  }

  /** The lr of each group at time t (warm-up included). */
  getLr(t: number): number[] {
    if (t < this.warmupT) return this.warmupSteps.map((s) => this.warmupLrInit + t * s);
    return this.decayed(this.warmupPrefix ? t - this.warmupT : t);
  }

  /** The schedule after warm-up, at (possibly shifted) time t. */
  protected abstract decayed(t: number): number[];

  /** Call at the end of an epoch with the index of the next epoch; applies when tInEpochs. */
  step(epoch: number): void {
    if (this.tInEpochs) this.apply(epoch);
  }

  /** Call after each optimizer update with the total update count; applies unless tInEpochs. */
  stepUpdate(numUpdates: number): void {
    if (!this.tInEpochs) this.apply(numUpdates);
  }

  protected apply(t: number): void {
    finite(`${this.constructor.name}.step`, 't', t, 0);
    this.lastT = t;
    this.setGroups(this.getLr(t));
  }

  protected setGroups(values: readonly number[]): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = g.lrScale !== undefined ? values[i] * g.lrScale : values[i];
    });
  }

  protected abstract config(): Record<string, unknown>;

  /** The state for exact resume (JSON-serialisable). */
  stateDict(): SchedulerState {
    return { kind: this.kind, config: this.config(), baseValues: [...this.baseValues], lastT: this.lastT };
  }

  /** Restores a state saved by stateDict and re-applies the lr of its last step to the groups. */
  loadStateDict(state: SchedulerState): void {
    const op = `${this.constructor.name}.loadStateDict`;
    if (state.kind !== this.kind) throw new ArgumentError(`${op}: state is of a '${state.kind}' scheduler, expected '${this.kind}'`);
    if (state.baseValues.length !== this.optimizer.paramGroups.length) {
      throw new ArgumentError(`${op}: state has ${state.baseValues.length} base lrs, optimizer has ${this.optimizer.paramGroups.length} param groups`);
    }
    const known = this.config();
    for (const key of Object.keys(state.config)) {
      if (!(key in known)) throw new ArgumentError(`${op}: state has unknown setting '${key}' for a '${this.kind}' scheduler`);
    }
    Object.assign(this, state.config);
    this.baseValues = [...state.baseValues];
    this.optimizer.paramGroups.forEach((g, i) => (g.initialLr = this.baseValues[i]));
    this.initWarmup();
    this.lastT = state.lastT;
    if (state.lastT !== null) this.setGroups(this.getLr(state.lastT));
  }

  protected warmupConfig(): Record<string, unknown> {
    return { tInEpochs: this.tInEpochs, warmupT: this.warmupT, warmupLrInit: this.warmupLrInit, warmupPrefix: this.warmupPrefix };
  }
}

/** Shared cycle arithmetic of cosine and poly: which cycle t is in and where inside it. */
abstract class CycleScheduler extends LRScheduler {
  tInitial: number;
  lrMin: number;
  cycleMul: number;
  cycleDecay: number;
  cycleLimit: number;
  kDecay: number;

  constructor(op: string, optimizer: SchedulableOptimizer, options: CycleOptions) {
    super(op, optimizer, options, false);
    this.tInitial = finite(op, 'tInitial', options.tInitial, 0);
    if (!(this.tInitial > 0)) throw new ArgumentError(`${op}: tInitial must be > 0, got ${options.tInitial}`);
    this.lrMin = finite(op, 'lrMin', options.lrMin ?? 0, 0);
    this.cycleMul = finite(op, 'cycleMul', options.cycleMul ?? 1, 0);
    this.cycleDecay = finite(op, 'cycleDecay', options.cycleDecay ?? 1, 0);
    this.cycleLimit = finite(op, 'cycleLimit', options.cycleLimit ?? 1, 0);
    this.kDecay = finite(op, 'kDecay', options.kDecay ?? 1, 0);
  }

  /** lr within a cycle from its peak lrMax, position tCurr of length tI (k-decayed). */
  protected abstract shape(lrMax: number, tCurr: number, tI: number): number;

  protected decayed(t: number): number[] {
    let i: number;
    let tI: number;
    let tCurr: number;
    if (this.cycleMul !== 1) {
      // Same expression as timm (math.log(x, base) = log(x) / log(base)) so cycle boundaries agree.
      i = Math.floor(Math.log(1 - (t / this.tInitial) * (1 - this.cycleMul)) / Math.log(this.cycleMul));
      tI = this.cycleMul ** i * this.tInitial;
      tCurr = t - ((1 - this.cycleMul ** i) / (1 - this.cycleMul)) * this.tInitial;
    } else {
      i = Math.floor(t / this.tInitial);
      tI = this.tInitial;
      tCurr = t - this.tInitial * i;
    }
    if (i >= this.cycleLimit) return this.baseValues.map(() => this.lrMin);
    const gamma = this.cycleDecay ** i;
    return this.baseValues.map((v) => this.shape(v * gamma, tCurr, tI));
  }

  /** Length of the first `cycles` cycles (default cycleLimit) plus a warm-up prefix, as timm's get_cycle_length. */
  getCycleLength(cycles = 0): number {
    const n = Math.max(1, cycles || this.cycleLimit);
    const t = this.cycleMul === 1 ? this.tInitial * n : Math.floor((-this.tInitial * (this.cycleMul ** n - 1)) / (1 - this.cycleMul));
    return this.warmupPrefix ? t + this.warmupT : t;
  }

  protected cycleConfig(): Record<string, unknown> {
    const { tInitial, lrMin, cycleMul, cycleDecay, cycleLimit, kDecay } = this;
    return { ...this.warmupConfig(), tInitial, lrMin, cycleMul, cycleDecay, cycleLimit, kDecay };
  }
}

/** Cosine annealing with warm restarts (SGDR), linear warm-up and k-decay; timm's CosineLRScheduler. */
export class CosineLRScheduler extends CycleScheduler {
  readonly kind = 'cosine';

  constructor(optimizer: SchedulableOptimizer, options: CycleOptions) {
    super('CosineLRScheduler', optimizer, options);
  }

  protected shape(lrMax: number, tCurr: number, tI: number): number {
    const k = this.kDecay;
    return this.lrMin + 0.5 * (lrMax - this.lrMin) * (1 + Math.cos((Math.PI * tCurr ** k) / tI ** k));
  }

  protected config(): Record<string, unknown> {
    return this.cycleConfig();
  }
}

/** Polynomial decay lrMin + (lrMax − lrMin)·(1 − t/T)^power with cycles; timm's PolyLRScheduler. */
export class PolyLRScheduler extends CycleScheduler {
  readonly kind = 'poly';
  power: number;

  constructor(optimizer: SchedulableOptimizer, options: PolyOptions) {
    super('PolyLRScheduler', optimizer, options);
    this.power = finite('PolyLRScheduler', 'power', options.power ?? 0.5, 0);
  }

  protected shape(lrMax: number, tCurr: number, tI: number): number {
    const k = this.kDecay;
    return this.lrMin + (lrMax - this.lrMin) * (1 - tCurr ** k / tI ** k) ** this.power;
  }

  protected config(): Record<string, unknown> {
    return { ...this.cycleConfig(), power: this.power };
  }
}

/** lr · decayRate^floor(t / decayT) after warm-up; timm's StepLRScheduler. */
export class StepLRScheduler extends LRScheduler {
  readonly kind = 'step';
  decayT: number;
  decayRate: number;

  constructor(optimizer: SchedulableOptimizer, options: StepOptions) {
    super('StepLRScheduler', optimizer, options, true);
    this.decayT = finite('StepLRScheduler', 'decayT', options.decayT, 0);
    if (!(this.decayT > 0)) throw new ArgumentError(`StepLRScheduler: decayT must be > 0, got ${options.decayT}`);
    this.decayRate = finite('StepLRScheduler', 'decayRate', options.decayRate ?? 1, 0);
  }

  protected decayed(t: number): number[] {
    const n = Math.floor(t / this.decayT);
    return this.baseValues.map((v) => v * this.decayRate ** n);
  }

  protected config(): Record<string, unknown> {
    return { ...this.warmupConfig(), decayT: this.decayT, decayRate: this.decayRate };
  }
}

/** lr · decayRate^(milestones passed) after warm-up; timm's MultiStepLRScheduler. */
export class MultiStepLRScheduler extends LRScheduler {
  readonly kind = 'multistep';
  milestones: number[];
  decayRate: number;

  constructor(optimizer: SchedulableOptimizer, options: MultiStepOptions) {
    super('MultiStepLRScheduler', optimizer, options, true);
    const ms = [...(options.milestones ?? [])];
    ms.forEach((m, i) => {
      finite('MultiStepLRScheduler', `milestones[${i}]`, m, 0);
      if (i > 0 && m < ms[i - 1]) throw new ArgumentError(`MultiStepLRScheduler: milestones must be sorted, got [${ms.join(', ')}]`);
    });
    this.milestones = ms;
    this.decayRate = finite('MultiStepLRScheduler', 'decayRate', options.decayRate ?? 1, 0);
  }

  protected decayed(t: number): number[] {
    // timm counts milestones <= t + 1 (bisect_right(milestones, t + 1)).
    const n = this.milestones.filter((m) => m <= t + 1).length;
    return this.baseValues.map((v) => v * this.decayRate ** n);
  }

  protected config(): Record<string, unknown> {
    return { ...this.warmupConfig(), milestones: [...this.milestones], decayRate: this.decayRate };
  }
}

/** Schedule names createScheduler knows; 'linear' is poly with power 1 (linear decay to minLr, default 0). */
export type SchedulerName = 'cosine' | 'poly' | 'linear' | 'step' | 'multistep';

/** Options of createScheduler, in epochs, as timm's create_scheduler_v2 (camelCase). */
export interface CreateSchedulerOptions {
  numEpochs?: number;
  decayEpochs?: number;
  decayMilestones?: readonly number[];
  /** Epochs appended after the schedule, at minLr (cycle schedules) — timm's cool-down. */
  cooldownEpochs?: number;
  /** Step/multistep decay factor; for 'poly' the power (as timm overloads it). */
  decayRate?: number;
  minLr?: number;
  warmupLr?: number;
  warmupEpochs?: number;
  warmupPrefix?: boolean;
  cycleMul?: number;
  cycleDecay?: number;
  cycleLimit?: number;
  kDecay?: number;
  /** true: step(epoch) per epoch; false: stepUpdate(n) per update, needs updatesPerEpoch. */
  stepOnEpochs?: boolean;
  updatesPerEpoch?: number;
}

/** Builds a schedule from epoch-based options and returns it with the total number of epochs to train (timm's create_scheduler_v2). */
export function createScheduler(name: SchedulerName, optimizer: SchedulableOptimizer, options: CreateSchedulerOptions = {}): { scheduler: LRScheduler; numEpochs: number } {
  const stepOnEpochs = options.stepOnEpochs ?? true;
  const updatesPerEpoch = options.updatesPerEpoch ?? 0;
  let numEpochs = options.numEpochs ?? 300;
  const warmupEpochs = options.warmupEpochs ?? 0;
  const warmupPrefix = options.warmupPrefix ?? false;
  if (!stepOnEpochs && !(Number.isInteger(updatesPerEpoch) && updatesPerEpoch > 0)) {
    throw new ArgumentError(`createScheduler: updatesPerEpoch must be a positive integer when stepOnEpochs is false, got ${updatesPerEpoch}`);
  }
  const scale = stepOnEpochs ? 1 : updatesPerEpoch;
  const warmup: WarmupOptions = { warmupLrInit: options.warmupLr ?? 1e-5, warmupT: warmupEpochs * scale, warmupPrefix, tInEpochs: stepOnEpochs };
  const cycle = {
    ...warmup,
    tInitial: numEpochs * scale,
    lrMin: options.minLr ?? 0,
    cycleMul: options.cycleMul ?? 1,
    cycleDecay: options.cycleDecay ?? 0.1,
    cycleLimit: options.cycleLimit ?? 1,
    kDecay: options.kDecay ?? 1,
  };
  const decayRate = options.decayRate ?? 0.1;
  let scheduler: LRScheduler;
  switch (name) {
    case 'cosine':
      scheduler = new CosineLRScheduler(optimizer, cycle);
      break;
    case 'poly':
      scheduler = new PolyLRScheduler(optimizer, { ...cycle, power: decayRate });
      break;
    case 'linear':
      scheduler = new PolyLRScheduler(optimizer, { ...cycle, power: 1 });
      break;
    case 'step':
      scheduler = new StepLRScheduler(optimizer, { ...warmup, decayT: (options.decayEpochs ?? 90) * scale, decayRate });
      break;
    case 'multistep':
      scheduler = new MultiStepLRScheduler(optimizer, { ...warmup, milestones: (options.decayMilestones ?? [90, 180, 270]).map((m) => m * scale), decayRate });
      break;
    default:
      throw new ArgumentError(`createScheduler: unknown schedule '${String(name)}', expected one of cosine, poly, linear, step, multistep`);
  }
  if (scheduler instanceof CycleScheduler) {
    const total = scheduler.getCycleLength() + (options.cooldownEpochs ?? 0) * scale;
    numEpochs = stepOnEpochs ? total : Math.floor(total / updatesPerEpoch);
  } else if (warmupPrefix) {
    numEpochs += warmupEpochs;
  }
  return { scheduler, numEpochs };
}
