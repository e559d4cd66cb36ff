import type { NativeTensor } from './core.d.ts';

/**
 * A pooling's algorithm and geometry: alg codes are POOL_ALG in src/tensor/ops/pool.ts; lists
 * have one entry per spatial dim; dilation is torch's (1 = none); padRight may exceed padLeft
 * (ceil mode).
 */
export interface NativePoolGeometry {
  alg: number;
  kernel: readonly number[];
  stride: readonly number[];
  padLeft: readonly number[];
  padRight: readonly number[];
  dilation: readonly number[];
}

/**
 * Pooling kernels (native/src/pool.cc). x and out are [N, C, ...spatial] views, both
 * row-major or both dense channels-last, of one float dtype.
 */
export interface NativePool {
  /** Max or average pooling into out; with `training` set, max pooling returns the workspace its backward needs. */
  poolForward(args: NativePoolGeometry & { x: NativeTensor; out: NativeTensor; training: boolean }): ArrayBuffer | null;
  /** gradIn = the grad of poolForward's x; gradIn and gradOut in the layouts of the forward's x and out. */
  poolBackward(args: NativePoolGeometry & { gradOut: NativeTensor; gradIn: NativeTensor; workspace: ArrayBuffer | null }): void;
  /** Adaptive average pooling of contiguous x into contiguous out (torch's bins), 1 to 3 spatial dims. */
  adaptiveAvgPool(x: NativeTensor, out: NativeTensor): void;
  /** The grad of adaptiveAvgPool's x (contiguous gradIn) for contiguous gradOut. */
  adaptiveAvgPoolBackward(gradOut: NativeTensor, gradIn: NativeTensor): void;
}
