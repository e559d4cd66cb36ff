/** Options and checks shared by the layer constructors. */
import { ArgumentError, DTypeError } from '../../errors.ts';
import type { Generator } from '../../tensor/random.ts';

/** Options every layer with parameters takes. */
export interface FactoryOptions {
  /** Dtype of the parameters and float buffers (default float32). */
  dtype?: 'float32' | 'bfloat16';
  /** Generator for the default initialisation (the default generator otherwise). */
  generator?: Generator;
}

/** The parameter dtype from options, checked. */
export function paramDtype(op: string, options: FactoryOptions): 'float32' | 'bfloat16' {
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'bfloat16') throw new DTypeError(`${op}: parameter dtype must be float32 or bfloat16, got ${String(dtype)}`);
  return dtype;
}

/** Throws unless value is an integer >= min. */
export function checkInt(op: string, what: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new ArgumentError(`${op}: ${what} must be an integer >= ${min}, got ${value}`);
}

/** Throws unless 0 <= p <= 1. */
export function checkProbability(op: string, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new ArgumentError(`${op}: probability must be in [0, 1], got ${p}`);
}
