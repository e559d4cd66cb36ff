import type { NativeTensor } from './core.d.ts';

export interface NativeOptim {
  /**
   * One Adam/AdamW step over a parameter, in place (native/src/optim.cc): per element in f32,
   * g = gradSign·grad + gradDecay·w; w ·= decay; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
   * s = amsgrad ? (vmax = max(vmax, v)) : v; w −= stepSize · m / (√s / bc2Sqrt + eps).
   * param, expAvg, expAvgSq and maxExpAvgSq are dense f32; grad is dense f32 or bf16.
   */
  adamStep(options: AdamStepOptions): void;
}

/** The operands and scalars of one adamStep. */
export interface AdamStepOptions {
  param: NativeTensor;
  grad: NativeTensor;
  expAvg: NativeTensor;
  expAvgSq: NativeTensor;
  /** AMSGrad's running maximum of expAvgSq; null without AMSGrad. */
  maxExpAvgSq: NativeTensor | null;
  /** −1 to maximize. */
  gradSign: number;
  /** Decoupled weight decay factor (AdamW): 1 − lr·weightDecay. */
  decay: number;
  /** L2 weight decay folded into the gradient (Adam). */
  gradDecay: number;
  beta1: number;
  beta2: number;
  /** √(1 − β2^step). */
  bc2Sqrt: number;
  eps: number;
  /** lr / (1 − β1^step). */
  stepSize: number;
}
