/**
 * A value derived from tensors at inference (a BatchNorm folded into its conv, a standardized
 * kernel, a norm's eval affine), kept until one of its sources is written (its storage's write
 * count) or replaced (another storage). It is computed under `persistent`, so the allocation scope
 * of the forward pass that first asks for it does not release it.
 */
import { persistent } from './memory.ts';
import { Tensor } from './tensor.ts';

// Tensors are stamped by storage and write count; anything else (null, a plain object) by identity.
function stampOf(sources: readonly unknown[]): unknown[] {
  return sources.flatMap((s) => (s instanceof Tensor ? [s.storage, s.storage.version] : [s]));
}

/** Caches one value derived from `sources`; `get` recomputes it when a source changed. */
export class DerivedValue<T> {
  #stamp: unknown[] | null = null;
  #value: T | undefined;

  /** The value for these sources: the kept one if none of them changed, else `compute()`'s, kept. */
  get(sources: readonly unknown[], compute: () => T): T {
    const stamp = stampOf(sources);
    const kept = this.#stamp;
    if (kept && kept.length === stamp.length && kept.every((v, i) => v === stamp[i])) return this.#value as T;
    this.#value = persistent(compute);
    this.#stamp = stamp;
    return this.#value;
  }

  /** Drops the kept value (its memory then goes to the garbage collector). */
  clear(): void {
    this.#stamp = null;
    this.#value = undefined;
  }
}
