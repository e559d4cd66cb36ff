/**
 * Scalar draws from a tensor Generator with the semantics of Python's random.* and numpy's
 * np.random.* calls that timm's augmentations make, plus the argument checks the random
 * transforms share. Every draw consumes the Generator, so one seed replays a sample exactly.
 */
import { ArgumentError } from '../errors.ts';
import { rand, randint, randn } from '../tensor/creation.ts';
import type { Generator } from '../tensor/random.ts';

/** A uniform draw in [lo, hi). */
export function uniform(rng: Generator, lo = 0, hi = 1): number {
  return lo + (hi - lo) * rand([1], { generator: rng }).item();
}

/** A uniform integer in [lo, hi) (numpy's randint). */
export function randInt(rng: Generator, lo: number, hi: number): number {
  return randint(lo, hi, [1], { generator: rng }).item();
}

/** A normal draw with the given mean and std. */
export function gauss(rng: Generator, mean = 0, std = 1): number {
  return mean + std * randn([1], { generator: rng }).item();
}

function gammaSample(rng: Generator, shape: number): number {
  // Marsaglia–Tsang; shapes below 1 boost through Gamma(a + 1)·U^(1/a).
  if (shape < 1) return gammaSample(rng, shape + 1) * Math.pow(Math.max(uniform(rng), 1e-12), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = gauss(rng);
    const v = (1 + c * x) ** 3;
    if (v <= 0) continue;
    const u = uniform(rng);
    if (Math.log(Math.max(u, 1e-300)) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** A Beta(a, b) draw (numpy's np.random.beta). */
export function betaSample(rng: Generator, a: number, b: number): number {
  const x = gammaSample(rng, a);
  const y = gammaSample(rng, b);
  return x + y === 0 ? 0.5 : x / (x + y);
}

/** Throws unless `range` is a finite [min, max] with min ≤ max (an op's `what` argument). */
export function checkRange(op: string, what: string, range: readonly number[]): void {
  if (range.length !== 2 || !(range[0] <= range[1]) || !range.every(Number.isFinite)) {
    throw new ArgumentError(`${op}: ${what} must be [min, max] with min ≤ max, got [${range.join(', ')}]`);
  }
}

/** Throws unless `p` is a probability in [0, 1]. */
export function checkProb(op: string, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new ArgumentError(`${op}: probability must be in [0, 1], got ${p}`);
}
