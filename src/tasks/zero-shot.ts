/**
 * Zero-shot classification and retrieval with an image–text model (CLIP): class names go into
 * prompt templates ("a photo of a {}."), each class's prompts are embedded, L2-normalised,
 * averaged and normalised again (the CLIP paper's prompt ensemble), and an image goes to the
 * class whose text it is most similar to. Embeddings of images and texts also serve retrieval
 * in both directions.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ArgumentError, ShapeError, TsvisionError, formatShape } from '../errors.ts';
import { preprocessBatch, type PreprocessInput } from '../data/transforms.ts';
import { CLIP, imagePreprocess, type Model } from '../models/index.ts';
import type { Module } from '../nn/module.ts';
import { noGrad } from '../tensor/autograd.ts';
import { softmax } from '../tensor/ops/activation.ts';
import { cast, exp, mul } from '../tensor/ops/elementwise.ts';
import { matmul } from '../tensor/ops/linalg.ts';
import { l2Normalize, mean } from '../tensor/ops/reduce.ts';
import { cat, reshape, transpose } from '../tensor/ops/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import { topK, type Prediction } from './classify.ts';

/** The 80 prompt templates CLIP ensembles for ImageNet (openai/CLIP's notebook), `{}` where the class name goes. */
export const IMAGENET_TEMPLATES: readonly string[] = readFileSync(fileURLToPath(new URL('../data/labels/imagenet-templates.txt', import.meta.url)), 'utf8')
  .split('\n')
  .filter((line) => line.length > 0);

/** Options of the embedding functions. */
export interface EmbedOptions {
  /** Items per forward pass (default 32). */
  batchSize?: number;
  /** L2-normalise each embedding (default true). */
  normalize?: boolean;
}

/** Options of zeroShot. */
export interface ZeroShotOptions extends EmbedOptions {
  /** Prompt templates with `{}` for the class name (default IMAGENET_TEMPLATES). */
  templates?: readonly string[];
  /** Classes returned per image (default 5, at most the number of labels). */
  topK?: number;
}

/** The model as an image–text (CLIP) model, or a typed error naming its task when it is not one. */
export function asClipModel(model: Model<Module>, op: string): Model<CLIP> {
  if (!(model instanceof CLIP)) throw new TsvisionError('E_MODEL_TASK', `${op}: needs an image-text model (CLIP); ${model.modelName} is ${model.spec.task}`);
  return model as Model<CLIP>;
}

function checkBatchSize(op: string, batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`${op}: batchSize must be a positive integer, got ${batchSize}`);
}

/** Images (paths or encoded bytes), preprocessed as the model's config says → embeddings [N, E], L2-normalised by default. */
export async function embedImages(model: Model<CLIP>, images: readonly PreprocessInput[], options: EmbedOptions = {}): Promise<Tensor> {
  const batchSize = options.batchSize ?? 32;
  checkBatchSize('embedImages', batchSize);
  if (images.length === 0) throw new ArgumentError('embedImages: expected at least one image');
  const preprocess = imagePreprocess(model.pretrainedCfg);
  if (!preprocess) throw new ArgumentError(`embedImages: ${model.modelName} has no image preprocessing config`);
  model.eval();
  const dtype = model.parameters()[0]?.dtype ?? 'float32';
  const parts: Tensor[] = [];
  for (let at = 0; at < images.length; at += batchSize) {
    const pixels = await preprocessBatch(images.slice(at, at + batchSize), preprocess);
    parts.push(noGrad(() => cast(model.encodeImage(cast(pixels, dtype)), 'float32')));
  }
  const embeds = parts.length === 1 ? parts[0] : cat(parts, 0);
  return options.normalize === false ? embeds : l2Normalize(embeds);
}

/** Texts, tokenized (cut to the context length with a warning) → embeddings [N, E], L2-normalised by default. */
export function embedTexts(model: CLIP, tokenizer: Tokenizer, texts: readonly string[], options: EmbedOptions = {}): Tensor {
  const batchSize = options.batchSize ?? 32;
  checkBatchSize('embedTexts', batchSize);
  if (texts.length === 0) throw new ArgumentError('embedTexts: expected at least one text');
  model.eval();
  const parts: Tensor[] = [];
  for (let at = 0; at < texts.length; at += batchSize) {
    const { inputIds } = tokenizer.encodeBatch(texts.slice(at, at + batchSize), { contextLength: model.contextLength });
    parts.push(noGrad(() => cast(model.encodeText(inputIds), 'float32')));
  }
  const embeds = parts.length === 1 ? parts[0] : cat(parts, 0);
  return options.normalize === false ? embeds : l2Normalize(embeds);
}

/** Checks a label list: non-empty, each label a non-blank string, no label twice. */
export function checkLabels(op: string, labels: readonly string[]): void {
  if (!Array.isArray(labels) || labels.length === 0) throw new ArgumentError(`${op}: expected a non-empty list of class labels, got ${JSON.stringify(labels)}`);
  const seen = new Set<string>();
  labels.forEach((label, i) => {
    if (typeof label !== 'string' || label.trim() === '') throw new ArgumentError(`${op}: label ${i} is ${JSON.stringify(label)}, expected a non-blank class name`);
    if (seen.has(label.trim())) throw new ArgumentError(`${op}: label '${label.trim()}' is given twice (labels ${[...seen].indexOf(label.trim())} and ${i})`);
    seen.add(label.trim());
  });
}

/** Checks prompt templates: non-empty, each with exactly one `{}`. */
export function checkTemplates(op: string, templates: readonly string[]): void {
  if (!Array.isArray(templates) || templates.length === 0) throw new ArgumentError(`${op}: expected at least one prompt template, got ${JSON.stringify(templates)}`);
  templates.forEach((t, i) => {
    if (typeof t !== 'string' || t.split('{}').length !== 2) throw new ArgumentError(`${op}: template ${i} is ${JSON.stringify(t)}, expected text with exactly one '{}' where the class name goes`);
  });
}

/**
 * The zero-shot classifier [E, C]: per class, every template filled with its name, embedded and
 * normalised, averaged over templates and normalised again (the CLIP paper's ensemble).
 */
export function zeroShotWeights(model: CLIP, tokenizer: Tokenizer, labels: readonly string[], templates: readonly string[] = IMAGENET_TEMPLATES, options: EmbedOptions = {}): Tensor {
  checkLabels('zeroShotWeights', labels);
  checkTemplates('zeroShotWeights', templates);
  const prompts = labels.flatMap((label) => templates.map((t) => t.replace('{}', label.trim())));
  const perPrompt = embedTexts(model, tokenizer, prompts, { batchSize: options.batchSize }); // (C·T, E), normalised
  const [, E] = perPrompt.shape;
  const perClass = l2Normalize(mean(reshape(perPrompt, [labels.length, templates.length, E]), 1)); // (C, E)
  return transpose(perClass, 0, 1); // (E, C)
}

/** Class probabilities [N, C] of image embeddings [N, E] (normalised) against zero-shot weights [E, C]: softmax of exp(logit_scale)·cosine. */
export function zeroShotProbabilities(model: CLIP, imageEmbeds: Tensor, weights: Tensor): Tensor {
  if (imageEmbeds.ndim !== 2 || weights.ndim !== 2 || imageEmbeds.shape[1] !== weights.shape[0]) {
    throw new ShapeError(`zeroShotProbabilities: image embeddings ${formatShape(imageEmbeds.shape)} and class weights ${formatShape(weights.shape)} must be [N, E] and [E, C]`);
  }
  return noGrad(() => softmax(mul(matmul(imageEmbeds, weights), cast(exp(model.logitScale), 'float32')), -1));
}

/**
 * Zero-shot classification of images (paths or encoded bytes) into `labels` (class names, put
 * into each template): the top-k classes per image, in input order.
 */
export async function zeroShot(model: Model<CLIP>, tokenizer: Tokenizer, images: readonly PreprocessInput[], labels: readonly string[], options: ZeroShotOptions = {}): Promise<Prediction[][]> {
  const k = options.topK ?? 5;
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`zeroShot: topK must be a positive integer, got ${k}`);
  const weights = zeroShotWeights(model, tokenizer, labels, options.templates ?? IMAGENET_TEMPLATES, options);
  const probs = zeroShotProbabilities(model, await embedImages(model, images, options), weights);
  return topK(probs, k, labels.map((name) => ({ name: name.trim(), names: name.trim() })));
}

/** One hit of a retrieval: the gallery index and its cosine similarity. */
export interface RetrievalHit {
  index: number;
  score: number;
}

/** For each query embedding [Q, E], the k most similar gallery embeddings [G, E] by cosine similarity, best first. */
export function retrieve(queries: Tensor, gallery: Tensor, k = 10): RetrievalHit[][] {
  if (queries.ndim !== 2 || gallery.ndim !== 2 || queries.shape[1] !== gallery.shape[1]) {
    throw new ShapeError(`retrieve: queries ${formatShape(queries.shape)} and gallery ${formatShape(gallery.shape)} must be [Q, E] and [G, E] with the same E`);
  }
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`retrieve: k must be a positive integer, got ${k}`);
  const scores = noGrad(() => matmul(l2Normalize(cast(queries, 'float32')), transpose(l2Normalize(cast(gallery, 'float32')), 0, 1))); // (Q, G)
  return topK(scores, k).map((row) => row.map(({ index, probability }) => ({ index, score: probability })));
}
