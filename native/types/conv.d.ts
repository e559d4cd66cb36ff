import type { NativeTensor } from './core.d.ts';

/**
 * Convolution kernels (native/src/conv.cc). Tensors are torch-layout views with any strides:
 * activations [N, C, ...spatial] (dense channels-last runs without copies), weights
 * [O, C/groups, ...k], or [C, O/groups, ...k] when `transposed`. All share one float dtype.
 * Geometry lists have one entry per spatial dim; padLeft/padRight may differ (padRight may
 * be negative down to 1 - stride); dilation is torch's (1 = none).
 */
export interface NativeConv {
  /**
   * out = act((conv(x, weight) + bias) * scale + shift + residual) (bias [O] contiguous, or null);
   * transposed runs a deconvolution. The epilogue (scale, shift: contiguous f32 [O]; residual: the
   * output's shape and dtype; relu) runs inside the conv as oneDNN post-ops, plain conv only.
   * `accumulate` adds out's current contents in the residual's place (out must be channels-last);
   * `inference` builds the primitive for inference (no backward will follow). `packedWeights`
   * keeps the weight reordered to the kernel's layout in `buffer` across calls; drop it when the
   * weight's values change.
   */
  convForward(
    x: NativeTensor, weight: NativeTensor, bias: NativeTensor | null, out: NativeTensor,
    stride: readonly number[], padLeft: readonly number[], padRight: readonly number[], dilation: readonly number[],
    groups: number, transposed: boolean,
    scale?: NativeTensor | null, shift?: NativeTensor | null, residual?: NativeTensor | null, relu?: boolean,
    accumulate?: boolean, inference?: boolean, packedWeights?: { buffer?: ArrayBuffer } | null,
  ): void;
  /** gradIn = the grad of convForward's x for the output grad gradOut. */
  convBackwardData(
    gradOut: NativeTensor, weight: NativeTensor, gradIn: NativeTensor,
    stride: readonly number[], padLeft: readonly number[], padRight: readonly number[], dilation: readonly number[],
    groups: number, transposed: boolean,
  ): void;
  /** gradWeight (and gradBias [O] contiguous, if given) = the grads of convForward's weight and bias. */
  convBackwardWeights(
    x: NativeTensor, gradOut: NativeTensor, gradWeight: NativeTensor, gradBias: NativeTensor | null,
    stride: readonly number[], padLeft: readonly number[], padRight: readonly number[], dilation: readonly number[],
    groups: number, transposed: boolean,
  ): void;
}
