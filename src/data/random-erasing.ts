/**
 * timm's RandomErasing (random_erasing.py) on the normalized float [C, H, W] tensor: up to
 * `maxCount` boxes of a random area and log-uniform aspect, filled with zeros, one normal value
 * per channel or normal noise per pixel.
 */
import { ArgumentError, formatShape, ShapeError } from '../errors.ts';
import { randn, zeros } from '../tensor/creation.ts';
import { cast } from '../tensor/ops/elementwise.ts';
import { clone, copyInto, expand, narrow } from '../tensor/ops/shape.ts';
import type { Generator } from '../tensor/random.ts';
import type { CropBox } from './augment-ops.ts';
import { checkProb, randInt, uniform } from './draws.ts';
import type { SampleTransform } from './loader.ts';
import { roundHalfEven } from './transforms.ts';

/** Options of randomErasing (timm's RandomErasing). */
export interface RandomErasingOptions {
  probability?: number;
  minArea?: number;
  maxArea?: number;
  minAspect?: number;
  maxAspect?: number;
  /** 'const': zeros; 'rand': one normal value per channel; 'pixel' (default): normal per pixel. */
  mode?: 'const' | 'rand' | 'pixel';
  minCount?: number;
  maxCount?: number;
}

/** A box RandomErasing chose: returned by randomErasingBoxes for tests and reuse. */
export interface EraseBox extends CropBox {}

/** The boxes timm's RandomErasing would erase on an image of [H, W] (empty when it skips). */
export function randomErasingBoxes(height: number, width: number, options: RandomErasingOptions, rng: Generator): EraseBox[] {
  const p = options.probability ?? 0.5;
  const minArea = options.minArea ?? 0.02;
  const maxArea = options.maxArea ?? 1 / 3;
  const minAspect = options.minAspect ?? 0.3;
  const maxAspect = options.maxAspect ?? 1 / minAspect;
  const minCount = options.minCount ?? 1;
  const maxCount = options.maxCount ?? minCount;
  if (uniform(rng) > p) return [];
  const area = height * width;
  const count = minCount === maxCount ? minCount : randInt(rng, minCount, maxCount + 1);
  const logAspect = [Math.log(minAspect), Math.log(maxAspect)];
  const boxes: EraseBox[] = [];
  for (let i = 0; i < count; i++) {
    for (let attempt = 0; attempt < 10; attempt++) {
      const targetArea = (uniform(rng, minArea, maxArea) * area) / count;
      const aspect = Math.exp(uniform(rng, logAspect[0], logAspect[1]));
      const h = roundHalfEven(Math.sqrt(targetArea * aspect));
      const w = roundHalfEven(Math.sqrt(targetArea / aspect));
      if (w < width && h < height) {
        boxes.push({ top: randInt(rng, 0, height - h + 1), left: randInt(rng, 0, width - w + 1), height: h, width: w });
        break;
      }
    }
  }
  return boxes;
}

/** timm's RandomErasing on a float [C, H, W] (normalized) tensor; returns a new tensor. */
export function randomErasing(options: RandomErasingOptions = {}): SampleTransform {
  const p = options.probability ?? 0.5;
  checkProb('randomErasing', p);
  const mode = options.mode ?? 'pixel';
  if (!['const', 'rand', 'pixel'].includes(mode)) throw new ArgumentError(`randomErasing: mode must be 'const', 'rand' or 'pixel', got '${mode}'`);
  const minArea = options.minArea ?? 0.02;
  const maxArea = options.maxArea ?? 1 / 3;
  if (!(minArea > 0 && minArea <= maxArea)) throw new ArgumentError(`randomErasing: need 0 < minArea ≤ maxArea, got ${minArea}, ${maxArea}`);
  return (x, rng) => {
    if (x.ndim !== 3 || (x.dtype !== 'float32' && x.dtype !== 'bfloat16')) {
      throw new ShapeError(`randomErasing: expected a float [C, H, W] tensor, got ${x.dtype} ${formatShape(x.shape)}`);
    }
    const [c, h, w] = x.shape;
    const boxes = randomErasingBoxes(h, w, options, rng);
    if (boxes.length === 0) return x;
    const out = clone(x);
    for (const box of boxes) {
      const region = narrow(narrow(out, 1, box.top, box.height), 2, box.left, box.width);
      const shape = mode === 'pixel' ? [c, box.height, box.width] : [c, 1, 1];
      const values = mode === 'const' ? zeros(shape) : randn(shape, { generator: rng });
      copyInto(region, cast(expand(values, [c, box.height, box.width]), x.dtype));
    }
    return out;
  };
}
