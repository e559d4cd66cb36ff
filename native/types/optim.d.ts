import type { NativeTensor } from './core.d.ts';

export interface NativeOptim {
  /**
   * One Adam/AdamW step over a parameter, in place (native/src/optim.cc): per element in f32,
   * g = gradSign·grad + gradDecay·w; w ·= decay; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
   * s = amsgrad ? (vmax = max(vmax, v)) : v; w −= stepSize · m / (√s / bc2Sqrt + eps).
   * param, expAvg, expAvgSq and maxExpAvgSq are dense f32; grad is dense f32 or bf16.
   */
  adamStep(
    param: NativeTensor, grad: NativeTensor, expAvg: NativeTensor, expAvgSq: NativeTensor, maxExpAvgSq: NativeTensor | null,
    gradSign: number, decay: number, gradDecay: number, beta1: number, beta2: number, bc2Sqrt: number, eps: number, stepSize: number,
  ): void;
}
