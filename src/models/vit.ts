/**
 * Vision Transformer — "An Image is Worth 16x16 Words: Transformers for Image Recognition at
 * Scale", Dosovitskiy et al., ICLR 2021. Reference code: timm `models/vision_transformer.py`
 * (VisionTransformer, standard config: class token, pre-norm blocks, LayerNorm eps 1e-6, exact
 * GELU, fused qkv with bias) and torchvision `models/vision_transformer.py` (the same function).
 *
 * Checkpoint layout: timm's names, which are native here — `cls_token`, `pos_embed`
 * [1, prefix + N, D], `patch_embed.proj`, `blocks.{i}.{norm1, attn.qkv, attn.proj, norm2,
 * mlp.fc1, mlp.fc2}`, `norm` (or `fc_norm` with average pooling), `head`. torchvision's names
 * (`class_token`, `conv_proj`, `encoder.layers.encoder_layer_{i}.…`, `heads.head`) load through
 * the pure remapper `torchvisionToTimm`, chosen by a pretrained cfg's keyLayout 'torchvision'.
 */
import { ArgumentError } from '../errors.ts';
import { Block } from '../nn/blocks/transformer.ts';
import { PatchEmbed, type TokenEmbed, type TokenEmbedArgs } from '../nn/blocks/patch-embed.ts';
import { resampleAbsPosEmbed, type ResamplePosEmbedOptions } from '../nn/blocks/pos-embed.ts';
import { checkInt } from '../nn/layers/common.ts';
import { ModuleList } from '../nn/layers/containers.ts';
import { Dropout, dropPathRates } from '../nn/layers/dropout.ts';
import { Identity, Linear } from '../nn/layers/linear.ts';
import { LayerNorm } from '../nn/layers/norm.ts';
import { Module, type StateDict } from '../nn/module.ts';
import { runBlocks } from '../nn/run-blocks.ts';
import type { Parameter } from '../nn/parameter.ts';
import { normal_, truncNormal02_, zeros_ } from '../nn/init.ts';
import { empty } from '../tensor/creation.ts';
import { noGrad } from '../tensor/autograd.ts';
import { add } from '../tensor/ops/elementwise.ts';
import { mean } from '../tensor/ops/reduce.ts';
import { cat, contiguous, expand, narrow, permute, reshape, select } from '../tensor/ops/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { IMAGENET_MEAN, IMAGENET_STD, INCEPTION_MEAN, INCEPTION_STD } from './constants.ts';
import type { CreateModelOptions, ImagePreprocessCfg, ModelEntry, PretrainedCfg } from './contract.ts';
import { IMAGE_CLASSIFICATION, featureTakeIndices, type FeatureInfo, type ImageClassifier, type ImageInputShape, type Intermediates, type IntermediatesOptions } from './image-classifier.ts';

/** How the token sequence becomes one feature vector: the class token, the mean of the patch tokens, or none (all tokens). */
export type VitGlobalPool = 'token' | 'avg' | '';

/** A ViT architecture (timm's model_args). */
export interface VitConfig {
  patchSize: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  /** MLP hidden width / embedDim (default 4). */
  mlpRatio?: number;
  /** Bias on the qkv projections (default true). */
  qkvBias?: boolean;
  /** Image size of the position embedding (default 224). */
  imgSize?: number;
  /** Default 'token'. */
  globalPool?: VitGlobalPool;
  /** Prepend a learned class token (default true). */
  classToken?: boolean;
  /** Normalize after pooling (`fc_norm`) instead of before (`norm`); default: on for 'avg' pooling, as timm. */
  fcNorm?: boolean | null;
  /** LayerScale initial value in every block; none when absent. */
  initValues?: number | null;
}

/** Options of VisionTransformer beyond the registry's: timm's create_model kwargs. */
export interface VitOptions extends CreateModelOptions {
  /** Overrides the config's pooling (timm's global_pool). */
  globalPool?: VitGlobalPool;
  /** Accept any image size that is a multiple of the patch size, resampling pos_embed at each forward (timm's dynamic_img_size). */
  dynamicImgSize?: boolean;
  /** Pad inputs up to a multiple of the patch size (timm's dynamic_img_pad). */
  dynamicImgPad?: boolean;
  /** Dropout after adding the position embedding (default 0). */
  posDropRate?: number;
  /** Dropout on attention weights (default 0). */
  attnDropRate?: number;
  /** Dropout after the attention and MLP projections (default 0). */
  projDropRate?: number;
  /** Builds the token embedding instead of PatchEmbed (the hybrid ResNet stem); registered as `patch_embed`. */
  embedLayer?: (args: TokenEmbedArgs) => TokenEmbed;
}

const GLOBAL_POOLS: readonly VitGlobalPool[] = ['token', 'avg', ''];

function checkPool(pool: string, hasClassToken: boolean): VitGlobalPool {
  if (!GLOBAL_POOLS.includes(pool as VitGlobalPool)) throw new ArgumentError(`VisionTransformer: globalPool must be one of 'token', 'avg', '', got '${pool}'`);
  if (pool === 'token' && !hasClassToken) throw new ArgumentError(`VisionTransformer: globalPool 'token' needs a class token`);
  return pool as VitGlobalPool;
}

/**
 * timm's VisionTransformer: patch embedding, [cls] + patches + pos_embed, pre-norm blocks,
 * final norm, pooling, head. Subclasses add prefix tokens (DeiT's distillation token).
 */
export class VisionTransformer extends Module implements ImageClassifier {
  numClasses: number;
  readonly numFeatures: number;
  readonly embedDim: number;
  globalPool: VitGlobalPool;
  /** Tokens before the patch tokens (class, distillation); their pos_embed slots come first. */
  numPrefixTokens: number;
  readonly dynamicImgSize: boolean;
  readonly patchEmbed: TokenEmbed;
  readonly clsToken: Parameter | null;
  posEmbed: Parameter;
  readonly posDrop: Dropout;
  readonly blocks: ModuleList<Block>;
  readonly norm: LayerNorm | null;
  readonly fcNorm: LayerNorm | null;
  readonly headDrop: Dropout;
  head: Linear | null;
  readonly inputShape: ImageInputShape;
  /** Every block's output, at the patch stride (timm's feature_info). */
  readonly featureInfo: FeatureInfo[];

  constructor(config: VitConfig, options: VitOptions = {}) {
    super();
    const { embedDim, depth, numHeads } = config;
    for (const key of ['patchSize', 'embedDim', 'depth', 'numHeads'] as const) checkInt('VisionTransformer', key, config[key], 1);
    const classToken = config.classToken ?? true;
    this.globalPool = checkPool(options.globalPool ?? config.globalPool ?? 'token', classToken);
    const useFcNorm = config.fcNorm ?? this.globalPool === 'avg';
    this.embedDim = this.numFeatures = embedDim;
    this.numPrefixTokens = classToken ? 1 : 0;
    this.dynamicImgSize = options.dynamicImgSize ?? false;
    const imgSize = options.imgSize ?? config.imgSize ?? 224;
    const embedArgs: TokenEmbedArgs = {
      imgSize: [imgSize, imgSize], patchSize: [config.patchSize, config.patchSize], inChans: options.inChans ?? 3, embedDim,
      bias: true, strictImgSize: !this.dynamicImgSize, dynamicImgPad: options.dynamicImgPad ?? false,
    };
    this.patchEmbed = this.module('patch_embed', options.embedLayer ? options.embedLayer(embedArgs) : new PatchEmbed(embedArgs));
    this.clsToken = classToken ? this.param('cls_token', empty([1, 1, embedDim])) : null;
    this.posEmbed = this.param('pos_embed', empty([1, this.patchEmbed.numPatches + this.numPrefixTokens, embedDim]));
    this.posDrop = this.module('pos_drop', new Dropout(options.posDropRate ?? 0));
    const rates = dropPathRates(options.dropPathRate ?? 0, depth);
    this.blocks = this.module('blocks', new ModuleList(rates.map((dropPath) => new Block(embedDim, numHeads, {
      mlpRatio: config.mlpRatio, qkvBias: config.qkvBias ?? true, initValues: config.initValues,
      projDrop: options.projDropRate, attnDrop: options.attnDropRate, dropPath,
    }))));
    const layerNorm = () => new LayerNorm(embedDim, { eps: 1e-6 });
    this.norm = useFcNorm ? null : this.module('norm', layerNorm());
    this.fcNorm = useFcNorm ? this.module('fc_norm', layerNorm()) : null;
    this.headDrop = this.module('head_drop', new Dropout(options.dropRate ?? 0));
    this.numClasses = options.numClasses ?? 1000;
    this.head = this.numClasses > 0 ? this.module('head', new Linear(embedDim, this.numClasses)) : null;
    const multipleOf = this.dynamicImgSize && !embedArgs.dynamicImgPad && config.patchSize > 1 ? { multipleOf: config.patchSize } : {};
    this.inputShape = { inChans: embedArgs.inChans, fixedSize: this.dynamicImgSize ? null : [imgSize, imgSize], ...multipleOf };
    const reduction = imgSize / this.patchEmbed.gridSize[0];
    this.featureInfo = rates.map((_, i) => ({ module: `blocks.${i}`, numChannels: embedDim, reduction }));
    this.initWeights();
  }

  /** [D] pooled; all tokens [prefix + patches, D] with no pooling. */
  get pooledShape(): number[] {
    return this.globalPool === '' ? [this.numPrefixTokens + this.patchEmbed.numPatches, this.embedDim] : [this.embedDim];
  }

  // timm's default init ('' mode): trunc_normal_(std=0.02) pos_embed and Linear weights, zero
  // Linear biases, N(0, 1e-6) class token; convolutions and norms keep their own init.
  protected initWeights(): void {
    noGrad(() => {
      truncNormal02_(this.posEmbed);
      if (this.clsToken) normal_(this.clsToken, 0, 1e-6);
      for (const [, m] of this.namedModules()) {
        if (!(m instanceof Linear)) continue;
        truncNormal02_(m.weight);
        if (m.bias) zeros_(m.bias);
      }
    });
  }

  /** The learned tokens put before the patch tokens, in order (the class token here). */
  protected prefixTokens(): Tensor[] {
    return this.clsToken ? [this.clsToken] : [];
  }

  /** pos_embed at a token grid: itself at the built size, resampled as timm's dynamic_img_size otherwise. */
  posEmbedFor(grid: readonly [number, number]): Tensor {
    return resampleAbsPosEmbed(this.posEmbed, grid, { oldSize: this.patchEmbed.gridSize, numPrefixTokens: this.numPrefixTokens });
  }

  /** Patch tokens [B, N, D] of an image grid → [prefix tokens, patches] + position embedding. */
  protected addPosEmbed(tokens: Tensor, grid: readonly [number, number]): Tensor {
    const [B, , D] = tokens.shape;
    const prefix = this.prefixTokens().map((t) => expand(t, [B, 1, D])); // (B, 1, D) each
    const x = prefix.length > 0 ? cat([...prefix, tokens], 1) : tokens; // (B, prefix + N, D)
    return this.posDrop.forward(add(x, this.dynamicImgSize ? this.posEmbedFor(grid) : this.posEmbed));
  }

  /** pixels [B, C, H, W] → normalized tokens [B, prefix + N, D]. */
  forwardFeatures(x: Tensor): Tensor {
    const t = runBlocks(this.#embed(x).tokens, this.blocks);
    return this.norm ? this.norm.forward(t) : t;
  }

  // pixels [B, C, H, W] → position-embedded tokens [B, prefix + N, D] and their patch grid.
  #embed(x: Tensor): { tokens: Tensor; grid: [number, number] } {
    const grid = this.patchEmbed.dynamicFeatSize([x.shape[2], x.shape[3]]);
    return { tokens: this.addPosEmbed(this.patchEmbed.forward(x), grid), grid };
  }

  /** Block outputs as timm's forward_intermediates: patch tokens only, as maps [B, D, h, w] (NCHW) or tokens [B, N, D] (NLC). */
  forwardIntermediates(x: Tensor, options: IntermediatesOptions = {}): Intermediates {
    const { take, maxIndex } = featureTakeIndices(this.blocks.length, options.indices);
    const B = x.shape[0];
    const { tokens, grid } = this.#embed(x);
    let t = tokens;
    const intermediates: Tensor[] = [];
    const blocks = [...this.blocks].slice(0, options.stopEarly ? maxIndex + 1 : undefined);
    blocks.forEach((block, i) => {
      t = block.forward(t);
      if (!take.includes(i)) return;
      const y = options.norm && this.norm ? this.norm.forward(t) : t;
      const patches = narrow(y, 1, this.numPrefixTokens, y.shape[1] - this.numPrefixTokens); // (B, N, D)
      intermediates.push(options.outputFmt === 'NLC' ? patches : contiguous(permute(reshape(patches, [B, grid[0], grid[1], this.embedDim]), [0, 3, 1, 2]))); // (B, D, h, w)
    });
    if (options.intermediatesOnly) return { features: null, intermediates };
    return { features: this.norm ? this.norm.forward(t) : t, intermediates };
  }

  /** Token pooling as timm's global_pool_nlc: class token, mean of the patch tokens, or all tokens. */
  pool(x: Tensor, pool: VitGlobalPool = this.globalPool): Tensor {
    if (pool === 'token') return select(x, 1, 0); // (B, D)
    if (pool === 'avg') return mean(narrow(x, 1, this.numPrefixTokens, x.shape[1] - this.numPrefixTokens), 1); // (B, D)
    return x;
  }

  forwardHead(x: Tensor, options: { preLogits?: boolean } = {}): Tensor {
    x = this.pool(x);
    if (this.fcNorm) x = this.fcNorm.forward(x);
    x = this.headDrop.forward(x);
    return options.preLogits || !this.head ? x : this.head.forward(x);
  }

  forward(x: Tensor): Tensor {
    return this.forwardHead(this.forwardFeatures(x));
  }

  /** A fresh head for numClasses (0 removes it); optionally another pooling ('token' needs the class token). */
  resetClassifier(numClasses: number, globalPool?: VitGlobalPool): void {
    if (globalPool !== undefined) this.globalPool = checkPool(globalPool, this.clsToken !== null);
    this.numClasses = numClasses;
    this.head = numClasses > 0 ? new Linear(this.embedDim, numClasses) : null;
    // An Identity in place of a removed head keeps its old parameters out of the state dict (timm's nn.Identity).
    this.module('head', this.head ?? new Identity());
  }
}

/**
 * A checkpoint made at another image size, adapted to `model`: its pos_embed resampled to the
 * model's token grid as timm's checkpoint_filter_fn does on load (bicubic, antialiased, square
 * source grid, prefix tokens kept). Other entries are passed through.
 */
export function resamplePosEmbedInStateDict(sd: StateDict, model: VisionTransformer, options: Pick<ResamplePosEmbedOptions, 'interpolation' | 'antialias'> = {}): StateDict {
  const pos = sd.get('pos_embed');
  if (!pos || pos.shape[1] === model.posEmbed.shape[1]) return sd;
  const out = new Map(sd);
  out.set('pos_embed', noGrad(() => resampleAbsPosEmbed(pos, model.patchEmbed.gridSize, { ...options, numPrefixTokens: model.numPrefixTokens })));
  return out;
}

/** timm's ViT variants (vision_transformer.py model_args). */
export const VIT_VARIANTS = {
  vit_tiny_patch16_224: { patchSize: 16, embedDim: 192, depth: 12, numHeads: 3 },
  vit_tiny_patch16_384: { patchSize: 16, embedDim: 192, depth: 12, numHeads: 3, imgSize: 384 },
  vit_small_patch32_224: { patchSize: 32, embedDim: 384, depth: 12, numHeads: 6 },
  vit_small_patch32_384: { patchSize: 32, embedDim: 384, depth: 12, numHeads: 6, imgSize: 384 },
  vit_small_patch16_224: { patchSize: 16, embedDim: 384, depth: 12, numHeads: 6 },
  vit_small_patch16_384: { patchSize: 16, embedDim: 384, depth: 12, numHeads: 6, imgSize: 384 },
  vit_base_patch32_224: { patchSize: 32, embedDim: 768, depth: 12, numHeads: 12 },
  vit_base_patch32_384: { patchSize: 32, embedDim: 768, depth: 12, numHeads: 12, imgSize: 384 },
  vit_base_patch16_224: { patchSize: 16, embedDim: 768, depth: 12, numHeads: 12 },
  vit_base_patch16_384: { patchSize: 16, embedDim: 768, depth: 12, numHeads: 12, imgSize: 384 },
  vit_large_patch32_224: { patchSize: 32, embedDim: 1024, depth: 24, numHeads: 16 },
  vit_large_patch32_384: { patchSize: 32, embedDim: 1024, depth: 24, numHeads: 16, imgSize: 384 },
  vit_large_patch16_224: { patchSize: 16, embedDim: 1024, depth: 24, numHeads: 16 },
  vit_large_patch16_384: { patchSize: 16, embedDim: 1024, depth: 24, numHeads: 16, imgSize: 384 },
  vit_huge_patch14_224: { patchSize: 14, embedDim: 1280, depth: 32, numHeads: 16 },
} satisfies Record<string, VitConfig>;

/** torchvision's ViTs: the same architectures as timm's (B/16 = vit_base_patch16_224, …), built at 224. */
export const TORCHVISION_VIT_VARIANTS = {
  vit_b_16: VIT_VARIANTS.vit_base_patch16_224,
  vit_b_32: VIT_VARIANTS.vit_base_patch32_224,
  vit_l_16: VIT_VARIANTS.vit_large_patch16_224,
  vit_l_32: VIT_VARIANTS.vit_large_patch32_224,
  vit_h_14: VIT_VARIANTS.vit_huge_patch14_224,
} satisfies Record<string, VitConfig>;

type VitName = keyof typeof VIT_VARIANTS;

// timm's weight tags: what each changes from the ViT default cfg (1k head, "inception" 0.5/0.5
// normalization). Heads: in21k 21843 classes; orig_in21k, DINO and MAE weights have none.
const VIT_TAGS = {
  augreg2_in21k_ft_in1k: {},
  augreg_in21k_ft_in1k: {},
  orig_in21k_ft_in1k: {},
  augreg_in1k: {},
  sam_in1k: {},
  augreg_in21k: { numClasses: 21843, labelSet: 'imagenet-21k' },
  orig_in21k: { numClasses: 0, labelSet: undefined },
  dino: { numClasses: 0, labelSet: undefined, image: { mean: IMAGENET_MEAN, std: IMAGENET_STD } },
  mae: { numClasses: 0, labelSet: undefined, image: { mean: IMAGENET_MEAN, std: IMAGENET_STD }, license: 'cc-by-nc-4.0' },
} satisfies Record<string, VitCfgChanges>;

/** Each variant's pretrained tags in timm's order (the first is the default). */
const VIT_WEIGHTS: Record<VitName, (keyof typeof VIT_TAGS)[]> = {
  vit_tiny_patch16_224: ['augreg_in21k_ft_in1k', 'augreg_in21k'],
  vit_tiny_patch16_384: ['augreg_in21k_ft_in1k'],
  vit_small_patch32_224: ['augreg_in21k_ft_in1k', 'augreg_in21k'],
  vit_small_patch32_384: ['augreg_in21k_ft_in1k'],
  vit_small_patch16_224: ['augreg_in21k_ft_in1k', 'augreg_in1k', 'augreg_in21k', 'dino'],
  vit_small_patch16_384: ['augreg_in21k_ft_in1k', 'augreg_in1k'],
  vit_base_patch32_224: ['augreg_in21k_ft_in1k', 'augreg_in1k', 'orig_in21k', 'augreg_in21k', 'sam_in1k'],
  vit_base_patch32_384: ['augreg_in21k_ft_in1k', 'augreg_in1k'],
  vit_base_patch16_224: ['augreg2_in21k_ft_in1k', 'augreg_in21k_ft_in1k', 'orig_in21k_ft_in1k', 'augreg_in1k', 'orig_in21k', 'augreg_in21k', 'sam_in1k', 'dino', 'mae'],
  vit_base_patch16_384: ['augreg_in21k_ft_in1k', 'orig_in21k_ft_in1k', 'augreg_in1k'],
  vit_large_patch32_224: ['orig_in21k'],
  vit_large_patch32_384: ['orig_in21k_ft_in1k'],
  vit_large_patch16_224: ['augreg_in21k_ft_in1k', 'orig_in21k', 'augreg_in21k', 'mae'],
  vit_large_patch16_384: ['augreg_in21k_ft_in1k'],
  vit_huge_patch14_224: ['orig_in21k', 'mae'],
};

/** What a ViT weight tag changes from the default cfg: head and labels, and the image preprocessing. */
export type VitCfgChanges = Partial<Omit<PretrainedCfg, 'preprocess'>> & { image?: Partial<ImagePreprocessCfg> };

/** timm's ViT _cfg at an image size: bicubic, crop 0.9 at 224 and 1.0 at 384, mean = std = 0.5. */
export function vitCfg(hubId: string, imgSize: number, changes: VitCfgChanges = {}): PretrainedCfg {
  const { image, ...over } = changes;
  return {
    hubId, numClasses: 1000, firstConv: 'patch_embed.proj', classifier: 'head', license: 'apache-2.0', labelSet: 'imagenet-1k', ...over,
    preprocess: {
      image: { inputSize: [3, imgSize, imgSize], cropPct: imgSize >= 384 ? 1.0 : 0.9, interpolation: 'bicubic', mean: INCEPTION_MEAN, std: INCEPTION_STD, ...image },
    },
  };
}

// torchvision's weights (the *_Weights enums): tv_in1k = IMAGENET1K_V1, swag_lc_in1k = SWAG linear
// probe, swag_e2e_in1k = SWAG fine-tuned end to end, which needs the model built at its size
// (imgSize 384 / 512 / 518). torchvision publishes .pth files (no hub repo): convert them to
// .safetensors keeping the names. cropPct = crop / resize reproduces its Resize + CenterCrop.
const tv = (imgSize: number, resize: number, interpolation: 'bilinear' | 'bicubic', license: string): PretrainedCfg => ({
  keyLayout: 'torchvision', numClasses: 1000, firstConv: 'patch_embed.proj', classifier: 'head', license, labelSet: 'imagenet-1k',
  preprocess: { image: { inputSize: [3, imgSize, imgSize], cropPct: imgSize / resize, interpolation, mean: IMAGENET_MEAN, std: IMAGENET_STD } },
});
const TV_V1 = tv(224, 256, 'bilinear', 'bsd-3-clause');
const SWAG_LC = tv(224, 224, 'bicubic', 'cc-by-nc-4.0');
const swagE2e = (size: number) => tv(size, size, 'bicubic', 'cc-by-nc-4.0');

const TORCHVISION_WEIGHTS: Record<keyof typeof TORCHVISION_VIT_VARIANTS, Record<string, PretrainedCfg>> = {
  vit_b_16: { tv_in1k: TV_V1, swag_lc_in1k: SWAG_LC, swag_e2e_in1k: swagE2e(384) },
  vit_b_32: { tv_in1k: TV_V1 },
  vit_l_16: { tv_in1k: tv(224, 242, 'bilinear', 'bsd-3-clause'), swag_lc_in1k: SWAG_LC, swag_e2e_in1k: swagE2e(512) },
  vit_l_32: { tv_in1k: TV_V1 },
  // torchvision's default for vit_h_14 is the 518 px E2E weights; the 224 px architecture built here loads the linear-probe ones.
  vit_h_14: { swag_lc_in1k: SWAG_LC, swag_e2e_in1k: swagE2e(518) },
};

// torchvision → timm key renames (backbones.md §14.1); torchvision's legacy MLP names
// `mlp.linear_{1,2}` are accepted as its own loader does.
const TORCHVISION_KEYS: [RegExp, string][] = [
  [/^class_token$/, 'cls_token'],
  [/^conv_proj\./, 'patch_embed.proj.'],
  [/^encoder\.pos_embedding$/, 'pos_embed'],
  [/^encoder\.layers\.encoder_layer_(\d+)\.ln_1\./, 'blocks.$1.norm1.'],
  [/^encoder\.layers\.encoder_layer_(\d+)\.self_attention\.in_proj_(weight|bias)$/, 'blocks.$1.attn.qkv.$2'],
  [/^encoder\.layers\.encoder_layer_(\d+)\.self_attention\.out_proj\./, 'blocks.$1.attn.proj.'],
  [/^encoder\.layers\.encoder_layer_(\d+)\.ln_2\./, 'blocks.$1.norm2.'],
  [/^encoder\.layers\.encoder_layer_(\d+)\.mlp\.(?:0|linear_1)\./, 'blocks.$1.mlp.fc1.'],
  [/^encoder\.layers\.encoder_layer_(\d+)\.mlp\.(?:3|linear_2)\./, 'blocks.$1.mlp.fc2.'],
  [/^encoder\.ln\./, 'norm.'],
  [/^heads\.head\./, 'head.'],
];

/** torchvision ViT state dict → timm names (same tensors: the q/k/v packing is identical). Unknown keys pass through. */
export function torchvisionToTimm(sd: StateDict): StateDict {
  const out: StateDict = new Map();
  for (const [key, value] of sd) {
    const rule = TORCHVISION_KEYS.find(([re]) => re.test(key));
    out.set(rule ? key.replace(rule[0], rule[1]) : key, value);
  }
  return out;
}

/** Parameter counts with the default head, as timm/torchvision report them (checked by test/models/registry.test.ts). */
const VIT_PARAM_COUNTS: Record<string, number> = {
  vit_b_16: 86_567_656,
  vit_b_32: 88_224_232,
  vit_base_patch16_224: 86_567_656,
  vit_base_patch16_384: 86_859_496,
  vit_base_patch32_224: 88_224_232,
  vit_base_patch32_384: 88_297_192,
  vit_h_14: 632_045_800,
  vit_huge_patch14_224: 630_764_800,
  vit_l_16: 304_326_632,
  vit_l_32: 306_535_400,
  vit_large_patch16_224: 304_326_632,
  vit_large_patch16_384: 304_715_752,
  vit_large_patch32_224: 305_510_400,
  vit_large_patch32_384: 306_632_680,
  vit_small_patch16_224: 22_050_664,
  vit_small_patch16_384: 22_196_584,
  vit_small_patch32_224: 22_878_952,
  vit_small_patch32_384: 22_915_432,
  vit_tiny_patch16_224: 5_717_416,
  vit_tiny_patch16_384: 5_790_376,
};

/** Registry entries of the family: timm's ViTs and torchvision's (timm-structured, torchvision keys remapped). */
export const VIT_MODELS: ModelEntry<VisionTransformer>[] = [
  ...Object.entries(VIT_VARIANTS).map(([name, config]: [string, VitConfig]): ModelEntry<VisionTransformer> => ({
    name,
    family: 'vit',
    paramCount: VIT_PARAM_COUNTS[name],
    create: (options) => new VisionTransformer(config, options),
    pretrained: Object.fromEntries(VIT_WEIGHTS[name as VitName].map((tag) => [tag, vitCfg(`timm/${name}.${tag}`, config.imgSize ?? 224, VIT_TAGS[tag])])),
    filterCheckpoint: resamplePosEmbedInStateDict,
    contract: IMAGE_CLASSIFICATION,
  })),
  ...Object.entries(TORCHVISION_VIT_VARIANTS).map(([name, config]: [string, VitConfig]): ModelEntry<VisionTransformer> => ({
    name,
    family: 'vit',
    paramCount: VIT_PARAM_COUNTS[name],
    create: (options) => new VisionTransformer(config, options),
    pretrained: TORCHVISION_WEIGHTS[name as keyof typeof TORCHVISION_VIT_VARIANTS],
    keyLayouts: { torchvision: torchvisionToTimm },
    filterCheckpoint: resamplePosEmbedInStateDict,
    contract: IMAGE_CLASSIFICATION,
  })),
];
