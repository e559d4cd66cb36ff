/**
 * ResNet — "Deep Residual Learning for Image Recognition", He et al., CVPR 2016.
 * Reference code: torchvision `models/resnet.py` and timm `models/resnet.py` (the v1.5 variant:
 * a bottleneck block strides on its 3×3 conv, not the first 1×1).
 * Checkpoint layout: torchvision names, which timm uses unchanged (`conv1`, `bn1`,
 * `layer{1-4}.{i}.conv{1-3}`, `.bn{1-3}`, `.downsample.{0,1}`, `fc`); `num_batches_tracked`
 * buffers are optional in checkpoints.
 */
import { BatchNorm2d } from '../nn/layers/norm.ts';
import { Conv2d } from '../nn/layers/conv.ts';
import { Identity, Linear } from '../nn/layers/linear.ts';
import { Sequential } from '../nn/layers/containers.ts';
import { Module } from '../nn/module.ts';
import { kaimingNormal_, ones_, zeros_ } from '../nn/init.ts';
import { ConvNorm, convBnAct } from '../nn/layers/conv-bn-act.ts';
import { residualSkip } from '../nn/blocks/residual.ts';
import { runBlocks, type BlockStep } from '../nn/run-blocks.ts';
import { dropout } from '../tensor/ops/activation.ts';
import { toChannelsLast } from '../tensor/ops/spatial.ts';
import { maxPool2d } from '../tensor/ops/pool.ts';
import { mean } from '../tensor/ops/reduce.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { IMAGENET_MEAN, IMAGENET_STD } from './constants.ts';
import type { CreateModelOptions, ModelEntry, PretrainedCfg } from './contract.ts';
import { IMAGE_CLASSIFICATION, featureTakeIndices, type FeatureInfo, type ImageClassifier, type ImageInputShape, type Intermediates, type IntermediatesOptions } from './image-classifier.ts';

/** A ResNet variant: block type and blocks per stage (and its parameter count with a 1000-class head). */
export interface ResNetConfig {
  block: 'basic' | 'bottleneck';
  layers: [number, number, number, number];
  params: number;
}

function convBn(inCh: number, outCh: number, kernel: number, stride: number): [Conv2d, BatchNorm2d] {
  return [new Conv2d(inCh, outCh, kernel, { stride, padding: Math.floor(kernel / 2), bias: false }), new BatchNorm2d(outCh)];
}

/** Shortcut projection: 1×1 conv (strided) + BN, used when the block changes shape. */
function downsample(inCh: number, outCh: number, stride: number): ConvNorm {
  return new ConvNorm(new Conv2d(inCh, outCh, 1, { stride, bias: false }), new BatchNorm2d(outCh));
}

/** Two 3×3 convs (ResNet-18/34). */
class BasicBlock extends Module {
  static readonly expansion = 1;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: ConvNorm | null;

  constructor(inCh: number, planes: number, stride: number) {
    super();
    const [c1, b1] = convBn(inCh, planes, 3, stride);
    const [c2, b2] = convBn(planes, planes, 3, 1);
    this.conv1 = this.module('conv1', c1);
    this.bn1 = this.module('bn1', b1);
    this.conv2 = this.module('conv2', c2);
    this.bn2 = this.module('bn2', b2);
    this.downsample = stride !== 1 || inCh !== planes ? this.module('downsample', downsample(inCh, planes, stride)) : null;
  }

  forward(x: Tensor): Tensor {
    const out = convBnAct(this.conv1, this.bn1, x, { relu: true });
    return convBnAct(this.conv2, this.bn2, out, { skip: residualSkip(x, this.downsample), relu: true });
  }

  /** The BN whose γ starts at zero so each block begins as the identity (timm's zero_init_last). */
  lastNorm(): BatchNorm2d {
    return this.bn2;
  }
}

/** 1×1 reduce → 3×3 (strided, v1.5) → 1×1 expand ×4 (ResNet-50/101/152). */
class Bottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: ConvNorm | null;

  constructor(inCh: number, planes: number, stride: number) {
    super();
    const outCh = planes * Bottleneck.expansion;
    const [c1, b1] = convBn(inCh, planes, 1, 1);
    const [c2, b2] = convBn(planes, planes, 3, stride);
    const [c3, b3] = convBn(planes, outCh, 1, 1);
    this.conv1 = this.module('conv1', c1);
    this.bn1 = this.module('bn1', b1);
    this.conv2 = this.module('conv2', c2);
    this.bn2 = this.module('bn2', b2);
    this.conv3 = this.module('conv3', c3);
    this.bn3 = this.module('bn3', b3);
    this.downsample = stride !== 1 || inCh !== outCh ? this.module('downsample', downsample(inCh, outCh, stride)) : null;
  }

  forward(x: Tensor): Tensor {
    let out = convBnAct(this.conv1, this.bn1, x, { relu: true });
    out = convBnAct(this.conv2, this.bn2, out, { relu: true });
    return convBnAct(this.conv3, this.bn3, out, { skip: residualSkip(x, this.downsample), relu: true });
  }

  lastNorm(): BatchNorm2d {
    return this.bn3;
  }
}

type Block = BasicBlock | Bottleneck;

/** torchvision's ResNet (timm's ResNet with its defaults): stem, four stages of blocks, average pool, `fc`. */
export class ResNet extends Module implements ImageClassifier {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly stages: Sequential[];
  fc: Linear | null;
  numClasses: number;
  readonly numFeatures: number;
  readonly dropRate: number;
  readonly inputShape: ImageInputShape;
  /** The stem's ReLU output (stride 2), then each stage's output (timm's feature_info). */
  readonly featureInfo: FeatureInfo[];

  constructor(config: ResNetConfig, options: CreateModelOptions = {}) {
    super();
    const Block = config.block === 'basic' ? BasicBlock : Bottleneck;
    this.dropRate = options.dropRate ?? 0;
    const inChans = options.inChans ?? 3;
    this.inputShape = { inChans, fixedSize: null };
    // Stem: 7×7/2 conv, BN, ReLU, 3×3/2 max pool → stride 4.
    this.conv1 = this.module('conv1', new Conv2d(inChans, 64, 7, { stride: 2, padding: 3, bias: false }));
    this.bn1 = this.module('bn1', new BatchNorm2d(64));
    this.featureInfo = [{ module: 'act1', numChannels: 64, reduction: 2 }];
    let inCh = 64;
    this.stages = config.layers.map((depth, s) => {
      const planes = 64 * 2 ** s;
      const blocks: Block[] = [];
      for (let i = 0; i < depth; ++i) {
        blocks.push(new Block(inCh, planes, i === 0 && s > 0 ? 2 : 1));
        inCh = planes * Block.expansion;
      }
      this.featureInfo.push({ module: `layer${s + 1}`, numChannels: inCh, reduction: 4 * 2 ** s });
      return this.module(`layer${s + 1}`, new Sequential(...blocks));
    });
    this.numFeatures = inCh;
    this.numClasses = options.numClasses ?? 1000;
    this.fc = null;
    this.resetClassifier(this.numClasses);
    this.initWeights();
  }

  get pooledShape(): number[] {
    return [this.numFeatures];
  }

  // timm's init: Kaiming-normal (fan_out, relu) convs, unit BN, and the last BN of each block at zero.
  private initWeights(): void {
    for (const [, m] of this.namedModules()) {
      if (m instanceof Conv2d) kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      else if (m instanceof BatchNorm2d) {
        ones_(m.weight!);
        zeros_(m.bias!);
      }
    }
    for (const stage of this.stages) for (const b of stage.children()) zeros_((b as Block).lastNorm().weight!);
  }

  // conv1 → bn1 → ReLU, channels-last from here on: oneDNN's convolutions then run without layout reorders.
  #stem(x: Tensor): Tensor {
    return convBnAct(this.conv1, this.bn1, toChannelsLast(x), { relu: true }); // (N, 64, H/2, W/2)
  }

  #pool(x: Tensor): Tensor {
    return maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }); // (N, 64, H/4, W/4)
  }

  #blocks(): Block[] {
    return this.stages.flatMap((stage) => stage.children() as Block[]);
  }

  forwardFeatures(x: Tensor): Tensor {
    const steps: BlockStep[] = [(x) => this.#pool(this.#stem(x)), ...this.#blocks()];
    return runBlocks(x, steps); // (N, C, H/32, W/32), channels-last
  }

  forwardIntermediates(x: Tensor, options: IntermediatesOptions = {}): Intermediates {
    const { take, maxIndex } = featureTakeIndices(this.featureInfo.length, options.indices);
    const intermediates: Tensor[] = [];
    x = this.#stem(x);
    if (take.includes(0)) intermediates.push(x);
    x = this.#pool(x);
    const stages = options.stopEarly ? this.stages.slice(0, maxIndex) : this.stages;
    stages.forEach((stage, s) => {
      x = stage.forward(x);
      if (take.includes(s + 1)) intermediates.push(x);
    });
    return { features: options.intermediatesOnly ? null : x, intermediates };
  }

  forwardHead(x: Tensor, options: { preLogits?: boolean } = {}): Tensor {
    x = mean(x, [2, 3]); // global average pool → (N, C)
    if (this.dropRate > 0) x = dropout(x, this.dropRate, this.training);
    return options.preLogits || !this.fc ? x : this.fc.forward(x);
  }

  forward(x: Tensor): Tensor {
    return this.forwardHead(this.forwardFeatures(x));
  }

  resetClassifier(numClasses: number): void {
    this.numClasses = numClasses;
    this.fc = numClasses > 0 ? new Linear(this.numFeatures, numClasses) : null;
    // An Identity in place of a removed head keeps its old parameters out of the state dict (timm's nn.Identity).
    this.module('fc', this.fc ?? new Identity());
  }
}

/** Named variants (torchvision and timm share these names). */
export const RESNET_VARIANTS = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2], params: 11_689_512 },
  resnet34: { block: 'basic', layers: [3, 4, 6, 3], params: 21_797_672 },
  resnet50: { block: 'bottleneck', layers: [3, 4, 6, 3], params: 25_557_032 },
  resnet101: { block: 'bottleneck', layers: [3, 4, 23, 3], params: 44_549_160 },
  resnet152: { block: 'bottleneck', layers: [3, 8, 36, 3], params: 60_192_808 },
} satisfies Record<string, ResNetConfig>;

// timm's ResNet cfgs: the RSB 'a1' recipe (timm's default tag) and torchvision's original weights.
function resnetCfgs(name: string): Record<string, PretrainedCfg> {
  const common = { numClasses: 1000, firstConv: 'conv1', classifier: 'fc', labelSet: 'imagenet-1k' } as const;
  const image = { mean: IMAGENET_MEAN, std: IMAGENET_STD, inputSize: [3, 224, 224] as [number, number, number] };
  return {
    a1_in1k: {
      ...common, hubId: `timm/${name}.a1_in1k`, license: 'apache-2.0',
      preprocess: { image: { ...image, testInputSize: [3, 288, 288], cropPct: 0.95, testCropPct: 1.0, interpolation: 'bicubic' } },
    },
    tv_in1k: { ...common, hubId: `timm/${name}.tv_in1k`, license: 'bsd-3-clause', preprocess: { image: { ...image, cropPct: 0.875, interpolation: 'bilinear' } } },
  };
}

/** Registry entries of the family. */
export const RESNET_MODELS: ModelEntry<ResNet>[] = Object.entries(RESNET_VARIANTS).map(([name, config]) => ({
  name,
  family: 'resnet',
  paramCount: config.params,
  create: (options) => new ResNet(config, options),
  pretrained: resnetCfgs(name),
  contract: IMAGE_CLASSIFICATION,
}));
