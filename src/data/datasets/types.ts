/**
 * What every dataset gives the loader, and the seed derivation that makes per-sample
 * randomness a pure function of (seed, ...coordinates) — the same in any worker thread.
 */
import { ArgumentError } from '../../errors.ts';
import { Generator, Tensor } from '../../tensor/index.ts';

/** One sample: a uint8 [H, W, C] image or a float [C, H, W] tensor, and its class index (image–text data: its caption, and the label a pair id). */
export interface Sample {
  image: Tensor;
  label: number;
  text?: string;
}

/**
 * A map-style dataset. `get` may return null for a sample it skipped (for example a corrupt
 * file under `onError: 'skip'`); the loader leaves such samples out of their batch.
 */
export interface Dataset {
  readonly length: number;
  readonly classes: readonly string[];
  get(index: number): Sample | null | Promise<Sample | null>;
}

/** A streaming dataset: yields its samples for one epoch, in an order that may depend on the epoch. */
export interface IterableDataset {
  readonly classes: readonly string[];
  iterate(epoch: number): AsyncIterable<Sample>;
}

/** How a failed sample is handled: 'fail' throws, 'skip' reports and leaves it out. */
export type OnError = 'skip' | 'fail';

/** Checks a dataset index and returns it. */
export function checkIndex(op: string, index: number, length: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new ArgumentError(`${op}: index ${index} is out of range for a dataset of ${length} samples`);
  }
  return index;
}

function mix32(h: number, v: number): number {
  let x = Math.imul(h ^ v, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A seed in [0, 2^52) derived from a base seed and integer coordinates (split, epoch, index, ...). */
export function deriveSeed(seed: number, ...coords: number[]): number {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ArgumentError(`deriveSeed: seed must be a non-negative safe integer, got ${seed}`);
  let lo = mix32(0x9e3779b9, seed >>> 0);
  let hi = mix32(0x7f4a7c15, Math.floor(seed / 2 ** 32));
  for (const c of coords) {
    lo = mix32(lo ^ hi, c >>> 0);
    hi = mix32(hi + 0x6a09e667, lo ^ Math.floor(c / 2 ** 32));
  }
  return (hi & 0xfffff) * 2 ** 32 + lo;
}

/** Draws `n` uniform numbers in [0, 1) from a generator (one native fill). */
export function uniforms(rng: Generator, n: number): Float32Array {
  const t = Tensor.empty([n], 'float32');
  rng.fill(t, 'uniform', 0, 1);
  return t.toArray() as Float32Array;
}
