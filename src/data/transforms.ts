/**
 * Eval-time image transforms that reproduce the PIL-based reference pipelines pixel for pixel:
 * timm's `transforms_imagenet_eval`, torchvision's `ImageClassification` preset and OpenAI
 * CLIP's `_transform` (HF's CLIPImageProcessor through `cropOffset: 'floor'`).
 *
 * Images are uint8 [H, W, C] tensors until `toTensor`, which gives float32 [C, H, W] in [0, 1].
 * Resizing is Pillow's Image.resize (native.resizeImage), including its mode rules: palette and
 * 1-bit images resize with NEAREST whatever filter is asked, LA/RGBA resize in premultiplied
 * alpha. Sizes follow torchvision: Resize(int) sends the shorter side to `size` and the longer to
 * int(size·long/short); CenterCrop offsets are int(round((H − h)/2)) with Python's half-to-even
 * round, and a crop larger than the image pads it with zeros first.
 */
import { ArgumentError, DTypeError, formatShape, ShapeError } from '../errors.ts';
import {
  convertImage, decodeImage, premultiplyAlpha, RESAMPLE_FILTER, unpremultiplyAlpha,
  type ChannelMode, type DecodedImage, type DecodeOptions, type PilMode, type ResampleFilter,
} from '../io/image.ts';
import { fromTypedArray } from '../tensor/creation.ts';
import { cast, div, sub } from '../tensor/ops/elementwise.ts';
import { contiguous, narrow, permute, stack } from '../tensor/ops/shape.ts';
import { native } from '../tensor/native.ts';
import { Tensor } from '../tensor/tensor.ts';

export const IMAGENET_DEFAULT_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_DEFAULT_STD = [0.229, 0.224, 0.225] as const;
export const IMAGENET_INCEPTION_MEAN = [0.5, 0.5, 0.5] as const;
export const IMAGENET_INCEPTION_STD = [0.5, 0.5, 0.5] as const;
export const OPENAI_CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const OPENAI_CLIP_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** timm's default crop_pct. */
export const DEFAULT_CROP_PCT = 0.875;


/** Options of resize. */
export interface ResizeOptions {
  /**
   * The PIL mode of the image, for Pillow's mode rules: 'P' and '1' always resize with
   * NEAREST, 'LA' and 'RGBA' in premultiplied alpha. Default: channels are independent (L, RGB).
   */
  mode?: PilMode;
}

/** Options of centerCrop. */
export interface CropOptions {
  /**
   * 'round' (default): torchvision/timm, offset int(round((H − h)/2)) and padding split
   * floor/ceil; 'floor': HF image processors, offset (H − h)//2 and padding split ceil/floor.
   */
  offset?: 'round' | 'floor';
  /** Padding value where the crop is larger than the image: one value or one per channel (default 0). */
  fill?: number | readonly number[];
}

/** A pretrained model's preprocessing, as timm's pretrained_cfg holds it. */
export interface EvalConfig {
  /** [C, H, W] of the model input. */
  inputSize: readonly [number, number, number];
  /** Fraction of the resized image the crop keeps; the resize target is floor(H / cropPct) (default 0.875). */
  cropPct?: number;
  interpolation?: ResampleFilter;
  mean: readonly number[];
  std: readonly number[];
  /** timm's crop_mode: 'center' (default), 'squash' (resize both sides, no aspect), 'border' (fit the longest side, pad). */
  cropMode?: 'center' | 'squash' | 'border';
  /** Shorter side to resize to, overriding floor(H / cropPct) (torchvision presets, CLIP). */
  resizeSize?: number;
  /** Crop offset rule (see CropOptions.offset). */
  cropOffset?: 'round' | 'floor';
  /**
   * Resize and crop the image in its own mode and convert to RGB last, as OpenAI CLIP's
   * _transform does (matters for palette, alpha and CMYK images); default false (convert first,
   * as timm and torchvision datasets do).
   */
  convertAfterResize?: boolean;
}

/** An image a transform accepts: a decoded image, or a uint8 [H, W, 3] RGB (or [H, W, 1] L) tensor. */
export type ImageInput = DecodedImage | Tensor;

/** What preprocess accepts: encoded bytes, a file path, or a decoded image. */
export type PreprocessInput = Buffer | Uint8Array | string | ImageInput;

/** Throws a typed error naming `op` unless img is a uint8 [H, W, C] image with every dim ≥ 1. */
export function checkImage(op: string, img: Tensor): void {
  if (img.dtype !== 'uint8') throw new DTypeError(`${op}: expected a uint8 [H, W, C] image, got dtype ${img.dtype}`);
  if (img.ndim !== 3 || img.shape[0] < 1 || img.shape[1] < 1 || img.shape[2] < 1) {
    throw new ShapeError(`${op}: expected a uint8 [H, W, C] image with H, W, C ≥ 1, got shape ${formatShape(img.shape)}`);
  }
}

function checkSize(op: string, size: readonly number[]): void {
  if (size.length !== 2 || !size.every((s) => Number.isInteger(s) && s >= 1)) {
    throw new ArgumentError(`${op}: size must be two positive integers [h, w], got [${size.join(', ')}]`);
  }
}

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d !== 0.5) return d < 0.5 ? f : f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/** Resizes a uint8 [H, W, C] image to [h, w] exactly as Pillow's Image.resize. */
export function resize(img: Tensor, size: readonly [number, number] | readonly number[], interpolation: ResampleFilter = 'bilinear', options: ResizeOptions = {}): Tensor {
  checkImage('resize', img);
  checkSize('resize', size);
  if (!(interpolation in RESAMPLE_FILTER)) {
    throw new ArgumentError(`resize: unknown interpolation '${interpolation}', expected one of ${Object.keys(RESAMPLE_FILTER).join(', ')}`);
  }
  const [h, w] = size;
  const [srcH, srcW, c] = img.shape;
  if (h === srcH && w === srcW) return img;
  const filter = options.mode === 'P' || options.mode === '1' ? 'nearest' : interpolation;
  const premultiplied = (options.mode === 'RGBA' || options.mode === 'LA') && filter !== 'nearest';
  const src = contiguous(premultiplied ? premultiplyAlpha(img) : img);
  const out = Tensor.empty([h, w, c], 'uint8');
  native.resizeImage(src, out, RESAMPLE_FILTER[filter], [0, 0, srcW, srcH]);
  return premultiplied ? unpremultiplyAlpha(out) : out;
}

/** The [h, w] torchvision's Resize(size) gives an image of [H, W]: shorter side → size, longer → int(size·long/short). */
export function shorterSideSize(height: number, width: number, size: number): [number, number] {
  if (width <= height) return [Math.trunc((size * height) / width), size];
  return [size, Math.trunc((size * width) / height)];
}

/** torchvision Resize(int) on a PIL image: shorter side to `size`, aspect kept. */
export function resizeShorter(img: Tensor, size: number, interpolation: ResampleFilter = 'bilinear', options: ResizeOptions = {}): Tensor {
  checkImage('resizeShorter', img);
  if (!Number.isInteger(size) || size < 1) throw new ArgumentError(`resizeShorter: size must be a positive integer, got ${size}`);
  return resize(img, shorterSideSize(img.shape[0], img.shape[1], size), interpolation, options);
}

/**
 * timm's ResizeKeepRatio (eval settings): scales both sides by one ratio so the image fits the
 * target [h, w] by its shorter side (longest = 0) or its longer side (longest = 1).
 */
export function resizeKeepRatio(img: Tensor, target: readonly [number, number] | readonly number[], longest: number, interpolation: ResampleFilter = 'bilinear', options: ResizeOptions = {}): Tensor {
  checkImage('resizeKeepRatio', img);
  checkSize('resizeKeepRatio', target);
  const [h, w] = img.shape;
  const ratioH = h / target[0];
  const ratioW = w / target[1];
  const ratio = Math.max(ratioH, ratioW) * longest + Math.min(ratioH, ratioW) * (1 - longest);
  const size = [roundHalfEven(h / ratio), roundHalfEven(w / ratio)];
  if (size[0] < 1 || size[1] < 1) throw new ArgumentError(`resizeKeepRatio: image ${formatShape(img.shape)} scales to ${formatShape(size)}, which is empty`);
  return resize(img, size, interpolation, options);
}

// Per axis: where the crop reads the source, where it writes, and how many pixels.
function cropAxis(size: number, crop: number, rule: 'round' | 'floor'): { src: number; dst: number; len: number } {
  if (crop <= size) {
    const offset = rule === 'round' ? roundHalfEven((size - crop) / 2) : Math.floor((size - crop) / 2);
    return { src: offset, dst: 0, len: crop };
  }
  const before = rule === 'round' ? Math.floor((crop - size) / 2) : Math.ceil((crop - size) / 2);
  return { src: 0, dst: before, len: size };
}

/** Center crop of a [H, W, C] image (torchvision CenterCrop), zero-padding where the crop is larger. */
export function centerCrop(img: Tensor, size: number | readonly [number, number] | readonly number[], options: CropOptions = {}): Tensor {
  if (img.ndim !== 3) throw new ShapeError(`centerCrop: expected an [H, W, C] image, got shape ${formatShape(img.shape)}`);
  const [h, w] = typeof size === 'number' ? [size, size] : size;
  checkSize('centerCrop', [h, w]);
  const rule = options.offset ?? 'round';
  const y = cropAxis(img.shape[0], h, rule);
  const x = cropAxis(img.shape[1], w, rule);
  const c = img.shape[2];
  const fill = options.fill ?? 0;
  const fills = typeof fill === 'number' ? new Array<number>(c).fill(fill) : [...fill];
  if (fills.length !== c) throw new ArgumentError(`centerCrop: fill has ${fills.length} values, expected 1 or ${c} (one per channel)`);
  const region = narrow(narrow(img, 0, y.src, y.len), 1, x.src, x.len);
  if (y.len === h && x.len === w) return contiguous(region);
  const out = Tensor.empty([h, w, c], img.dtype);
  out.copy_(fromTypedArray(Float32Array.from(fills), [c]));
  narrow(narrow(out, 0, y.dst, y.len), 1, x.dst, x.len).copy_(region);
  return out;
}

/** torchvision ToTensor: uint8 [H, W, C] → float32 [C, H, W] in [0, 1]. */
export function toTensor(img: Tensor): Tensor {
  checkImage('toTensor', img);
  return div(cast(permute(img, [2, 0, 1]), 'float32'), 255);
}

/** torchvision Normalize: (x − mean) / std per channel of a float [C, H, W] or [N, C, H, W] tensor. */
export function normalize(x: Tensor, mean: readonly number[], std: readonly number[]): Tensor {
  const c = x.ndim >= 3 ? x.shape[x.ndim - 3] : -1;
  if (c < 0 || mean.length !== c || std.length !== c) {
    throw new ShapeError(`normalize: expected [C, H, W] or [N, C, H, W] with C = ${mean.length} means and ${std.length} stds, got shape ${formatShape(x.shape)}`);
  }
  if (std.some((s) => s === 0)) throw new ArgumentError(`normalize: std must be non-zero, got [${std.join(', ')}]`);
  const column = (v: readonly number[]) => fromTypedArray(Float32Array.from(v), [c, 1, 1]);
  return div(sub(x, column(mean)), column(std));
}

function validateConfig(cfg: EvalConfig): void {
  const [c, h, w] = cfg.inputSize;
  if (c !== 3 || !Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1) {
    throw new ArgumentError(`evalTransform: inputSize must be [3, H, W] with positive integers, got [${cfg.inputSize.join(', ')}]`);
  }
  if (cfg.cropPct !== undefined && !(cfg.cropPct > 0 && cfg.cropPct <= 1)) {
    throw new ArgumentError(`evalTransform: cropPct must be in (0, 1], got ${cfg.cropPct}`);
  }
  if (cfg.resizeSize !== undefined && !(Number.isInteger(cfg.resizeSize) && cfg.resizeSize >= 1)) {
    throw new ArgumentError(`evalTransform: resizeSize must be a positive integer, got ${cfg.resizeSize}`);
  }
  if (cfg.mean.length !== 3 || cfg.std.length !== 3) {
    throw new ArgumentError(`evalTransform: mean and std need 3 values, got ${cfg.mean.length} and ${cfg.std.length}`);
  }
  const mode = cfg.cropMode ?? 'center';
  if (!['center', 'squash', 'border'].includes(mode)) throw new ArgumentError(`evalTransform: unknown cropMode '${mode}', expected center, squash or border`);
  const interpolation = cfg.interpolation ?? 'bilinear';
  if (!(interpolation in RESAMPLE_FILTER)) {
    throw new ArgumentError(`evalTransform: unknown interpolation '${interpolation}', expected one of ${Object.keys(RESAMPLE_FILTER).join(', ')}`);
  }
}

function asDecoded(input: ImageInput): { image: Tensor; mode: ChannelMode; sourceMode: PilMode } {
  if (input instanceof Tensor) {
    checkImage('evalTransform', input);
    const c = input.shape[2];
    if (c !== 1 && c !== 3) throw new ShapeError(`evalTransform: expected an RGB [H, W, 3] or grey [H, W, 1] uint8 tensor, got shape ${formatShape(input.shape)}`);
    const mode = c === 3 ? 'RGB' : 'L';
    return { image: input, mode, sourceMode: mode };
  }
  return input;
}

/** The resize target of a config: [resizeSize, resizeSize], else timm's [floor(H / cropPct), floor(W / cropPct)]. */
export function evalResizeSize(cfg: EvalConfig): [number, number] {
  if (cfg.resizeSize !== undefined) return [cfg.resizeSize, cfg.resizeSize];
  const cropPct = cfg.cropPct ?? DEFAULT_CROP_PCT;
  return [Math.floor(cfg.inputSize[1] / cropPct), Math.floor(cfg.inputSize[2] / cropPct)];
}

/**
 * The eval pipeline of a pretrained config, as timm's transforms_imagenet_eval builds it:
 * resize (to floor(H / cropPct), or cfg.resizeSize) → center crop H×W → [0, 1] → normalize.
 * Returns a function from an image to a float32 [3, H, W] tensor.
 */
export function evalTransform(cfg: EvalConfig): (input: ImageInput) => Tensor {
  validateConfig(cfg);
  const [, h, w] = cfg.inputSize;
  const interpolation = cfg.interpolation ?? 'bilinear';
  const cropMode = cfg.cropMode ?? 'center';
  const scale = evalResizeSize(cfg);
  // timm pads 'border' crops with the mean colour: round(255 · mean), Python rounding.
  const fill = cropMode === 'border' ? cfg.mean.map((m) => roundHalfEven(255 * m)) : 0;
  return (input: ImageInput): Tensor => {
    const decoded = asDecoded(input);
    let { image, mode } = decoded;
    // Pillow resizes palette and 1-bit images with NEAREST; that applies while they are unconverted.
    let pilMode: PilMode = decoded.sourceMode === 'P' || decoded.sourceMode === '1' ? decoded.sourceMode : mode;
    if (!cfg.convertAfterResize) {
      image = convertImage(image, mode, 'RGB');
      mode = pilMode = 'RGB';
    }
    const options: ResizeOptions = { mode: pilMode };
    if (cropMode === 'squash') image = resize(image, scale, interpolation, options);
    else if (cropMode === 'border') image = resizeKeepRatio(image, scale, 1, interpolation, options);
    else if (scale[0] === scale[1]) image = resizeShorter(image, scale[0], interpolation, options);
    // timm builds ResizeKeepRatio(scale_size) here without passing the interpolation: bilinear.
    else image = resizeKeepRatio(image, scale, 0, 'bilinear', options);
    image = centerCrop(image, [h, w], { offset: cfg.cropOffset, fill: image.shape[2] === 3 ? fill : 0 });
    if (mode !== 'RGB') image = convertImage(image, mode, 'RGB');
    return normalize(toTensor(image), cfg.mean, cfg.std);
  };
}

/** Decodes (if needed) and preprocesses one image into a float32 [3, H, W] model input. */
export async function preprocess(input: PreprocessInput, cfg: EvalConfig, decodeOptions: Omit<DecodeOptions, 'mode'> = {}): Promise<Tensor> {
  return evalTransform(cfg)(await toImageInput(input, cfg, decodeOptions));
}

/** Decodes and preprocesses several images into one float32 [N, 3, H, W] batch. */
export async function preprocessBatch(inputs: readonly PreprocessInput[], cfg: EvalConfig, decodeOptions: Omit<DecodeOptions, 'mode'> = {}): Promise<Tensor> {
  if (inputs.length === 0) throw new ArgumentError('preprocessBatch: expected at least one image');
  const transform = evalTransform(cfg);
  const images = await Promise.all(inputs.map((input) => toImageInput(input, cfg, decodeOptions)));
  return stack(images.map(transform), 0);
}

function toImageInput(input: PreprocessInput, cfg: EvalConfig, decodeOptions: Omit<DecodeOptions, 'mode'>): Promise<ImageInput> | ImageInput {
  if (input instanceof Tensor || (typeof input === 'object' && 'image' in input)) return input as ImageInput;
  return decodeImage(input, { ...decodeOptions, mode: cfg.convertAfterResize ? 'source' : 'RGB' });
}

/** torchvision's ImageClassification preset (resize shorter side, center crop, ImageNet normalization). */
export function torchvisionPreset(options: { cropSize?: number; resizeSize?: number; interpolation?: ResampleFilter; mean?: readonly number[]; std?: readonly number[] } = {}): EvalConfig {
  const cropSize = options.cropSize ?? 224;
  return {
    inputSize: [3, cropSize, cropSize],
    resizeSize: options.resizeSize ?? 256,
    interpolation: options.interpolation ?? 'bilinear',
    mean: options.mean ?? IMAGENET_DEFAULT_MEAN,
    std: options.std ?? IMAGENET_DEFAULT_STD,
  };
}

/**
 * OpenAI CLIP's preprocessing at `size` (bicubic shorter side → size, center crop, CLIP
 * normalization, RGB conversion last); `hf: true` gives HF CLIPImageProcessor's variant
 * (RGB conversion first, floor crop offsets).
 */
export function clipPreset(size = 224, options: { hf?: boolean } = {}): EvalConfig {
  return {
    inputSize: [3, size, size],
    resizeSize: size,
    interpolation: 'bicubic',
    mean: OPENAI_CLIP_MEAN,
    std: OPENAI_CLIP_STD,
    cropOffset: options.hf ? 'floor' : 'round',
    convertAfterResize: !options.hf,
  };
}

/** An EvalConfig from a timm pretrained_cfg (config.json's `pretrained_cfg`, snake_case keys). */
export function evalConfigFromTimm(pretrained: { input_size: readonly number[]; crop_pct?: number; interpolation?: string; mean?: readonly number[]; std?: readonly number[]; crop_mode?: string }): EvalConfig {
  const [c, h, w] = pretrained.input_size;
  return {
    inputSize: [c, h, w],
    cropPct: pretrained.crop_pct ?? DEFAULT_CROP_PCT,
    interpolation: (pretrained.interpolation ?? 'bilinear') as ResampleFilter,
    mean: pretrained.mean ?? IMAGENET_DEFAULT_MEAN,
    std: pretrained.std ?? IMAGENET_DEFAULT_STD,
    cropMode: (pretrained.crop_mode ?? 'center') as EvalConfig['cropMode'],
  };
}
