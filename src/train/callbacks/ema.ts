/**
 * The EMA of the weights during training (timm's --model-ema): updated after every applied
 * update with the update count as its step, and, when it holds a module and there is an eval
 * loader, evaluated at each epoch's end beside the model (the record's emaEvalLoss, emaTop1,
 * emaTop5). Saving and restoring it is the checkpoint's business (Trainer.checkpointContents).
 */
import type { DataLoader } from '../../data/loader.ts';
import type { Module } from '../../nn/module.ts';
import type { ModelEma } from '../ema.ts';
import { evaluate, type TrainableModel } from '../evaluate.ts';
import type { EpochRecord, StepEnd, TrainCallback } from './types.ts';

/** What EmaUpdater averages and where it evaluates the average. */
export interface EmaUpdaterOptions {
  ema: ModelEma;
  model: Module;
  evalLoader: DataLoader | null;
  numClasses: number;
}

/** Updates a ModelEma after each update and evaluates it each epoch. */
export class EmaUpdater implements TrainCallback {
  constructor(private readonly options: EmaUpdaterOptions) {}

  /** Moves the average towards the updated weights. */
  onStepEnd(_trainer: unknown, s: StepEnd): void {
    this.options.ema.update(this.options.model, s.step);
  }

  /** The average's evaluation (nothing without an eval loader or a module holding it). */
  async onEvaluate(): Promise<Partial<EpochRecord>> {
    const { ema, evalLoader, numClasses } = this.options;
    const module = ema.module as TrainableModel | null;
    if (!evalLoader || !module) return {};
    const r = await evaluate(module, evalLoader, numClasses, module.parameters()[0]?.dtype === 'bfloat16' ? 'bfloat16' : 'float32');
    return { emaEvalLoss: r.loss, emaTop1: r.top1, emaTop5: r.top5 };
  }
}
