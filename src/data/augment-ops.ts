/**
 * The deterministic image ops behind the training augmentations, each with PIL's formulas on
 * uint8 [H, W, C] images: crops and flips, ImageOps point operations (LUTs), ImageEnhance blends,
 * torchvision's hue shift and Image.transform(AFFINE) / Image.rotate. The random transforms
 * (augment-transforms.ts, auto-augment.ts) draw the parameters and call these.
 */
import { ArgumentError, ShapeError } from '../errors.ts';
import { convertImage, RESAMPLE_FILTER, type ResampleFilter } from '../io/image.ts';
import { arange, fromTypedArray, zeros } from '../tensor/creation.ts';
import { conv2d } from '../tensor/ops/conv.ts';
import { add, cast, mul, sub } from '../tensor/ops/elementwise.ts';
import { indexSelect, scatterAdd } from '../tensor/ops/index.ts';
import { sum } from '../tensor/ops/reduce.ts';
import { clone, contiguous, copyInto, expand, narrow, permute, reshape } from '../tensor/ops/shape.ts';
import { clamp } from '../tensor/ops/unary.ts';
import { native } from '../tensor/native.ts';
import { Tensor } from '../tensor/tensor.ts';
import { checkImage, resize } from './transforms.ts';

// ---------------------------------------------------------------------------------------------
// Crops and flips

/** A crop box: top-left corner and size in pixels. */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
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

/** Mirrors a uint8 [H, W, C] image left–right. */
export function hflip(img: Tensor): Tensor {
  checkImage('hflip', img);
  const w = img.shape[1];
  return indexSelect(img, 1, arange(w - 1, -1, -1, { dtype: 'int64' }));
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
