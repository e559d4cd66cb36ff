/**
 * Absolute position embeddings at another grid size (timm `layers/pos_embed.py`
 * resample_abs_pos_embed): prefix tokens (class, distillation) are kept, the grid part is
 * resized as a [1, D, h, w] image. timm resizes with antialias on by default, which for bicubic
 * is not torch's plain bicubic even when upsampling: it is Pillow's convolution (Keys a = −0.5,
 * support widened by the scale when shrinking), here reproduced from torch 1.13's
 * `_upsample_bicubic2d_aa` as a tap table for resampleAlong.
 */
import { ArgumentError, formatShape, ShapeError } from '../../errors.ts';
import { cast } from '../../tensor/ops/elementwise.ts';
import { interpolate, resampleAlong, type ResampleTaps } from '../../tensor/ops/resample.ts';
import { cat, narrow, permute, reshape } from '../../tensor/ops/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';

/** Options of resampleAbsPosEmbed. */
export interface ResamplePosEmbedOptions {
  /** Grid [h, w] of the given embedding; a square grid is assumed when absent. */
  oldSize?: readonly [number, number];
  /** Leading tokens without a grid position: class and distillation tokens (default 1). */
  numPrefixTokens?: number;
  /** Default 'bicubic'. */
  interpolation?: 'bicubic' | 'bilinear';
  /** Antialiased (Pillow-style) resampling, timm's default (default true). */
  antialias?: boolean;
}

// torch's antialias filters: Keys' cubic with a = −0.5 (Pillow's), and the triangle.
const A = -0.5;
function cubicFilter(x: number): number {
  x = Math.abs(x);
  if (x < 1) return ((A + 2) * x - (A + 3)) * x * x + 1;
  if (x < 2) return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
  return 0;
}
const triangleFilter = (x: number) => Math.max(0, 1 - Math.abs(x));

// torch 1.13 _compute_indices_weights_aa: output j reads input [xmin, xmin + xsize) with
// normalised filter weights; the support grows with the scale when shrinking.
function antialiasTaps(inSize: number, outSize: number, mode: 'bicubic' | 'bilinear'): ResampleTaps {
  const interpSize = mode === 'bicubic' ? 4 : 2;
  const filter = mode === 'bicubic' ? cubicFilter : triangleFilter;
  const scale = inSize / outSize;
  const support = scale >= 1 ? (interpSize / 2) * scale : interpSize / 2;
  const invScale = scale >= 1 ? 1 / scale : 1;
  const spans = Array.from({ length: outSize }, (_, j) => {
    const center = scale * (j + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xsize = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const w = Array.from({ length: xsize }, (_, k) => filter((k + xmin - center + 0.5) * invScale));
    const total = w.reduce((p, q) => p + q, 0);
    return { xmin, w: total !== 0 ? w.map((v) => v / total) : w };
  });
  const taps = Math.max(1, ...spans.map((s) => s.w.length));
  const index = new Int32Array(outSize * taps);
  const weight = new Float32Array(outSize * taps);
  spans.forEach(({ xmin, w }, j) => {
    for (let k = 0; k < taps; ++k) {
      index[j * taps + k] = k < w.length ? xmin + k : xmin;
      weight[j * taps + k] = k < w.length ? w[k] : 0;
    }
  });
  return { size: outSize, taps, index, weight };
}

/**
 * Resizes a position embedding [1, prefix + h·w, D] to the grid newSize [h', w'] as timm's
 * resample_abs_pos_embed: the prefix tokens are kept, the grid is resized in float32 and cast
 * back. Returns the input itself when the token count matches and the new grid is square
 * (timm's shortcut). Differentiable (dynamic image sizes resample at every forward).
 */
export function resampleAbsPosEmbed(posEmbed: Tensor, newSize: readonly [number, number], options: ResamplePosEmbedOptions = {}): Tensor {
  const op = 'resampleAbsPosEmbed';
  const prefix = options.numPrefixTokens ?? 1;
  const mode = options.interpolation ?? 'bicubic';
  if (mode !== 'bicubic' && mode !== 'bilinear') throw new ArgumentError(`${op}: interpolation must be 'bicubic' or 'bilinear', got '${String(mode)}'`);
  if (posEmbed.ndim !== 3 || posEmbed.shape[0] !== 1) throw new ShapeError(`${op}: expected a position embedding [1, N, D], got shape ${formatShape(posEmbed.shape)}`);
  if (!Number.isInteger(prefix) || prefix < 0) throw new ArgumentError(`${op}: numPrefixTokens must be an integer >= 0, got ${prefix}`);
  const [nh, nw] = newSize;
  if (!Number.isInteger(nh) || !Number.isInteger(nw) || nh < 1 || nw < 1) throw new ArgumentError(`${op}: newSize must be two positive integers, got [${newSize.join(', ')}]`);
  const numPos = posEmbed.shape[1];
  if (nh * nw + prefix === numPos && nh === nw) return posEmbed;
  const gridTokens = numPos - prefix;
  const side = Math.floor(Math.sqrt(gridTokens));
  const [oh, ow] = options.oldSize ?? [side, side];
  if (oh * ow !== gridTokens) {
    throw new ShapeError(`${op}: the embedding has ${gridTokens} grid tokens (shape ${formatShape(posEmbed.shape)}, ${prefix} prefix), which is not a ${oh}×${ow} grid`);
  }
  const D = posEmbed.shape[2];
  let grid = permute(reshape(cast(narrow(posEmbed, 1, prefix, gridTokens), 'float32'), [1, oh, ow, D]), [0, 3, 1, 2]); // (1, D, oh, ow)
  if (options.antialias ?? true) {
    grid = resampleAlong(grid, 3, antialiasTaps(ow, nw, mode));
    grid = resampleAlong(grid, 2, antialiasTaps(oh, nh, mode));
  } else {
    grid = interpolate(grid, { size: [nh, nw], mode, alignCorners: false });
  }
  const resized = cast(reshape(permute(grid, [0, 2, 3, 1]), [1, nh * nw, D]), posEmbed.dtype); // (1, h'·w', D)
  return prefix > 0 ? cat([narrow(posEmbed, 1, 0, prefix), resized], 1) : resized;
}
