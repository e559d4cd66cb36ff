/**
 * The random per-sample transforms of timm's train pipeline (its transforms.py and the
 * torchvision transforms it uses): RandomResizedCrop with timm's random interpolation,
 * RandomHorizontalFlip and ColorJitter. Each is `(img, rng) => img` on uint8 [H, W, C] images;
 * the parameters come from the given Generator, the pixels from augment-ops.ts.
 */
import { ArgumentError } from '../errors.ts';
import type { ResampleFilter } from '../io/image.ts';
import type { Generator } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { adjustBrightness, adjustContrast, adjustHue, adjustSaturation, hflip, resizedCrop, type CropBox } from './augment-ops.ts';
import { checkProb, checkRange, randInt, uniform } from './draws.ts';
import type { SampleTransform } from './loader.ts';
import { checkImage, roundHalfEven } from './transforms.ts';

// ---------------------------------------------------------------------------------------------
// RandomResizedCrop and flips

/**
 * torchvision/timm RandomResizedCrop.get_params: up to 10 tries of an area fraction uniform in
 * `scale` and a log-uniform aspect in `ratio`, else a center crop clamped to the ratio range.
 */
export function rrcGetParams(height: number, width: number, scale: readonly [number, number], ratio: readonly [number, number], rng: Generator): CropBox {
  checkRange('randomResizedCrop', 'scale', scale);
  checkRange('randomResizedCrop', 'ratio', ratio);
  const area = height * width;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * uniform(rng, scale[0], scale[1]);
    const aspect = Math.exp(uniform(rng, logRatio[0], logRatio[1]));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: randInt(rng, 0, height - h + 1), left: randInt(rng, 0, width - w + 1), height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(ratio[0], ratio[1])) h = roundHalfEven(w / Math.min(ratio[0], ratio[1]));
  else if (inRatio > Math.max(ratio[0], ratio[1])) w = roundHalfEven(h * Math.max(ratio[0], ratio[1]));
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** Options of randomResizedCrop. */
export interface RandomResizedCropOptions {
  scale?: readonly [number, number];
  ratio?: readonly [number, number];
  /** A filter, or 'random' for timm's random choice of bilinear/bicubic per sample. */
  interpolation?: ResampleFilter | 'random';
}

/** timm's RandomResizedCropAndInterpolation as a sample transform. */
export function randomResizedCrop(size: readonly [number, number], options: RandomResizedCropOptions = {}): SampleTransform {
  const scale = options.scale ?? [0.08, 1];
  const ratio = options.ratio ?? [3 / 4, 4 / 3];
  const interpolation = options.interpolation ?? 'bilinear';
  checkRange('randomResizedCrop', 'scale', scale);
  checkRange('randomResizedCrop', 'ratio', ratio);
  return (img, rng) => {
    checkImage('randomResizedCrop', img);
    const box = rrcGetParams(img.shape[0], img.shape[1], scale, ratio, rng);
    const filter = interpolation === 'random' ? (randInt(rng, 0, 2) === 0 ? 'bilinear' : 'bicubic') : interpolation;
    return resizedCrop(img, box, size, filter);
  };
}

/** RandomHorizontalFlip(p). */
export function randomHorizontalFlip(p = 0.5): SampleTransform {
  checkProb('randomHorizontalFlip', p);
  return (img, rng) => (uniform(rng) < p ? hflip(img) : img);
}

// ---------------------------------------------------------------------------------------------
// ColorJitter (torchvision)

/**
 * Options of colorJitter, as torchvision's ColorJitter arguments: brightness, contrast and
 * saturation v → factors in [max(0, 1 − v), 1 + v], hue h → [−h, h] (h ≤ 0.5); or explicit ranges.
 */
export interface ColorJitterOptions {
  brightness?: number | readonly [number, number];
  contrast?: number | readonly [number, number];
  saturation?: number | readonly [number, number];
  hue?: number | readonly [number, number];
}

type Range = [number, number];

function jitterRange(what: string, v: number | readonly [number, number] | undefined): Range | null {
  if (v === undefined) return null;
  if (typeof v === 'number' && !(v >= 0)) throw new ArgumentError(`colorJitter: ${what} must be ≥ 0, got ${v}`);
  const range: Range = typeof v === 'number' ? [Math.max(0, 1 - v), 1 + v] : [v[0], v[1]];
  checkRange('colorJitter', what, range);
  if (range[0] < 0) throw new ArgumentError(`colorJitter: ${what} range must be ≥ 0, got [${range.join(', ')}]`);
  return range[0] === 1 && range[1] === 1 ? null : range;
}

function hueRange(v: number | readonly [number, number] | undefined): Range | null {
  if (v === undefined) return null;
  if (typeof v === 'number' && !(v >= 0 && v <= 0.5)) throw new ArgumentError(`colorJitter: hue must be in [0, 0.5], got ${v}`);
  const range: Range = typeof v === 'number' ? [-v, v] : [v[0], v[1]];
  checkRange('colorJitter', 'hue', range);
  if (range[0] < -0.5 || range[1] > 0.5) throw new ArgumentError(`colorJitter: hue range must lie in [-0.5, 0.5], got [${range.join(', ')}]`);
  return range[0] === 0 && range[1] === 0 ? null : range;
}

/** One image's ColorJitter draws: the order of the ops (0 brightness, 1 contrast, 2 saturation, 3 hue) and each factor (null: off). */
export interface ColorJitterParams {
  order: number[];
  factors: (number | null)[];
}

const JITTER_OPS = [adjustBrightness, adjustContrast, adjustSaturation, adjustHue];

function jitterRanges(options: ColorJitterOptions): (Range | null)[] {
  return [jitterRange('brightness', options.brightness), jitterRange('contrast', options.contrast), jitterRange('saturation', options.saturation), hueRange(options.hue)];
}

function drawJitterParams(ranges: readonly (Range | null)[], rng: Generator): ColorJitterParams {
  const order = [0, 1, 2, 3];
  for (let i = order.length - 1; i > 0; i--) {
    const j = randInt(rng, 0, i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  return { order, factors: ranges.map((r) => (r === null ? null : uniform(rng, r[0], r[1]))) };
}

/**
 * torchvision's ColorJitter.get_params: a random permutation of the four ops (as its
 * randperm(4), whichever ops are on), then one uniform factor per enabled op in the order
 * brightness, contrast, saturation, hue.
 */
export function colorJitterParams(options: ColorJitterOptions, rng: Generator): ColorJitterParams {
  return drawJitterParams(jitterRanges(options), rng);
}

/** Applies ColorJitter's ops in `params.order` with its factors (the deterministic half of colorJitter). */
export function applyColorJitter(img: Tensor, params: ColorJitterParams): Tensor {
  checkImage('colorJitter', img);
  if (params.factors.length !== JITTER_OPS.length || !params.order.every((i) => Number.isInteger(i) && i >= 0 && i < JITTER_OPS.length)) {
    throw new ArgumentError(`colorJitter: params need 4 factors and an order of op indices 0..3, got ${params.factors.length} factors and order [${params.order.join(', ')}]`);
  }
  let out = img;
  for (const i of params.order) {
    const f = params.factors[i];
    if (f !== null) out = JITTER_OPS[i](out, f);
  }
  return out;
}

/** torchvision ColorJitter on PIL images: brightness, contrast, saturation and hue in a random order. */
export function colorJitter(options: ColorJitterOptions): SampleTransform {
  const ranges = jitterRanges(options);
  return (img, rng) => {
    checkImage('colorJitter', img);
    return applyColorJitter(img, drawJitterParams(ranges, rng));
  };
}
