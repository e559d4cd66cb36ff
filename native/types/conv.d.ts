import type { NativeTensor } from './core.d.ts';

/**
 * A convolution's geometry: lists with one entry per spatial dim; padLeft/padRight may differ
 * (padRight may be negative down to 1 - stride); dilation is torch's (1 = none).
 */
export interface NativeConvGeometry {
  stride: readonly number[];
  padLeft: readonly number[];
  padRight: readonly number[];
  dilation: readonly number[];
  groups: number;
  /** A transposed convolution (deconvolution): weights are [C, O/groups, ...k]. */
  transposed: boolean;
}

/**
 * convForward's arguments: out = act((conv(x, weight) + bias) * scale + shift + residual).
 * The epilogue (scale, shift: contiguous f32 [O]; residual: the output's shape and dtype; relu)
 * runs inside the conv as oneDNN post-ops, plain conv only.
 */
export interface NativeConvForwardArgs extends NativeConvGeometry {
  x: NativeTensor;
  weight: NativeTensor;
  /** Contiguous [O]. */
  bias?: NativeTensor | null;
  out: NativeTensor;
  scale?: NativeTensor | null;
  shift?: NativeTensor | null;
  residual?: NativeTensor | null;
  relu?: boolean;
  /** Adds out's current contents in the residual's place (out must be channels-last). */
  accumulate?: boolean;
  /**
   * Builds the primitive for inference (no backward will follow); then a 3×3, stride-1, padding-1
   * conv on channels-last f32 with channels a multiple of 8 and 16+ output tiles of 4×4 runs as
   * Winograd F(4×4, 3×3) (native/src/winograd.cc) while convWinogradEnabled().
   */
  inference?: boolean;
  /** With `inference`: when Winograd may run for this call (0 never, 1 on CPUs without AVX-512, 2 everywhere); absent or null: the process setting. */
  winograd?: 0 | 1 | 2 | null;
  /** Keeps the weight reordered to the kernel's layout in `buffer` across calls; drop it when the weight's values change. */
  packedWeights?: { buffer?: ArrayBuffer } | null;
}

/**
 * Convolution kernels (native/src/conv.cc). Tensors are torch-layout views with any strides:
 * activations [N, C, ...spatial] (dense channels-last runs without copies), weights
 * [O, C/groups, ...k], or [C, O/groups, ...k] when `transposed`. All share one float dtype.
 */
export interface NativeConv {
  /** The forward convolution with its epilogue; see NativeConvForwardArgs. */
  convForward(args: NativeConvForwardArgs): void;
  /** gradIn = the grad of convForward's x for the output grad gradOut. */
  convBackwardData(args: NativeConvGeometry & { gradOut: NativeTensor; weight: NativeTensor; gradIn: NativeTensor }): void;
  /** gradWeight (and gradBias [O] contiguous, if given) = the grads of convForward's weight and bias. */
  convBackwardWeights(
    args: NativeConvGeometry & { x: NativeTensor; gradOut: NativeTensor; gradWeight: NativeTensor; gradBias?: NativeTensor | null },
  ): void;
  /**
   * When inference convolutions take the Winograd kernel: 0 never, 1 (at load) on CPUs without
   * AVX-512, 2 on every CPU. Set through configure({ convWinograd }).
   */
  setConvWinograd(mode: 0 | 1 | 2): void;
  /** Whether they take it now, on this CPU. */
  convWinogradEnabled(): boolean;
}
