import type { NativeTensor } from './core.d.ts';

/**
 * matmul's arguments: out[..., M, N] = a[..., M, K] · b[..., K, N] (+ bias). All of equal rank >= 2;
 * batch dims of a, b (and bias) may be 1 to broadcast; any strides; one float dtype.
 */
export interface NativeMatmulArgs {
  a: NativeTensor;
  b: NativeTensor;
  bias?: NativeTensor | null;
  out: NativeTensor;
  /** Runs inside the kernel on the sum. */
  activation?: 'geluErf' | 'geluTanh' | 'relu' | null;
  /** out's shape and dtype, added after the activation. */
  residual?: NativeTensor | null;
  /**
   * With rank 2, b is reordered once to the kernel's layout and kept in the holder (drop the
   * holder when b changes); such a b may be bfloat16 beside float32 data, widened once as it is packed.
   */
  packedWeights?: { buffer?: ArrayBuffer } | null;
  /** Multiplies a·b + bias before the activation (default 1). */
  scale?: number;
}

export interface NativeMatmul {
  /** The matrix product with its epilogue; see NativeMatmulArgs. */
  matmul(args: NativeMatmulArgs): void;
}
