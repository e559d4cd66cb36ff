import type { NativeTensor } from './core.d.ts';

export interface NativeNorm {
  /**
   * Batch norm over x [N, C, ...] (rank 2..5, f32 or bf16) into out (x's shape, dtype and
   * strides). mean/variance are contiguous f32 [C]: written with the batch statistics
   * (biased variance) when training, read as the running statistics otherwise. weight and
   * bias are optional contiguous f32 [C].
   */
  batchNormForward(
    x: NativeTensor, mean: NativeTensor, variance: NativeTensor, weight: NativeTensor | null, bias: NativeTensor | null,
    out: NativeTensor, eps: number, training: boolean,
  ): void;
  /**
   * Grads of batchNormForward: gradIn (gradOut's shape, dtype and strides) and, where given,
   * gradWeight/gradBias (f32 [C]). weight and bias are those of the forward; globalStats
   * says whether it used the running statistics (eval mode).
   */
  batchNormBackward(
    x: NativeTensor, gradOut: NativeTensor, mean: NativeTensor, variance: NativeTensor, weight: NativeTensor | null,
    bias: NativeTensor | null, gradIn: NativeTensor, gradWeight: NativeTensor | null, gradBias: NativeTensor | null, eps: number,
    globalStats: boolean,
  ): void;
  /**
   * Layer norm of each row of a contiguous x [rows, D] (f32 or bf16) into out (same layout);
   * optional f32 weight/bias [D]. mean/variance (f32 [rows]) receive the row statistics
   * for the backward when given.
   */
  layerNormForward(
    x: NativeTensor, weight: NativeTensor | null, bias: NativeTensor | null, out: NativeTensor,
    mean: NativeTensor | null, variance: NativeTensor | null, eps: number,
  ): void;
  /** Grads of layerNormForward: gradIn (x's layout) and, where given, gradWeight/gradBias (f32 [D]). */
  layerNormBackward(
    x: NativeTensor, gradOut: NativeTensor, mean: NativeTensor, variance: NativeTensor, weight: NativeTensor | null,
    bias: NativeTensor | null, gradIn: NativeTensor, gradWeight: NativeTensor | null, gradBias: NativeTensor | null, eps: number,
  ): void;
  /** Whether this CPU runs the norm kernels on bf16 data (else the tensor layer upcasts to f32). */
  normSupportsBf16(): boolean;
}
