/**
 * Seedable random numbers. A Generator is (seed, offset) over a counter-based Philox
 * stream in native code: each drawn element advances the offset by one, so a state
 * saved with getState() and restored with setState() replays exactly.
 */
import { ArgumentError } from '../errors.ts';
import { native } from './native.ts';
import type { Tensor } from './tensor.ts';

/** Distribution codes shared with native/src/random.cc. */
export const RANDOM_KIND = { uniform: 0, normal: 1, bernoulli: 2, integer: 3 } as const;

/** The saved state of a Generator. */
export interface GeneratorState {
  seed: number;
  offset: number;
}

export class Generator {
  seed: number;
  offset = 0;

  constructor(seed = 0) {
    this.seed = Generator.checkSeed(seed);
  }

  private static checkSeed(seed: number): number {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new ArgumentError(`Generator: seed must be a non-negative safe integer, got ${seed}`);
    return seed;
  }

  /** Restarts the stream from a new seed. */
  manualSeed(seed: number): this {
    this.seed = Generator.checkSeed(seed);
    this.offset = 0;
    return this;
  }

  getState(): GeneratorState {
    return { seed: this.seed, offset: this.offset };
  }

  setState(state: GeneratorState): this {
    this.seed = Generator.checkSeed(state.seed);
    this.offset = state.offset;
    return this;
  }

  /** Fills contiguous t in place from a distribution and advances the stream. */
  fill(t: Tensor, kind: keyof typeof RANDOM_KIND, a: number, b: number): void {
    t.assertAlive('random');
    native.randomFill({ dst: t, kind: RANDOM_KIND[kind], a, b, seedHi: Math.floor(this.seed / 2 ** 32), seedLo: this.seed % 2 ** 32, offset: this.offset });
    this.offset += t.numel;
  }
}

/** The generator used when none is given. */
export const defaultGenerator = new Generator(0);

/** Reseeds the default generator (torch.manual_seed). */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}
