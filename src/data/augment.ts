/**
 * Training-time image augmentation with timm's semantics, split as timm splits it:
 * augment-ops.ts (the PIL image ops), augment-transforms.ts (RandomResizedCrop, flips,
 * ColorJitter), auto-augment.ts (RandAugment), random-erasing.ts (RandomErasing) and, here, the
 * transforms factory `createTrainTransform` (timm's transforms_imagenet_train). This module
 * re-exports the pieces so `data/augment.ts` stays the one import for training augmentation.
 *
 * Per-sample transforms are `(img, rng) => img` on uint8 [H, W, C] images until toTensor;
 * RandomErasing works on the normalized float [C, H, W] tensor. Every random number comes from
 * the given Generator, so one seed replays a sample exactly.
 */
import { ArgumentError } from '../errors.ts';
import type { ResampleFilter } from '../io/image.ts';
import { contiguous } from '../tensor/ops/shape.ts';
import { colorJitter, randomHorizontalFlip, randomResizedCrop } from './augment-transforms.ts';
import { randAugment, type AugmentHparams } from './auto-augment.ts';
import type { SampleTransform } from './loader.ts';
import { randomErasing } from './random-erasing.ts';
import { normalize, roundHalfEven, toTensor } from './transforms.ts';

export * from './augment-ops.ts';
export * from './augment-transforms.ts';
export * from './auto-augment.ts';
export * from './random-erasing.ts';
export { betaSample, gauss, randInt, uniform } from './draws.ts';

/** timm's transforms_imagenet_train settings. */
export interface TrainTransformConfig {
  /** [C, H, W] of the model input (a model's PretrainedCfg.inputSize). */
  inputSize: readonly [number, number, number];
  mean: readonly number[];
  std: readonly number[];
  /** RRC filter; 'random' (timm's train default) picks bilinear/bicubic per sample. */
  interpolation?: ResampleFilter | 'random';
  scale?: readonly [number, number];
  ratio?: readonly [number, number];
  hflip?: number;
  /** A RandAugment string such as 'rand-m9-mstd0.5-inc1'; disables colorJitter as timm does. */
  autoAugment?: string | null;
  /**
   * timm's color_jitter: one factor for brightness/contrast/saturation (default 0.4), or
   * (brightness, contrast, saturation[, hue]) as ColorJitter's arguments; null for none.
   */
  colorJitter?: number | readonly number[] | null;
  reProb?: number;
  reMode?: 'const' | 'rand' | 'pixel';
  reCount?: number;
}

function trainColorJitter(v: number | readonly number[]): SampleTransform | null {
  if (typeof v === 'number') return v > 0 ? colorJitter({ brightness: v, contrast: v, saturation: v }) : null;
  if (v.length !== 3 && v.length !== 4) {
    throw new ArgumentError(`createTrainTransform: colorJitter must be a number or (brightness, contrast, saturation[, hue]), got ${v.length} values`);
  }
  const [brightness, contrast, saturation, hue] = v;
  return colorJitter({ brightness, contrast, saturation, hue });
}

/**
 * timm's transforms_imagenet_train: RandomResizedCrop → hflip → RandAugment (or ColorJitter)
 * → toTensor → normalize → RandomErasing. Returns float32 [C, H, W].
 */
export function createTrainTransform(cfg: TrainTransformConfig): SampleTransform {
  const [, h, w] = cfg.inputSize;
  const interpolation = cfg.interpolation ?? 'random';
  const steps: SampleTransform[] = [randomResizedCrop([h, w], { scale: cfg.scale, ratio: cfg.ratio, interpolation })];
  const hflipP = cfg.hflip ?? 0.5;
  if (hflipP > 0) steps.push(randomHorizontalFlip(hflipP));
  if (cfg.autoAugment) {
    if (!cfg.autoAugment.startsWith('rand')) throw new ArgumentError(`createTrainTransform: only RandAugment ('rand-…') strings are supported, got '${cfg.autoAugment}'`);
    const hparams: AugmentHparams = {
      imgMean: cfg.mean.map((m) => Math.min(255, roundHalfEven(255 * m))),
      translatePct: 0.45,
      interpolation: interpolation === 'random' ? undefined : interpolation === 'nearest' ? 'nearest' : interpolation === 'bicubic' ? 'bicubic' : 'bilinear',
    };
    steps.push(randAugment(cfg.autoAugment, hparams));
  } else if (cfg.colorJitter !== null) {
    const jitter = trainColorJitter(cfg.colorJitter ?? 0.4);
    if (jitter) steps.push(jitter);
  }
  const reProb = cfg.reProb ?? 0;
  const erase = reProb > 0 ? randomErasing({ probability: reProb, mode: cfg.reMode ?? 'const', maxCount: cfg.reCount ?? 1 }) : null;
  return (img, rng) => {
    let out = img;
    for (const step of steps) out = step(out, rng);
    const x = normalize(toTensor(out), cfg.mean, cfg.std);
    return erase ? erase(contiguous(x), rng) : contiguous(x);
  };
}
