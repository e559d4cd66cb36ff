/**
 * R50+ViT-B/16 hybrid — "An Image is Worth 16x16 Words: Transformers for Image Recognition at
 * Scale", Dosovitskiy et al., ICLR 2021, §3.1 "Hybrid Architecture": the patches are the cells
 * of a CNN feature map. Reference code: timm `models/vision_transformer_hybrid.py`
 * (`vit_base_r50_s16_224/384`, `_resnetv2`, `_cfg`) and `layers/hybrid_embed.py`; Google's
 * `vit_jax` (R50+ViT-B_16).
 *
 * Structure: a ResNetV2-50 cut after its third stage (3, 4, 9 blocks; resnetv2.ts) turns the
 * image into a stride-16 map of 1024 channels, a 1×1 conv (`patch_size` 1) projects each cell
 * to a 768-d token, and timm's ViT-B (vit.ts) runs on those tokens: 196 at 224 px, 576 at 384.
 *
 * Checkpoint layout (timm, native here): `cls_token`, `pos_embed`, `patch_embed.backbone.stem.*`,
 * `patch_embed.backbone.stages.{s}.blocks.{b}.*`, `patch_embed.proj`, `blocks.{i}.*`, `norm`,
 * `head`. A checkpoint made at another image size loads through vit.ts's
 * resamplePosEmbedInStateDict, as timm's checkpoint filter does.
 */
import { ArgumentError, formatShape, ShapeError } from '../errors.ts';
import type { TokenEmbed, TokenEmbedArgs } from '../nn/blocks/patch-embed.ts';
import { Conv2d } from '../nn/layers/conv.ts';
import { Module } from '../nn/module.ts';
import { pad, permute, reshape } from '../tensor/ops/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { ModelEntry, PretrainedCfg } from './contract.ts';
import { IMAGE_CLASSIFICATION } from './image-classifier.ts';
import { ResNetV2, type ResNetV2Config } from './resnetv2.ts';
import { resamplePosEmbedInStateDict, VisionTransformer, vitCfg, type VitCfgChanges, type VitConfig, type VitOptions } from './vit.ts';

/**
 * CNN feature-map embedding (timm's HybridEmbed): backbone → `proj` conv with kernel = stride =
 * patch size → tokens [B, N, D], row-major over the grid.
 */
export class HybridEmbed extends Module implements TokenEmbed {
  readonly backbone: ResNetV2;
  readonly proj: Conv2d;
  readonly imgSize: [number, number];
  readonly patchSize: [number, number];
  /** Backbone output grid at imgSize. */
  readonly featureSize: [number, number];
  readonly gridSize: [number, number];
  readonly numPatches: number;
  readonly strictImgSize: boolean;
  readonly dynamicImgPad: boolean;

  constructor(backbone: ResNetV2, args: TokenEmbedArgs) {
    super();
    this.backbone = this.module('backbone', backbone);
    this.imgSize = args.imgSize;
    this.patchSize = args.patchSize;
    this.strictImgSize = args.strictImgSize;
    this.dynamicImgPad = args.dynamicImgPad;
    // timm runs the backbone on a blank image to find this; the backbone's geometry gives it directly.
    this.featureSize = backbone.featureSize(args.imgSize);
    const [fh, fw] = this.featureSize;
    const [ph, pw] = this.patchSize;
    if (!this.dynamicImgPad && (fh % ph !== 0 || fw % pw !== 0)) {
      throw new ArgumentError(`HybridEmbed: the ${fh}×${fw} feature map of a ${args.imgSize.join('×')} image is not divisible by the patch size ${ph}×${pw} (enable dynamicImgPad)`);
    }
    this.gridSize = this.dynamicFeatSize(args.imgSize);
    this.numPatches = this.gridSize[0] * this.gridSize[1];
    this.proj = this.module('proj', new Conv2d(backbone.numFeatures, args.embedDim, this.patchSize, {
      stride: this.patchSize, bias: args.bias, dtype: args.dtype, generator: args.generator,
    }));
  }

  /** Token grid [h, w] of an image of [h, w] pixels (feature cells per patch; rounded up with dynamicImgPad). */
  dynamicFeatSize(imgSize: readonly [number, number]): [number, number] {
    const [fh, fw] = this.backbone.featureSize(imgSize);
    const [ph, pw] = this.patchSize;
    const div = this.dynamicImgPad ? Math.ceil : Math.floor;
    return [div(fh / ph), div(fw / pw)];
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim !== 4) throw new ShapeError(`HybridEmbed: expected pixels [B, C, H, W], got shape ${formatShape(x.shape)}`);
    const [, , H, W] = x.shape;
    if (this.strictImgSize) {
      // timm accepts any image whose token grid equals the built one (its pos_embed add fails otherwise).
      const [gh, gw] = this.dynamicFeatSize([H, W]);
      if (gh !== this.gridSize[0] || gw !== this.gridSize[1]) {
        throw new ShapeError(`HybridEmbed: a ${H}×${W} input gives a ${gh}×${gw} token grid, expected the model's ${this.gridSize.join('×')} (${this.imgSize.join('×')} px, the size this model was built for; resize the input to it, or in code build the model with { imgSize: N } or { dynamicImgSize: true })`);
      }
    }
    let f = this.backbone.forward(x); // (B, C, h, w)
    if (this.dynamicImgPad) {
      const [ph, pw] = this.patchSize;
      const padH = (ph - (f.shape[2] % ph)) % ph;
      const padW = (pw - (f.shape[3] % pw)) % pw;
      if (padH || padW) f = pad(f, [0, padW, 0, padH]);
    }
    const y = this.proj.forward(f); // (B, D, h, w)
    const [B, D, h, w] = y.shape;
    return reshape(permute(y, [0, 2, 3, 1]), [B, h * w, D]); // (B, N, D)
  }
}

/** A hybrid: the ResNetV2 backbone and the ViT on its feature cells. */
export interface VitHybridConfig extends VitConfig {
  backbone: ResNetV2Config;
}

/** timm's hybrid ViT built from a config: its `_resnetv2` (SAME padding, StdConv eps 1e-8) as the ViT's token embedding. */
export function createVitHybrid(config: VitHybridConfig, options: VitOptions = {}): VisionTransformer {
  const { backbone, ...vit } = config;
  return new VisionTransformer(vit, {
    ...options,
    // timm's ViT init re-runs the backbone's init_weights with zero_init_last on.
    embedLayer: (args) => new HybridEmbed(new ResNetV2({ ...backbone, inChans: args.inChans, zeroInitLast: true }), args),
  });
}

const R50_S16: ResNetV2Config = { layers: [3, 4, 9] };

/** timm's R50 hybrids (vision_transformer_hybrid.py model_args; patch size 1 on the stride-16 map). */
export const VIT_HYBRID_VARIANTS = {
  vit_base_r50_s16_224: { backbone: R50_S16, patchSize: 1, embedDim: 768, depth: 12, numHeads: 12 },
  vit_base_r50_s16_384: { backbone: R50_S16, patchSize: 1, embedDim: 768, depth: 12, numHeads: 12, imgSize: 384 },
} satisfies Record<string, VitHybridConfig>;

// timm's hybrid _cfg (bicubic, mean = std = 0.5, crop 0.9 at 224 / 1.0 at 384); the 224 weights are the
// original in21k ones without a head, the 384 ones fine-tuned on in1k.
const hybridCfg = (name: string, tag: string, imgSize: number, over: VitCfgChanges = {}): PretrainedCfg =>
  vitCfg(`timm/${name}.${tag}`, imgSize, { firstConv: 'patch_embed.backbone.stem.conv', ...over });

const VIT_HYBRID_WEIGHTS: Record<keyof typeof VIT_HYBRID_VARIANTS, Record<string, PretrainedCfg>> = {
  vit_base_r50_s16_224: { orig_in21k: hybridCfg('vit_base_r50_s16_224', 'orig_in21k', 224, { numClasses: 0, labelSet: undefined }) },
  vit_base_r50_s16_384: { orig_in21k_ft_in1k: hybridCfg('vit_base_r50_s16_384', 'orig_in21k_ft_in1k', 384) },
};

/** Parameter counts with the default head, as timm/torchvision report them (checked by test/models/registry.test.ts). */
const HYBRID_PARAM_COUNTS: Record<string, number> = {
  vit_base_r50_s16_224: 97_890_112,
  vit_base_r50_s16_384: 98_950_952,
};

/** Registry entries of the family. */
export const VIT_HYBRID_MODELS: ModelEntry<VisionTransformer>[] = Object.entries(VIT_HYBRID_VARIANTS).map(([name, config]: [string, VitHybridConfig]) => ({
  name,
  family: 'vit-hybrid',
  paramCount: HYBRID_PARAM_COUNTS[name],
  create: (options) => createVitHybrid(config, options),
  pretrained: VIT_HYBRID_WEIGHTS[name as keyof typeof VIT_HYBRID_VARIANTS],
  filterCheckpoint: resamplePosEmbedInStateDict,
  contract: IMAGE_CLASSIFICATION,
}));
