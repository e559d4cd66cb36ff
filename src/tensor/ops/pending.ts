import { TsvisionError } from '../../errors.ts';

/** Placeholder body for ops whose kernels have not landed yet. */
export function pending(name: string): never {
  throw new TsvisionError('E_PENDING', `${name} is not implemented yet`);
}
