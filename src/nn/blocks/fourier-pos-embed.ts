/**
 * Fourier position encoding (timm `models/xcit.py` PositionalEncodingFourier, from XCiT): fixed
 * sine/cosine features of each grid cell's row and column ("Attention is All You Need"'s
 * encoding, normalised to the grid), projected to the model width by a learned 1×1 conv
 * `token_projection`. It is computed for whatever grid the input gives, so a model using it
 * takes any image size.
 */
import { fromTypedArray } from '../../tensor/creation.ts';
import { cast } from '../../tensor/ops/elementwise.ts';
import { cat, contiguous, expand, reshape } from '../../tensor/ops/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';
import { checkInt, type FactoryOptions } from '../layers/common.ts';
import { Conv2d } from '../layers/conv.ts';

/** Options of PositionalEncodingFourier. */
export interface FourierPosEmbedOptions extends FactoryOptions {
  /** Features per axis (default 32; the projection reads twice as many). */
  hiddenDim?: number;
  /** Base of the frequencies (default 10000). */
  temperature?: number;
}

const TWO_PI = Math.fround(2 * Math.PI);
const EPS = Math.fround(1e-6);

/**
 * Features [hiddenDim, n] of positions 1..n along one axis, in float32 as timm computes them:
 * p = i / (n + 1e-6) · 2π, then channel c is sin(p / T^(2⌊c/2⌋/hiddenDim)) for even c and cos of
 * it for odd c (timm stacks the even sines and odd cosines and interleaves them).
 */
export function fourierAxisFeatures(n: number, hiddenDim: number, temperature: number): Float32Array {
  checkInt('fourierAxisFeatures', 'n', n, 1);
  checkInt('fourierAxisFeatures', 'hiddenDim', hiddenDim, 2);
  const out = new Float32Array(hiddenDim * n);
  const last = Math.fround(n + EPS);
  for (let c = 0; c < hiddenDim; ++c) {
    const dim = Math.fround(temperature ** Math.fround((2 * Math.floor(c / 2)) / hiddenDim));
    for (let i = 0; i < n; ++i) {
      const p = Math.fround(Math.fround(Math.fround(i + 1) / last) * TWO_PI);
      const arg = Math.fround(p / dim);
      out[c * n + i] = c % 2 === 0 ? Math.sin(arg) : Math.cos(arg);
    }
  }
  return out;
}

/** Fourier features of an H×W grid projected to `dim` channels. Parameters: token_projection.{weight, bias}. */
export class PositionalEncodingFourier extends Module {
  readonly hiddenDim: number;
  readonly dim: number;
  readonly temperature: number;
  readonly tokenProjection: Conv2d;

  constructor(dim: number, options: FourierPosEmbedOptions = {}) {
    super();
    this.hiddenDim = options.hiddenDim ?? 32;
    this.temperature = options.temperature ?? 10000;
    checkInt('PositionalEncodingFourier', 'hiddenDim', this.hiddenDim, 2);
    checkInt('PositionalEncodingFourier', 'dim', dim, 1);
    this.dim = dim;
    this.tokenProjection = this.module('token_projection', new Conv2d(2 * this.hiddenDim, dim, 1, { dtype: options.dtype, generator: options.generator }));
  }

  /** The unprojected features [1, 2·hiddenDim, H, W]: the rows' hiddenDim channels, then the columns'. */
  features(H: number, W: number): Tensor {
    const d = this.hiddenDim;
    const rows = reshape(fromTypedArray(fourierAxisFeatures(H, d, this.temperature), [d, H]), [1, d, H, 1]); // (1, d, H, 1)
    const cols = reshape(fromTypedArray(fourierAxisFeatures(W, d, this.temperature), [d, W]), [1, d, 1, W]); // (1, d, 1, W)
    return contiguous(cat([expand(rows, [1, d, H, W]), expand(cols, [1, d, H, W])], 1)); // (1, 2d, H, W)
  }

  /** The encoding of an H×W grid, [1, dim, H, W] (broadcast it over the batch). */
  override forward(H: number, W: number): Tensor {
    return this.tokenProjection.forward(cast(this.features(H, W), this.tokenProjection.weight.dtype));
  }
}
