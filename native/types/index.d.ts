import type { NativeTensor } from './core.d.ts';

export interface NativeIndex {
  /**
   * out[p] = x[p with p[dim] replaced by index[p]] over out's shape (torch.gather); index
   * (int32/int64, may be expanded) has out's shape and x's rank. Returns null, or the first
   * index outside [0, x.shape[dim]), in which case nothing is written.
   */
  gather(x: NativeTensor, dim: number, index: NativeTensor, out: NativeTensor): bigint | null;
  /**
   * Adds src[p] into out[p with p[dim] replaced by index[p]] in place, deterministically
   * (torch.scatter_add_); out is contiguous, index and src share a shape of out's rank.
   * Returns null, or the first index outside [0, out.shape[dim]), leaving out untouched.
   */
  scatterAdd(out: NativeTensor, dim: number, index: NativeTensor, src: NativeTensor): bigint | null;
  /** out = mask ? value : x over out's shape; x and mask (bool) may broadcast with zero strides. */
  maskedFill(x: NativeTensor, mask: NativeTensor, value: number, out: NativeTensor): void;
}
