import type { NativeTensor } from './core.d.ts';

export interface NativeRandom {
  /**
   * Fills contiguous dst from the Philox stream (seedHi:seedLo) starting at counter `offset`
   * (one counter per element). kind codes are RANDOM_KIND in src/tensor/random.ts:
   * uniform [a, b), normal (mean a, std b), bernoulli (p = a), integer [a, b).
   */
  randomFill(args: { dst: NativeTensor; kind: number; a: number; b: number; seedHi: number; seedLo: number; offset: number }): void;
}
