import type { NativeTensor } from './core.d.ts';

export interface NativeMatmul {
  /**
   * out[..., M, N] = a[..., M, K] · b[..., K, N] (+ bias). All of equal rank >= 2; batch
   * dims of a, b (and bias) may be 1 to broadcast; any strides; one float dtype. An epilogue
   * runs inside the kernel: `activation` ('geluErf' | 'geluTanh' | 'relu') on the sum, then
   * `residual` (out's shape and dtype) added. With a `packedWeights` holder and rank 2, b is
   * reordered once to the kernel's layout and kept in the holder (drop the holder when b changes);
   * such a b may be bfloat16 beside float32 data, widened once as it is packed.
   * `scale` (default 1) multiplies a·b + bias before the activation.
   */
  matmul(
    a: NativeTensor, b: NativeTensor, bias: NativeTensor | null, out: NativeTensor,
    activation?: 'geluErf' | 'geluTanh' | 'relu' | null, residual?: NativeTensor | null,
    packedWeights?: { buffer?: ArrayBuffer } | null, scale?: number,
  ): void;
}
