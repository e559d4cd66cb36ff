import type { NativeTensor } from './core.d.ts';

export interface NativeMatmul {
  /**
   * out[..., M, N] = a[..., M, K] · b[..., K, N] (+ bias). All of equal rank >= 2; batch
   * dims of a, b (and bias) may be 1 to broadcast; any strides; one float dtype.
   */
  matmul(a: NativeTensor, b: NativeTensor, bias: NativeTensor | null, out: NativeTensor): void;
}
