import type { NativeTensor } from './core.d.ts';

/**
 * batchNormForward's arguments: batch norm over x [N, C, ...] (rank 2..5, f32 or bf16) into out
 * (x's shape, dtype and strides). mean/variance are contiguous f32 [C]: written with the batch
 * statistics (biased variance) when training, read as the running statistics otherwise. weight
 * and bias are optional contiguous f32 [C].
 */
export interface NativeBatchNormForwardArgs {
  x: NativeTensor;
  mean: NativeTensor;
  variance: NativeTensor;
  weight?: NativeTensor | null;
  bias?: NativeTensor | null;
  out: NativeTensor;
  eps: number;
  training: boolean;
}

/**
 * batchNormBackward's arguments: gradIn (gradOut's shape, dtype and strides) and, where given,
 * gradWeight/gradBias (f32 [C]). weight and bias are those of the forward; globalStats says
 * whether it used the running statistics (eval mode).
 */
export interface NativeBatchNormBackwardArgs extends NativeNormBackwardArgs {
  globalStats: boolean;
}

/**
 * layerNormForward's arguments: layer norm of each row of a contiguous x [rows, D] (f32 or bf16)
 * into out (same layout); optional f32 weight/bias [D]. mean/variance (f32 [rows]) receive the
 * row statistics for the backward when given.
 */
export interface NativeLayerNormForwardArgs {
  x: NativeTensor;
  weight?: NativeTensor | null;
  bias?: NativeTensor | null;
  out: NativeTensor;
  mean?: NativeTensor | null;
  variance?: NativeTensor | null;
  eps: number;
}

/** layerNormBackward's arguments: gradIn (x's layout) and, where given, gradWeight/gradBias (f32 [D]). */
export type NativeLayerNormBackwardArgs = NativeNormBackwardArgs;

/** What both norms' backward kernels take: the forward's operands and statistics, and the gradients to write. */
export interface NativeNormBackwardArgs {
  x: NativeTensor;
  gradOut: NativeTensor;
  mean: NativeTensor;
  variance: NativeTensor;
  weight?: NativeTensor | null;
  bias?: NativeTensor | null;
  gradIn: NativeTensor;
  gradWeight?: NativeTensor | null;
  gradBias?: NativeTensor | null;
  eps: number;
}

/**
 * Batch and layer norm (native/src/norm.cc). bf16 data is normalized with f32 statistics; where
 * oneDNN has no bf16 kernels it is computed in f32 and rounded back, as every oneDNN-backed kernel's.
 */
export interface NativeNorm {
  batchNormForward(args: NativeBatchNormForwardArgs): void;
  batchNormBackward(args: NativeBatchNormBackwardArgs): void;
  layerNormForward(args: NativeLayerNormForwardArgs): void;
  layerNormBackward(args: NativeLayerNormBackwardArgs): void;
}
