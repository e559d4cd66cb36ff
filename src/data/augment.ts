/**
 * Training-time image augmentation with timm's semantics: RandomResizedCrop, horizontal flip,
 * ColorJitter, RandAugment ('rand-m9-mstd0.5-inc1' strings), RandomErasing and the
 * `createTrainTransform` pipeline of timm's transforms_imagenet_train.
 *
 * Per-sample transforms are `(img, rng) => img` on uint8 [H, W, C] images (PIL's formulas:
 * ImageEnhance blends, ImageOps LUTs, Image.transform for the affine ops) until toTensor;
 * RandomErasing works on the normalized float [C, H, W] tensor. Every random number comes from
 * the given Generator, so one seed replays a sample exactly.
 */
import type { SampleTransform } from './loader.ts';
import { ArgumentError, ShapeError } from '../errors.ts';
import { convertImage, RESAMPLE_FILTER, type ResampleFilter } from '../io/image.ts';
import { arange, fromTypedArray, rand, randint, randn, zeros } from '../tensor/creation.ts';
import { conv2d } from '../tensor/ops/conv.ts';
import { add, cast, mul, sub } from '../tensor/ops/elementwise.ts';
import { indexSelect, scatterAdd } from '../tensor/ops/index.ts';
import { sum } from '../tensor/ops/reduce.ts';
import { clone, contiguous, copyInto, expand, narrow, permute, reshape } from '../tensor/ops/shape.ts';
import { clamp } from '../tensor/ops/unary.ts';
import { native } from '../tensor/native.ts';
import type { Generator } from '../tensor/random.ts';
import { Tensor } from '../tensor/tensor.ts';
import { checkImage, normalize, resize, roundHalfEven, toTensor } from './transforms.ts';

/** A per-sample transform: uint8 [H, W, C] in, uint8 (or float after toTensor) out. */

// ---------------------------------------------------------------------------------------------
// Scalar draws from a Generator (Python's random.* equivalents)

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

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}


function checkRange(op: string, what: string, range: readonly number[]): void {
  if (range.length !== 2 || !(range[0] <= range[1]) || !range.every(Number.isFinite)) {
    throw new ArgumentError(`${op}: ${what} must be [min, max] with min ≤ max, got [${range.join(', ')}]`);
  }
}

function checkProb(op: string, p: number): void {
  if (!(p >= 0 && p <= 1)) throw new ArgumentError(`${op}: probability must be in [0, 1], got ${p}`);
}

// ---------------------------------------------------------------------------------------------
// RandomResizedCrop and flips

/** A crop box: top-left corner and size in pixels. */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

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

/** Crops `box` out of a uint8 [H, W, C] image (PIL's crop; the box must lie inside). */
export function crop(img: Tensor, box: CropBox): Tensor {
  checkImage('crop', img);
  const { top, left, height, width } = box;
  if (top < 0 || left < 0 || height < 1 || width < 1 || top + height > img.shape[0] || left + width > img.shape[1]) {
    throw new ArgumentError(`crop: box (top ${top}, left ${left}, ${height}×${width}) does not fit an image of ${img.shape[0]}×${img.shape[1]}`);
  }
  return contiguous(narrow(narrow(img, 0, top, height), 1, left, width));
}

/** torchvision's resized_crop on a PIL image: crop the box, then Pillow-resize it to [h, w]. */
export function resizedCrop(img: Tensor, box: CropBox, size: readonly [number, number], interpolation: ResampleFilter = 'bilinear'): Tensor {
  return resize(crop(img, box), size, interpolation);
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

/** Mirrors a uint8 [H, W, C] image left–right. */
export function hflip(img: Tensor): Tensor {
  checkImage('hflip', img);
  const w = img.shape[1];
  return indexSelect(img, 1, arange(w - 1, -1, -1, { dtype: 'int64' }));
}

/** RandomHorizontalFlip(p). */
export function randomHorizontalFlip(p = 0.5): SampleTransform {
  checkProb('randomHorizontalFlip', p);
  return (img, rng) => (uniform(rng) < p ? hflip(img) : img);
}

// ---------------------------------------------------------------------------------------------
// PIL point operations and blends

/** Applies one 256-entry lookup table per channel (PIL's Image.point), tables given as numbers 0..255. */
export function applyLut(img: Tensor, tables: readonly (readonly number[])[]): Tensor {
  checkImage('applyLut', img);
  const c = img.shape[2];
  if (tables.length !== c || tables.some((t) => t.length !== 256)) {
    throw new ArgumentError(`applyLut: expected ${c} tables of 256 entries, got ${tables.length} of [${tables.map((t) => t.length).join(', ')}]`);
  }
  const flat = new Uint8Array(256 * c);
  tables.forEach((t, ch) => flat.set(t, ch * 256));
  const offsets = fromTypedArray(BigInt64Array.from({ length: c }, (_, ch) => BigInt(ch * 256)), [1, 1, c]);
  const index = reshape(add(cast(img, 'int64'), offsets), [-1]);
  return reshape(indexSelect(fromTypedArray(flat, [256 * c]), 0, index), img.shape);
}

/** Per-channel 256-bin histograms of a uint8 image, as plain arrays. */
export function histograms(img: Tensor): number[][] {
  checkImage('histograms', img);
  const c = img.shape[2];
  const offsets = fromTypedArray(BigInt64Array.from({ length: c }, (_, ch) => BigInt(ch * 256)), [1, 1, c]);
  const index = reshape(add(cast(img, 'int64'), offsets), [-1]);
  const counts = scatterAdd(zeros([256 * c], { dtype: 'int64' }), 0, index, expand(fromTypedArray(BigInt64Array.of(1n), [1]), [index.numel]));
  const all = Array.from(counts.toArray() as BigInt64Array, Number);
  return Array.from({ length: c }, (_, ch) => all.slice(ch * 256, ch * 256 + 256));
}

function sameTable(c: number, table: number[]): number[][] {
  return Array.from({ length: c }, () => table);
}

/** ImageOps.autocontrast (cutoff 0): stretches each channel's [min, max] to [0, 255]. */
export function autoContrast(img: Tensor): Tensor {
  const tables = histograms(img).map((h) => {
    const lo = h.findIndex((n) => n > 0);
    let hi = 255;
    while (hi > 0 && h[hi] === 0) hi--;
    if (hi <= lo) return Array.from({ length: 256 }, (_, i) => i);
    const scale = 255 / (hi - lo);
    const offset = -lo * scale;
    return Array.from({ length: 256 }, (_, i) => Math.min(255, Math.max(0, Math.trunc(i * scale + offset))));
  });
  return applyLut(img, tables);
}

/** ImageOps.equalize: per-channel histogram equalization with PIL's step rule. */
export function equalize(img: Tensor): Tensor {
  const tables = histograms(img).map((h) => {
    const nonzero = h.filter((n) => n > 0);
    const identity = Array.from({ length: 256 }, (_, i) => i);
    if (nonzero.length <= 1) return identity;
    const step = Math.floor((nonzero.reduce((a, b) => a + b, 0) - nonzero[nonzero.length - 1]) / 255);
    if (step === 0) return identity;
    let n = Math.floor(step / 2);
    return h.map((count) => {
      const v = Math.min(255, Math.floor(n / step));
      n += count;
      return v;
    });
  });
  return applyLut(img, tables);
}

/** ImageOps.invert. */
export function invert(img: Tensor): Tensor {
  checkImage('invert', img);
  return applyLut(img, sameTable(img.shape[2], Array.from({ length: 256 }, (_, i) => 255 - i)));
}

/** ImageOps.posterize: keeps the top `bits` bits of each value. */
export function posterize(img: Tensor, bits: number): Tensor {
  checkImage('posterize', img);
  if (!Number.isInteger(bits) || bits < 0 || bits > 8) throw new ArgumentError(`posterize: bits must be an integer in [0, 8], got ${bits}`);
  if (bits >= 8) return img;
  const mask = ~(2 ** (8 - bits) - 1) & 255;
  return applyLut(img, sameTable(img.shape[2], Array.from({ length: 256 }, (_, i) => i & mask)));
}

/** ImageOps.solarize: inverts values ≥ threshold. */
export function solarize(img: Tensor, threshold: number): Tensor {
  checkImage('solarize', img);
  return applyLut(img, sameTable(img.shape[2], Array.from({ length: 256 }, (_, i) => (i < threshold ? i : 255 - i))));
}

/** timm's solarize_add: adds `amount` (capped at 255) to values below threshold. */
export function solarizeAdd(img: Tensor, amount: number, threshold = 128): Tensor {
  checkImage('solarizeAdd', img);
  return applyLut(img, sameTable(img.shape[2], Array.from({ length: 256 }, (_, i) => (i < threshold ? Math.min(255, i + amount) : i))));
}

/**
 * PIL's Image.blend(degenerate, img, factor) on uint8: in float32, degenerate + factor·(img −
 * degenerate), clipped to [0, 255] and truncated.
 */
export function blend(degenerate: Tensor, img: Tensor, factor: number): Tensor {
  const a = cast(degenerate, 'float32');
  const mixed = add(a, mul(sub(cast(img, 'float32'), a), Math.fround(factor)));
  return cast(clamp(mixed, 0, 255), 'uint8');
}

function luma(img: Tensor): Tensor {
  if (img.shape[2] === 1) return img;
  if (img.shape[2] !== 3) throw new ShapeError(`enhance: expected an RGB or L image, got ${img.shape[2]} channels`);
  return convertImage(img, 'RGB', 'L');
}

/** ImageEnhance.Brightness(img).enhance(factor). */
export function adjustBrightness(img: Tensor, factor: number): Tensor {
  checkImage('adjustBrightness', img);
  return blend(zeros(img.shape, { dtype: 'uint8' }), img, factor);
}

/** ImageEnhance.Contrast(img).enhance(factor): blends with the rounded mean luma (PIL 9.4). */
export function adjustContrast(img: Tensor, factor: number): Tensor {
  checkImage('adjustContrast', img);
  const l = luma(img);
  const mean = Math.trunc(Number(sum(l).item()) / l.numel + 0.5);
  return blend(fromTypedArray(Uint8Array.of(mean), [1, 1, 1]), img, factor);
}

/** ImageEnhance.Color(img).enhance(factor): blends with the grayscale image (saturation). */
export function adjustSaturation(img: Tensor, factor: number): Tensor {
  checkImage('adjustSaturation', img);
  return blend(luma(img), img, factor);
}

/**
 * PIL's ImageFilter.SMOOTH (3×3 kernel [1 1 1; 1 5 1; 1 1 1] / 13, rounded), with the border
 * pixels copied unchanged as ImagingFilter does.
 */
export function smooth(img: Tensor): Tensor {
  checkImage('smooth', img);
  const [h, w, c] = img.shape;
  if (h < 3 || w < 3) return img;
  const x = reshape(permute(cast(img, 'float32'), [2, 0, 1]), [c, 1, h, w]);
  const k = fromTypedArray(Float32Array.from([1, 1, 1, 1, 5, 1, 1, 1, 1], (v) => Math.fround(v / 13)), [1, 1, 3, 3]);
  const inner = cast(clamp(add(conv2d(x, k), 0.5), 0, 255), 'uint8');
  const out = clone(img);
  copyInto(narrow(narrow(out, 0, 1, h - 2), 1, 1, w - 2), permute(reshape(inner, [c, h - 2, w - 2]), [1, 2, 0]));
  return out;
}

/** ImageEnhance.Sharpness(img).enhance(factor). */
export function adjustSharpness(img: Tensor, factor: number): Tensor {
  checkImage('adjustSharpness', img);
  return blend(smooth(img), img, factor);
}

/**
 * torchvision's adjust_hue on a PIL image: RGB → HSV through Pillow, the hue byte shifted by
 * numpy's uint8(hueFactor·255) (truncated toward zero, wrapping modulo 256), back to RGB.
 * A single-channel (L) image comes back unchanged, as in torchvision.
 */
export function adjustHue(img: Tensor, hueFactor: number): Tensor {
  checkImage('adjustHue', img);
  if (!(hueFactor >= -0.5 && hueFactor <= 0.5)) throw new ArgumentError(`adjustHue: hueFactor must be in [-0.5, 0.5], got ${hueFactor}`);
  const c = img.shape[2];
  if (c === 1) return img;
  if (c !== 3) throw new ShapeError(`adjustHue: expected an RGB or L image, got ${c} channels`);
  const shift = ((Math.trunc(hueFactor * 255) % 256) + 256) % 256;
  const out = Tensor.empty(img.shape, 'uint8');
  native.adjustHueImage(contiguous(img), out, shift);
  return out;
}

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

// ---------------------------------------------------------------------------------------------
// Affine transforms (PIL Image.transform(AFFINE) / Image.rotate)

/** Resampling of the affine ops; PIL's transform filters. */
export type AffineResample = 'nearest' | 'bilinear' | 'bicubic';

const AFFINE_FILTER: Record<AffineResample, number> = { nearest: RESAMPLE_FILTER.nearest, bilinear: RESAMPLE_FILTER.bilinear, bicubic: RESAMPLE_FILTER.bicubic };

/**
 * PIL's Image.transform(size, AFFINE, (a, b, c, d, e, f), resample, fillcolor): output pixel
 * (x, y) samples the input at (a·x' + b·y' + c, d·x' + e·y' + f) with x' = x + 0.5, y' = y + 0.5;
 * outside the image it takes `fill`. Bit-exact with Pillow: the native kernel repeats
 * Geometry.c's double-precision coordinates and filters, and for nearest whichever of its
 * scale, 16.16 fixed-point or double walks Pillow would take.
 */
export function affineTransform(img: Tensor, matrix: readonly number[], resample: AffineResample, fill: readonly number[]): Tensor {
  checkImage('affineTransform', img);
  if (matrix.length !== 6 || !matrix.every(Number.isFinite)) throw new ArgumentError(`affineTransform: matrix must be 6 finite numbers, got [${matrix.join(', ')}]`);
  if (!(resample in AFFINE_FILTER)) throw new ArgumentError(`affineTransform: resample must be 'nearest', 'bilinear' or 'bicubic', got '${resample}'`);
  const c = img.shape[2];
  if (fill.length !== c) throw new ArgumentError(`affineTransform: fill must have ${c} values, got ${fill.length}`);
  const out = Tensor.empty(img.shape, 'uint8');
  native.affineImage(contiguous(img), out, AFFINE_FILTER[resample], matrix, fill);
  return out;
}

/** PIL's Image.rotate(degrees) about the center, same size, with a fill color. */
export function rotate(img: Tensor, degrees: number, resample: AffineResample, fill: readonly number[]): Tensor {
  checkImage('rotate', img);
  const angle = ((degrees % 360) + 360) % 360;
  if (angle === 0) return img;
  if (angle === 180) return indexSelect(hflip(img), 0, arange(img.shape[0] - 1, -1, -1, { dtype: 'int64' }));
  const [h, w] = img.shape;
  if ((angle === 90 || angle === 270) && w === h) {
    // PIL transposes here; a square rotation by ±90° is exact either way.
    const t = permute(img, [1, 0, 2]);
    return angle === 90 ? indexSelect(t, 0, arange(w - 1, -1, -1, { dtype: 'int64' })) : hflip(contiguous(t));
  }
  // Python's math.radians multiplies by the constant π/180; dividing afterwards can differ in the last bit.
  const rad = -(angle * (Math.PI / 180));
  const r15 = (v: number) => Number(v.toFixed(15));
  const m = [r15(Math.cos(rad)), r15(Math.sin(rad)), 0, r15(-Math.sin(rad)), r15(Math.cos(rad)), 0];
  const cx = w / 2;
  const cy = h / 2;
  m[2] = m[0] * -cx + m[1] * -cy + m[2] + cx;
  m[5] = m[3] * -cx + m[4] * -cy + m[5] + cy;
  return affineTransform(img, m, resample, fill);
}

// ---------------------------------------------------------------------------------------------
// RandAugment (timm)

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

// ---------------------------------------------------------------------------------------------
// RandomErasing (timm), on normalized float [C, H, W]

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
      throw new ShapeError(`randomErasing: expected a float [C, H, W] tensor, got ${x.dtype} ${fmt(x.shape)}`);
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

// ---------------------------------------------------------------------------------------------
// The training pipeline

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
