/**
 * MViTv2 — "MViTv2: Improved Multiscale Vision Transformers for Classification and Detection",
 * Li, Wu, Fan, Mangalam, Xiong, Malik, Feichtenhofer, CVPR 2022. Reference code: timm
 * `models/mvitv2.py` (MultiScaleVit, after facebookresearch/mvit), its ImageNet-1k configs: a 7×7/4
 * conv patch embedding, four stages of pre-norm pooling-attention blocks (src/nn/blocks/
 * pooling-attention.ts: conv pooling, decomposed relative positions, residual pooling), query
 * stride 2 at the first block of stages 1–3, key/value stride 4, 2, 1, 1, no class token and no
 * absolute position embedding, LayerNorm eps 1e-6, final norm, mean over tokens, head.
 *
 * Checkpoint layout: timm's names, native here — `patch_embed.proj`, `stages.{s}.blocks.{b}.{norm1,
 * shortcut_proj_attn, attn.{rel_pos_h, rel_pos_w, qkv, proj, pool_{q,k,v}, norm_{q,k,v}}, norm2,
 * shortcut_proj_mlp, mlp.fc1, mlp.fc2}`, `norm`, `head.fc`. The relative-position tables are sized
 * for the image size the model is built at (`imgSize`); a checkpoint made at another size loads
 * through `filterCheckpoint`, which resamples them as timm's checkpoint_filter_fn does.
 *
 * Input sizes: as timm, a model takes any image whose token grids fit its tables — for a model
 * built at a multiple of 32, every side up to the built size — and refuses the others with a typed
 * error naming the sides it takes (timm fails on them with an IndexError).
 */
import { ArgumentError, ShapeError, formatShape } from '../errors.ts';
import { relPosMaxIndex, relPosTableLength, resizeRelPosTable } from '../nn/blocks/decomposed-rel-pos.ts';
import { Mlp } from '../nn/blocks/mlp.ts';
import { MultiScaleAttention, type Grid } from '../nn/blocks/pooling-attention.ts';
import { truncNormal_, zeros_ } from '../nn/init.ts';
import { checkInt } from '../nn/layers/common.ts';
import { ModuleList } from '../nn/layers/containers.ts';
import { Conv2d } from '../nn/layers/conv.ts';
import { DropPath, Dropout, dropPathRates } from '../nn/layers/dropout.ts';
import { Identity, Linear } from '../nn/layers/linear.ts';
import { LayerNorm } from '../nn/layers/norm.ts';
import { Module, type StateDict } from '../nn/module.ts';
import { runBlocks } from '../nn/run-blocks.ts';
import { noGrad } from '../tensor/autograd.ts';
import { add } from '../tensor/ops/elementwise.ts';
import { maxPool2d } from '../tensor/ops/pool.ts';
import { mean } from '../tensor/ops/reduce.ts';
import { permute, reshape } from '../tensor/ops/shape.ts';
import { toChannelsLast } from '../tensor/ops/spatial.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { IMAGENET_MEAN, IMAGENET_STD } from './constants.ts';
import type { CreateModelOptions, ModelEntry, PretrainedCfg } from './contract.ts';
import { IMAGE_CLASSIFICATION, featureTakeIndices, type FeatureInfo, type ImageClassifier, type ImageInputShape, type Intermediates, type IntermediatesOptions } from './image-classifier.ts';

/** An MViTv2 architecture (timm's MultiScaleVitCfg, in1k variants). */
export interface MvitConfig {
  /** Blocks per stage. */
  depths: readonly number[];
  /** Width of stage 0; it doubles at each stage. */
  embedDim: number;
  /** Heads of stage 0; they double at each stage. */
  numHeads: number;
  /** Widen in the attention of each stage's first block (T/S/B); else in the MLP of each stage's last block (L). */
  expandAttn: boolean;
  /** MLP hidden width / its input width (default 4). */
  mlpRatio?: number;
}

const PATCH_STRIDE = 4;
const LN_EPS = 1e-6;
// Key/value pooling stride of stage 0, divided by the query stride wherever a stage starts with one (timm's stride_kv_adaptive).
const KV_STRIDE = 4;

/** Per-block geometry: pooling strides and the grid side its rel-pos tables are built for. */
interface BlockGeometry {
  strideQ: number;
  strideKv: number;
  featSize: number;
}

/** Each stage's blocks' geometry for a model built at imgSize (timm's floor-divided build grids). */
function stageGeometry(depths: readonly number[], imgSize: number): BlockGeometry[][] {
  let feat = Math.floor(imgSize / PATCH_STRIDE);
  let strideKv = KV_STRIDE;
  return depths.map((depth, s) => {
    const strideQ = s > 0 ? 2 : 1;
    if (strideQ > 1) strideKv = Math.max(Math.floor(strideKv / strideQ), 1);
    const blocks = Array.from({ length: depth }, (_, b) => ({ strideQ: b === 0 ? strideQ : 1, strideKv, featSize: b === 0 ? feat : Math.floor(feat / strideQ) }));
    feat = Math.floor(feat / strideQ);
    return blocks;
  });
}

/** What decides which input sides a block takes: its pooling strides and its rel-pos table length. */
interface BlockTables {
  strideQ: number;
  strideKv: number;
  tableLength: number;
}

/**
 * Whether an input side runs through these blocks: at run time every grid is ⌈side/stride⌉ (the
 * convs pad), and each block's largest relative distance must lie inside its tables.
 */
function sideFits(side: number, blocks: readonly BlockTables[]): boolean {
  let grid = Math.ceil(side / PATCH_STRIDE);
  return blocks.every((b) => {
    const q = Math.ceil(grid / b.strideQ);
    const fits = relPosMaxIndex(q, Math.ceil(grid / b.strideKv)) < b.tableLength;
    grid = q;
    return fits;
  });
}

// The tables timm builds for each block of a model built at imgSize.
function builtTables(depths: readonly number[], imgSize: number): BlockTables[] {
  return stageGeometry(depths, imgSize).flat().map((b) => ({
    ...b, tableLength: relPosTableLength(Math.floor(b.featSize / b.strideQ), Math.floor(b.featSize / b.strideKv)),
  }));
}

// timm builds any size, but where floor-divided build grids fall short of the ⌈·⌉ grids a forward sees,
// the tables are too short for the model's own size and every forward fails: refuse those at build.
function checkBuildSize(depths: readonly number[], imgSize: number): void {
  checkInt('MultiScaleVit', 'imgSize', imgSize, 1);
  const works = (size: number) => sideFits(size, builtTables(depths, size));
  if (works(imgSize)) return;
  let below = imgSize - 1;
  while (below > 0 && !works(below)) --below;
  let above = imgSize + 1;
  while (!works(above)) ++above;
  const nearest = below > 0 ? `${below} and ${above}` : `${above}`;
  throw new ArgumentError(`MultiScaleVit: imgSize ${imgSize} builds relative-position tables too short for its own ${imgSize} px token grids (timm builds it, and every forward then fails); the nearest sizes that work: ${nearest}`);
}

/** Sides in [1, limit] that pass, as "a–b" ranges. */
function sideRanges(limit: number, fits: (side: number) => boolean): string {
  const ranges: string[] = [];
  for (let s = 1; s <= limit; ++s) {
    if (!fits(s)) continue;
    const start = s;
    while (s < limit && fits(s + 1)) ++s;
    ranges.push(start === s ? `${s}` : `${start}–${s}`);
  }
  return ranges.join(', ');
}

/** The 7×7 stride-4 conv embedding (timm's mvitv2 PatchEmbed): pixels → tokens [B, h·w, C] and their grid. */
class MvitPatchEmbed extends Module {
  readonly proj: Conv2d;

  constructor(inChans: number, dim: number) {
    super();
    this.proj = this.module('proj', new Conv2d(inChans, dim, 7, { stride: PATCH_STRIDE, padding: 3 }));
  }

  override forward(x: Tensor): { tokens: Tensor; grid: [number, number] } {
    // A channels-last image makes a channels-last map, which is the token layout with no copy.
    const y = this.proj.forward(toChannelsLast(x)); // (B, C, h, w)
    const [B, C, h, w] = y.shape;
    return { tokens: reshape(permute(y, [0, 2, 3, 1]), [B, h * w, C]), grid: [h, w] }; // (B, h·w, C)
  }
}

/** Options of a MultiScaleBlock beyond its widths. */
interface MultiScaleBlockOptions extends BlockGeometry {
  numHeads: number;
  expandAttn: boolean;
  mlpRatio: number;
  dropPath: number;
}

/**
 * timm's MultiScaleBlock: x' = pool(skip(x)) + attn(norm1(x)), then x' + mlp(norm2(x')). The skip is
 * x, or shortcut_proj_attn(norm1(x)) where the attention widens; the MLP widens through
 * shortcut_proj_mlp(norm2(x')) instead when expandAttn is off.
 */
class MultiScaleBlock extends Module {
  readonly norm1: LayerNorm;
  readonly shortcutProjAttn: Linear | null;
  readonly attn: MultiScaleAttention;
  readonly dropPath1: DropPath | null;
  readonly norm2: LayerNorm;
  readonly shortcutProjMlp: Linear | null;
  readonly mlp: Mlp;
  readonly dropPath2: DropPath | null;
  readonly strideQ: number;

  constructor(dim: number, dimOut: number, options: MultiScaleBlockOptions) {
    super();
    const { expandAttn } = options;
    const attDim = expandAttn ? dimOut : dim;
    this.strideQ = options.strideQ;
    this.norm1 = this.module('norm1', new LayerNorm(dim, { eps: LN_EPS }));
    this.shortcutProjAttn = dim !== dimOut && expandAttn ? this.module('shortcut_proj_attn', new Linear(dim, dimOut)) : null;
    this.attn = this.module('attn', new MultiScaleAttention(dim, attDim, {
      numHeads: options.numHeads, featSize: options.featSize, strideQ: options.strideQ, strideKv: options.strideKv, normEps: LN_EPS,
    }));
    this.dropPath1 = options.dropPath > 0 ? this.module('drop_path1', new DropPath(options.dropPath)) : null;
    this.norm2 = this.module('norm2', new LayerNorm(attDim, { eps: LN_EPS }));
    this.shortcutProjMlp = dim !== dimOut && !expandAttn ? this.module('shortcut_proj_mlp', new Linear(dim, dimOut)) : null;
    this.mlp = this.module('mlp', new Mlp(attDim, { hiddenFeatures: Math.trunc(attDim * options.mlpRatio), outFeatures: dimOut }));
    this.dropPath2 = options.dropPath > 0 ? this.module('drop_path2', new DropPath(options.dropPath)) : null;
  }

  /** tokens [B, h·w, dim] on grid → [B, h'·w', dimOut] on the query-pooled grid. */
  override forward(x: Tensor, grid: Grid): { x: Tensor; grid: [number, number] } {
    const xNorm = this.norm1.forward(x);
    // As the reference: the skip is the un-normalized input unless it is projected.
    const skip = this.#poolSkip(this.shortcutProjAttn ? this.shortcutProjAttn.forward(xNorm) : x, grid);
    const attn = this.attn.forward(xNorm, grid, this.dropPath1 ? null : skip);
    x = this.dropPath1 ? add(skip, this.dropPath1.forward(attn.x)) : attn.x;
    const yNorm = this.norm2.forward(x);
    const skip2 = this.shortcutProjMlp ? this.shortcutProjMlp.forward(yNorm) : x;
    x = this.dropPath2 ? add(skip2, this.dropPath2.forward(this.mlp.forward(yNorm))) : this.mlp.forward(yNorm, skip2);
    return { x, grid: attn.grid };
  }

  // The skip brought to the query grid: max pool, kernel stride + 1, padding ⌊kernel/2⌋ (timm's shortcut_pool_attn).
  #poolSkip(x: Tensor, grid: Grid): Tensor {
    if (this.strideQ === 1) return x;
    const [B, , C] = x.shape;
    const kernel = this.strideQ + 1;
    const maps = permute(reshape(x, [B, grid[0], grid[1], C]), [0, 3, 1, 2]); // (B, C, h, w), channels-last
    const pooled = maxPool2d(maps, { kernelSize: kernel, stride: this.strideQ, padding: Math.floor(kernel / 2) });
    return reshape(permute(pooled, [0, 2, 3, 1]), [B, pooled.shape[2] * pooled.shape[3], C]); // (B, h'·w', C)
  }
}

/** One stage: `blocks`, the first of which pools the queries and may widen. */
class MultiScaleVitStage extends Module {
  readonly blocks: ModuleList<MultiScaleBlock>;

  constructor(dim: number, dimOut: number, geometry: readonly BlockGeometry[], options: Omit<MultiScaleBlockOptions, keyof BlockGeometry | 'dropPath'> & { dropPaths: number[] }) {
    super();
    const depth = geometry.length;
    const outDims = options.expandAttn ? geometry.map(() => dimOut) : geometry.map((_, i) => (i === depth - 1 ? dimOut : dim));
    this.blocks = this.module('blocks', new ModuleList(geometry.map((g, i) => (
      new MultiScaleBlock(i === 0 ? dim : outDims[i - 1], outDims[i], { ...options, ...g, dropPath: options.dropPaths[i] })
    ))));
  }

  /** tokens [B, h·w, dim] on grid → the last block's tokens and grid. */
  override forward(x: Tensor, grid: Grid): { x: Tensor; grid: [number, number] } {
    const state = { grid };
    const y = runBlocks(x, this.steps(state));
    return { x: y, grid: [state.grid[0], state.grid[1]] };
  }

  /** Chain steps for runBlocks that thread the grid through the blocks (`state.grid` follows them). */
  steps(state: { grid: Grid }): ((x: Tensor) => Tensor)[] {
    return [...this.blocks].map((block) => (x: Tensor) => {
      const out = block.forward(x, state.grid);
      state.grid = out.grid;
      return out.x;
    });
  }
}

/** Dropout then the classifier `fc` (timm's head Sequential); `fc` is an Identity without classes. */
class MvitHead extends Module {
  readonly drop: Dropout;
  readonly fc: Linear | null;

  constructor(numFeatures: number, numClasses: number, dropRate: number) {
    super();
    this.drop = this.module('drop', new Dropout(dropRate));
    this.fc = numClasses > 0 ? this.module('fc', new Linear(numFeatures, numClasses)) : null;
    if (!this.fc) this.module('fc', new Identity());
  }

  override forward(x: Tensor): Tensor {
    x = this.drop.forward(x);
    return this.fc ? this.fc.forward(x) : x;
  }
}

/** timm's MultiScaleVit without a class token: patch embedding, four pooling-attention stages, norm, mean over tokens, head. */
export class MultiScaleVit extends Module implements ImageClassifier {
  numClasses: number;
  readonly numFeatures: number;
  readonly imgSize: number;
  readonly inputShape: ImageInputShape;
  /** The four stage outputs, at strides 4, 8, 16, 32. */
  readonly featureInfo: FeatureInfo[];
  readonly patchEmbed: MvitPatchEmbed;
  readonly stages: ModuleList<MultiScaleVitStage>;
  readonly norm: LayerNorm;
  head: MvitHead;
  readonly #dropRate: number;
  readonly #fits = new Map<number, boolean>();

  constructor(config: MvitConfig, options: CreateModelOptions = {}) {
    super();
    const { depths, embedDim, numHeads, expandAttn } = config;
    if (depths.length === 0) throw new ArgumentError('MultiScaleVit: depths must name at least one stage, got []');
    for (const depth of depths) checkInt('MultiScaleVit', 'depths entry', depth, 1);
    checkInt('MultiScaleVit', 'embedDim', embedDim, 1);
    checkInt('MultiScaleVit', 'numHeads', numHeads, 1);
    const imgSize = options.imgSize ?? 224;
    checkBuildSize(depths, imgSize);
    const geometry = stageGeometry(depths, imgSize);
    this.imgSize = imgSize;
    const inChans = options.inChans ?? 3;
    this.inputShape = { inChans, fixedSize: [imgSize, imgSize] };
    const dims = depths.map((_, s) => embedDim * 2 ** s);
    const rates = dropPathRates(options.dropPathRate ?? 0, depths.reduce((a, b) => a + b, 0));
    let start = 0;
    this.patchEmbed = this.module('patch_embed', new MvitPatchEmbed(inChans, embedDim));
    this.featureInfo = [];
    let dim = embedDim;
    let stride = PATCH_STRIDE;
    this.stages = this.module('stages', new ModuleList(depths.map((depth, s) => {
      const dimOut = expandAttn ? dims[s] : dims[Math.min(s + 1, depths.length - 1)];
      const dropPaths = rates.slice(start, start + depth);
      const stage = new MultiScaleVitStage(dim, dimOut, geometry[s], { numHeads: numHeads * 2 ** s, expandAttn, mlpRatio: config.mlpRatio ?? 4, dropPaths });
      start += depth;
      stride *= geometry[s][0].strideQ;
      this.featureInfo.push({ module: `stages.${s}`, numChannels: dimOut, reduction: stride });
      dim = dimOut;
      return stage;
    })));
    this.numFeatures = dim;
    this.norm = this.module('norm', new LayerNorm(dim, { eps: LN_EPS }));
    this.#dropRate = options.dropRate ?? 0;
    this.numClasses = options.numClasses ?? 1000;
    this.head = this.module('head', new MvitHead(dim, this.numClasses, this.#dropRate));
    this.#initWeights();
  }

  get pooledShape(): number[] {
    return [this.numFeatures];
  }

  // timm's init: trunc_normal_tf_(std=0.02) Linear weights (truncated at ±2σ), zero Linear biases; convs, norms and the rel-pos tables keep their own.
  #initWeights(): void {
    noGrad(() => {
      for (const [, m] of this.namedModules()) {
        if (!(m instanceof Linear)) continue;
        truncNormal_(m.weight, 0, 0.02, -0.04, 0.04);
        if (m.bias) zeros_(m.bias);
      }
    });
  }

  /** Whether an input side fits every block's relative-position tables (see the header). */
  fitsSide(side: number): boolean {
    let fits = this.#fits.get(side);
    if (fits === undefined) {
      const blocks = [...this.stages].flatMap((stage) => [...stage.blocks]).map(({ attn }) => ({ strideQ: attn.strideQ, strideKv: attn.strideKv, tableLength: attn.tableLength }));
      fits = sideFits(side, blocks);
      this.#fits.set(side, fits);
    }
    return fits;
  }

  // pixels [B, C, H, W] → tokens [B, h·w, C] and grid, after checking the size fits the tables.
  #embed(x: Tensor): { tokens: Tensor; grid: [number, number] } {
    if (x.ndim !== 4) throw new ShapeError(`MultiScaleVit: expected pixels [B, C, H, W], got shape ${formatShape(x.shape)}`);
    const [H, W] = [x.shape[2], x.shape[3]];
    if (!this.fitsSide(H) || !this.fitsSide(W)) {
      const sides = sideRanges(4 * this.imgSize, (s) => this.fitsSide(s));
      throw new ShapeError(`MultiScaleVit: input ${H}×${W} is too large for the relative-position tables of a model built for ${this.imgSize}×${this.imgSize}: each side must be ${sides} px (build with { imgSize } for larger inputs)`);
    }
    return this.patchEmbed.forward(x);
  }

  /** pixels [B, C, H, W] → normalized tokens [B, h·w, numFeatures] (h, w: the input's 32nd, rounded up). */
  forwardFeatures(x: Tensor): Tensor {
    const { tokens, grid } = this.#embed(x);
    const state = { grid: grid as Grid };
    return this.norm.forward(runBlocks(tokens, [...this.stages].flatMap((stage) => stage.steps(state))));
  }

  /** Stage outputs as timm's forward_intermediates: maps [B, C, h, w] (NCHW; a channels-last view) or tokens [B, h·w, C] (NLC); `norm` applies to the last stage only. */
  forwardIntermediates(x: Tensor, options: IntermediatesOptions = {}): Intermediates {
    const { take, maxIndex } = featureTakeIndices(this.stages.length, options.indices);
    const last = this.stages.length - 1;
    let { tokens, grid } = this.#embed(x);
    const intermediates: Tensor[] = [];
    const stages = [...this.stages].slice(0, options.stopEarly ? maxIndex + 1 : undefined);
    stages.forEach((stage, s) => {
      ({ x: tokens, grid } = stage.forward(tokens, grid));
      if (!take.includes(s)) return;
      const y = options.norm && s === last ? this.norm.forward(tokens) : tokens;
      const [B, , C] = y.shape;
      intermediates.push(options.outputFmt === 'NLC' ? y : permute(reshape(y, [B, grid[0], grid[1], C]), [0, 3, 1, 2])); // (B, C, h, w)
    });
    if (options.intermediatesOnly) return { features: null, intermediates };
    return { features: stages.length === this.stages.length ? this.norm.forward(tokens) : tokens, intermediates };
  }

  forwardHead(x: Tensor, options: { preLogits?: boolean } = {}): Tensor {
    const pooled = mean(x, 1); // (B, C)
    return options.preLogits ? pooled : this.head.forward(pooled);
  }

  forward(x: Tensor): Tensor {
    return this.forwardHead(this.forwardFeatures(x));
  }

  /** A fresh head for numClasses (0: no classifier, pooled features out). */
  resetClassifier(numClasses: number): void {
    this.numClasses = numClasses;
    this.head = this.module('head', new MvitHead(this.numFeatures, numClasses, this.#dropRate));
  }
}

/**
 * A checkpoint in timm's layout adapted to `model`: rel_pos_h/w tables of another length (made at
 * another image size) linearly resampled to the model's, as timm's checkpoint_filter_fn does.
 */
export function filterMvitCheckpoint(sd: StateDict, model: MultiScaleVit): StateDict {
  const own = new Map(model.namedParameters());
  const out: StateDict = new Map();
  for (const [key, value] of sd) {
    const target = key.includes('rel_pos') ? own.get(key) : undefined;
    out.set(key, target && value.ndim === 2 && value.shape[0] !== target.shape[0] ? noGrad(() => resizeRelPosTable(value, target.shape[0])) : value);
  }
  return out;
}

/** timm's MViTv2 ImageNet-1k variants (mvitv2.py model_cfgs). */
export const MVITV2_VARIANTS = {
  mvitv2_tiny: { depths: [1, 2, 5, 2], embedDim: 96, numHeads: 1, expandAttn: true },
  mvitv2_small: { depths: [1, 2, 11, 2], embedDim: 96, numHeads: 1, expandAttn: true },
  mvitv2_base: { depths: [2, 3, 16, 3], embedDim: 96, numHeads: 1, expandAttn: true },
  mvitv2_large: { depths: [2, 6, 36, 4], embedDim: 144, numHeads: 2, expandAttn: false },
} satisfies Record<string, MvitConfig>;

/** Parameter counts with the 1k head, as timm reports them (checked by test/models/registry.test.ts). */
const MVITV2_PARAM_COUNTS: Record<keyof typeof MVITV2_VARIANTS, number> = {
  mvitv2_tiny: 24_173_320,
  mvitv2_small: 34_870_216,
  mvitv2_base: 51_472_744,
  mvitv2_large: 217_992_952,
};

/** timm's cfg of the official ImageNet-1k weights (tag fb_in1k): bicubic, crop 0.9, ImageNet mean/std, fixed 224 input. */
export function mvitCfg(name: string): PretrainedCfg {
  return {
    hubId: `timm/${name}.fb_in1k`, numClasses: 1000, firstConv: 'patch_embed.proj', classifier: 'head.fc', license: 'apache-2.0', labelSet: 'imagenet-1k',
    preprocess: { image: { inputSize: [3, 224, 224], cropPct: 0.9, interpolation: 'bicubic', mean: IMAGENET_MEAN, std: IMAGENET_STD } },
  };
}

/** Registry entries of the family. */
export const MVITV2_MODELS: ModelEntry<MultiScaleVit>[] = Object.entries(MVITV2_VARIANTS).map(([name, config]: [string, MvitConfig]) => ({
  name,
  family: 'mvitv2',
  paramCount: MVITV2_PARAM_COUNTS[name as keyof typeof MVITV2_VARIANTS],
  create: (options) => new MultiScaleVit(config, options),
  pretrained: { fb_in1k: mvitCfg(name) },
  filterCheckpoint: filterMvitCheckpoint,
  contract: IMAGE_CLASSIFICATION,
}));
