/**
 * CLIP — Radford et al., "Learning Transferable Visual Models From Natural Language
 * Supervision", ICML 2021. Reference code: openai/CLIP `clip/model.py` (CLIP, VisionTransformer,
 * ModifiedResNet, Transformer); open_clip's `model.py` CLIP has the same structure and names.
 *
 * Two towers map images and texts into one embedding space: an image tower (a ViT with an extra
 * `ln_pre` and a class-token projection, or the ModifiedResNet of clip-resnet.ts) and a causal
 * text transformer pooled at the end-of-text token (the first position of the largest id, 49407),
 * each followed by a bias-free projection. Similarity is exp(logit_scale) · cosine; inference does
 * not clamp the scale (training clamps it at 100, as the reference's trainers do).
 *
 * Checkpoint layout: OpenAI's / open_clip's state dict, native here — `visual.*`, the text tower at
 * the root (`token_embedding`, `positional_embedding`, `transformer.resblocks.{i}`, `ln_final`,
 * `text_projection`) and `logit_scale`. HF transformers' CLIPModel layout loads through the pure
 * remapper in clip-hf.ts (keyLayout 'hf').
 */
import { ArgumentError, DTypeError, formatShape, ShapeError } from '../errors.ts';
import { resampleAbsPosEmbed } from '../nn/blocks/pos-embed.ts';
import { ResidualAttentionStack, type ClipActivation } from '../nn/blocks/residual-attention.ts';
import { normal_ } from '../nn/init.ts';
import { checkInt } from '../nn/layers/common.ts';
import { Conv2d } from '../nn/layers/conv.ts';
import { Embedding } from '../nn/layers/embedding.ts';
import { LayerNorm } from '../nn/layers/norm.ts';
import { Module, type StateDict } from '../nn/module.ts';
import type { Parameter } from '../nn/parameter.ts';
import { noGrad } from '../tensor/autograd.ts';
import { arange, empty, scalarTensor } from '../tensor/creation.ts';
import { isFloating } from '../tensor/dtype.ts';
import { add, cast, ge, mul, ne, sub } from '../tensor/ops/elementwise.ts';
import { matmul } from '../tensor/ops/linalg.ts';
import { argmax, l2Normalize } from '../tensor/ops/reduce.ts';
import { cat, contiguous, expand, narrow, reshape, select, squeeze, transpose, unsqueeze } from '../tensor/ops/shape.ts';
import { exp } from '../tensor/ops/unary.ts';
import { indexSelect } from '../tensor/ops/index.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { ModifiedResNet } from './clip-resnet.ts';
import { hfClipToOpenAI } from './clip-hf.ts';
import { CLIP_MEAN, CLIP_STD } from './constants.ts';
import type { ModelContract, ModelEntry, ModelSpec, NamedTensors, PretrainedCfg } from './contract.ts';

/** A ViT image tower: OpenAI's VisionTransformer hyperparameters. */
export interface ClipVitVisionConfig {
  type: 'vit';
  imageSize: number;
  patchSize: number;
  width: number;
  layers: number;
  /** Default width / 64. */
  heads?: number;
}

/** A ModifiedResNet image tower. */
export interface ClipResNetVisionConfig {
  type: 'resnet';
  imageSize: number;
  /** Stem width W (features 32W). */
  width: number;
  layers: readonly [number, number, number, number];
  /** Attention-pool heads (default 32W / 64). */
  heads?: number;
}

/** The text transformer. */
export interface ClipTextConfig {
  width: number;
  heads: number;
  layers: number;
  /** Default 77. */
  contextLength?: number;
  /** Default 49408 (CLIP's BPE vocabulary). */
  vocabSize?: number;
}

/**
 * A CLIP architecture. A small one for tests and training from scratch, e.g.
 * `new CLIP({ embedDim: 64, vision: { type: 'vit', imageSize: 32, patchSize: 8, width: 64, layers: 2, heads: 2 }, text: { width: 64, heads: 2, layers: 2 } })`.
 */
export interface ClipConfig {
  /** Width of the joint embedding space. */
  embedDim: number;
  vision: ClipVitVisionConfig | ClipResNetVisionConfig;
  text: ClipTextConfig;
  /** MLP activation of both transformers (default 'quickGelu', as OpenAI's weights). */
  activation?: ClipActivation;
}

/** Build options of CLIP. */
export interface ClipOptions {
  /** Image size to build for, instead of the config's (position embeddings sized for it). */
  imgSize?: number;
  inChans?: number;
}

/** CLIP's end-of-text id; pooling takes the first position of the largest id, which it is. */
export const CLIP_EOT_ID = 49407;
/** CLIP's start-of-text id. */
export const CLIP_SOT_ID = 49406;

// Where a padded key is masked with attention_mask: finite, so that a query with every key masked
// (left padding) still gets finite weights (HF's masks use the dtype's minimum for the same reason).
const MASKED = -1e9;

/** OpenAI's VisionTransformer: patch conv (no bias), class embedding, positions, ln_pre, blocks, ln_post on the class token, proj. */
export class ClipVisionTransformer extends Module {
  readonly imageSize: number;
  readonly patchSize: number;
  readonly gridSize: number;
  readonly inChans: number;
  readonly outputDim: number;
  readonly conv1: Conv2d;
  readonly classEmbedding: Parameter;
  readonly positionalEmbedding: Parameter;
  readonly lnPre: LayerNorm;
  readonly transformer: ResidualAttentionStack;
  readonly lnPost: LayerNorm;
  readonly proj: Parameter;

  constructor(config: ClipVitVisionConfig, outputDim: number, options: { inChans?: number; activation?: ClipActivation } = {}) {
    super();
    const { imageSize, patchSize, width, layers } = config;
    for (const key of ['imageSize', 'patchSize', 'width', 'layers'] as const) checkInt('ClipVisionTransformer', key, config[key], 1);
    if (imageSize % patchSize !== 0) throw new ShapeError(`ClipVisionTransformer: imageSize ${imageSize} must be a multiple of patchSize ${patchSize}`);
    this.imageSize = imageSize;
    this.patchSize = patchSize;
    this.gridSize = imageSize / patchSize;
    this.inChans = options.inChans ?? 3;
    this.outputDim = outputDim;
    const scale = 1 / Math.sqrt(width);
    this.conv1 = this.module('conv1', new Conv2d(this.inChans, width, patchSize, { stride: patchSize, bias: false }));
    this.classEmbedding = this.param('class_embedding', normal_(empty([width]), 0, scale));
    this.positionalEmbedding = this.param('positional_embedding', normal_(empty([this.gridSize ** 2 + 1, width]), 0, scale));
    this.lnPre = this.module('ln_pre', new LayerNorm(width));
    this.transformer = this.module('transformer', new ResidualAttentionStack(width, layers, config.heads ?? width / 64, { activation: options.activation }));
    this.lnPost = this.module('ln_post', new LayerNorm(width));
    this.proj = this.param('proj', normal_(empty([width, outputDim]), 0, scale));
  }

  /** images [B, C, S, S] at the built size → embeddings [B, outputDim]. */
  override forward(x: Tensor): Tensor {
    const s = this.imageSize;
    if (x.ndim !== 4 || x.shape[1] !== this.inChans || x.shape[2] !== s || x.shape[3] !== s) {
      throw new ShapeError(`ClipVisionTransformer: expected images [B, ${this.inChans}, ${s}, ${s}] (the size it was built for), got ${formatShape(x.shape)}`);
    }
    const B = x.shape[0];
    const W = this.classEmbedding.shape[0];
    const patches = transpose(reshape(this.conv1.forward(x), [B, W, this.gridSize ** 2]), 1, 2); // (B, G², W)
    const cls = expand(reshape(this.classEmbedding, [1, 1, W]), [B, 1, W]); // (B, 1, W)
    let t = this.lnPre.forward(add(cat([cls, patches], 1), this.positionalEmbedding)); // (B, G² + 1, W)
    t = this.transformer.forward(t);
    return matmul(this.lnPost.forward(select(t, 1, 0)), this.proj); // (B, E)
  }
}

/** OpenAI's CLIP: an image tower (`visual`), the text tower at the root, and the learned temperature. */
export class CLIP extends Module {
  readonly config: ClipConfig;
  readonly embedDim: number;
  readonly contextLength: number;
  readonly vocabSize: number;
  readonly visual: ClipVisionTransformer | ModifiedResNet;
  readonly transformer: ResidualAttentionStack;
  readonly tokenEmbedding: Embedding;
  readonly positionalEmbedding: Parameter;
  readonly lnFinal: LayerNorm;
  readonly textProjection: Parameter;
  readonly logitScale: Parameter;

  constructor(config: ClipConfig, options: ClipOptions = {}) {
    super();
    checkInt('CLIP', 'embedDim', config.embedDim, 1);
    const { text } = config;
    for (const key of ['width', 'heads', 'layers'] as const) checkInt('CLIP', `text.${key}`, text[key], 1);
    this.config = config;
    this.embedDim = config.embedDim;
    this.contextLength = text.contextLength ?? 77;
    this.vocabSize = text.vocabSize ?? 49408;
    const vision = { ...config.vision, imageSize: options.imgSize ?? config.vision.imageSize };
    this.visual = this.module('visual', vision.type === 'vit'
      ? new ClipVisionTransformer(vision, config.embedDim, { inChans: options.inChans, activation: config.activation })
      : new ModifiedResNet({ ...vision, outputDim: config.embedDim, inChans: options.inChans }));
    this.transformer = this.module('transformer', new ResidualAttentionStack(text.width, text.layers, text.heads, { activation: config.activation }));
    this.tokenEmbedding = this.module('token_embedding', new Embedding(this.vocabSize, text.width));
    this.positionalEmbedding = this.param('positional_embedding', empty([this.contextLength, text.width]));
    this.lnFinal = this.module('ln_final', new LayerNorm(text.width));
    this.textProjection = this.param('text_projection', empty([text.width, config.embedDim]));
    this.logitScale = this.param('logit_scale', scalarTensor(Math.log(1 / 0.07)));
    this.initializeParameters();
  }

  /** The side of the square images the model takes. */
  get imageSize(): number {
    return this.visual.imageSize;
  }

  /** OpenAI's initialize_parameters: N(0, 0.02) tokens, N(0, 0.01) positions, scaled normal text blocks and projection, the ResNet tower's own. */
  initializeParameters(): void {
    noGrad(() => {
      normal_(this.tokenEmbedding.weight, 0, 0.02);
      normal_(this.positionalEmbedding, 0, 0.01);
      if (this.visual instanceof ModifiedResNet) this.visual.initializeParameters();
      const { width, layers } = this.transformer;
      const projStd = width ** -0.5 * (2 * layers) ** -0.5;
      for (const block of this.transformer.resblocks) {
        normal_(block.attn.inProjWeight!, 0, width ** -0.5);
        normal_(block.attn.outProj.weight, 0, projStd);
        normal_(block.mlp.cFc.weight, 0, (2 * width) ** -0.5);
        normal_(block.mlp.cProj.weight, 0, projStd);
      }
      normal_(this.textProjection, 0, width ** -0.5);
    });
  }

  /** images [B, C, S, S] (normalised as the preprocessing config says) → projected embeddings [B, E], not normalised. */
  encodeImage(pixels: Tensor): Tensor {
    return this.visual.forward(pixels);
  }

  /**
   * Token ids [B, L] (L ≤ the context length 77; SOT … EOT, then padding) → projected
   * embeddings [B, E], not normalised, taken at the first position of each row's largest id (its
   * EOT). attentionMask [B, L] (1 = token, 0 = padding) also hides padded keys, as HF's CLIP does;
   * padding after EOT changes nothing either way, the mask being causal.
   */
  encodeText(inputIds: Tensor, attentionMask: Tensor | null = null): Tensor {
    if (inputIds.ndim !== 2 || inputIds.shape[1] < 1) throw new ShapeError(`CLIP.encodeText: expected token ids [B, L], got ${formatShape(inputIds.shape)}`);
    if (isFloating(inputIds.dtype) || inputIds.dtype === 'bool') throw new DTypeError(`CLIP.encodeText: token ids must be integers, got ${inputIds.dtype}`);
    const [B, L] = inputIds.shape;
    if (L > this.contextLength) {
      throw new ShapeError(`CLIP.encodeText: ${L} tokens per text, but the context length is ${this.contextLength}; truncate the token ids to ${this.contextLength}`);
    }
    if (attentionMask && (attentionMask.ndim !== 2 || attentionMask.shape[0] !== B || attentionMask.shape[1] !== L)) {
      throw new ShapeError(`CLIP.encodeText: attentionMask has shape ${formatShape(attentionMask.shape)}, expected the ids' [${B}, ${L}]`);
    }
    const x = add(this.tokenEmbedding.forward(inputIds), narrow(this.positionalEmbedding, 0, 0, L)); // (B, L, W)
    const h = this.transformer.forward(x, this.#textMask(L, attentionMask));
    const eot = add(mul(arange(B, undefined, 1, { dtype: 'int64' }), L), argmax(inputIds, -1)); // (B) flat row of each EOT
    const pooled = indexSelect(reshape(h, [B * L, h.shape[2]]), 0, eot); // (B, W)
    return matmul(this.lnFinal.forward(pooled), this.textProjection); // (B, E)
  }

  // The causal mask [L, L] (true = may attend), or with an attention mask the additive [B, 1, L, L].
  #textMask(L: number, attentionMask: Tensor | null): Tensor {
    const causal = ge(reshape(arange(L), [L, 1]), reshape(arange(L), [1, L])); // (L, L)
    if (!attentionMask) return causal;
    const keys = reshape(cast(ne(attentionMask, 0), 'float32'), [attentionMask.shape[0], 1, 1, L]); // (B, 1, 1, L)
    const allowed = mul(cast(causal, 'float32'), keys); // (B, 1, L, L)
    return mul(sub(1, allowed), MASKED);
  }

  /** exp(logit_scale) · cosine similarity: logitsPerImage [B_img, B_txt] and its transpose logitsPerText. */
  similarity(imageEmbeds: Tensor, textEmbeds: Tensor): { logitsPerImage: Tensor; logitsPerText: Tensor } {
    const logitsPerImage = mul(matmul(l2Normalize(imageEmbeds), transpose(l2Normalize(textEmbeds), 0, 1)), exp(this.logitScale)); // (B_img, B_txt)
    return { logitsPerImage, logitsPerText: contiguous(transpose(logitsPerImage, 0, 1)) };
  }

  /** images [B_img, C, S, S] and token ids [B_txt, L] → logitsPerImage [B_img, B_txt], logitsPerText [B_txt, B_img]. */
  forward(pixels: Tensor, inputIds: Tensor, attentionMask: Tensor | null = null): { logitsPerImage: Tensor; logitsPerText: Tensor } {
    return this.similarity(this.encodeImage(pixels), this.encodeText(inputIds, attentionMask));
  }
}

// A square position table [prefix + g², D] resampled to newGrid² rows, the prefix row kept: bicubic,
// align_corners false, no antialias, as HF's interpolate_pos_encoding (open_clip's resize_pos_embed
// passes antialias=True, torch's Pillow-style kernel, which gives slightly different values).
function resampleTable(table: Tensor, newGrid: number): Tensor {
  return squeeze(resampleAbsPosEmbed(unsqueeze(table, 0), [newGrid, newGrid], { numPrefixTokens: 1, interpolation: 'bicubic', antialias: false }), 0);
}

/**
 * A checkpoint made at another image size, adapted to `model`: `visual.positional_embedding` (ViT)
 * or `visual.attnpool.positional_embedding` (ResNet) resampled to the model's grid, the first row
 * (class token, mean token) kept. Other entries pass through.
 */
export function filterClipCheckpoint(sd: StateDict, model: CLIP): StateDict {
  const visual = model.visual;
  const key = visual instanceof ModifiedResNet ? 'visual.attnpool.positional_embedding' : 'visual.positional_embedding';
  const own = visual instanceof ModifiedResNet ? visual.attnpool.positionalEmbedding : visual.positionalEmbedding;
  const table = sd.get(key);
  if (!table || table.ndim !== 2 || table.shape[0] === own.shape[0]) return sd;
  const out = new Map(sd);
  out.set(key, noGrad(() => resampleTable(table, Math.round(Math.sqrt(own.shape[0] - 1)))));
  return out;
}

export { ModifiedResNet, ClipBottleneck, type ModifiedResNetConfig } from './clip-resnet.ts';
export { hfClipToOpenAI } from './clip-hf.ts';

const TEXT_512: ClipTextConfig = { width: 512, heads: 8, layers: 12 };

/** OpenAI's released architectures (clip/model.py build_model on their checkpoints; open_clip's *-quickgelu configs). */
export const CLIP_VARIANTS = {
  clip_vit_base_patch32: { embedDim: 512, vision: { type: 'vit', imageSize: 224, patchSize: 32, width: 768, layers: 12 }, text: TEXT_512 },
  clip_vit_base_patch16: { embedDim: 512, vision: { type: 'vit', imageSize: 224, patchSize: 16, width: 768, layers: 12 }, text: TEXT_512 },
  clip_vit_large_patch14: { embedDim: 768, vision: { type: 'vit', imageSize: 224, patchSize: 14, width: 1024, layers: 24 }, text: { width: 768, heads: 12, layers: 12 } },
  clip_vit_large_patch14_336: { embedDim: 768, vision: { type: 'vit', imageSize: 336, patchSize: 14, width: 1024, layers: 24 }, text: { width: 768, heads: 12, layers: 12 } },
  clip_rn50: { embedDim: 1024, vision: { type: 'resnet', imageSize: 224, width: 64, layers: [3, 4, 6, 3] }, text: TEXT_512 },
  clip_rn101: { embedDim: 512, vision: { type: 'resnet', imageSize: 224, width: 64, layers: [3, 4, 23, 3] }, text: TEXT_512 },
  clip_rn50x4: { embedDim: 640, vision: { type: 'resnet', imageSize: 288, width: 80, layers: [4, 6, 10, 6] }, text: { width: 640, heads: 10, layers: 12 } },
  clip_rn50x16: { embedDim: 768, vision: { type: 'resnet', imageSize: 384, width: 96, layers: [6, 8, 18, 8] }, text: { width: 768, heads: 12, layers: 12 } },
  clip_rn50x64: { embedDim: 1024, vision: { type: 'resnet', imageSize: 448, width: 128, layers: [3, 15, 36, 10] }, text: { width: 1024, heads: 16, layers: 12 } },
  // Ours, for training from scratch on small images (shapes-captions at 48 px): no released weights.
  clip_vit_tiny_patch8_48: { embedDim: 128, vision: { type: 'vit', imageSize: 48, patchSize: 8, width: 192, layers: 4 }, text: { width: 128, heads: 2, layers: 4 } },
} satisfies Record<string, ClipConfig>;

type ClipName = keyof typeof CLIP_VARIANTS;

/** sum(p.numel()) of openai/CLIP's model built with each variant's hyperparameters (checked by test/models/clip.test.ts). */
const CLIP_PARAM_COUNTS: Record<ClipName, number> = {
  clip_vit_base_patch32: 151_277_313,
  clip_vit_base_patch16: 149_620_737,
  clip_vit_large_patch14: 427_616_513,
  clip_vit_large_patch14_336: 427_944_193,
  clip_rn50: 102_007_137,
  clip_rn101: 119_688_033,
  clip_rn50x4: 178_300_601,
  clip_rn50x16: 290_979_217,
  clip_rn50x64: 623_258_305,
  clip_vit_tiny_patch8_48: 8_992_769,
};

// OpenAI's weights: the HF hub's transformers exports for the ViTs (they also hold vocab.json and
// merges.txt), timm's open_clip-layout copies for the ResNets (open_clip_model.safetensors).
const CLIP_HUB: Record<ClipName, { hubId?: string; keyLayout?: string }> = {
  clip_vit_base_patch32: { hubId: 'openai/clip-vit-base-patch32', keyLayout: 'hf' },
  clip_vit_base_patch16: { hubId: 'openai/clip-vit-base-patch16', keyLayout: 'hf' },
  clip_vit_large_patch14: { hubId: 'openai/clip-vit-large-patch14', keyLayout: 'hf' },
  clip_vit_large_patch14_336: { hubId: 'openai/clip-vit-large-patch14-336', keyLayout: 'hf' },
  clip_rn50: { hubId: 'timm/resnet50_clip.openai' },
  clip_rn101: { hubId: 'timm/resnet101_clip.openai' },
  clip_rn50x4: { hubId: 'timm/resnet50x4_clip.openai' },
  clip_rn50x16: { hubId: 'timm/resnet50x16_clip.openai' },
  clip_rn50x64: { hubId: 'timm/resnet50x64_clip.openai' },
  clip_vit_tiny_patch8_48: {},
};

/** The hub repo whose vocab.json + merges.txt every OpenAI CLIP's tokenizer reads. */
export const CLIP_VOCAB_REPO = 'openai/clip-vit-base-patch32';

function clipCfg(name: ClipName): PretrainedCfg {
  const { imageSize } = CLIP_VARIANTS[name].vision;
  return {
    ...CLIP_HUB[name], numClasses: 0, firstConv: 'visual.conv1', license: 'mit',
    preprocess: {
      image: { inputSize: [3, imageSize, imageSize], cropPct: 1.0, interpolation: 'bicubic', mean: CLIP_MEAN, std: CLIP_STD },
      // Every OpenAI CLIP shares one vocabulary; timm's ResNet repos hold none (and ours has no repo), so theirs comes from the ViT-B/32 repo.
      text: { tokenizer: 'clip-bpe', contextLength: 77, lowercase: true, ...(CLIP_VARIANTS[name].vision.type === 'resnet' || !CLIP_HUB[name].hubId ? { vocabHubId: CLIP_VOCAB_REPO } : {}) },
    },
  };
}

function clipSpec(model: CLIP): ModelSpec {
  const s = model.imageSize;
  const E = model.embedDim;
  const texts = { batchDim: 'M', optional: true } as const;
  return {
    task: 'image-text-embedding',
    inputs: [
      { name: 'pixel_values', shape: [model.visual.inChans, s, s], dtype: 'float32', description: 'N normalized images, as the preprocessing config makes them', optional: true },
      { name: 'input_ids', shape: ['L'], dtype: 'int64', range: [0, model.vocabSize], description: `M token id rows: SOT, text, EOT, then padding (L <= ${model.contextLength})`, ...texts },
      { name: 'attention_mask', shape: ['L'], dtype: 'int64', range: [0, 2], description: '1 for tokens, 0 for padding', ...texts },
    ],
    outputs: [
      { name: 'image_embeds', shape: [E], dtype: 'float32', description: 'projected image embeddings, not normalized (with pixel_values)', optional: true },
      { name: 'text_embeds', shape: [E], dtype: 'float32', description: 'projected text embeddings, not normalized (with input_ids)', ...texts },
      { name: 'logits_per_image', shape: ['M'], dtype: 'float32', description: 'exp(logit_scale) · cosine similarity of each image to each text (with both)', optional: true },
      { name: 'logits_per_text', shape: ['N'], dtype: 'float32', description: 'logits_per_image transposed (with both)', ...texts },
    ],
    sizes: { L: model.contextLength },
  };
}

/** The contract of image–text embedding models: pixel_values and/or input_ids → image_embeds, text_embeds and, with both, the logits. */
export const IMAGE_TEXT_EMBEDDING: ModelContract<CLIP> = {
  task: 'image-text-embedding',
  spec: clipSpec,
  forwardNamed(model, inputs) {
    const pixels = inputs.get('pixel_values');
    const ids = inputs.get('input_ids');
    const mask = inputs.get('attention_mask') ?? null;
    if (mask && !ids) throw new ArgumentError('CLIP: attention_mask was given without input_ids');
    if (!pixels && !ids) throw new ArgumentError('CLIP: needs pixel_values, input_ids or both; got neither');
    const dtype = model.logitScale.dtype;
    const out: NamedTensors = new Map();
    const image = pixels ? model.encodeImage(cast(pixels, dtype)) : null;
    const text = ids ? model.encodeText(ids, mask) : null;
    if (image) out.set('image_embeds', cast(image, 'float32'));
    if (text) out.set('text_embeds', cast(text, 'float32'));
    if (image && text) {
      const { logitsPerImage, logitsPerText } = model.similarity(image, text);
      out.set('logits_per_image', cast(logitsPerImage, 'float32'));
      out.set('logits_per_text', cast(logitsPerText, 'float32'));
    }
    return out;
  },
};

/** Registry entries of the family: OpenAI's nine CLIP models. */
export const CLIP_MODELS: ModelEntry<CLIP>[] = Object.entries(CLIP_VARIANTS).map(([name, config]: [string, ClipConfig]): ModelEntry<CLIP> => ({
  name,
  family: 'clip',
  paramCount: CLIP_PARAM_COUNTS[name as ClipName],
  create: (options) => {
    if (options.numClasses) throw new ArgumentError(`${name}: CLIP has no classifier head; numClasses must be 0, got ${options.numClasses}`);
    return new CLIP(config, { imgSize: options.imgSize, inChans: options.inChans });
  },
  pretrained: { [CLIP_HUB[name as ClipName].hubId ? 'openai' : 'scratch']: clipCfg(name as ClipName) },
  keyLayouts: { hf: hfClipToOpenAI },
  filterCheckpoint: filterClipCheckpoint,
  contract: IMAGE_TEXT_EMBEDDING,
}));
