/**
 * Image decoding for untrusted input, giving the pixels PIL gives: `Image.open(f).convert(mode)`
 * of Pillow 9.4, which the reference pipelines (timm, torchvision, OpenAI CLIP) start from.
 *
 * Decoding runs on sharp (libvips). Where libvips and PIL disagree the difference is undone
 * here with tensor ops:
 * - CMYK JPEGs: PIL ignores ICC profiles and uses rgb = (255−k) − round(c·(255−k)/255); we read
 *   the raw CMYK bands and apply the same formula (sharp would convert through an ICC profile).
 * - 16-bit greyscale PNGs: PIL opens them as mode I and convert() clips at 255; we do the same.
 *   16-bit colour PNGs: PIL keeps the high byte, as libvips does.
 * - Embedded ICC profiles are ignored (PIL does not apply them).
 * - GIFs: libvips leaves transparent pixels and the area outside the first frame black; PIL
 *   shows the palette colour of the transparent index there (index 0 when there is none).
 * - EXIF orientation is not applied, as PIL's open() does not; `applyExifOrientation` applies it
 *   (as ImageOps.exif_transpose).
 * Safety: the byte size is capped before reading, the format is sniffed from magic bytes before
 * any decoder sees the data (JPEG, PNG, WebP, GIF only), dimensions are checked from the header
 * before decoding, libvips runs with failOn 'warning' and reads only the first frame.
 */
import { stat, readFile } from 'node:fs/promises';
import type { Metadata, OutputInfo } from 'sharp';
import { ArgumentError, DTypeError, formatShape, ShapeError, TsvisionError } from '../errors.ts';
import { fromTypedArray } from '../tensor/creation.ts';
import { add, cast, div, logicalOr, maximum, minimum, mul, sub } from '../tensor/ops/elementwise.ts';
import { contiguous, narrow, cat } from '../tensor/ops/shape.ts';
import { Tensor } from '../tensor/tensor.ts';
import { loadSharp } from './sharp.ts';

/** Pillow's resampling filters, by the codes native.resizeImage takes. */
export const RESAMPLE_FILTER = { nearest: 0, box: 1, bilinear: 2, hamming: 3, bicubic: 4, lanczos: 5 } as const;

/** A Pillow resampling filter name. */
export type ResampleFilter = keyof typeof RESAMPLE_FILTER;

/** Why an image was rejected. */
export type ImageErrorReason = 'InvalidImage' | 'UnsupportedFormat' | 'TooManyPixels' | 'TooManyBytes' | 'ReadFailed';

/** An image that cannot be decoded; `reason` says why, `source` is the path or 'buffer'. */
export class ImageError extends TsvisionError {
  readonly reason: ImageErrorReason;
  readonly source: string;
  constructor(reason: ImageErrorReason, source: string, message: string) {
    super('E_IMAGE', `${source}: ${message} (${reason})`);
    this.reason = reason;
    this.source = source;
  }
}

/** The formats decodeImage accepts. */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif';

/** The mode PIL's Image.open gives the file (before any convert). */
export type PilMode = '1' | 'L' | 'LA' | 'P' | 'RGB' | 'RGBA' | 'CMYK' | 'I';

/** Channel layouts of decoded uint8 [H, W, C] tensors. */
export type ChannelMode = 'L' | 'LA' | 'RGB' | 'RGBA' | 'CMYK';

/** What decodeImage returns: PIL's convert(mode), or 'source' for the file's own channels. */
export type DecodeMode = 'RGB' | 'RGBA' | 'L' | 'source';

/** Options of decodeImage. */
export interface DecodeOptions {
  /**
   * 'RGB' (default), 'RGBA', 'L': as PIL's convert(mode). 'source': the file's own channels
   * (L, LA, RGB, RGBA or CMYK; palette images expanded to RGB/RGBA, 1-bit and 16-bit grey to L),
   * for pipelines that resize before converting (OpenAI CLIP).
   */
  mode?: DecodeMode;
  /** Largest encoded size accepted, in bytes (default 64 MiB). */
  maxBytes?: number;
  /** Largest width × height accepted, checked from the header before decoding (default 50 MP). */
  maxPixels?: number;
  /** Rotate/flip by the EXIF orientation (PIL's open does not; default false). */
  applyExifOrientation?: boolean;
  /**
   * true (default): reject anything libvips warns about (truncated data, bad markers), as PIL
   * rejects truncated files. false: decode what can be decoded (PIL's LOAD_TRUNCATED_IMAGES).
   */
  strict?: boolean;
  /** What errors call the image when it comes as bytes (default 'buffer'; a path names itself). */
  name?: string;
}

/** A decoded image: a uint8 [H, W, C] tensor and what it came from. */
export interface DecodedImage {
  image: Tensor;
  /** The channel layout of `image`. */
  mode: ChannelMode;
  /** The mode PIL opens the file in. */
  sourceMode: PilMode;
  format: ImageFormat;
  width: number;
  height: number;
  /** EXIF orientation tag (1 when absent), whether or not it was applied. */
  orientation: number;
  /** Frames in the file; only the first is decoded. */
  pages: number;
}

export const DEFAULT_MAX_IMAGE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_IMAGE_PIXELS = 50_000_000;

const CHANNELS: Record<ChannelMode, number> = { L: 1, LA: 2, RGB: 3, RGBA: 4, CMYK: 4 };

/** The accepted format of the bytes by magic number, else null. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  const ascii = (at: number, s: string) => bytes.length >= at + s.length && [...s].every((c, i) => bytes[at + i] === c.charCodeAt(0));
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (ascii(0, '\x89PNG\r\n\x1a\n')) return 'png';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  return null;
}

// Image formats we recognise but refuse (the reliability brief: only JPEG/PNG/WebP/GIF).
function sniffUnsupported(bytes: Uint8Array): string | null {
  const head = Buffer.from(bytes.subarray(0, 1024));
  const ascii = (at: number, s: string) => head.length >= at + s.length && head.toString('latin1', at, at + s.length) === s;
  if (ascii(0, '%PDF')) return 'PDF';
  if (ascii(0, 'II*\0') || ascii(0, 'MM\0*')) return 'TIFF';
  if (ascii(0, 'BM')) return 'BMP';
  if (ascii(0, '8BPS')) return 'PSD';
  if (ascii(0, '\0\0\x01\0')) return 'ICO';
  if (ascii(0, '\xff\x0a') || ascii(4, 'JXL ')) return 'JPEG XL';
  if (ascii(4, 'jP  ') || ascii(0, '\xff\x4f\xff\x51')) return 'JPEG 2000';
  if (ascii(4, 'ftyp')) {
    const brand = head.toString('latin1', 8, 12);
    return brand.startsWith('avi') ? 'AVIF' : 'HEIF';
  }
  if (ascii(0, '#?RADIANCE') || ascii(0, 'SIMPLE  =')) return 'HDR/FITS';
  if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(head.toString('latin1').replace(/^\ufeff|^\xef\xbb\xbf/, ''))) return 'SVG';
  if (/^P[1-7]\s/.test(head.toString('latin1', 0, 3))) return 'PNM';
  return null;
}

function describeStart(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.subarray(0, 16)).toString('latin1');
  return /^[\x20-\x7e\s]*$/.test(text) ? JSON.stringify(text) : Buffer.from(bytes.subarray(0, 8)).toString('hex');
}

async function readInput(input: Buffer | Uint8Array | string, source: string, maxBytes: number): Promise<Buffer> {
  if (typeof input !== 'string') {
    if (input.length > maxBytes) throw new ImageError('TooManyBytes', source, `image has ${input.length} bytes, expected at most ${maxBytes}`);
    return Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.length);
  }
  try {
    const info = await stat(input);
    if (!info.isFile()) throw new ImageError('ReadFailed', source, 'expected a regular file');
    if (info.size > maxBytes) throw new ImageError('TooManyBytes', source, `file has ${info.size} bytes, expected at most ${maxBytes}`);
    const bytes = await readFile(input);
    if (bytes.length > maxBytes) throw new ImageError('TooManyBytes', source, `file has ${bytes.length} bytes, expected at most ${maxBytes}`);
    return bytes;
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError('ReadFailed', source, `cannot read the file: ${(e as Error).message}`);
  }
}

// PIL's mode for what sharp's header read reports.
function pilModeOf(m: Metadata): PilMode {
  if (m.format === 'gif' || m.isPalette) return 'P';
  if (m.space === 'cmyk') return 'CMYK';
  if (m.space === 'b-w' || m.space === 'grey16') {
    if (m.channels === 2) return m.depth === 'ushort' ? 'RGBA' : 'LA'; // PIL opens 16-bit LA as RGBA
    if (m.depth === 'ushort') return 'I';
    return m.bitsPerSample === 1 ? '1' : 'L';
  }
  return m.hasAlpha ? 'RGBA' : 'RGB';
}

interface GifFirstFrame {
  left: number;
  top: number;
  width: number;
  height: number;
  /** Colour of the transparent index, if the first frame has one. */
  transparent: [number, number, number] | null;
  /** What PIL fills the screen outside the first frame with. */
  outside: [number, number, number];
}

// Reads the first frame's rectangle and colour table from a GIF's blocks (headers only).
function gifFirstFrame(bytes: Uint8Array): GifFirstFrame | null {
  if (bytes.length < 13) return null;
  const packed = bytes[10];
  let table: Uint8Array | null = null;
  let pos = 13;
  if (packed & 0x80) {
    const size = 3 * (2 << (packed & 7));
    table = bytes.subarray(pos, pos + size);
    pos += size;
  }
  let transparentIndex: number | null = null;
  while (pos < bytes.length) {
    if (bytes[pos] === 0x21 && pos + 1 < bytes.length) {
      if (bytes[pos + 1] === 0xf9 && pos + 6 < bytes.length) transparentIndex = bytes[pos + 3] & 1 ? bytes[pos + 6] : null;
      pos += 2;
      while (pos < bytes.length && bytes[pos] !== 0) pos += bytes[pos] + 1;
      pos += 1;
    } else if (bytes[pos] === 0x2c && pos + 10 <= bytes.length) {
      const u16 = (at: number) => bytes[at] | (bytes[at + 1] << 8);
      const local = bytes[pos + 9];
      if (local & 0x80) table = bytes.subarray(pos + 10, pos + 10 + 3 * (2 << (local & 7)));
      if (!table) return null;
      const colour = (i: number): [number, number, number] => (3 * i + 2 < table!.length ? [table![3 * i], table![3 * i + 1], table![3 * i + 2]] : [0, 0, 0]);
      return {
        left: u16(pos + 1), top: u16(pos + 3), width: u16(pos + 5), height: u16(pos + 7),
        transparent: transparentIndex === null ? null : colour(transparentIndex),
        outside: colour(transparentIndex ?? 0),
      };
    } else return null;
  }
  return null;
}

// Paints what PIL shows where libvips left transparent (see the file comment); img is RGB or RGBA.
function fixGifFirstFrame(img: Tensor, frame: GifFirstFrame): Tensor {
  const [h, w, c] = img.shape;
  let out = img;
  if (frame.transparent && c === 4) {
    const hidden = cast(narrow(img, 2, 3, 1).eq(0), 'uint8'); // [H, W, 1]
    const colour = fromTypedArray(Uint8Array.from(frame.transparent), [3]);
    const rgb = add(mul(narrow(img, 2, 0, 3), sub(1, hidden)), mul(hidden, colour));
    out = cat([rgb, narrow(img, 2, 3, 1)], 2);
  }
  const top = Math.min(frame.top, h);
  const bottom = Math.min(frame.top + frame.height, h);
  const left = Math.min(frame.left, w);
  const right = Math.min(frame.left + frame.width, w);
  const fill = fromTypedArray(Uint8Array.from([...frame.outside, frame.transparent ? 0 : 255].slice(0, c)), [c]);
  const regions: [number, number, number, number][] = [[0, top, 0, w], [bottom, h, 0, w], [top, bottom, 0, left], [top, bottom, right, w]];
  for (const [y0, y1, x0, x1] of regions) {
    if (y1 > y0 && x1 > x0) narrow(narrow(out, 0, y0, y1 - y0), 1, x0, x1 - x0).copy_(fill);
  }
  return out;
}

// Pillow's MULDIV255(a, b) = round(a·b/255), exact for 8-bit operands; a, b float32 with integer values.
function mulDiv255(a: Tensor, b: Tensor): Tensor {
  return cast(cast(add(div(mul(a, b), 255), 0.5), 'int32'), 'float32');
}

// PIL's cmyk2rgb: each of r, g, b = (255 − k) − MULDIV255(c, 255 − k).
function cmykToRgb(img: Tensor): Tensor {
  const cmy = cast(narrow(img, 2, 0, 3), 'float32');
  const notK = sub(255, cast(narrow(img, 2, 3, 1), 'float32'));
  return cast(sub(notK, mulDiv255(cmy, notK)), 'uint8');
}

// PIL's L24 luma: (19595·r + 38470·g + 7471·b + 0x8000) >> 16, exact in int32.
function rgbToL(img: Tensor): Tensor {
  const ch = (i: number) => cast(narrow(img, 2, i, 1), 'int32');
  const sum = add(add(add(mul(ch(0), 19595), mul(ch(1), 38470)), mul(ch(2), 7471)), 0x8000);
  return cast(div(sum, 65536), 'uint8');
}

/** PIL's RGBA→RGBa (or LA→La): colour channels times alpha/255, rounded; alpha is the last channel. */
export function premultiplyAlpha(img: Tensor): Tensor {
  const c = img.shape[2];
  const alpha = narrow(img, 2, c - 1, 1);
  const colour = cast(mulDiv255(cast(narrow(img, 2, 0, c - 1), 'float32'), cast(alpha, 'float32')), 'uint8');
  return cat([colour, alpha], 2);
}

/** PIL's RGBa→RGBA (or La→LA): colour·255/alpha floored and clipped at 255; kept as is where alpha is 0 or 255. */
export function unpremultiplyAlpha(img: Tensor): Tensor {
  const c = img.shape[2];
  const alpha = cast(narrow(img, 2, c - 1, 1), 'float32');
  const colour = cast(narrow(img, 2, 0, c - 1), 'float32');
  const keep = cast(logicalOr(alpha.eq(0), alpha.eq(255)), 'float32');
  const divided = minimum(cast(cast(div(mul(colour, 255), maximum(alpha, 1)), 'int32'), 'float32'), 255);
  const out = add(mul(keep, colour), mul(sub(1, keep), divided));
  return cat([cast(out, 'uint8'), narrow(img, 2, c - 1, 1)], 2);
}

function withAlpha(rgb: Tensor, alpha: Tensor | null): Tensor {
  const [h, w] = rgb.shape;
  const out = Tensor.empty([h, w, 4], 'uint8');
  narrow(out, 2, 0, 3).copy_(rgb);
  if (alpha) narrow(out, 2, 3, 1).copy_(alpha);
  else narrow(out, 2, 3, 1).fill_(255);
  return out;
}

/** Converts a uint8 [H, W, C] image between channel layouts exactly as PIL's Image.convert. */
export function convertImage(img: Tensor, from: ChannelMode, to: 'RGB' | 'RGBA' | 'L'): Tensor {
  if (!(from in CHANNELS) || !['RGB', 'RGBA', 'L'].includes(to)) {
    throw new ArgumentError(`convertImage: cannot convert ${from} to ${to}, expected from L, LA, RGB, RGBA or CMYK to RGB, RGBA or L`);
  }
  if (img.dtype !== 'uint8') throw new DTypeError(`convertImage: expected a uint8 image, got dtype ${img.dtype}`);
  if (img.ndim !== 3 || img.shape[2] !== CHANNELS[from]) {
    throw new ShapeError(`convertImage: expected a [H, W, ${CHANNELS[from]}] ${from} image, got shape ${formatShape(img.shape)}`);
  }
  if (from === to) return img;
  const [h, w] = img.shape;
  const grey = from === 'L' || from === 'LA' ? narrow(img, 2, 0, 1) : null;
  const alpha = from === 'LA' ? narrow(img, 2, 1, 1) : from === 'RGBA' ? narrow(img, 2, 3, 1) : null;
  if (to === 'L') return contiguous(grey ?? rgbToL(from === 'CMYK' ? cmykToRgb(img) : img));
  const rgb = grey ? Tensor.empty([h, w, 3], 'uint8').copy_(grey) : from === 'CMYK' ? cmykToRgb(img) : narrow(img, 2, 0, 3);
  return to === 'RGB' ? contiguous(rgb) : withAlpha(rgb, alpha);
}

// How sharp is asked for the pixels, by PIL mode.
type Layout = 'cmyk' | 'grey16' | 'srgb';

/**
 * Decodes a JPEG, PNG, WebP or GIF (first frame) from a Buffer or a file path into a uint8
 * [H, W, C] tensor with the pixels PIL's `Image.open(...).convert(mode)` gives.
 * Throws ImageError: TooManyBytes, UnsupportedFormat, InvalidImage, TooManyPixels, ReadFailed.
 */
export async function decodeImage(input: Buffer | Uint8Array | string, options: DecodeOptions = {}): Promise<DecodedImage> {
  const source = typeof input === 'string' ? input : (options.name ?? 'buffer');
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_IMAGE_BYTES;
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  const mode = options.mode ?? 'RGB';
  if (!['RGB', 'RGBA', 'L', 'source'].includes(mode)) throw new ArgumentError(`decodeImage: unknown mode '${mode}', expected RGB, RGBA, L or source`);
  for (const [name, value] of [['maxBytes', maxBytes], ['maxPixels', maxPixels]] as const) {
    if (!(Number.isSafeInteger(value) && value > 0)) throw new ArgumentError(`decodeImage: ${name} must be a positive integer, got ${value}`);
  }
  const failOn = options.strict === false ? 'none' : 'warning';
  const bytes = await readInput(input, source, maxBytes);
  if (bytes.length === 0) throw new ImageError('InvalidImage', source, 'image is empty (0 bytes), expected JPEG, PNG, WebP or GIF data');
  const format = sniffFormat(bytes);
  if (!format) {
    const other = sniffUnsupported(bytes);
    if (other) throw new ImageError('UnsupportedFormat', source, `${other} images are not accepted, expected JPEG, PNG, WebP or GIF`);
    throw new ImageError('InvalidImage', source, `not an image: expected JPEG, PNG, WebP or GIF data, got bytes starting ${describeStart(bytes)}`);
  }

  const sharp = await loadSharp();
  let meta: Metadata;
  try {
    // Header only: the pixel limit is ours, checked below with the dimensions in the message.
    meta = await sharp(bytes, { failOn, limitInputPixels: false, pages: 1 }).metadata();
  } catch (e) {
    throw new ImageError('InvalidImage', source, `cannot read the ${format} header: ${(e as Error).message}`);
  }
  if (meta.format !== format) throw new ImageError('InvalidImage', source, `data starts like ${format} but decodes as ${meta.format}`);
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (!(width > 0 && height > 0)) throw new ImageError('InvalidImage', source, `header gives size ${width}x${height}, expected positive dimensions`);
  if (width * height > maxPixels) {
    throw new ImageError('TooManyPixels', source, `image is ${width}x${height} = ${width * height} pixels, expected at most ${maxPixels}`);
  }

  const sourceMode = pilModeOf(meta);
  const layout: Layout = sourceMode === 'CMYK' ? 'cmyk' : sourceMode === 'I' ? 'grey16' : 'srgb';
  let pipeline = sharp(bytes, { failOn, limitInputPixels: maxPixels, pages: 1, page: 0, ignoreIcc: true, sequentialRead: true });
  if (options.applyExifOrientation) pipeline = pipeline.autoOrient();
  if (layout === 'cmyk') pipeline = pipeline.pipelineColourspace('cmyk').toColourspace('cmyk').raw();
  else if (layout === 'grey16') pipeline = pipeline.toColourspace('grey16').raw({ depth: 'ushort' });
  else pipeline = pipeline.raw();
  let data: Buffer;
  let info: OutputInfo;
  try {
    ({ data, info } = await pipeline.toBuffer({ resolveWithObject: true }));
  } catch (e) {
    throw new ImageError('InvalidImage', source, `cannot decode the ${format} data: ${(e as Error).message}`);
  }
  const shape = [info.height, info.width, info.channels];

  let image: Tensor;
  let channels: ChannelMode;
  if (layout === 'grey16') {
    const wide = new Int32Array(info.width * info.height * info.channels);
    const aligned = data.byteOffset % 2 === 0 ? data : Buffer.from(data);
    wide.set(new Uint16Array(aligned.buffer, aligned.byteOffset, wide.length));
    image = cast(minimum(fromTypedArray(wide, shape), 255), 'uint8');
    channels = 'L';
  } else {
    image = fromTypedArray(data, shape);
    channels = layout === 'cmyk' ? 'CMYK' : info.channels === 4 ? 'RGBA' : 'RGB';
    if (info.channels !== CHANNELS[channels]) {
      throw new ImageError('InvalidImage', source, `decoder gave ${info.channels} channels for a ${sourceMode} image`);
    }
  }
  if (format === 'gif') {
    const frame = gifFirstFrame(bytes);
    if (frame) image = fixGifFirstFrame(image, frame);
  }

  if (mode === 'source') {
    // libvips expands grey to RGB; give back the single grey band (and alpha) PIL has.
    if (sourceMode === 'L' || sourceMode === '1') {
      image = contiguous(narrow(image, 2, 0, 1));
      channels = 'L';
    } else if (sourceMode === 'LA' && channels === 'RGBA') {
      image = cat([narrow(image, 2, 0, 1), narrow(image, 2, 3, 1)], 2);
      channels = 'LA';
    }
  } else {
    image = convertImage(image, channels, mode);
    channels = mode;
  }
  return { image, mode: channels, sourceMode, format, width: info.width, height: info.height, orientation: meta.orientation ?? 1, pages: meta.pages ?? 1 };
}
