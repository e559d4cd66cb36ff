/**
 * ConvMixer — "Patches Are All You Need?", Trockman & Kolter, TMLR 2023. Reference code: timm
 * `models/convmixer.py` (the authors' locuslab/convmixer, module for module). A patch conv
 * (kernel = stride = patch) then `depth` blocks at that one resolution: a residual depthwise conv
 * with 'same' padding (spatial mixing), then a pointwise conv (channel mixing, not residual).
 * Every conv is followed by its activation and then BatchNorm — activation before the norm — with
 * GELU, except convmixer_768_32, which uses ReLU. Global average pool, then `head`; no final norm.
 *
 * Checkpoint layout: timm's names, which are nn.Sequential positions — `stem.{0 conv, 2 BN}`,
 * `blocks.{i}.0.fn.{0 depthwise conv, 2 BN}` (the residual branch), `blocks.{i}.{1 pointwise
 * conv, 3 BN}`, `head`. Weight init: PyTorch's module defaults (timm's ConvMixer has no init of its own).
 */
import { ShapeError, formatShape } from '../errors.ts';
import { ConvActNorm, convActNorm } from '../nn/blocks/conv-act-norm.ts';
import { checkInt } from '../nn/layers/common.ts';
import { GELU, ReLU } from '../nn/layers/activation.ts';
import { ModuleList, type UnaryModule } from '../nn/layers/containers.ts';
import { Conv2d } from '../nn/layers/conv.ts';
import { Dropout } from '../nn/layers/dropout.ts';
import { Identity, Linear } from '../nn/layers/linear.ts';
import { BatchNorm2d } from '../nn/layers/norm.ts';
import { Module } from '../nn/module.ts';
import { runBlocks, type BlockStep } from '../nn/run-blocks.ts';
import { mean } from '../tensor/ops/reduce.ts';
import { toChannelsLast } from '../tensor/ops/spatial.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { IMAGENET_MEAN, IMAGENET_STD } from './constants.ts';
import type { CreateModelOptions, ModelEntry, PretrainedCfg } from './contract.ts';
import { IMAGE_CLASSIFICATION, featureTakeIndices, type FeatureInfo, type ImageClassifier, type ImageInputShape, type Intermediates, type IntermediatesOptions } from './image-classifier.ts';

/** A ConvMixer architecture (timm's model_args): width, blocks, depthwise kernel, patch size, activation. */
export interface ConvMixerConfig {
  dim: number;
  depth: number;
  kernelSize: number;
  patchSize: number;
  /** Default 'gelu' (exact). */
  act?: 'gelu' | 'relu';
}

/** timm's Residual: fn(x) + x, its branch a child named 'fn'. */
class Residual extends Module {
  readonly fn: ConvActNorm;

  constructor(fn: ConvActNorm) {
    super();
    this.fn = this.module('fn', fn);
  }

  override forward(x: Tensor): Tensor {
    return this.fn.forward(x, x);
  }
}

/** One block: x + BN(act(depthwise(x))), then BN(act(pointwise(·))); children '0'–'3' as timm's nn.Sequential. */
export class ConvMixerBlock extends Module {
  readonly spatial: Residual;
  readonly pointwise: Conv2d;
  readonly act: UnaryModule;
  readonly norm: BatchNorm2d;

  constructor(dim: number, kernelSize: number, act: () => UnaryModule) {
    super();
    const depthwise = new Conv2d(dim, dim, kernelSize, { groups: dim, padding: 'same' });
    this.spatial = this.module('0', new Residual(new ConvActNorm(depthwise, act(), new BatchNorm2d(dim))));
    this.pointwise = this.module('1', new Conv2d(dim, dim, 1));
    this.act = this.module('2', act());
    this.norm = this.module('3', new BatchNorm2d(dim));
  }

  /** maps [B, dim, h, w] → [B, dim, h, w]. */
  override forward(x: Tensor): Tensor {
    return convActNorm(this.pointwise, this.act, this.norm, this.spatial.forward(x));
  }
}

/** timm's ConvMixer: patch stem, ConvMixer blocks at one resolution, average pool, head. */
export class ConvMixer extends Module implements ImageClassifier {
  numClasses: number;
  readonly numFeatures: number;
  readonly patchSize: number;
  readonly stem: ConvActNorm;
  readonly blocks: ModuleList<ConvMixerBlock>;
  readonly headDrop: Dropout;
  head: Linear | null;
  readonly inputShape: ImageInputShape;
  /** Every block's output, at the patch stride. */
  readonly featureInfo: FeatureInfo[];

  constructor(config: ConvMixerConfig, options: CreateModelOptions = {}) {
    super();
    for (const key of ['dim', 'depth', 'kernelSize', 'patchSize'] as const) checkInt('ConvMixer', key, config[key], 1);
    const { dim, patchSize } = config;
    const act = config.act === 'relu' ? () => new ReLU() : () => new GELU();
    const inChans = options.inChans ?? 3;
    this.numFeatures = dim;
    this.patchSize = patchSize;
    this.stem = this.module('stem', new ConvActNorm(new Conv2d(inChans, dim, patchSize, { stride: patchSize }), act(), new BatchNorm2d(dim)));
    this.blocks = this.module('blocks', new ModuleList(Array.from({ length: config.depth }, () => new ConvMixerBlock(dim, config.kernelSize, act))));
    this.headDrop = this.module('head_drop', new Dropout(options.dropRate ?? 0));
    this.numClasses = options.numClasses ?? 1000;
    this.head = this.numClasses > 0 ? this.module('head', new Linear(dim, this.numClasses)) : null;
    // The stem is a strided conv with no padding: any side of at least one patch works, a remainder is dropped (as timm's).
    this.inputShape = { inChans, fixedSize: null };
    this.featureInfo = Array.from({ length: config.depth }, (_, i) => ({ module: `blocks.${i}`, numChannels: dim, reduction: patchSize }));
  }

  /** [dim]: the average-pooled features. */
  get pooledShape(): number[] {
    return [this.numFeatures];
  }

  // Channels-last from here on: oneDNN's convolutions (the depthwise ones above all) then run without layout reorders.
  #stem(x: Tensor): Tensor {
    const p = this.patchSize;
    if (x.ndim === 4 && (x.shape[2] < p || x.shape[3] < p)) {
      throw new ShapeError(`ConvMixer: input ${formatShape(x.shape)} is smaller than one ${p}×${p} patch; the model takes any size of at least ${p}×${p}`);
    }
    return this.stem.forward(toChannelsLast(x)); // (B, dim, H/p, W/p)
  }

  /** pixels [B, C, H, W] → maps [B, dim, ⌊H/p⌋, ⌊W/p⌋] (channels-last in memory). */
  forwardFeatures(x: Tensor): Tensor {
    const steps: BlockStep[] = [(x) => this.#stem(x), ...this.blocks];
    return runBlocks(x, steps); // (B, dim, H/p, W/p), channels-last
  }

  /** Block outputs as maps [B, dim, H/p, W/p] (the model has no final norm, so `norm` changes nothing). */
  forwardIntermediates(x: Tensor, options: IntermediatesOptions = {}): Intermediates {
    const { take, maxIndex } = featureTakeIndices(this.blocks.length, options.indices);
    const intermediates: Tensor[] = [];
    x = this.#stem(x);
    const blocks = [...this.blocks].slice(0, options.stopEarly ? maxIndex + 1 : undefined);
    blocks.forEach((block, i) => {
      x = block.forward(x);
      if (take.includes(i)) intermediates.push(x);
    });
    return { features: options.intermediatesOnly ? null : x, intermediates };
  }

  /** Average pool and head; with preLogits, the pooled features. */
  forwardHead(x: Tensor, options: { preLogits?: boolean } = {}): Tensor {
    x = this.headDrop.forward(mean(x, [2, 3])); // global average pool → (B, dim)
    return options.preLogits || !this.head ? x : this.head.forward(x);
  }

  /** pixels [B, C, H, W] → logits [B, numClasses]. */
  forward(x: Tensor): Tensor {
    return this.forwardHead(this.forwardFeatures(x));
  }

  /** A fresh head for numClasses (0 removes it). */
  resetClassifier(numClasses: number): void {
    this.numClasses = numClasses;
    this.head = numClasses > 0 ? new Linear(this.numFeatures, numClasses) : null;
    // An Identity in place of a removed head keeps its old parameters out of the state dict (timm's nn.Identity).
    this.module('head', this.head ?? new Identity());
  }
}

/** timm's ConvMixer variants (convmixer.py model_args). */
export const CONVMIXER_VARIANTS = {
  convmixer_1536_20: { dim: 1536, depth: 20, kernelSize: 9, patchSize: 7 },
  convmixer_768_32: { dim: 768, depth: 32, kernelSize: 7, patchSize: 7, act: 'relu' },
  convmixer_1024_20_ks9_p14: { dim: 1024, depth: 20, kernelSize: 9, patchSize: 14 },
} satisfies Record<string, ConvMixerConfig>;

type ConvMixerName = keyof typeof CONVMIXER_VARIANTS;

// timm's ConvMixer _cfg (one tag, in1k, for each): bicubic, crop 0.96, ImageNet mean/std, MIT.
function convMixerCfg(name: string): PretrainedCfg {
  return {
    hubId: `timm/${name}.in1k`, numClasses: 1000, firstConv: 'stem.0', classifier: 'head', license: 'mit', labelSet: 'imagenet-1k',
    preprocess: { image: { inputSize: [3, 224, 224], cropPct: 0.96, interpolation: 'bicubic', mean: IMAGENET_MEAN, std: IMAGENET_STD } },
  };
}

/** Parameter counts with the default head, as timm reports them (checked by test/models/registry.test.ts). */
const CONVMIXER_PARAM_COUNTS: Record<ConvMixerName, number> = {
  convmixer_1536_20: 51_625_960,
  convmixer_768_32: 21_110_248,
  convmixer_1024_20_ks9_p14: 24_383_464,
};

/** Registry entries of the family. */
export const CONVMIXER_MODELS: ModelEntry<ConvMixer>[] = Object.entries(CONVMIXER_VARIANTS).map(([name, config]: [string, ConvMixerConfig]) => ({
  name,
  family: 'convmixer',
  paramCount: CONVMIXER_PARAM_COUNTS[name as ConvMixerName],
  create: (options) => new ConvMixer(config, options),
  pretrained: { in1k: convMixerCfg(name) },
  contract: IMAGE_CLASSIFICATION,
}));
