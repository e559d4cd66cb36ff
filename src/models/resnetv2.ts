/**
 * ResNetV2 backbone of the R50+ViT hybrid — "Big Transfer (BiT): General Visual Representation
 * Learning", Kolesnikov et al. 2019, and "An Image is Worth 16x16 Words", Dosovitskiy et al. 2020.
 * Reference code: timm `models/resnetv2.py` (ResNetV2 with `preact=False`, `Bottleneck`,
 * `DownsampleConv`, `ResNetStage`, `create_resnetv2_stem`) as `vision_transformer_hybrid.py`
 * `_resnetv2` configures it; Google's `vit_jax/models_resnet.py`.
 *
 * What sets it apart from torchvision's ResNet: weight-standardized convs (StdConv2d, eps 1e-8 in
 * the hybrid) with GroupNorm(32) + ReLU instead of BatchNorm, TF 'SAME' padding everywhere
 * (asymmetric, per input size, so the ported JAX weights give JAX's outputs), and no pooling,
 * final norm or head: it returns the stride-16 feature map when built with three stages.
 *
 * Checkpoint layout (timm): `stem.{conv,norm}`, `stages.{s}.blocks.{b}.{conv1,norm1,conv2,norm2,
 * conv3,norm3}` and, in block 0, `downsample.{conv,norm}`; every conv is bias-free.
 */
import { ArgumentError } from '../errors.ts';
import { Sequential } from '../nn/layers/containers.ts';
import { MaxPool2dSame } from '../nn/layers/pool-same.ts';
import { GroupNorm } from '../nn/layers/norm.ts';
import { GroupNormAct } from '../nn/layers/norm-act.ts';
import { StdConv2d, StdConv2dSame } from '../nn/layers/std-conv.ts';
import { Module } from '../nn/module.ts';
import { kaimingNormal_, ones_, zeros_ } from '../nn/init.ts';
import { add } from '../tensor/ops/elementwise.ts';
import { relu } from '../tensor/ops/activation.ts';
import { maxPool2d } from '../tensor/ops/pool.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { featureTakeIndices, type FeatureInfo, type Intermediates, type IntermediatesOptions } from './image-classifier.ts';

/** A ResNetV2 backbone: stage depths and widths, padding style, weight-standardization eps. */
export interface ResNetV2Config {
  /** Bottleneck blocks per stage, e.g. [3, 4, 9] for the hybrid's R50 (its 4th stage dropped). */
  layers: readonly number[];
  /** Output channels per stage (bottleneck width is a quarter); default 256, 512, 1024, 2048. */
  channels?: readonly number[];
  /** Stem conv width (default 64). */
  stemChannels?: number;
  /** TF 'SAME' padding in every conv and the stem pool (default true, the hybrid's); else PyTorch symmetric padding. */
  paddingSame?: boolean;
  /** Weight-standardization eps of every conv (default 1e-8, the hybrid's). */
  convEps?: number;
  /** Start each residual branch's last norm at zero so blocks begin as identities (the hybrid's init). */
  zeroInitLast?: boolean;
  inChans?: number;
}

type StdConv = StdConv2d | StdConv2dSame;
type ConvFactory = (inCh: number, outCh: number, kernel: number, stride?: number) => StdConv;

/** Shortcut projection of a stage's first block: strided 1×1 conv + GroupNorm, no activation. */
class DownsampleConv extends Module {
  readonly conv: StdConv;
  readonly norm: GroupNormAct;

  constructor(conv: ConvFactory, inCh: number, outCh: number, stride: number) {
    super();
    this.conv = this.module('conv', conv(inCh, outCh, 1, stride));
    this.norm = this.module('norm', new GroupNormAct(outCh, { applyAct: false }));
  }

  forward(x: Tensor): Tensor {
    return this.norm.forward(this.conv.forward(x));
  }
}

/** Non-pre-activation bottleneck (v1.5: the 3×3 conv strides): 1×1 → 3×3 → 1×1, each followed by GroupNorm. */
class Bottleneck extends Module {
  readonly downsample: DownsampleConv | null;
  readonly conv1: StdConv;
  readonly norm1: GroupNormAct;
  readonly conv2: StdConv;
  readonly norm2: GroupNormAct;
  readonly conv3: StdConv;
  readonly norm3: GroupNormAct;

  constructor(conv: ConvFactory, inCh: number, outCh: number, stride: number, project: boolean) {
    super();
    const mid = outCh / 4;
    this.downsample = project ? this.module('downsample', new DownsampleConv(conv, inCh, outCh, stride)) : null;
    this.conv1 = this.module('conv1', conv(inCh, mid, 1));
    this.norm1 = this.module('norm1', new GroupNormAct(mid));
    this.conv2 = this.module('conv2', conv(mid, mid, 3, stride));
    this.norm2 = this.module('norm2', new GroupNormAct(mid));
    this.conv3 = this.module('conv3', conv(mid, outCh, 1));
    this.norm3 = this.module('norm3', new GroupNormAct(outCh, { applyAct: false }));
  }

  forward(x: Tensor): Tensor {
    const shortcut = this.downsample ? this.downsample.forward(x) : x;
    let y = this.norm1.forward(this.conv1.forward(x));
    y = this.norm2.forward(this.conv2.forward(y));
    y = this.norm3.forward(this.conv3.forward(y));
    return relu(add(y, shortcut));
  }
}

/** A stage: `blocks`, the first one projecting the shortcut and striding. */
class ResNetStage extends Module {
  readonly blocks: Sequential;

  constructor(conv: ConvFactory, inCh: number, outCh: number, stride: number, depth: number) {
    super();
    const blocks = Array.from({ length: depth }, (_, i) => new Bottleneck(conv, i === 0 ? inCh : outCh, outCh, i === 0 ? stride : 1, i === 0));
    this.blocks = this.module('blocks', new Sequential(...blocks));
  }

  forward(x: Tensor): Tensor {
    return this.blocks.forward(x);
  }
}

/** The stem's 3×3/2 max pool with PyTorch's symmetric padding (the `paddingSame: false` variant). */
class MaxPool2dPadded extends Module {
  forward(x: Tensor): Tensor {
    return maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
  }
}


/** ResNetV2 feature extractor (timm's ResNetV2 with preact=False, num_classes=0, global_pool=''): pixels → feature map. */
export class ResNetV2 extends Module {
  readonly stem: Sequential;
  readonly stages: Sequential;
  /** Channels of the output feature map. */
  readonly numFeatures: number;
  /** Channels and stride of the stem and each stage's output. */
  readonly featureInfo: FeatureInfo[];
  // Stride-2 steps from pixels to the output: stem conv, stem pool, then every stage but the first.
  readonly #halvings: number;
  readonly #stemNorm: (x: Tensor) => Tensor;
  readonly #stemPool: (x: Tensor) => Tensor;

  constructor(config: ResNetV2Config) {
    super();
    const channels = config.channels ?? [256, 512, 1024, 2048];
    if (config.layers.length === 0 || config.layers.length > channels.length) {
      throw new ArgumentError(`ResNetV2: layers [${config.layers.join(', ')}] must name 1 to ${channels.length} stages (one per channels entry)`);
    }
    const stemChannels = config.stemChannels ?? 64;
    const eps = config.convEps ?? 1e-8;
    const same = config.paddingSame ?? true;
    const conv: ConvFactory = (inCh, outCh, kernel, stride = 1) =>
      same ? new StdConv2dSame(inCh, outCh, kernel, { stride, eps }) : new StdConv2d(inCh, outCh, kernel, { stride, eps });
    // Stem: 7×7/2 conv, GroupNorm + ReLU, 3×3/2 max pool → stride 4.
    const stem = { conv: conv(config.inChans ?? 3, stemChannels, 7, 2), norm: new GroupNormAct(stemChannels), pool: same ? new MaxPool2dSame(3, 2) : new MaxPool2dPadded() };
    this.stem = this.module('stem', Sequential.named(stem));
    this.#stemNorm = (x) => stem.norm.forward(stem.conv.forward(x));
    this.#stemPool = (x) => stem.pool.forward(x);
    this.featureInfo = [{ module: 'stem.norm', numChannels: stemChannels, reduction: 2 }];
    let inCh = stemChannels;
    let reduction = 4;
    const stages = config.layers.map((depth, s) => {
      const stride = s === 0 ? 1 : 2;
      const stage = new ResNetStage(conv, inCh, channels[s], stride, depth);
      inCh = channels[s];
      reduction *= stride;
      this.featureInfo.push({ module: `stages.${s}`, numChannels: inCh, reduction });
      return stage;
    });
    this.stages = this.module('stages', new Sequential(...stages));
    this.numFeatures = inCh;
    this.#halvings = 2 + Math.max(0, config.layers.length - 1);
    this.initWeights(config.zeroInitLast ?? false);
  }

  // timm's _init_weights: Kaiming-normal (fan_out, relu) convs, unit GroupNorm, optionally a zero last norm per block.
  private initWeights(zeroInitLast: boolean): void {
    const all = this.modules();
    for (const m of all) {
      if (m instanceof StdConv2d || m instanceof StdConv2dSame) kaimingNormal_(m.weight, { mode: 'fan_out', nonlinearity: 'relu' });
      else if (m instanceof GroupNorm) {
        ones_(m.weight!);
        zeros_(m.bias!);
      }
    }
    if (zeroInitLast) for (const m of all) if (m instanceof Bottleneck) zeros_(m.norm3.weight!);
  }

  /** Output grid [h, w] for an image of [h, w] pixels: each stride-2 step gives ceil(size / 2), with either padding. */
  featureSize(imgSize: readonly [number, number]): [number, number] {
    const reduce = (size: number) => {
      for (let i = 0; i < this.#halvings; ++i) size = Math.ceil(size / 2);
      return size;
    };
    return [reduce(imgSize[0]), reduce(imgSize[1])];
  }

  /** pixels [N, C, H, W] → features [N, numFeatures, H/r, W/r] (r = 16 for three stages; TF 'SAME' rounds up). */
  forward(x: Tensor): Tensor {
    return this.stages.forward(this.stem.forward(x));
  }

  /** The stem norm's output (before its pool) and each stage's output, as timm's ResNetV2.forward_intermediates. */
  forwardIntermediates(x: Tensor, options: IntermediatesOptions = {}): Intermediates {
    const { take, maxIndex } = featureTakeIndices(this.featureInfo.length, options.indices);
    const intermediates: Tensor[] = [];
    x = this.#stemNorm(x);
    if (take.includes(0)) intermediates.push(x);
    x = this.#stemPool(x);
    const stages = this.stages.children() as ResNetStage[];
    (options.stopEarly ? stages.slice(0, maxIndex) : stages).forEach((stage, s) => {
      x = stage.forward(x);
      if (take.includes(s + 1)) intermediates.push(x);
    });
    return { features: options.intermediatesOnly ? null : x, intermediates };
  }
}
