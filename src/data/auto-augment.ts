/**
 * timm's RandAugment (auto_augment.py): the 'rand-m9-mstd0.5-inc1' config strings, the op sets,
 * LEVEL_TO_ARG and the per-image policy. The ops themselves are the PIL ops of augment-ops.ts.
 */
import { ArgumentError } from '../errors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import {
  adjustBrightness, adjustContrast, adjustSaturation, adjustSharpness, affineTransform, autoContrast, equalize, invert,
  posterize, rotate, solarize, solarizeAdd, type AffineResample,
} from './augment-ops.ts';
import { gauss, randInt, uniform } from './draws.ts';
import type { SampleTransform } from './loader.ts';
import { checkImage } from './transforms.ts';

/** The ops of timm's RandAugment sets. */
export const RAND_TRANSFORMS = [
  'AutoContrast', 'Equalize', 'Invert', 'Rotate', 'Posterize', 'Solarize', 'SolarizeAdd', 'Color', 'Contrast',
  'Brightness', 'Sharpness', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel',
] as const;
export const RAND_INCREASING_TRANSFORMS = [
  'AutoContrast', 'Equalize', 'Invert', 'Rotate', 'PosterizeIncreasing', 'SolarizeIncreasing', 'SolarizeAdd',
  'ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing', 'SharpnessIncreasing', 'ShearX', 'ShearY',
  'TranslateXRel', 'TranslateYRel',
] as const;

export type AugmentOpName = (typeof RAND_TRANSFORMS)[number] | (typeof RAND_INCREASING_TRANSFORMS)[number];

/** timm's aa hparams: fill color of the affine ops, their resampling, translate fraction. */
export interface AugmentHparams {
  /** Fill of the affine ops (timm: round(255·mean); default 128s). */
  imgMean?: readonly number[];
  /** Fixed resampling, or timm's random choice of bilinear/bicubic when absent. */
  interpolation?: AffineResample;
  translatePct?: number;
  magnitudeStd?: number;
  magnitudeMax?: number;
}

/** The parsed 'rand-…' config. */
export interface RandAugmentConfig {
  magnitude: number;
  numLayers: number;
  prob: number;
  magnitudeStd: number;
  magnitudeMax?: number;
  increasing: boolean;
}

/**
 * Parses timm's RandAugment string 'rand-m{M}-n{N}-p{P}-mstd{S}-mmax{X}-inc{0|1}'. As in
 * timm, any 'inc' section turns the increasing set on (bool('0') is True in Python).
 */
export function parseRandAugment(config: string): RandAugmentConfig {
  const parts = config.split('-');
  if (parts[0] !== 'rand') throw new ArgumentError(`randAugment: config must start with 'rand', got '${config}'`);
  const out: RandAugmentConfig = { magnitude: 10, numLayers: 2, prob: 0.5, magnitudeStd: 0, increasing: false };
  for (const part of parts.slice(1)) {
    if (part.startsWith('t')) throw new ArgumentError(`randAugment: transform-set sections ('${part}') are not supported`);
    const m = /^([a-z]+)(\d.*)$/.exec(part);
    if (!m) continue;
    const [, key, val] = m;
    const num = Number(val);
    if (!Number.isFinite(num)) throw new ArgumentError(`randAugment: section '${part}' has a non-numeric value`);
    if (key === 'mstd') out.magnitudeStd = num > 100 ? Infinity : num;
    else if (key === 'mmax') out.magnitudeMax = Math.trunc(num);
    else if (key === 'inc') out.increasing = val.length > 0;
    else if (key === 'm') out.magnitude = Math.trunc(num);
    else if (key === 'n') out.numLayers = Math.trunc(num);
    else if (key === 'p') out.prob = num;
    else throw new ArgumentError(`randAugment: unknown config section '${part}' in '${config}'`);
  }
  return out;
}

const LEVEL_DENOM = 10;

/**
 * An op's arguments at a (clipped) magnitude, with the sign already chosen: timm's
 * LEVEL_TO_ARG. `negate` stands for _randomly_negate's draw.
 */
export function levelToArg(name: AugmentOpName, magnitude: number, negate: boolean, translatePct = 0.45): number | null {
  const level = magnitude / LEVEL_DENOM;
  const sign = negate ? -1 : 1;
  switch (name) {
    case 'AutoContrast': case 'Equalize': case 'Invert': return null;
    case 'Rotate': return sign * level * 30;
    case 'Posterize': return Math.trunc(level * 4);
    case 'PosterizeIncreasing': return 4 - Math.trunc(level * 4);
    case 'Solarize': return Math.min(256, Math.trunc(level * 256));
    case 'SolarizeIncreasing': return 256 - Math.min(256, Math.trunc(level * 256));
    case 'SolarizeAdd': return Math.min(128, Math.trunc(level * 110));
    case 'Color': case 'Contrast': case 'Brightness': case 'Sharpness': return level * 1.8 + 0.1;
    case 'ColorIncreasing': case 'ContrastIncreasing': case 'BrightnessIncreasing': case 'SharpnessIncreasing':
      return Math.max(0.1, 1 + sign * level * 0.9);
    case 'ShearX': case 'ShearY': return sign * level * 0.3;
    case 'TranslateXRel': case 'TranslateYRel': return sign * level * translatePct;
  }
}

/** Whether timm's level function for the op draws a random sign. */
function negates(name: AugmentOpName): boolean {
  return ['Rotate', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel'].includes(name) || name.endsWith('Increasing') && !name.startsWith('Posterize') && !name.startsWith('Solarize');
}

function isAffine(name: AugmentOpName): boolean {
  return ['Rotate', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel'].includes(name);
}

/** One RandAugment op's deterministic core: applies `name` with argument `arg` (levelToArg's value). */
export function applyAugmentOp(img: Tensor, name: AugmentOpName, arg: number | null, resample: AffineResample = 'bilinear', fill: readonly number[] = [128, 128, 128]): Tensor {
  checkImage('applyAugmentOp', img);
  const v = arg ?? 0;
  const [h, w] = img.shape;
  switch (name) {
    case 'AutoContrast': return autoContrast(img);
    case 'Equalize': return equalize(img);
    case 'Invert': return invert(img);
    case 'Rotate': return rotate(img, v, resample, fill);
    case 'Posterize': case 'PosterizeIncreasing': return posterize(img, v);
    case 'Solarize': case 'SolarizeIncreasing': return solarize(img, v);
    case 'SolarizeAdd': return solarizeAdd(img, v);
    case 'Color': case 'ColorIncreasing': return adjustSaturation(img, v);
    case 'Contrast': case 'ContrastIncreasing': return adjustContrast(img, v);
    case 'Brightness': case 'BrightnessIncreasing': return adjustBrightness(img, v);
    case 'Sharpness': case 'SharpnessIncreasing': return adjustSharpness(img, v);
    case 'ShearX': return affineTransform(img, [1, v, 0, 0, 1, 0], resample, fill);
    case 'ShearY': return affineTransform(img, [1, 0, 0, v, 1, 0], resample, fill);
    case 'TranslateXRel': return affineTransform(img, [1, 0, v * w, 0, 1, 0], resample, fill);
    case 'TranslateYRel': return affineTransform(img, [1, 0, 0, 0, 1, v * h], resample, fill);
  }
}

/**
 * timm's rand_augment_transform(config, hparams): per image, `numLayers` ops drawn with
 * replacement; each runs with probability `prob` at a magnitude N(M, mstd) clipped to
 * [0, mmax or 10], with a random sign where timm negates.
 */
export function randAugment(config: string, hparams: AugmentHparams = {}): SampleTransform {
  const cfg = parseRandAugment(config);
  const ops = cfg.increasing ? RAND_INCREASING_TRANSFORMS : RAND_TRANSFORMS;
  const fill = hparams.imgMean ?? [128, 128, 128];
  const magnitudeStd = hparams.magnitudeStd ?? cfg.magnitudeStd;
  const upper = hparams.magnitudeMax ?? cfg.magnitudeMax ?? LEVEL_DENOM;
  return (img, rng) => {
    checkImage('randAugment', img);
    let out = img;
    for (let layer = 0; layer < cfg.numLayers; layer++) {
      const name = ops[randInt(rng, 0, ops.length)];
      if (cfg.prob < 1 && uniform(rng) > cfg.prob) continue;
      let magnitude = cfg.magnitude;
      if (magnitudeStd === Infinity) magnitude = uniform(rng, 0, magnitude);
      else if (magnitudeStd > 0) magnitude = gauss(rng, magnitude, magnitudeStd);
      magnitude = Math.max(0, Math.min(magnitude, upper));
      const negate = negates(name) ? uniform(rng) > 0.5 : false;
      const arg = levelToArg(name, magnitude, negate, hparams.translatePct);
      const resample = isAffine(name) ? hparams.interpolation ?? (randInt(rng, 0, 2) === 0 ? 'bilinear' : 'bicubic') : 'bilinear';
      out = applyAugmentOp(out, name, arg, resample, fill.length === out.shape[2] ? fill : Array(out.shape[2]).fill(fill[0]));
    }
    return out;
  };
}
