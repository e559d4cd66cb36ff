import type { NativeTensor } from './core.d.ts';

export interface NativeResample {
  /**
   * Resamples contiguous src along `dim` into contiguous out (same rank and dtype, f32 or
   * bf16; only `dim` differs in size): out[.., j, ..] = Σ_k weight[j·taps + k] · src[.., index[j·taps + k], ..]
   * for j < out.shape[dim]. index and weight hold out.shape[dim] × taps entries.
   */
  resample(src: NativeTensor, dim: number, index: Int32Array, weight: Float32Array, taps: number, out: NativeTensor): void;
  /** The adjoint of resample: gradIn (src's shape) = Σ over taps of weight · gradOut, summed in a fixed order. */
  resampleBackward(gradOut: NativeTensor, dim: number, index: Int32Array, weight: Float32Array, taps: number, gradIn: NativeTensor): void;
}
