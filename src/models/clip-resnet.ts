/**
 * CLIP's ModifiedResNet image tower — Radford et al., "Learning Transferable Visual Models From
 * Natural Language Supervision", ICML 2021. Reference code: openai/CLIP `clip/model.py`
 * (ModifiedResNet, Bottleneck, AttentionPool2d). Differences from torchvision's ResNet: a stem of
 * three 3×3 convs with an average pool instead of one 7×7 and a max pool; "anti-aliased"
 * striding — every conv has stride 1 and a block downsamples with AvgPool2d(stride) after its
 * 3×3 conv and in front of its shortcut's 1×1 conv; attention pooling instead of global average
 * pooling, which also projects to the joint embedding width.
 *
 * Checkpoint layout: OpenAI's names under `visual.` — `conv{1,2,3}`, `bn{1,2,3}`,
 * `layer{1-4}.{i}.conv{1-3}`/`.bn{1-3}`, `.downsample.{0,1}` (`downsample.-1` is the pool and has
 * no tensors), `attnpool.{positional_embedding, q_proj, k_proj, v_proj, c_proj}`.
 */
import { formatShape, ShapeError } from '../errors.ts';
import { AttentionPool2d } from '../nn/blocks/attention-pool.ts';
import { residualSkip } from '../nn/blocks/residual.ts';
import { normal_, zeros_ } from '../nn/init.ts';
import { checkInt } from '../nn/layers/common.ts';
import { Sequential } from '../nn/layers/containers.ts';
import { Conv2d } from '../nn/layers/conv.ts';
import { convBnAct } from '../nn/layers/conv-bn-act.ts';
import { BatchNorm2d } from '../nn/layers/norm.ts';
import { Module } from '../nn/module.ts';
import { runBlocks, type BlockStep } from '../nn/run-blocks.ts';
import { avgPool2d } from '../tensor/ops/pool.ts';
import { toChannelsLast } from '../tensor/ops/spatial.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** A ModifiedResNet image tower: blocks per stage, stem width, input resolution and output (embedding) width. */
export interface ModifiedResNetConfig {
  layers: readonly [number, number, number, number];
  /** Stem width W: stages have W, 2W, 4W, 8W planes and the features 32W channels. */
  width: number;
  /** Square input side; the attention pool's grid is imageSize / 32. */
  imageSize: number;
  /** Output width (the joint embedding). */
  outputDim: number;
  /** Attention-pool heads (default 32W / 64, OpenAI's head width 64). */
  heads?: number;
  inChans?: number;
}

const pool = (x: Tensor, stride: number) => (stride > 1 ? avgPool2d(x, { kernelSize: stride }) : x);

/** The shortcut projection: AvgPool2d(stride) ('-1', no tensors) → 1×1 conv ('0') → BN ('1'). */
class PooledProjection extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  readonly stride: number;

  constructor(inCh: number, outCh: number, stride: number) {
    super();
    this.stride = stride;
    this.conv = this.module('0', new Conv2d(inCh, outCh, 1, { bias: false }));
    this.bn = this.module('1', new BatchNorm2d(outCh));
  }

  override forward(x: Tensor): Tensor {
    return convBnAct(this.conv, this.bn, pool(x, this.stride));
  }
}

/** CLIP's Bottleneck: 1×1 → 3×3 → AvgPool(stride) → 1×1 expand ×4, shortcut pooled then projected. */
export class ClipBottleneck extends Module {
  static readonly expansion = 4;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: PooledProjection | null;
  readonly stride: number;

  constructor(inCh: number, planes: number, stride = 1) {
    super();
    const outCh = planes * ClipBottleneck.expansion;
    this.stride = stride;
    this.conv1 = this.module('conv1', new Conv2d(inCh, planes, 1, { bias: false }));
    this.bn1 = this.module('bn1', new BatchNorm2d(planes));
    this.conv2 = this.module('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias: false }));
    this.bn2 = this.module('bn2', new BatchNorm2d(planes));
    this.conv3 = this.module('conv3', new Conv2d(planes, outCh, 1, { bias: false }));
    this.bn3 = this.module('bn3', new BatchNorm2d(outCh));
    this.downsample = stride > 1 || inCh !== outCh ? this.module('downsample', new PooledProjection(inCh, outCh, stride)) : null;
  }

  /** [B, in, H, W] → [B, 4·planes, H/stride, W/stride]. */
  override forward(x: Tensor): Tensor {
    let out = convBnAct(this.conv1, this.bn1, x, { relu: true });
    out = pool(convBnAct(this.conv2, this.bn2, out, { relu: true }), this.stride);
    return convBnAct(this.conv3, this.bn3, out, { skip: residualSkip(x, this.downsample), relu: true });
  }
}

/** OpenAI's ModifiedResNet: 3-conv stem, four stages of anti-aliased bottlenecks, attention pooling → [B, outputDim]. */
export class ModifiedResNet extends Module {
  readonly imageSize: number;
  readonly inChans: number;
  readonly outputDim: number;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly stages: Sequential[];
  readonly attnpool: AttentionPool2d;

  constructor(config: ModifiedResNetConfig) {
    super();
    const { width, imageSize, outputDim } = config;
    checkInt('ModifiedResNet', 'width', width, 2);
    checkInt('ModifiedResNet', 'imageSize', imageSize, 32);
    if (imageSize % 32 !== 0) throw new ShapeError(`ModifiedResNet: imageSize must be a multiple of 32, got ${imageSize}`);
    this.imageSize = imageSize;
    this.inChans = config.inChans ?? 3;
    this.outputDim = outputDim;
    const half = Math.floor(width / 2);
    this.conv1 = this.module('conv1', new Conv2d(this.inChans, half, 3, { stride: 2, padding: 1, bias: false }));
    this.bn1 = this.module('bn1', new BatchNorm2d(half));
    this.conv2 = this.module('conv2', new Conv2d(half, half, 3, { padding: 1, bias: false }));
    this.bn2 = this.module('bn2', new BatchNorm2d(half));
    this.conv3 = this.module('conv3', new Conv2d(half, width, 3, { padding: 1, bias: false }));
    this.bn3 = this.module('bn3', new BatchNorm2d(width));
    let inCh = width;
    this.stages = config.layers.map((depth, s) => {
      const planes = width * 2 ** s;
      const blocks = Array.from({ length: depth }, (_, i) => {
        const block = new ClipBottleneck(inCh, planes, i === 0 && s > 0 ? 2 : 1);
        inCh = planes * ClipBottleneck.expansion;
        return block;
      });
      return this.module(`layer${s + 1}`, new Sequential(...blocks));
    });
    this.attnpool = this.module('attnpool', new AttentionPool2d(imageSize / 32, width * 32, config.heads ?? (width * 32) / 64, outputDim));
  }

  /** OpenAI's initialize_parameters for this tower: N(0, C^−½) attention-pool projections, zero last BN γ in every block. */
  initializeParameters(): void {
    const std = 1 / Math.sqrt(this.attnpool.embedDim);
    for (const proj of [this.attnpool.qProj, this.attnpool.kProj, this.attnpool.vProj, this.attnpool.cProj]) normal_(proj.weight, 0, std);
    for (const stage of this.stages) for (const block of stage.children() as ClipBottleneck[]) zeros_(block.bn3.weight!);
  }

  // The stem, channels-last from here on: oneDNN's convolutions then run without layout reorders.
  #stem(x: Tensor): Tensor {
    x = convBnAct(this.conv1, this.bn1, toChannelsLast(x), { relu: true }); // (B, W/2, H/2, W/2)
    x = convBnAct(this.conv2, this.bn2, x, { relu: true });
    x = convBnAct(this.conv3, this.bn3, x, { relu: true }); // (B, W, H/2, W/2)
    return avgPool2d(x, { kernelSize: 2 }); // (B, W, H/4, W/4)
  }

  /** images [B, C, S, S] at the built size → embeddings [B, outputDim]. */
  override forward(x: Tensor): Tensor {
    const s = this.imageSize;
    if (x.ndim !== 4 || x.shape[1] !== this.inChans || x.shape[2] !== s || x.shape[3] !== s) {
      throw new ShapeError(`ModifiedResNet: expected images [B, ${this.inChans}, ${s}, ${s}] (the size it was built for), got ${formatShape(x.shape)}`);
    }
    const blocks = this.stages.flatMap((stage) => stage.children() as ClipBottleneck[]);
    const steps: BlockStep[] = [(t) => this.#stem(t), ...blocks, this.attnpool];
    return runBlocks(x, steps);
  }
}
