import type { NativeTensor } from './core.d.ts';

export interface NativeReduce {
  /**
   * Reduces the middle axis of contiguous src viewed as [outer, reduced, inner] into contiguous
   * out [outer*inner]; op codes are REDUCE_OP in src/tensor/ops/reduce.ts. For max/min,
   * indices (int64, out's size) receives the first index of the extreme value.
   */
  reduce(args: { op: number; src: NativeTensor; outer: number; reduced: number; inner: number; out: NativeTensor; indices?: NativeTensor | null }): void;
}
