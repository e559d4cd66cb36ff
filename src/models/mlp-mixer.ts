/**
 * MLP-Mixer — "MLP-Mixer: An all-MLP Architecture for Vision", Tolstikhin et al., NeurIPS 2021.
 * Reference code: timm `models/mlp_mixer.py` (MlpMixer with MixerBlock: pre-norm LayerNorm eps
 * 1e-6, exact GELU — Google's JAX code uses the tanh form, timm's port of its weights does not —
 * no position embedding, no class token, mean over tokens before the head).
 *
 * Checkpoint layout: timm's names, native here — `stem.proj` (the patch conv),
 * `blocks.{i}.{norm1, mlp_tokens.fc1, mlp_tokens.fc2, norm2, mlp_channels.fc1, mlp_channels.fc2}`,
 * `norm`, `head`. The token MLP's weights are sized by the patch grid (fc1 [tokens, N], fc2
 * [N, tokens]), so a model takes only the image size it was built for, as timm's.
 */
import { ArgumentError, ShapeError, formatShape } from '../errors.ts';
import { Mlp } from '../nn/blocks/mlp.ts';
import { PatchEmbed } from '../nn/blocks/patch-embed.ts';
import { constant_, lecunNormal_, normal_, ones_, xavierUniform_, zeros_ } from '../nn/init.ts';
import { checkInt } from '../nn/layers/common.ts';
import { ModuleList } from '../nn/layers/containers.ts';
import { Conv2d } from '../nn/layers/conv.ts';
import { DropPath, Dropout } from '../nn/layers/dropout.ts';
import { Identity, Linear } from '../nn/layers/linear.ts';
import { LayerNorm } from '../nn/layers/norm.ts';
import { Module } from '../nn/module.ts';
import { runBlocks } from '../nn/run-blocks.ts';
import { noGrad } from '../tensor/autograd.ts';
import { add } from '../tensor/ops/elementwise.ts';
import { mean } from '../tensor/ops/reduce.ts';
import { contiguous, permute, reshape, transpose } from '../tensor/ops/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { INCEPTION_MEAN, INCEPTION_STD } from './constants.ts';
import type { CreateModelOptions, ImagePreprocessCfg, ModelEntry, PretrainedCfg } from './contract.ts';
import { IMAGE_CLASSIFICATION, featureTakeIndices, type FeatureInfo, type ImageClassifier, type ImageInputShape, type Intermediates, type IntermediatesOptions } from './image-classifier.ts';

/** How the tokens become one feature vector: their mean, or none (all tokens). */
export type MixerGlobalPool = 'avg' | '';

/** An MLP-Mixer architecture (timm's model_args). */
export interface MixerConfig {
  patchSize: number;
  embedDim: number;
  numBlocks: number;
  /** Hidden widths of the token and channel MLPs as multiples of embedDim (default [0.5, 4]). */
  mlpRatio?: readonly [number, number];
}

/** Options of MlpMixer beyond the registry's: timm's create_model kwargs. */
export interface MixerOptions extends CreateModelOptions {
  /** Default 'avg'. */
  globalPool?: MixerGlobalPool;
  /** Dropout after each MLP's activation and output (default 0). */
  projDropRate?: number;
  /** Start the head bias at −log(numClasses) instead of 0 (timm's nlhb). */
  nlhb?: boolean;
}

/** Options of MixerBlock. */
export interface MixerBlockOptions {
  /** Hidden widths of the token and channel MLPs as multiples of dim (default [0.5, 4]). */
  mlpRatio?: readonly [number, number];
  /** Dropout inside both MLPs (default 0). */
  drop?: number;
  /** Stochastic depth rate of both residual branches (default 0). */
  dropPath?: number;
}

/** timm's MixerBlock: a token-mixing MLP across the N tokens of each channel, then a channel MLP per token, each pre-norm and residual. */
export class MixerBlock extends Module {
  readonly norm1: LayerNorm;
  readonly mlpTokens: Mlp;
  readonly dropPath: DropPath | null;
  readonly norm2: LayerNorm;
  readonly mlpChannels: Mlp;

  constructor(dim: number, seqLen: number, options: MixerBlockOptions = {}) {
    super();
    const [tokenRatio, channelRatio] = options.mlpRatio ?? [0.5, 4];
    this.norm1 = this.module('norm1', new LayerNorm(dim, { eps: 1e-6 }));
    this.mlpTokens = this.module('mlp_tokens', new Mlp(seqLen, { hiddenFeatures: Math.trunc(tokenRatio * dim), drop: options.drop }));
    this.dropPath = (options.dropPath ?? 0) > 0 ? this.module('drop_path', new DropPath(options.dropPath)) : null;
    this.norm2 = this.module('norm2', new LayerNorm(dim, { eps: 1e-6 }));
    this.mlpChannels = this.module('mlp_channels', new Mlp(dim, { hiddenFeatures: Math.trunc(channelRatio * dim), drop: options.drop }));
  }

  /** tokens [B, N, dim] → [B, N, dim]. */
  override forward(x: Tensor): Tensor {
    const mixed = this.mlpTokens.forward(transpose(this.norm1.forward(x), 1, 2)); // (B, dim, N): the token MLP runs over N
    const tokenBranch = transpose(mixed, 1, 2); // (B, N, dim)
    x = add(x, this.dropPath ? this.dropPath.forward(tokenBranch) : tokenBranch);
    // Without stochastic depth the channel MLP adds the skip itself (inside fc2's matmul at inference).
    if (this.dropPath) return add(x, this.dropPath.forward(this.mlpChannels.forward(this.norm2.forward(x))));
    return this.mlpChannels.forward(this.norm2.forward(x), x);
  }
}

/** timm's MlpMixer: patch embedding, MixerBlocks, final LayerNorm, mean over tokens, head. */
export class MlpMixer extends Module implements ImageClassifier {
  numClasses: number;
  readonly numFeatures: number;
  readonly embedDim: number;
  globalPool: MixerGlobalPool;
  readonly stem: PatchEmbed;
  readonly blocks: ModuleList<MixerBlock>;
  readonly norm: LayerNorm;
  readonly headDrop: Dropout;
  head: Linear | null;
  readonly inputShape: ImageInputShape;
  /** Every block's output, at the patch stride (timm's feature_info). */
  readonly featureInfo: FeatureInfo[];

  constructor(config: MixerConfig, options: MixerOptions = {}) {
    super();
    for (const key of ['patchSize', 'embedDim', 'numBlocks'] as const) checkInt('MlpMixer', key, config[key], 1);
    const { patchSize, embedDim } = config;
    this.globalPool = checkPool(options.globalPool ?? 'avg');
    this.embedDim = this.numFeatures = embedDim;
    const imgSize = options.imgSize ?? 224;
    const inChans = options.inChans ?? 3;
    if (imgSize < patchSize) throw new ArgumentError(`MlpMixer: imgSize ${imgSize} is smaller than the patch size ${patchSize}`);
    this.stem = this.module('stem', new PatchEmbed({ imgSize, patchSize, inChans, embedDim }));
    const blockOptions = { mlpRatio: config.mlpRatio, drop: options.projDropRate, dropPath: options.dropPathRate };
    // timm gives every block the same stochastic depth rate (no linear schedule).
    this.blocks = this.module('blocks', new ModuleList(Array.from({ length: config.numBlocks }, () => new MixerBlock(embedDim, this.stem.numPatches, blockOptions))));
    this.norm = this.module('norm', new LayerNorm(embedDim, { eps: 1e-6 }));
    this.headDrop = this.module('head_drop', new Dropout(options.dropRate ?? 0));
    this.numClasses = options.numClasses ?? 1000;
    this.head = this.numClasses > 0 ? this.module('head', new Linear(embedDim, this.numClasses)) : null;
    this.inputShape = { inChans, fixedSize: [imgSize, imgSize] };
    this.featureInfo = Array.from({ length: config.numBlocks }, (_, i) => ({ module: `blocks.${i}`, numChannels: embedDim, reduction: patchSize }));
    this.initWeights(options.nlhb ?? false);
  }

  /** [D] pooled; all tokens [N, D] with no pooling. */
  get pooledShape(): number[] {
    return this.globalPool === '' ? [this.stem.numPatches, this.embedDim] : [this.embedDim];
  }

  // timm's _init_weights (not its flax variant): a zero head with bias 0 (or −log(classes) with
  // nlhb), Xavier-uniform Linear weights with N(0, 1e-6) biases (every Linear but the head sits in
  // an MLP, token or channel), a LeCun-normal patch conv with zero bias, unit LayerNorms.
  private initWeights(nlhb: boolean): void {
    noGrad(() => {
      for (const [name, m] of this.namedModules()) {
        if (m instanceof Linear) {
          if (name === 'head') {
            zeros_(m.weight);
            constant_(m.bias!, nlhb ? -Math.log(this.numClasses) : 0);
          } else {
            xavierUniform_(m.weight);
            normal_(m.bias!, 0, 1e-6);
          }
        } else if (m instanceof Conv2d) {
          lecunNormal_(m.weight);
          zeros_(m.bias!);
        } else if (m instanceof LayerNorm) {
          ones_(m.weight!);
          zeros_(m.bias!);
        }
      }
    });
  }

  // The token MLPs are sized by the grid: any other size is refused before the stem runs.
  #checkSize(x: Tensor): void {
    const [size] = this.inputShape.fixedSize!;
    if (x.ndim !== 4 || x.shape[2] !== size || x.shape[3] !== size) {
      const grid = this.stem.gridSize;
      throw new ShapeError(
        `MlpMixer: expected pixels [B, ${this.inputShape.inChans}, ${size}, ${size}], got ${formatShape(x.shape)}; the model takes only ${size}×${size}, ` +
        `the size its token-mixing MLPs were built for (a ${grid[0]}×${grid[1]} patch grid); resize the input (in code, { imgSize: N } builds one for another size)`,
      );
    }
  }

  /** pixels [B, C, H, W] → normalized tokens [B, N, D]. */
  forwardFeatures(x: Tensor): Tensor {
    this.#checkSize(x);
    return this.norm.forward(runBlocks(this.stem.forward(x), this.blocks));
  }

  /** Block outputs as timm's forward_intermediates: maps [B, D, h, w] of the token grid (NCHW) or tokens [B, N, D] (NLC). */
  forwardIntermediates(x: Tensor, options: IntermediatesOptions = {}): Intermediates {
    const { take, maxIndex } = featureTakeIndices(this.blocks.length, options.indices);
    this.#checkSize(x);
    const [B] = x.shape;
    const [h, w] = this.stem.gridSize;
    let t = this.stem.forward(x);
    const intermediates: Tensor[] = [];
    const blocks = [...this.blocks].slice(0, options.stopEarly ? maxIndex + 1 : undefined);
    blocks.forEach((block, i) => {
      t = block.forward(t);
      if (!take.includes(i)) return;
      const y = options.norm ? this.norm.forward(t) : t;
      intermediates.push(options.outputFmt === 'NLC' ? y : contiguous(permute(reshape(y, [B, h, w, this.embedDim]), [0, 3, 1, 2]))); // (B, D, h, w)
    });
    return { features: options.intermediatesOnly ? null : this.norm.forward(t), intermediates };
  }

  /** Mean over tokens (with 'avg') and head; with preLogits, the pooled features. */
  forwardHead(x: Tensor, options: { preLogits?: boolean } = {}): Tensor {
    if (this.globalPool === 'avg') x = mean(x, 1); // (B, D)
    x = this.headDrop.forward(x);
    return options.preLogits || !this.head ? x : this.head.forward(x);
  }

  /** pixels [B, C, H, W] → logits [B, numClasses]. */
  forward(x: Tensor): Tensor {
    return this.forwardHead(this.forwardFeatures(x));
  }

  /** A fresh head for numClasses (0 removes it); optionally another pooling. */
  resetClassifier(numClasses: number, globalPool?: MixerGlobalPool): void {
    if (globalPool !== undefined) this.globalPool = checkPool(globalPool);
    this.numClasses = numClasses;
    this.head = numClasses > 0 ? new Linear(this.embedDim, numClasses) : null;
    // An Identity in place of a removed head keeps its old parameters out of the state dict (timm's nn.Identity).
    this.module('head', this.head ?? new Identity());
  }
}

function checkPool(pool: string): MixerGlobalPool {
  if (pool !== 'avg' && pool !== '') throw new ArgumentError(`MlpMixer: globalPool must be 'avg' or '', got '${pool}'`);
  return pool;
}

/** timm's MLP-Mixer variants (mlp_mixer.py model_args). */
export const MIXER_VARIANTS = {
  mixer_s32_224: { patchSize: 32, numBlocks: 8, embedDim: 512 },
  mixer_s16_224: { patchSize: 16, numBlocks: 8, embedDim: 512 },
  mixer_b32_224: { patchSize: 32, numBlocks: 12, embedDim: 768 },
  mixer_b16_224: { patchSize: 16, numBlocks: 12, embedDim: 768 },
  mixer_l32_224: { patchSize: 32, numBlocks: 24, embedDim: 1024 },
  mixer_l16_224: { patchSize: 16, numBlocks: 24, embedDim: 1024 },
} satisfies Record<string, MixerConfig>;

type MixerName = keyof typeof MIXER_VARIANTS;

/** What a Mixer weight tag changes from timm's Mixer _cfg. */
type MixerCfgChanges = Partial<Omit<PretrainedCfg, 'preprocess'>> & { image?: Partial<ImagePreprocessCfg> };

// timm's Mixer tags. Google's weights (goog_*) keep the _cfg; Alibaba MIIL's ImageNet-21K-P ones
// (miil_*) read pixels /255 only, bilinear; their 21k head has 11221 classes (the winter-2021
// label set), Google's 21843. 'untrained' names an architecture timm has no weights for.
const MIXER_TAGS = {
  goog_in21k_ft_in1k: {},
  goog_in21k: { numClasses: 21843, labelSet: 'imagenet-21k' },
  miil_in21k: { numClasses: 11221, labelSet: 'imagenet-21k-p', image: { mean: [0, 0, 0], std: [1, 1, 1], interpolation: 'bilinear' } },
  miil_in21k_ft_in1k: { image: { mean: [0, 0, 0], std: [1, 1, 1], interpolation: 'bilinear' } },
  untrained: { hubId: undefined },
} satisfies Record<string, MixerCfgChanges>;

/** Each variant's tags in timm's order (the first is the default). */
const MIXER_WEIGHTS: Record<MixerName, (keyof typeof MIXER_TAGS)[]> = {
  mixer_s32_224: ['untrained'],
  mixer_s16_224: ['untrained'],
  mixer_b32_224: ['untrained'],
  mixer_b16_224: ['goog_in21k_ft_in1k', 'goog_in21k', 'miil_in21k', 'miil_in21k_ft_in1k'],
  mixer_l32_224: ['untrained'],
  mixer_l16_224: ['goog_in21k_ft_in1k', 'goog_in21k'],
};

// timm's Mixer _cfg: 224, bicubic, crop 0.875, mean = std = 0.5, a fixed input size.
function mixerCfg(name: string, tag: keyof typeof MIXER_TAGS): PretrainedCfg {
  const { image, ...over }: MixerCfgChanges = MIXER_TAGS[tag];
  return {
    hubId: `timm/${name}.${tag}`, numClasses: 1000, firstConv: 'stem.proj', classifier: 'head', license: 'apache-2.0', labelSet: 'imagenet-1k', ...over,
    preprocess: { image: { inputSize: [3, 224, 224], cropPct: 0.875, interpolation: 'bicubic', mean: INCEPTION_MEAN, std: INCEPTION_STD, ...image } },
  };
}

/** Parameter counts with the default head, as timm reports them (checked by test/models/registry.test.ts). */
const MIXER_PARAM_COUNTS: Record<MixerName, number> = {
  mixer_s32_224: 19_104_624,
  mixer_s16_224: 18_528_264,
  mixer_b32_224: 60_293_428,
  mixer_b16_224: 59_880_472,
  mixer_l32_224: 206_939_264,
  mixer_l16_224: 208_196_168,
};

/** Registry entries of the family. */
export const MIXER_MODELS: ModelEntry<MlpMixer>[] = Object.entries(MIXER_VARIANTS).map(([name, config]: [string, MixerConfig]) => ({
  name,
  family: 'mlp-mixer',
  paramCount: MIXER_PARAM_COUNTS[name as MixerName],
  create: (options) => new MlpMixer(config, options),
  pretrained: Object.fromEntries(MIXER_WEIGHTS[name as MixerName].map((tag) => [tag, mixerCfg(name, tag)])),
  contract: IMAGE_CLASSIFICATION,
}));
