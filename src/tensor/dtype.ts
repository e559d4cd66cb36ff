import { DTypeError } from '../errors.ts';

/** Element types a Tensor can hold. */
export type DType = 'float32' | 'bfloat16' | 'int32' | 'int64' | 'uint8' | 'bool';

/** Numeric ids shared with the native addon (native/src/common.h, enum DType). */
export const DTYPE_ID: Record<DType, number> = { float32: 0, bfloat16: 1, int32: 2, int64: 3, uint8: 4, bool: 5 };

/** Bytes per element. */
export const DTYPE_SIZE: Record<DType, number> = { float32: 4, bfloat16: 2, int32: 4, int64: 8, uint8: 1, bool: 1 };

export const ALL_DTYPES: readonly DType[] = ['float32', 'bfloat16', 'int32', 'int64', 'uint8', 'bool'];

/** True for float32 and bfloat16. */
export function isFloating(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'bfloat16';
}

// torch's promotion lattice restricted to our dtypes: bool < uint8 < int32 < int64 < bfloat16 < float32.
const RANK: Record<DType, number> = { bool: 0, uint8: 1, int32: 2, int64: 3, bfloat16: 4, float32: 5 };

/** The dtype two tensor operands promote to (torch.promote_types for these dtypes). */
export function promoteTypes(a: DType, b: DType): DType {
  return RANK[a] >= RANK[b] ? a : b;
}

/** Throws unless `dtype` is one of `allowed`; names the op. */
export function checkDType(op: string, what: string, dtype: DType, allowed: readonly DType[]): void {
  if (!allowed.includes(dtype)) {
    throw new DTypeError(`${op}: ${what} has dtype ${dtype}, expected one of ${allowed.join(', ')}`);
  }
}

/** Throws unless `value` names a dtype. */
export function parseDType(value: string): DType {
  if ((ALL_DTYPES as readonly string[]).includes(value)) return value as DType;
  throw new DTypeError(`unknown dtype '${value}', expected one of ${ALL_DTYPES.join(', ')}`);
}
