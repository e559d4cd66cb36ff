/**
 * Swin Transformer — "Swin Transformer: Hierarchical Vision Transformer using Shifted Windows",
 * Liu et al., ICCV 2021. Reference code: timm `models/swin_transformer.py` (SwinTransformer v1)
 * and torchvision `models/swin_transformer.py` (swin_t/s/b).
 *
 * A 4×4 patch embedding (+ LayerNorm) on a channels-last grid [B, H, W, C], then four stages:
 * (from the second on) PatchMerging halves the grid and doubles the width, then blocks of
 * pre-norm window attention with a relative position bias — every second block on windows
 * shifted by half a window, masked where a window straddles the wrap-around — and an MLP.
 *
 * Checkpoint layout: timm's names, native here — `patch_embed.{proj, norm}`,
 * `layers.{s}.downsample.{norm, reduction}` (s ≥ 1), `layers.{s}.blocks.{j}.{norm1, norm2,
 * attn.{qkv, proj, relative_position_bias_table}, mlp.{fc1, fc2}}`, `norm`, `head.fc`; the
 * relative position index and attention mask are derived, never stored (filterSwinCheckpoint drops
 * them from old files). torchvision's names load through the pure remapper in
 * src/models/swin-torchvision.ts (keyLayout 'torchvision'). Microsoft's original .pth layout
 * (`layers.{s}.downsample` ending stage s, `head.*`), which timm's filter converts by looking for
 * `head.fc.weight`, is not converted: the hub's timm files are already in timm's names.
 *
 * timm and torchvision compute the same function whenever every stage's grid is a whole number
 * of windows (the 224 px and 384 px models). Otherwise they differ, and a model follows one of
 * them (SwinConfig.windowing): timm clips the window to a stage's grid when the grid is no larger
 * (no shift then), decided at build for the built size, and shifts before padding; torchvision
 * keeps the window, pads first, then shifts the padded grid, dropping a side's shift at run time
 * when one window covers that side. The torchvision variants follow torchvision. (torchvision
 * also takes sides that are not multiples of the patch, its patch conv flooring them; here they
 * are refused, as timm does.)
 */
import { ArgumentError, formatShape, ShapeError } from '../errors.ts';
import { Mlp } from '../nn/blocks/mlp.ts';
import { PatchEmbed } from '../nn/blocks/patch-embed.ts';
import { PatchMerging } from '../nn/blocks/patch-merging.ts';
import { resizeRelativePositionTable } from '../nn/blocks/relative-position.ts';
import { partitionWindows, reverseWindows, windowLayout, type WindowLayout } from '../nn/blocks/window.ts';
import { WindowAttention } from '../nn/blocks/window-attention.ts';
import { checkInt } from '../nn/layers/common.ts';
import { ModuleList, Sequential } from '../nn/layers/containers.ts';
import { Dropout, DropPath, dropPathRates } from '../nn/layers/dropout.ts';
import { Identity, Linear } from '../nn/layers/linear.ts';
import { LayerNorm } from '../nn/layers/norm.ts';
import { truncNormal02_, zeros_ } from '../nn/init.ts';
import { Module, type StateDict } from '../nn/module.ts';
import { runBlocks } from '../nn/run-blocks.ts';
import { noGrad } from '../tensor/autograd.ts';
import { add } from '../tensor/ops/elementwise.ts';
import { mean } from '../tensor/ops/reduce.ts';
import { contiguous, permute, reshape, shapeEquals } from '../tensor/ops/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { IMAGENET_MEAN, IMAGENET_STD } from './constants.ts';
import type { CreateModelOptions, ModelEntry, PretrainedCfg } from './contract.ts';
import { IMAGE_CLASSIFICATION, featureTakeIndices, type FeatureInfo, type ImageClassifier, type ImageInputShape, type Intermediates, type IntermediatesOptions } from './image-classifier.ts';
import { torchvisionSwinToTimm } from './swin-torchvision.ts';

/** Which reference's shifted-window rule a model follows where the two differ (see the file header). */
export type SwinWindowing = 'timm' | 'torchvision';

/** Pooling before the head: the mean over the grid, or none (the head then runs on every position). */
export type SwinGlobalPool = 'avg' | '';

/** A Swin architecture (timm's model_args). */
export interface SwinConfig {
  patchSize: number;
  /** Width of the first stage; stage s has embedDim·2^s. */
  embedDim: number;
  /** Blocks per stage. */
  depths: readonly number[];
  /** Attention heads per stage. */
  numHeads: readonly number[];
  windowSize: number;
  /** MLP hidden width / stage width (default 4). */
  mlpRatio?: number;
  /** Bias on the qkv projections (default true). */
  qkvBias?: boolean;
  /** Image size the stage grids are built for (default 224). */
  imgSize?: number;
  /** Default 'timm'. */
  windowing?: SwinWindowing;
  /** Stochastic depth rate of the last block when training (default 0.1, timm's constructor default). */
  dropPathRate?: number;
}

/** Options of SwinTransformer beyond the registry's: timm's create_model kwargs. */
export interface SwinOptions extends CreateModelOptions {
  /** Overrides the config's window size (timm's window_size); tables of another size are resampled on load. */
  windowSize?: number;
  /** Accept only the built image size (default true); otherwise any multiple of the patch size, masks made per size (timm's strict_img_size). */
  strictImgSize?: boolean;
  /** Default 'avg'. */
  globalPool?: SwinGlobalPool;
  /** Dropout on attention weights (default 0). */
  attnDropRate?: number;
  /** Dropout after the attention and MLP projections (default 0). */
  projDropRate?: number;
}

/** What a block needs besides its width and heads. */
export interface SwinBlockArgs {
  /** The stage's grid at the built image size. */
  inputResolution: [number, number];
  windowSize: number;
  shifted: boolean;
  windowing: SwinWindowing;
  mlpRatio: number;
  qkvBias: boolean;
  attnDrop: number;
  projDrop: number;
  dropPath: number;
}

// A stochastic-depth branch that drops samples now (training with a rate > 0).
const isActive = (dropPath: DropPath | null): boolean => dropPath !== null && dropPath.training && dropPath.p > 0;

/** Pre-norm (shifted-)window attention + MLP on a grid [B, H, W, C] (timm SwinTransformerBlock, same names). */
export class SwinTransformerBlock extends Module {
  readonly windowing: SwinWindowing;
  /** Window and shift as built (timm: clipped to the built grid; torchvision: as configured). */
  readonly windowSize: [number, number];
  readonly shiftSize: [number, number];
  readonly norm1: LayerNorm;
  readonly attn: WindowAttention;
  readonly dropPath1: DropPath | null;
  readonly norm2: LayerNorm;
  readonly mlp: Mlp;
  readonly dropPath2: DropPath | null;

  constructor(dim: number, numHeads: number, args: SwinBlockArgs) {
    super();
    this.windowing = args.windowing;
    const shift = args.shifted ? Math.floor(args.windowSize / 2) : 0;
    // timm's _calc_window_shift: a side no larger than the window gets a window of its size and no shift.
    const clip = (r: number): [number, number] => (args.windowing === 'timm' && r <= args.windowSize ? [r, 0] : [args.windowSize, shift]);
    const [[wh, sh], [ww, sw]] = args.inputResolution.map(clip);
    this.windowSize = [wh, ww];
    this.shiftSize = [sh, sw];
    this.norm1 = this.module('norm1', new LayerNorm(dim));
    this.attn = this.module('attn', new WindowAttention(dim, numHeads, this.windowSize, { qkvBias: args.qkvBias, attnDrop: args.attnDrop, projDrop: args.projDrop }));
    this.dropPath1 = args.dropPath > 0 ? this.module('drop_path1', new DropPath(args.dropPath)) : null;
    this.norm2 = this.module('norm2', new LayerNorm(dim));
    this.mlp = this.module('mlp', new Mlp(dim, { hiddenFeatures: Math.trunc(dim * args.mlpRatio), drop: args.projDrop }));
    this.dropPath2 = args.dropPath > 0 ? this.module('drop_path2', new DropPath(args.dropPath)) : null;
  }

  /** How an H×W grid is cut into this block's windows at run time. */
  layoutFor(H: number, W: number): WindowLayout {
    if (this.windowing === 'timm') return windowLayout([H, W], this.windowSize, this.shiftSize, 'shift-then-pad');
    // torchvision drops a side's shift when one window covers that side once padded.
    const shift = [H, W].map((side, d) => (this.windowSize[d] >= Math.ceil(side / this.windowSize[d]) * this.windowSize[d] ? 0 : this.shiftSize[d]));
    return windowLayout([H, W], this.windowSize, [shift[0], shift[1]], 'pad-then-shift');
  }

  override forward(x: Tensor): Tensor {
    const [B, H, W, C] = x.shape;
    const layout = this.layoutFor(H, W);
    const dropping = isActive(this.dropPath1) || isActive(this.dropPath2);
    if (!dropping && layout.paddedSize[0] === H && layout.paddedSize[1] === W) {
      // Without padding every window token is a grid token, and norms and the MLP act per token: the
      // tokens stay in window order through both branches, so each skip is added inside its last matmul.
      const xw = partitionWindows(x, layout); // (B, nW, N, C)
      const a = this.attn.forward(this.norm1.forward(xw), layout.mask, xw); // (B, nW, N, C)
      return reshape(reverseWindows(this.mlp.forward(this.norm2.forward(a), a), layout), [B, H, W, C]); // (B, H, W, C)
    }
    // timm pads after norm1: padded tokens enter the attention as zeros.
    const windows = partitionWindows(this.norm1.forward(x), layout); // (B, nW, N, C)
    let y = reverseWindows(this.attn.forward(windows, layout.mask), layout); // (B, H·W, C)
    if (this.dropPath1) y = this.dropPath1.forward(y);
    let t = add(reshape(x, [B, H * W, C]), y); // (B, H·W, C)
    t = isActive(this.dropPath2) ? add(t, this.dropPath2!.forward(this.mlp.forward(this.norm2.forward(t)))) : this.mlp.forward(this.norm2.forward(t), t);
    return reshape(t, [B, H, W, C]); // (B, H, W, C)
  }
}

/** What a stage is built from: its widths, whether it starts with a PatchMerging, and its blocks (one per drop-path rate). */
export interface SwinStageArgs {
  inDim: number;
  outDim: number;
  numHeads: number;
  downsample: boolean;
  /** Every block's args but its shift (every second block is shifted) and drop-path rate. */
  block: Omit<SwinBlockArgs, 'shifted' | 'dropPath'>;
  dropPaths: readonly number[];
}

/** One stage: PatchMerging (all but the first), then its blocks (timm SwinTransformerStage, same names). */
export class SwinTransformerStage extends Module {
  readonly downsample: PatchMerging | null;
  readonly blocks: Sequential;

  constructor(args: SwinStageArgs) {
    super();
    const { outDim, numHeads, block } = args;
    this.downsample = args.downsample ? this.module('downsample', new PatchMerging(args.inDim, { outDim })) : null;
    this.blocks = this.module('blocks', new Sequential(...args.dropPaths.map((dropPath, j) => new SwinTransformerBlock(outDim, numHeads, { ...block, shifted: j % 2 === 1, dropPath }))));
  }

  override forward(x: Tensor): Tensor {
    return this.blocks.forward(this.downsample ? this.downsample.forward(x) : x);
  }
}

/** timm's ClassifierHead on a channels-last grid: pooling, dropout, `fc`. */
export class ClassifierHead extends Module {
  globalPool: SwinGlobalPool;
  readonly inFeatures: number;
  readonly drop: Dropout;
  fc: Linear | null;

  constructor(inFeatures: number, numClasses: number, globalPool: SwinGlobalPool, dropRate: number) {
    super();
    this.inFeatures = inFeatures;
    this.globalPool = checkPool(globalPool);
    this.drop = this.module('drop', new Dropout(dropRate));
    this.fc = null;
    this.reset(numClasses);
  }

  /** A fresh fc for numClasses with Linear's default init, as timm's reset (0: none, and no parameters). */
  reset(numClasses: number, globalPool?: SwinGlobalPool): void {
    if (globalPool !== undefined) this.globalPool = checkPool(globalPool);
    this.fc = numClasses > 0 ? new Linear(this.inFeatures, numClasses) : null;
    this.module('fc', this.fc ?? new Identity());
  }

  /** Grid [B, H, W, C] → [B, C] (or [B, H, W, C] unpooled), then the classes unless preLogits. */
  override forward(x: Tensor, preLogits = false): Tensor {
    if (this.globalPool === 'avg') x = mean(x, [1, 2]); // (B, C)
    x = this.drop.forward(x);
    return preLogits || !this.fc ? x : this.fc.forward(x);
  }
}

function checkPool(pool: string): SwinGlobalPool {
  if (pool !== 'avg' && pool !== '') throw new ArgumentError(`SwinTransformer: globalPool must be 'avg' or '', got '${pool}'`);
  return pool;
}

function initLinear(m: Linear): void {
  truncNormal02_(m.weight);
  if (m.bias) zeros_(m.bias);
}

/** timm's SwinTransformer: patch embedding, four stages of (shifted-)window blocks, norm, head. */
export class SwinTransformer extends Module implements ImageClassifier {
  numClasses: number;
  readonly numFeatures: number;
  readonly imgSize: number;
  readonly patchSize: number;
  readonly strictImgSize: boolean;
  readonly patchEmbed: PatchEmbed;
  readonly layers: ModuleList<SwinTransformerStage>;
  readonly norm: LayerNorm;
  readonly head: ClassifierHead;
  readonly inputShape: ImageInputShape;
  /** The stage outputs (timm's feature_info). */
  readonly featureInfo: FeatureInfo[];

  constructor(config: SwinConfig, options: SwinOptions = {}) {
    super();
    const { patchSize, embedDim, depths, numHeads } = config;
    for (const key of ['patchSize', 'embedDim', 'windowSize'] as const) checkInt('SwinTransformer', key, config[key], 1);
    if (depths.length === 0 || depths.length !== numHeads.length) {
      throw new ArgumentError(`SwinTransformer: depths and numHeads need one entry per stage, got ${depths.length} and ${numHeads.length}`);
    }
    const windowSize = options.windowSize ?? config.windowSize;
    checkInt('SwinTransformer', 'windowSize', windowSize, 1);
    this.imgSize = options.imgSize ?? config.imgSize ?? 224;
    this.patchSize = patchSize;
    this.strictImgSize = options.strictImgSize ?? true;
    const dims = depths.map((_, i) => embedDim * 2 ** i);
    this.numFeatures = dims[dims.length - 1];
    const inChans = options.inChans ?? 3;
    this.patchEmbed = this.module('patch_embed', new PatchEmbed({
      imgSize: this.imgSize, patchSize, inChans, embedDim, normLayer: (d) => new LayerNorm(d), outputFormat: 'NHWC', strictImgSize: this.strictImgSize,
    }));
    const [gh, gw] = this.patchEmbed.gridSize;
    const merges = depths.length - 1;
    if (Math.min(gh, gw) < 2 ** merges) {
      const smallest = patchSize * 2 ** merges;
      throw new ArgumentError(`SwinTransformer: imgSize ${this.imgSize} gives a ${gh}×${gw} patch grid, which ${merges} patch merges shrink to nothing; build with imgSize >= ${smallest} (patch ${patchSize} × 2^${merges})`);
    }
    const rates = dropPathRates(options.dropPathRate ?? config.dropPathRate ?? 0.1, depths.reduce((a, b) => a + b, 0));
    const blockArgs = {
      windowSize, windowing: config.windowing ?? 'timm', mlpRatio: config.mlpRatio ?? 4, qkvBias: config.qkvBias ?? true,
      attnDrop: options.attnDropRate ?? 0, projDrop: options.projDropRate ?? 0,
    };
    let first = 0;
    this.layers = this.module('layers', new ModuleList(depths.map((depth, i) => {
      checkInt('SwinTransformer', `depths[${i}]`, depth, 1);
      // timm's stage grids at the built size: the patch grid floored by 2 per merge.
      const inputResolution: [number, number] = [Math.floor(gh / 2 ** i), Math.floor(gw / 2 ** i)];
      const stage = new SwinTransformerStage({
        inDim: dims[Math.max(i - 1, 0)], outDim: dims[i], numHeads: numHeads[i], downsample: i > 0, block: { ...blockArgs, inputResolution }, dropPaths: rates.slice(first, first + depth),
      });
      first += depth;
      return stage;
    })));
    this.norm = this.module('norm', new LayerNorm(this.numFeatures));
    this.numClasses = options.numClasses ?? 1000;
    this.head = this.module('head', new ClassifierHead(this.numFeatures, this.numClasses, options.globalPool ?? 'avg', options.dropRate ?? 0));
    this.inputShape = { inChans, fixedSize: this.strictImgSize ? [this.imgSize, this.imgSize] : null, ...(this.strictImgSize ? {} : { multipleOf: patchSize }) };
    this.featureInfo = dims.map((numChannels, i) => ({ module: `layers.${i}`, numChannels, reduction: patchSize * 2 ** i }));
    this.#initWeights();
  }

  // timm's default init: trunc_normal_(std=0.02) Linear weights and relative position tables, zero
  // Linear biases; the patch conv and the norms keep their own init.
  #initWeights(): void {
    noGrad(() => {
      for (const m of this.modules()) {
        if (m instanceof Linear) initLinear(m);
        else if (m instanceof WindowAttention) truncNormal02_(m.relativePositionBiasTable);
      }
    });
  }

  /** Parameters kept out of weight decay besides norms and biases, as timm's no_weight_decay: the relative position tables. */
  noWeightDecay(): string[] {
    return ['*relative_position_bias_table'];
  }

  /** [numFeatures] pooled; the last grid at the built size [h, w, numFeatures] without pooling. */
  get pooledShape(): number[] {
    if (this.head.globalPool === 'avg') return [this.numFeatures];
    const side = (g: number) => this.layers.length > 1 ? Math.ceil(g / 2 ** (this.layers.length - 1)) : g;
    return [side(this.patchEmbed.gridSize[0]), side(this.patchEmbed.gridSize[1]), this.numFeatures];
  }

  // The sizes this model takes, as a typed error naming them.
  #checkInput(x: Tensor): void {
    if (x.ndim !== 4) throw new ShapeError(`SwinTransformer: expected pixels [B, C, H, W], got shape ${formatShape(x.shape)}`);
    const [, , H, W] = x.shape;
    const p = this.patchSize;
    if (this.strictImgSize && (H !== this.imgSize || W !== this.imgSize)) {
      throw new ShapeError(`SwinTransformer: input is ${H}×${W}, expected ${this.imgSize}×${this.imgSize}, the size this model was built for; resize the input to it (in code, a model built with { imgSize: N } or { strictImgSize: false } takes other sizes)`);
    }
    if (!this.strictImgSize && (H % p !== 0 || W % p !== 0)) throw new ShapeError(`SwinTransformer: input ${H}×${W} must have sides that are multiples of the patch size ${p}`);
  }

  /** pixels [B, C, H, W] → normalized last-stage grid [B, h, w, numFeatures] (channels last, as timm). */
  forwardFeatures(x: Tensor): Tensor {
    this.#checkInput(x);
    return this.norm.forward(runBlocks(this.patchEmbed.forward(x), this.layers));
  }

  /** Stage outputs as timm's forward_intermediates: maps [B, C_s, h_s, w_s] (NCHW only, as timm); `norm` applies to the last stage. */
  forwardIntermediates(x: Tensor, options: IntermediatesOptions = {}): Intermediates {
    if ((options.outputFmt ?? 'NCHW') !== 'NCHW') throw new ArgumentError(`SwinTransformer: forwardIntermediates gives NCHW maps only, got outputFmt '${options.outputFmt}'`);
    const { take, maxIndex } = featureTakeIndices(this.layers.length, options.indices);
    this.#checkInput(x);
    const last = this.layers.length - 1;
    const stages = [...this.layers].slice(0, options.stopEarly ? maxIndex + 1 : undefined);
    let t = this.patchEmbed.forward(x);
    const intermediates: Tensor[] = [];
    stages.forEach((stage, i) => {
      t = stage.forward(t);
      if (!take.includes(i)) return;
      const y = options.norm && i === last ? this.norm.forward(t) : t;
      intermediates.push(contiguous(permute(y, [0, 3, 1, 2]))); // (B, C, h, w)
    });
    if (options.intermediatesOnly) return { features: null, intermediates };
    return { features: stages.length === this.layers.length ? this.norm.forward(t) : t, intermediates };
  }

  forwardHead(x: Tensor, options: { preLogits?: boolean } = {}): Tensor {
    return this.head.forward(x, options.preLogits ?? false);
  }

  forward(x: Tensor): Tensor {
    return this.forwardHead(this.forwardFeatures(x));
  }

  /** A fresh head for numClasses (0 removes it); optionally another pooling. */
  resetClassifier(numClasses: number, globalPool?: SwinGlobalPool): void {
    this.numClasses = numClasses;
    this.head.reset(numClasses, globalPool);
  }
}

const TABLE = '.relative_position_bias_table';

/**
 * timm's checkpoint_filter_fn for Swin, adapting a checkpoint in timm's layout to `model`: the
 * derived buffers old checkpoints carry (relative_position_index, attn_mask) are dropped, and a
 * relative position table of another window size is resampled to the block's window
 * (resizeRelativePositionTable). Other entries pass through. Pure: the input is not changed.
 */
export function filterSwinCheckpoint(sd: StateDict, model: SwinTransformer): StateDict {
  const attention = new Map(model.namedModules().filter((e): e is [string, WindowAttention] => e[1] instanceof WindowAttention));
  const out: StateDict = new Map();
  for (const [key, value] of sd) {
    if (key.includes('relative_position_index') || key.includes('attn_mask')) continue;
    const attn = key.endsWith(TABLE) ? attention.get(key.slice(0, -TABLE.length)) : undefined;
    const resize = attn && !shapeEquals(value.shape, attn.relativePositionBiasTable.shape);
    out.set(key, resize ? noGrad(() => resizeRelativePositionTable(value, attn.windowSize)) : value);
  }
  return out;
}

/** timm's Swin v1 variants (swin_transformer.py model_args). */
export const SWIN_VARIANTS = {
  swin_tiny_patch4_window7_224: { patchSize: 4, windowSize: 7, embedDim: 96, depths: [2, 2, 6, 2], numHeads: [3, 6, 12, 24] },
  swin_small_patch4_window7_224: { patchSize: 4, windowSize: 7, embedDim: 96, depths: [2, 2, 18, 2], numHeads: [3, 6, 12, 24] },
  swin_base_patch4_window7_224: { patchSize: 4, windowSize: 7, embedDim: 128, depths: [2, 2, 18, 2], numHeads: [4, 8, 16, 32] },
  swin_base_patch4_window12_384: { patchSize: 4, windowSize: 12, embedDim: 128, depths: [2, 2, 18, 2], numHeads: [4, 8, 16, 32], imgSize: 384 },
  swin_large_patch4_window7_224: { patchSize: 4, windowSize: 7, embedDim: 192, depths: [2, 2, 18, 2], numHeads: [6, 12, 24, 48] },
  swin_large_patch4_window12_384: { patchSize: 4, windowSize: 12, embedDim: 192, depths: [2, 2, 18, 2], numHeads: [6, 12, 24, 48], imgSize: 384 },
} satisfies Record<string, SwinConfig>;

/** torchvision's Swins: timm's architectures with torchvision's windowing and its stochastic depth defaults. */
export const TORCHVISION_SWIN_VARIANTS = {
  swin_t: { ...SWIN_VARIANTS.swin_tiny_patch4_window7_224, windowing: 'torchvision', dropPathRate: 0.2 },
  swin_s: { ...SWIN_VARIANTS.swin_small_patch4_window7_224, windowing: 'torchvision', dropPathRate: 0.3 },
  swin_b: { ...SWIN_VARIANTS.swin_base_patch4_window7_224, windowing: 'torchvision', dropPathRate: 0.5 },
} satisfies Record<string, SwinConfig>;

type SwinName = keyof typeof SWIN_VARIANTS;

/** timm's Swin _cfg at an image size: bicubic, crop 0.9 at 224 and 1.0 at 384, ImageNet mean/std, MIT license. */
export function swinCfg(hubId: string, imgSize: number, changes: Partial<Omit<PretrainedCfg, 'preprocess'>> = {}): PretrainedCfg {
  return {
    hubId, numClasses: 1000, firstConv: 'patch_embed.proj', classifier: 'head.fc', license: 'mit', labelSet: 'imagenet-1k', ...changes,
    preprocess: { image: { inputSize: [3, imgSize, imgSize], cropPct: imgSize >= 384 ? 1.0 : 0.9, interpolation: 'bicubic', mean: IMAGENET_MEAN, std: IMAGENET_STD } },
  };
}

// timm's tags: Microsoft's ImageNet-1k weights, ImageNet-22k fine-tuned on 1k, and the 22k ones (21841 classes).
const SWIN_TAGS = {
  ms_in1k: {},
  ms_in22k_ft_in1k: {},
  ms_in22k: { numClasses: 21841, labelSet: 'imagenet-22k' },
} satisfies Record<string, Partial<PretrainedCfg>>;

/** Each variant's tags in timm's order (the first is the default; timm lists swin_tiny's 1k weights first on purpose). */
const SWIN_WEIGHTS: Record<SwinName, (keyof typeof SWIN_TAGS)[]> = {
  swin_tiny_patch4_window7_224: ['ms_in1k', 'ms_in22k_ft_in1k', 'ms_in22k'],
  swin_small_patch4_window7_224: ['ms_in22k_ft_in1k', 'ms_in1k', 'ms_in22k'],
  swin_base_patch4_window7_224: ['ms_in22k_ft_in1k', 'ms_in1k', 'ms_in22k'],
  swin_base_patch4_window12_384: ['ms_in22k_ft_in1k', 'ms_in1k', 'ms_in22k'],
  swin_large_patch4_window7_224: ['ms_in22k_ft_in1k', 'ms_in22k'],
  swin_large_patch4_window12_384: ['ms_in22k_ft_in1k', 'ms_in22k'],
};

// torchvision's IMAGENET1K_V1 weights (.pth, no hub repo: convert to .safetensors keeping the names);
// cropPct = crop / resize reproduces its Resize(resize) + CenterCrop(224), bicubic.
const tv = (resize: number): Record<string, PretrainedCfg> => ({
  tv_in1k: {
    keyLayout: 'torchvision', numClasses: 1000, firstConv: 'patch_embed.proj', classifier: 'head.fc', license: 'bsd-3-clause', labelSet: 'imagenet-1k',
    preprocess: { image: { inputSize: [3, 224, 224], cropPct: 224 / resize, interpolation: 'bicubic', mean: IMAGENET_MEAN, std: IMAGENET_STD } },
  },
});
const TORCHVISION_WEIGHTS: Record<keyof typeof TORCHVISION_SWIN_VARIANTS, Record<string, PretrainedCfg>> = {
  swin_t: tv(232),
  swin_s: tv(246),
  swin_b: tv(238),
};

/** Parameter counts with the default head, as timm/torchvision report them (checked by test/models/registry.test.ts). */
const SWIN_PARAM_COUNTS: Record<string, number> = {
  swin_tiny_patch4_window7_224: 28_288_354,
  swin_small_patch4_window7_224: 49_606_258,
  swin_base_patch4_window7_224: 87_768_224,
  swin_base_patch4_window12_384: 87_903_584,
  swin_large_patch4_window7_224: 196_532_476,
  swin_large_patch4_window12_384: 196_735_516,
  swin_t: 28_288_354,
  swin_s: 49_606_258,
  swin_b: 87_768_224,
};

/** Registry entries of the family: timm's Swins and torchvision's (timm-structured, torchvision keys remapped). */
export const SWIN_MODELS: ModelEntry<SwinTransformer>[] = [
  ...Object.entries(SWIN_VARIANTS).map(([name, config]: [string, SwinConfig]): ModelEntry<SwinTransformer> => ({
    name,
    family: 'swin',
    paramCount: SWIN_PARAM_COUNTS[name],
    create: (options) => new SwinTransformer(config, options),
    pretrained: Object.fromEntries(SWIN_WEIGHTS[name as SwinName].map((tag) => [tag, swinCfg(`timm/${name}.${tag}`, config.imgSize ?? 224, SWIN_TAGS[tag])])),
    filterCheckpoint: filterSwinCheckpoint,
    contract: IMAGE_CLASSIFICATION,
  })),
  ...Object.entries(TORCHVISION_SWIN_VARIANTS).map(([name, config]: [string, SwinConfig]): ModelEntry<SwinTransformer> => ({
    name,
    family: 'swin',
    paramCount: SWIN_PARAM_COUNTS[name],
    create: (options) => new SwinTransformer(config, options),
    pretrained: TORCHVISION_WEIGHTS[name as keyof typeof TORCHVISION_SWIN_VARIANTS],
    keyLayouts: { torchvision: torchvisionSwinToTimm },
    filterCheckpoint: filterSwinCheckpoint,
    contract: IMAGE_CLASSIFICATION,
  })),
];
