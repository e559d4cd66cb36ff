/**
 * Exponential moving average of a model's weights, timm's ModelEmaV3 semantics (ModelEmaV2 when
 * no step is passed): after each optimizer step, `ema = lerp(ema, model, 1 - decay)` for float
 * parameters and buffers (BatchNorm running stats included), integer buffers copied; with
 * `excludeBuffers`, only parameters are averaged and all buffers copied. The decay is 0 (a
 * copy) up to `updateAfterStep + 1`, then `decay`, or with `useWarmup`
 * `clamp(1 - (1 + t/warmupGamma)^-warmupPower, minDecay, decay)`, t the steps after that.
 *
 * The averaged values live in `module` when one is given (a second instance of the same
 * architecture, which is then initialised from the model and is what you evaluate), else in
 * detached copies; `stateDict()` returns them either way, keyed by the model's names.
 */
import type { Module } from '../nn/module.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { noGrad } from '../tensor/autograd.ts';
import { isFloating } from '../tensor/dtype.ts';
import { ArgumentError } from '../errors.ts';

export interface ModelEmaOptions {
  decay?: number;
  minDecay?: number;
  updateAfterStep?: number;
  useWarmup?: boolean;
  warmupGamma?: number;
  warmupPower?: number;
  excludeBuffers?: boolean;
  /** A twin module that holds the averaged weights (set to eval mode). */
  module?: Module;
}

export class ModelEma {
  readonly decay: number;
  readonly minDecay: number;
  readonly updateAfterStep: number;
  readonly useWarmup: boolean;
  readonly warmupGamma: number;
  readonly warmupPower: number;
  readonly excludeBuffers: boolean;
  readonly module: Module | null;
  private readonly values: Map<string, Tensor>;
  private readonly paramNames: Set<string>;

  constructor(model: Module, options: ModelEmaOptions = {}) {
    this.decay = options.decay ?? 0.9999;
    this.minDecay = options.minDecay ?? 0;
    this.updateAfterStep = options.updateAfterStep ?? 0;
    this.useWarmup = options.useWarmup ?? false;
    this.warmupGamma = options.warmupGamma ?? 1;
    this.warmupPower = options.warmupPower ?? 2 / 3;
    this.excludeBuffers = options.excludeBuffers ?? false;
    if (!(this.decay >= 0 && this.decay <= 1)) throw new ArgumentError(`ModelEma: decay must be in [0, 1], got ${this.decay}`);
    this.module = options.module ?? null;
    this.paramNames = new Set(model.namedParameters().map(([n]) => n));
    if (this.module) {
      this.module.loadStateDict(model.stateDict());
      this.module.eval();
      this.values = this.module.stateDict();
    } else {
      this.values = new Map([...model.stateDict()].map(([k, t]) => [k, t.clone()]));
    }
  }

  /** The decay used at a given optimizer step (timm's get_decay); `decay` when step is omitted. */
  getDecay(step?: number): number {
    if (step === undefined) return this.decay;
    const t = Math.max(0, step - this.updateAfterStep - 1);
    if (t <= 0) return 0;
    if (!this.useWarmup) return this.decay;
    const d = 1 - (1 + t / this.warmupGamma) ** -this.warmupPower;
    return Math.max(Math.min(d, this.decay), this.minDecay);
  }

  /** Moves the average towards the model's current weights. */
  update(model: Module, step?: number): void {
    const w = 1 - this.getDecay(step);
    noGrad(() => {
      for (const [name, v] of model.stateDict()) {
        const ema = this.values.get(name);
        if (ema === undefined) throw new ArgumentError(`ModelEma.update: the model has ${name}, which the EMA does not`);
        const average = isFloating(ema.dtype) && (!this.excludeBuffers || this.paramNames.has(name));
        ema.copy_(average ? ema.add(v.to(ema.dtype).sub(ema), w) : v);
      }
    });
  }

  /** Copies the model's weights into the average (timm's set). */
  set(model: Module): void {
    noGrad(() => {
      for (const [name, v] of model.stateDict()) this.values.get(name)?.copy_(v);
    });
  }

  /** Restores averaged weights saved from stateDict() (a checkpoint's EMA); every key must match in name and shape. */
  loadStateDict(stateDict: Map<string, Tensor>): void {
    const missing = [...this.values.keys()].filter((k) => !stateDict.has(k));
    const unexpected = [...stateDict.keys()].filter((k) => !this.values.has(k));
    const misShaped = [...this.values].filter(([k, v]) => stateDict.has(k) && stateDict.get(k)!.shape.join() !== v.shape.join()).map(([k]) => k);
    if (missing.length || unexpected.length || misShaped.length) {
      const parts = [['missing', missing], ['unexpected', unexpected], ['mis-shaped', misShaped]].filter(([, keys]) => keys.length > 0).map(([what, keys]) => `${what} ${(keys as string[]).slice(0, 3).join(', ')}`);
      throw new ArgumentError(`ModelEma.loadStateDict: the weights do not fit the average: ${parts.join('; ')}`);
    }
    noGrad(() => {
      for (const [name, v] of this.values) v.copy_(stateDict.get(name)!);
    });
  }

  /** The averaged weights, keyed by the model's names (views; clone to keep). */
  stateDict(): Map<string, Tensor> {
    return new Map(this.values);
  }
}
