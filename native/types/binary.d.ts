import type { NativeTensor } from './core.d.ts';

export interface NativeBinary {
  /**
   * out = a (op) b elementwise over out's shape; op codes are BINARY_OP in
   * src/tensor/ops/elementwise.ts. a and b share a dtype, have out's rank and may
   * broadcast with zero strides; out has a's dtype, or bool for comparisons and logic ops.
   */
  binary(op: number, a: NativeTensor, b: NativeTensor, out: NativeTensor): void;
}
