/**
 * PatchEmbed: image → patch tokens with one strided convolution (timm `layers/patch_embed.py`,
 * same names: `proj` Conv2d(inChans, embedDim, k = s = patch), optional `norm`).
 */
import { formatShape, ShapeError } from '../../errors.ts';
import { pad, permute, reshape } from '../../tensor/ops/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';
import { checkInt, type FactoryOptions } from '../layers/common.ts';
import type { UnaryModule } from '../layers/containers.ts';
import { Conv2d } from '../layers/conv.ts';

/** Layout of PatchEmbed's output: tokens [B, N, C], a channels-last grid [B, H, W, C], or the conv's [B, C, H, W]. */
export type PatchEmbedFormat = 'NLC' | 'NHWC' | 'NCHW';

/** Options of PatchEmbed. */
export interface PatchEmbedOptions extends FactoryOptions {
  /** Image size the embedding is built for, one number or [h, w] (default 224). */
  imgSize?: number | readonly [number, number];
  /** Patch size, one number or [h, w] (default 16). */
  patchSize?: number | readonly [number, number];
  inChans?: number;
  embedDim?: number;
  /** Bias on the projection (default true). */
  bias?: boolean;
  /** Builds a norm over the embedding dim applied after the projection (Swin); none by default. */
  normLayer?: (dim: number) => UnaryModule;
  /** Output layout (default 'NLC'). */
  outputFormat?: PatchEmbedFormat;
  /** Require the input to be exactly imgSize (default true); otherwise any multiple of the patch size. */
  strictImgSize?: boolean;
  /** Zero-pad the bottom and right edges up to a multiple of the patch size (default false). */
  dynamicImgPad?: boolean;
}

const pair = (v: number | readonly [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/**
 * What VisionTransformer needs from its token embedding: PatchEmbed, or another stem with the
 * same contract (the hybrid ResNet + ViT's CNN embedding).
 */
export interface TokenEmbed extends Module {
  /** Token grid [h, w] at the configured image size. */
  readonly gridSize: [number, number];
  /** gridSize[0] · gridSize[1]. */
  readonly numPatches: number;
  /** Token grid [h, w] of an input image of [h, w] pixels. */
  dynamicFeatSize(imgSize: readonly [number, number]): [number, number];
  /** pixels [B, C, H, W] → tokens [B, N, D], row-major over the grid. */
  forward(x: Tensor): Tensor;
}

/** Arguments VisionTransformer gives a token-embedding factory (timm's embed_layer kwargs). */
export interface TokenEmbedArgs extends FactoryOptions {
  imgSize: [number, number];
  patchSize: [number, number];
  inChans: number;
  embedDim: number;
  bias: boolean;
  strictImgSize: boolean;
  dynamicImgPad: boolean;
}

/** Splits an image into non-overlapping patches and projects each to embedDim. */
export class PatchEmbed extends Module implements TokenEmbed {
  readonly imgSize: [number, number];
  readonly patchSize: [number, number];
  readonly gridSize: [number, number];
  readonly numPatches: number;
  readonly outputFormat: PatchEmbedFormat;
  readonly strictImgSize: boolean;
  readonly dynamicImgPad: boolean;
  readonly proj: Conv2d;
  readonly norm: UnaryModule | null;

  constructor(options: PatchEmbedOptions = {}) {
    super();
    this.imgSize = pair(options.imgSize ?? 224);
    this.patchSize = pair(options.patchSize ?? 16);
    for (const s of this.imgSize) checkInt('PatchEmbed', 'imgSize', s, 1);
    for (const p of this.patchSize) checkInt('PatchEmbed', 'patchSize', p, 1);
    this.gridSize = [Math.floor(this.imgSize[0] / this.patchSize[0]), Math.floor(this.imgSize[1] / this.patchSize[1])];
    this.numPatches = this.gridSize[0] * this.gridSize[1];
    this.outputFormat = options.outputFormat ?? 'NLC';
    this.strictImgSize = options.strictImgSize ?? true;
    this.dynamicImgPad = options.dynamicImgPad ?? false;
    const embedDim = options.embedDim ?? 768;
    this.proj = this.module('proj', new Conv2d(options.inChans ?? 3, embedDim, this.patchSize, {
      stride: this.patchSize, bias: options.bias ?? true, dtype: options.dtype, generator: options.generator,
    }));
    this.norm = options.normLayer ? this.module('norm', options.normLayer(embedDim)) : null;
  }

  /** Token grid [h, w] of an image of [h, w] pixels (rounded up with dynamicImgPad). */
  dynamicFeatSize(imgSize: readonly [number, number]): [number, number] {
    const [ph, pw] = this.patchSize;
    const div = this.dynamicImgPad ? (a: number, b: number) => Math.ceil(a / b) : (a: number, b: number) => Math.floor(a / b);
    return [div(imgSize[0], ph), div(imgSize[1], pw)];
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim !== 4) throw new ShapeError(`PatchEmbed: expected pixels [B, C, H, W], got shape ${formatShape(x.shape)}`);
    const [, , H, W] = x.shape;
    const [ph, pw] = this.patchSize;
    if (this.strictImgSize) {
      if (H !== this.imgSize[0] || W !== this.imgSize[1]) {
        throw new ShapeError(`PatchEmbed: input is ${H}×${W}, expected ${this.imgSize[0]}×${this.imgSize[1]}, the size this model was built for; resize the input to it (in code, a model built with { imgSize: N } or { dynamicImgSize: true } takes other sizes)`);
      }
    } else if (!this.dynamicImgPad && (H % ph !== 0 || W % pw !== 0)) {
      throw new ShapeError(`PatchEmbed: input ${H}×${W} must be divisible by the patch size ${ph}×${pw} (in code, a model built with { dynamicImgPad: true } pads other sizes)`);
    }
    if (this.dynamicImgPad) {
      const padH = (ph - (H % ph)) % ph;
      const padW = (pw - (W % pw)) % pw;
      if (padH || padW) x = pad(x, [0, padW, 0, padH]);
    }
    let y = this.proj.forward(x); // (B, D, h, w)
    if (this.outputFormat !== 'NCHW') {
      const [B, D, h, w] = y.shape;
      y = permute(y, [0, 2, 3, 1]); // (B, h, w, D)
      if (this.outputFormat === 'NLC') y = reshape(y, [B, h * w, D]); // (B, N, D)
    }
    return this.norm ? this.norm.forward(y) : y;
  }
}
