/**
 * XCiT — "XCiT: Cross-Covariance Image Transformers", El-Nouby et al., NeurIPS 2021. Reference
 * code: timm `models/xcit.py` (Xcit, ConvPatchEmbed, XCABlock, ClassAttentionBlock,
 * PositionalEncodingFourier, checkpoint_filter_fn) and facebookresearch/xcit `xcit.py`.
 *
 * Structure: a stack of stride-2 3×3 conv + BatchNorm layers (GELU between them) turns the image
 * into a grid of patch tokens (4 layers for 16 px patches, 3 for 8 px), a Fourier encoding of
 * the grid is added, then XCA blocks run: x += γ1·XCA(norm1 x) (channel attention,
 * src/nn/blocks/xca.ts), x += γ3·LPI(norm3 x) (depthwise convs on the grid, lpi.ts),
 * x += γ2·MLP(norm2 x). A class token is appended only after them and two class-attention
 * blocks (class-attention.ts) read the patches into it; `norm`, then `head` on the class token.
 * Nothing depends on the image size, so a model takes any size that is a multiple of its patch.
 *
 * Image sizes: timm asserts at build time that the image size is a multiple of the patch (it
 * checks the height twice, a typo) but its forward takes any size, its stride-2 convs rounding
 * each side up, so a 225 px side gives the grid of 240 px with a last row of patches that is
 * mostly padding. Here such an input is a ShapeError naming the multiples nearest to it.
 *
 * Checkpoint layout (timm, native here): `cls_token`, `patch_embed.proj.{0,2,4[,6]}.{0 conv,
 * 1 BatchNorm}`, `pos_embed.token_projection`, `blocks.{i}.{norm1, attn.{temperature, qkv, proj},
 * gamma1, norm3, local_mp.{conv1, bn, conv2}, gamma3, norm2, mlp.{fc1, fc2}, gamma2}`,
 * `cls_attn_blocks.{k}.{norm1, attn.{q, k, v, proj}, gamma1, norm2, mlp, gamma2}`, `norm`,
 * `head`. The official `.pth` files (under "model") name the encoding `pos_embeder.*` and fuse
 * class attention's q, k, v as `attn.qkv`; `xcitCheckpointFilter` maps them, as timm's
 * checkpoint_filter_fn does on every load.
 */
import { ArgumentError, formatShape, ShapeError } from '../errors.ts';
import { ClassAttentionBlock } from '../nn/blocks/class-attention.ts';
import { PositionalEncodingFourier } from '../nn/blocks/fourier-pos-embed.ts';
import { LPI } from '../nn/blocks/lpi.ts';
import { Mlp } from '../nn/blocks/mlp.ts';
import { XCA } from '../nn/blocks/xca.ts';
import { truncNormal02_, zeros_ } from '../nn/init.ts';
import { GELU } from '../nn/layers/activation.ts';
import { checkInt } from '../nn/layers/common.ts';
import { ConvNorm } from '../nn/layers/conv-bn-act.ts';
import { Conv2d } from '../nn/layers/conv.ts';
import { ModuleList, Sequential } from '../nn/layers/containers.ts';
import { DropPath, Dropout } from '../nn/layers/dropout.ts';
import { Identity, Linear } from '../nn/layers/linear.ts';
import { BatchNorm2d, LayerNorm } from '../nn/layers/norm.ts';
import { Module, type StateDict } from '../nn/module.ts';
import type { Parameter } from '../nn/parameter.ts';
import { runBlocks } from '../nn/run-blocks.ts';
import { noGrad } from '../tensor/autograd.ts';
import { empty, full } from '../tensor/creation.ts';
import { add, mul } from '../tensor/ops/elementwise.ts';
import { mean } from '../tensor/ops/reduce.ts';
import { cat, chunk, contiguous, expand, narrow, permute, reshape, select } from '../tensor/ops/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { IMAGENET_MEAN, IMAGENET_STD } from './constants.ts';
import type { CreateModelOptions, ModelEntry, PretrainedCfg } from './contract.ts';
import { IMAGE_CLASSIFICATION, featureTakeIndices, type FeatureInfo, type ImageClassifier, type ImageInputShape, type Intermediates, type IntermediatesOptions } from './image-classifier.ts';

/** How the tokens become one feature vector: the class token, the mean of the patch tokens, or none (all tokens). */
export type XcitGlobalPool = 'token' | 'avg' | '';

/** An XCiT architecture (timm's model_args). */
export interface XcitConfig {
  /** 16 or 8: four or three stride-2 convs in the patch embedding. */
  patchSize: 16 | 8;
  embedDim: number;
  depth: number;
  numHeads: number;
  /** LayerScale initial value of every gamma (1 for the 12-layer models, 1e-5 for the 24-layer ones). */
  eta: number;
  /** Class-attention blocks normalise every token, not only the class token (false for nano only). */
  tokensNorm: boolean;
  /** Image size of the default input spec (default 224); the model takes any multiple of the patch. */
  imgSize?: number;
  /** MLP hidden width / embedDim (default 4). */
  mlpRatio?: number;
  /** Class-attention blocks (default 2). */
  clsAttnLayers?: number;
}

/** Options of Xcit beyond the registry's: timm's create_model kwargs. */
export interface XcitOptions extends CreateModelOptions {
  /** Overrides the pooling (timm's global_pool; default 'token'). */
  globalPool?: XcitGlobalPool;
  /** Dropout after adding the position encoding (default 0). */
  posDropRate?: number;
  /** Dropout on the attention weights (default 0). */
  attnDropRate?: number;
  /** Dropout after the XCA blocks' projections (default 0; the class-attention blocks use dropRate, as timm). */
  projDropRate?: number;
}

const GLOBAL_POOLS: readonly XcitGlobalPool[] = ['token', 'avg', ''];

function checkPool(pool: string): XcitGlobalPool {
  if (!GLOBAL_POOLS.includes(pool as XcitGlobalPool)) throw new ArgumentError(`Xcit: globalPool must be one of 'token', 'avg', '', got '${pool}'`);
  return pool as XcitGlobalPool;
}

/** The sides nearest to `side` that are multiples of `patch` (one when side is below the patch). */
function nearestMultiples(side: number, patch: number): number[] {
  const below = Math.floor(side / patch) * patch;
  return below > 0 ? [below, below + patch] : [patch];
}

/**
 * timm's ConvPatchEmbed: [3×3 conv stride 2 (no bias) → BatchNorm] × log2(patch), GELU between
 * them; pixels [B, C, H, W] → tokens [B, N, D] row-major over the H/patch × W/patch grid.
 * Children `proj.{0,2,4[,6]}` are conv+norm pairs (`.0` conv, `.1` norm), as timm's Sequential.
 */
export class ConvPatchEmbed extends Module {
  readonly patchSize: number;
  readonly proj: Sequential;

  constructor(patchSize: 16 | 8, inChans: number, embedDim: number) {
    super();
    if (patchSize !== 16 && patchSize !== 8) throw new ArgumentError(`ConvPatchEmbed: patchSize must be 16 or 8, got ${String(patchSize)}`);
    checkInt('ConvPatchEmbed', 'embedDim', embedDim, 1);
    if (embedDim % (patchSize / 2) !== 0) throw new ArgumentError(`ConvPatchEmbed: embedDim ${embedDim} must be divisible by ${patchSize / 2} (the first conv of a ${patchSize} px patch is ${patchSize / 2} times narrower)`);
    this.patchSize = patchSize;
    const layers = Math.log2(patchSize);
    const widths = [inChans, ...Array.from({ length: layers }, (_, i) => embedDim / 2 ** (layers - 1 - i))];
    this.proj = this.module('proj', new Sequential());
    for (let i = 0; i < layers; ++i) {
      if (i > 0) this.proj.append(new GELU());
      const conv = new Conv2d(widths[i], widths[i + 1], 3, { stride: 2, padding: 1, bias: false });
      this.proj.append(new ConvNorm(conv, new BatchNorm2d(widths[i + 1])));
    }
  }

  /** Patch grid [h, w] of an image, or a ShapeError naming the sizes allowed. */
  gridOf(H: number, W: number): [number, number] {
    const p = this.patchSize;
    if (H % p !== 0 || W % p !== 0) {
      const bad = [H, W].filter((s) => s % p !== 0).map((s) => `${nearestMultiples(s, p).join(' or ')} instead of ${s}`);
      throw new ShapeError(`XCiT: input ${H}×${W} has a side that is not a multiple of the patch size ${p}; the model takes any multiple of ${p} (${bad.join('; ')})`);
    }
    return [H / p, W / p];
  }

  /** pixels [B, C, H, W] → tokens [B, N, D] and their grid [H/p, W/p]. */
  override forward(x: Tensor): { tokens: Tensor; grid: [number, number] } {
    if (x.ndim !== 4) throw new ShapeError(`ConvPatchEmbed: expected pixels [B, C, H, W], got shape ${formatShape(x.shape)}`);
    const grid = this.gridOf(x.shape[2], x.shape[3]);
    const y = this.proj.forward(x); // (B, D, h, w)
    const [B, D, h, w] = y.shape;
    return { tokens: reshape(permute(y, [0, 2, 3, 1]), [B, h * w, D]), grid }; // (B, N, D)
  }
}

// x + dropPath(γ·y), γ being a LayerScale gain.
function scaledResidual(x: Tensor, y: Tensor, gamma: Parameter, dropPath: DropPath | null): Tensor {
  y = mul(y, gamma);
  return add(x, dropPath ? dropPath.forward(y) : y);
}

/** Options of XCABlock. */
export interface XcaBlockOptions {
  mlpRatio?: number;
  eta?: number;
  projDrop?: number;
  attnDrop?: number;
  dropPath?: number;
}

/** timm's XCABlock: XCA, then LPI, then MLP, each pre-norm with a LayerScale gain (names norm1/gamma1, norm3/gamma3, norm2/gamma2). */
export class XCABlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn: XCA;
  readonly norm3: LayerNorm;
  readonly localMp: LPI;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  readonly gamma1: Parameter;
  readonly gamma3: Parameter;
  readonly gamma2: Parameter;
  readonly dropPath1: DropPath | null;
  readonly dropPath3: DropPath | null;
  readonly dropPath2: DropPath | null;

  constructor(dim: number, numHeads: number, options: XcaBlockOptions = {}) {
    super();
    const norm = () => new LayerNorm(dim, { eps: 1e-6 });
    const dropPath = (name: string) => ((options.dropPath ?? 0) > 0 ? this.module(name, new DropPath(options.dropPath)) : null);
    this.norm1 = this.module('norm1', norm());
    this.attn = this.module('attn', new XCA(dim, numHeads, { qkvBias: true, attnDrop: options.attnDrop, projDrop: options.projDrop }));
    this.dropPath1 = dropPath('drop_path1');
    this.norm3 = this.module('norm3', norm());
    this.localMp = this.module('local_mp', new LPI(dim));
    this.dropPath3 = dropPath('drop_path3');
    this.norm2 = this.module('norm2', norm());
    this.mlp = this.module('mlp', new Mlp(dim, { hiddenFeatures: Math.trunc(dim * (options.mlpRatio ?? 4)), drop: options.projDrop }));
    this.dropPath2 = dropPath('drop_path2');
    const eta = options.eta ?? 1;
    this.gamma1 = this.param('gamma1', full([dim], eta));
    this.gamma3 = this.param('gamma3', full([dim], eta));
    this.gamma2 = this.param('gamma2', full([dim], eta));
  }

  /** tokens [B, N, D] of an H×W grid → [B, N, D]. */
  override forward(x: Tensor, H: number, W: number): Tensor {
    x = scaledResidual(x, this.attn.forward(this.norm1.forward(x)), this.gamma1, this.dropPath1);
    // The official order, LPI (3) before the MLP (2), which the checkpoints' names keep.
    x = scaledResidual(x, this.localMp.forward(this.norm3.forward(x), H, W), this.gamma3, this.dropPath3);
    return scaledResidual(x, this.mlp.forward(this.norm2.forward(x)), this.gamma2, this.dropPath2);
  }
}

/** timm's Xcit: conv patch embedding + Fourier encoding, XCA blocks, class token, class-attention blocks, norm, head. */
export class Xcit extends Module implements ImageClassifier {
  numClasses: number;
  readonly numFeatures: number;
  readonly embedDim: number;
  readonly imgSize: number;
  globalPool: XcitGlobalPool;
  readonly patchEmbed: ConvPatchEmbed;
  readonly clsToken: Parameter;
  readonly posEmbed: PositionalEncodingFourier;
  readonly posDrop: Dropout;
  readonly blocks: ModuleList<XCABlock>;
  readonly clsAttnBlocks: ModuleList<ClassAttentionBlock>;
  readonly norm: LayerNorm;
  readonly headDrop: Dropout;
  head: Linear | null;
  readonly inputShape: ImageInputShape;
  /** Every XCA block's output, at the patch stride (timm's feature_info). */
  readonly featureInfo: FeatureInfo[];

  constructor(config: XcitConfig, options: XcitOptions = {}) {
    super();
    const { patchSize, embedDim, depth, numHeads, eta, tokensNorm } = config;
    for (const key of ['embedDim', 'depth', 'numHeads'] as const) checkInt('Xcit', key, config[key], 1);
    this.imgSize = options.imgSize ?? config.imgSize ?? 224;
    checkInt('Xcit', 'imgSize', this.imgSize, patchSize);
    if (this.imgSize % patchSize !== 0) throw new ArgumentError(`Xcit: imgSize ${this.imgSize} must be a multiple of the patch size ${patchSize}`);
    this.embedDim = this.numFeatures = embedDim;
    this.globalPool = checkPool(options.globalPool ?? 'token');
    const inChans = options.inChans ?? 3;
    this.patchEmbed = this.module('patch_embed', new ConvPatchEmbed(patchSize, inChans, embedDim));
    this.clsToken = this.param('cls_token', empty([1, 1, embedDim]));
    this.posEmbed = this.module('pos_embed', new PositionalEncodingFourier(embedDim));
    this.posDrop = this.module('pos_drop', new Dropout(options.posDropRate ?? 0));
    const mlpRatio = config.mlpRatio ?? 4;
    // timm's stochastic depth rate is the same in every XCA block and absent from the class-attention blocks.
    this.blocks = this.module('blocks', new ModuleList(Array.from({ length: depth }, () => new XCABlock(embedDim, numHeads, {
      mlpRatio, eta, projDrop: options.projDropRate, attnDrop: options.attnDropRate, dropPath: options.dropPathRate,
    }))));
    this.clsAttnBlocks = this.module('cls_attn_blocks', new ModuleList(Array.from({ length: config.clsAttnLayers ?? 2 }, () => new ClassAttentionBlock(embedDim, numHeads, {
      mlpRatio, eta, tokensNorm, qkvBias: true, projDrop: options.dropRate, attnDrop: options.attnDropRate,
    }))));
    this.norm = this.module('norm', new LayerNorm(embedDim, { eps: 1e-6 }));
    this.headDrop = this.module('head_drop', new Dropout(options.dropRate ?? 0));
    this.numClasses = options.numClasses ?? 1000;
    this.head = this.numClasses > 0 ? this.module('head', new Linear(embedDim, this.numClasses)) : null;
    this.inputShape = { inChans, fixedSize: null, multipleOf: patchSize };
    this.featureInfo = Array.from({ length: depth }, (_, i) => ({ module: `blocks.${i}`, numChannels: embedDim, reduction: patchSize }));
    this.initWeights();
  }

  /** [D] pooled; all tokens [1 + N, D] at the built image size with no pooling. */
  get pooledShape(): number[] {
    return this.globalPool === '' ? [1 + (this.imgSize / this.patchEmbed.patchSize) ** 2, this.embedDim] : [this.embedDim];
  }

  // timm's init: trunc_normal_(std=0.02) class token and Linear weights, zero Linear biases;
  // convolutions, norms, temperatures (1) and gammas (eta) keep their own.
  private initWeights(): void {
    noGrad(() => {
      truncNormal02_(this.clsToken);
      for (const [, m] of this.namedModules()) {
        if (!(m instanceof Linear)) continue;
        truncNormal02_(m.weight);
        if (m.bias) zeros_(m.bias);
      }
    });
  }

  // pixels [B, C, H, W] → position-encoded patch tokens [B, N, D] and their grid.
  #embed(x: Tensor): { tokens: Tensor; grid: [number, number] } {
    const { tokens, grid } = this.patchEmbed.forward(x);
    const [, N, D] = tokens.shape;
    const pos = permute(this.posEmbed.forward(grid[0], grid[1]), [0, 2, 3, 1]); // (1, h, w, D)
    return { tokens: this.posDrop.forward(add(tokens, reshape(pos, [1, N, D]))), grid }; // (B, N, D)
  }

  // Patch tokens [B, N, D] → [cls, patches] through the class-attention blocks and the norm, [B, 1 + N, D].
  #classAttend(x: Tensor): Tensor {
    const [B, , D] = x.shape;
    const t = runBlocks(cat([expand(this.clsToken, [B, 1, D]), x], 1), this.clsAttnBlocks);
    return this.norm.forward(t);
  }

  /** pixels [B, C, H, W] → normalized tokens [B, 1 + N, D], the class token first. */
  forwardFeatures(x: Tensor): Tensor {
    const { tokens, grid } = this.#embed(x);
    return this.#classAttend(runBlocks(tokens, [...this.blocks].map((b) => (t: Tensor) => b.forward(t, grid[0], grid[1]))));
  }

  /** XCA block outputs as timm's forward_intermediates: maps [B, D, h, w] (NCHW) or tokens [B, N, D] (NLC); features as forwardFeatures. */
  forwardIntermediates(x: Tensor, options: IntermediatesOptions = {}): Intermediates {
    const { take, maxIndex } = featureTakeIndices(this.blocks.length, options.indices);
    const { tokens, grid } = this.#embed(x);
    const [B, , D] = tokens.shape;
    let t = tokens;
    const intermediates: Tensor[] = [];
    [...this.blocks].slice(0, options.stopEarly ? maxIndex + 1 : undefined).forEach((block, i) => {
      t = block.forward(t, grid[0], grid[1]);
      if (!take.includes(i)) return;
      const y = options.norm ? this.norm.forward(t) : t;
      intermediates.push(options.outputFmt === 'NLC' ? y : contiguous(permute(reshape(y, [B, grid[0], grid[1], D]), [0, 3, 1, 2]))); // (B, D, h, w)
    });
    return { features: options.intermediatesOnly ? null : this.#classAttend(t), intermediates };
  }

  /** Token pooling as timm's forward_head: class token, mean of the patch tokens, or all tokens. */
  pool(x: Tensor, pool: XcitGlobalPool = this.globalPool): Tensor {
    if (pool === 'token') return select(x, 1, 0); // (B, D)
    if (pool === 'avg') return mean(narrow(x, 1, 1, x.shape[1] - 1), 1); // (B, D)
    return x;
  }

  forwardHead(x: Tensor, options: { preLogits?: boolean } = {}): Tensor {
    x = this.headDrop.forward(this.pool(x));
    return options.preLogits || !this.head ? x : this.head.forward(x);
  }

  forward(x: Tensor): Tensor {
    return this.forwardHead(this.forwardFeatures(x));
  }

  /** A fresh head for numClasses (0 removes it); optionally another pooling. */
  resetClassifier(numClasses: number, globalPool?: XcitGlobalPool): void {
    if (globalPool !== undefined) this.globalPool = checkPool(globalPool);
    this.numClasses = numClasses;
    this.head = numClasses > 0 ? new Linear(this.embedDim, numClasses) : null;
    // An Identity in place of a removed head keeps its old parameters out of the state dict (timm's nn.Identity).
    this.module('head', this.head ?? new Identity());
  }
}

const FUSED_CLASS_QKV = /^cls_attn_blocks\.(\d+)\.attn\.qkv\.(weight|bias)$/;

/**
 * timm's checkpoint_filter_fn for XCiT, pure: the official checkpoints' `pos_embeder.*` renamed
 * `pos_embed.*`, and their fused class-attention `cls_attn_blocks.{k}.attn.qkv.{weight,bias}`
 * split by rows into `attn.q`, `attn.k`, `attn.v`. A checkpoint in timm's names passes unchanged.
 */
export function xcitCheckpointFilter(sd: StateDict): StateDict {
  const out: StateDict = new Map();
  for (const [key, value] of sd) {
    const name = key.replace(/^pos_embeder\./, 'pos_embed.');
    const fused = FUSED_CLASS_QKV.exec(name);
    if (!fused) {
      out.set(name, value);
      continue;
    }
    const parts = chunk(value, 3, 0); // q, k, v rows
    ['q', 'k', 'v'].forEach((p, j) => out.set(`cls_attn_blocks.${fused[1]}.attn.${p}.${fused[2]}`, parts[j]));
  }
  return out;
}

const NANO_12 = { embedDim: 128, depth: 12, numHeads: 4, eta: 1.0, tokensNorm: false };
const TINY_12 = { embedDim: 192, depth: 12, numHeads: 4, eta: 1.0, tokensNorm: true };
const SMALL_12 = { embedDim: 384, depth: 12, numHeads: 8, eta: 1.0, tokensNorm: true };
const TINY_24 = { embedDim: 192, depth: 24, numHeads: 4, eta: 1e-5, tokensNorm: true };
const SMALL_24 = { embedDim: 384, depth: 24, numHeads: 8, eta: 1e-5, tokensNorm: true };
const MEDIUM_24 = { embedDim: 512, depth: 24, numHeads: 8, eta: 1e-5, tokensNorm: true };
const LARGE_24 = { embedDim: 768, depth: 24, numHeads: 16, eta: 1e-5, tokensNorm: true };

/** timm's XCiT variants (xcit.py model_args): 7 sizes × patch 16 and 8 × 224 and 384 px. */
export const XCIT_VARIANTS = {
  xcit_nano_12_p16_224: { ...NANO_12, patchSize: 16 },
  xcit_nano_12_p16_384: { ...NANO_12, patchSize: 16, imgSize: 384 },
  xcit_tiny_12_p16_224: { ...TINY_12, patchSize: 16 },
  xcit_tiny_12_p16_384: { ...TINY_12, patchSize: 16, imgSize: 384 },
  xcit_small_12_p16_224: { ...SMALL_12, patchSize: 16 },
  xcit_small_12_p16_384: { ...SMALL_12, patchSize: 16, imgSize: 384 },
  xcit_tiny_24_p16_224: { ...TINY_24, patchSize: 16 },
  xcit_tiny_24_p16_384: { ...TINY_24, patchSize: 16, imgSize: 384 },
  xcit_small_24_p16_224: { ...SMALL_24, patchSize: 16 },
  xcit_small_24_p16_384: { ...SMALL_24, patchSize: 16, imgSize: 384 },
  xcit_medium_24_p16_224: { ...MEDIUM_24, patchSize: 16 },
  xcit_medium_24_p16_384: { ...MEDIUM_24, patchSize: 16, imgSize: 384 },
  xcit_large_24_p16_224: { ...LARGE_24, patchSize: 16 },
  xcit_large_24_p16_384: { ...LARGE_24, patchSize: 16, imgSize: 384 },
  xcit_nano_12_p8_224: { ...NANO_12, patchSize: 8 },
  xcit_nano_12_p8_384: { ...NANO_12, patchSize: 8, imgSize: 384 },
  xcit_tiny_12_p8_224: { ...TINY_12, patchSize: 8 },
  xcit_tiny_12_p8_384: { ...TINY_12, patchSize: 8, imgSize: 384 },
  xcit_small_12_p8_224: { ...SMALL_12, patchSize: 8 },
  xcit_small_12_p8_384: { ...SMALL_12, patchSize: 8, imgSize: 384 },
  xcit_tiny_24_p8_224: { ...TINY_24, patchSize: 8 },
  xcit_tiny_24_p8_384: { ...TINY_24, patchSize: 8, imgSize: 384 },
  xcit_small_24_p8_224: { ...SMALL_24, patchSize: 8 },
  xcit_small_24_p8_384: { ...SMALL_24, patchSize: 8, imgSize: 384 },
  xcit_medium_24_p8_224: { ...MEDIUM_24, patchSize: 8 },
  xcit_medium_24_p8_384: { ...MEDIUM_24, patchSize: 8, imgSize: 384 },
  xcit_large_24_p8_224: { ...LARGE_24, patchSize: 8 },
  xcit_large_24_p8_384: { ...LARGE_24, patchSize: 8, imgSize: 384 },
} satisfies Record<string, XcitConfig>;

/**
 * timm's XCiT _cfg: Facebook's weights at 224 px (fb_in1k, then the distilled fb_dist_in1k) and,
 * for the 384 px models, the distilled ones only; bicubic, crop 1.0, ImageNet mean/std.
 */
export function xcitCfg(name: string, tag: string, imgSize: number): PretrainedCfg {
  return {
    hubId: `timm/${name}.${tag}`, numClasses: 1000, firstConv: 'patch_embed.proj.0.0', classifier: 'head', license: 'apache-2.0', labelSet: 'imagenet-1k',
    preprocess: { image: { inputSize: [3, imgSize, imgSize], cropPct: 1.0, interpolation: 'bicubic', mean: IMAGENET_MEAN, std: IMAGENET_STD } },
  };
}

/** Parameter counts with the default head, as timm reports them (checked by test/models/registry.test.ts). */
const XCIT_PARAM_COUNTS: Record<string, number> = {
  xcit_nano_12_p16: 3_053_224,
  xcit_tiny_12_p16: 6_716_272,
  xcit_small_12_p16: 26_253_304,
  xcit_tiny_24_p16: 12_116_896,
  xcit_small_24_p16: 47_671_384,
  xcit_medium_24_p16: 84_395_752,
  xcit_large_24_p16: 189_096_136,
  xcit_nano_12_p8: 3_049_016,
  xcit_tiny_12_p8: 6_706_504,
  xcit_small_12_p8: 26_213_032,
  xcit_tiny_24_p8: 12_107_128,
  xcit_small_24_p8: 47_631_112,
  xcit_medium_24_p8: 84_323_624,
  xcit_large_24_p8: 188_932_648,
};

/** Registry entries of the family. */
export const XCIT_MODELS: ModelEntry<Xcit>[] = Object.entries(XCIT_VARIANTS).map(([name, config]: [string, XcitConfig]) => {
  const imgSize = config.imgSize ?? 224;
  const tags = imgSize === 384 ? ['fb_dist_in1k'] : ['fb_in1k', 'fb_dist_in1k'];
  return {
    name,
    family: 'xcit',
    // The parameters do not depend on the image size: both sizes of an architecture share a count.
    paramCount: XCIT_PARAM_COUNTS[name.slice(0, name.lastIndexOf('_'))],
    create: (options) => new Xcit(config, options),
    pretrained: Object.fromEntries(tags.map((tag) => [tag, xcitCfg(name, tag, imgSize)])),
    filterCheckpoint: xcitCheckpointFilter,
    contract: IMAGE_CLASSIFICATION,
  };
});
