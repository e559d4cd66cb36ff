/** Image classification: preprocess as the model's pretrained config says, run, rank classes. */
import { ArgumentError, formatShape, ShapeError } from '../errors.ts';
import { loadLabels, type ClassLabel } from '../data/labels.ts';
import { preprocessBatch, type PreprocessInput } from '../data/transforms.ts';
import { asImageClassifier, imagePreprocess, type Model } from '../models/index.ts';
import type { Module } from '../nn/module.ts';
import { noGrad } from '../tensor/autograd.ts';
import { softmax } from '../tensor/ops/activation.ts';
import { cast } from '../tensor/ops/elementwise.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** One ranked class. */
export interface Prediction {
  index: number;
  label: string;
  probability: number;
}

/** Options of classify. */
export interface ClassifyOptions {
  /** How many classes to return per image (default 5). */
  topK?: number;
  /** Labels: a built-in set name, a file, or a list; the model's label set by default. */
  labels?: string | readonly ClassLabel[];
  /** Images per forward pass (default 8). */
  batchSize?: number;
}

/** The top-k classes of each row of probabilities [N, C]. */
export function topK(probs: Tensor, k: number, labels?: readonly ClassLabel[]): Prediction[][] {
  if (probs.ndim !== 2) throw new ShapeError(`topK: expected probabilities [N, C], got ${formatShape(probs.shape)}`);
  const [n, c] = probs.shape;
  const values = cast(probs, 'float32').toArray() as Float32Array;
  const out: Prediction[][] = [];
  for (let i = 0; i < n; ++i) {
    const row = values.subarray(i * c, (i + 1) * c);
    const order = Array.from({ length: c }, (_, j) => j).sort((a, b) => row[b] - row[a] || a - b);
    out.push(order.slice(0, Math.min(k, c)).map((index) => ({ index, label: labels?.[index]?.name ?? `class ${index}`, probability: row[index] })));
  }
  return out;
}

/**
 * Classifies images (paths or encoded bytes) with a model: the model's pretrained config
 * drives preprocessing; returns the top-k classes per image in input order.
 */
export async function classify(built: Model<Module>, images: readonly PreprocessInput[], options: ClassifyOptions = {}): Promise<Prediction[][]> {
  const model = asImageClassifier(built, 'classify');
  const preprocess = imagePreprocess(model.pretrainedCfg);
  if (!preprocess) throw new ArgumentError(`classify: ${model.modelName} has no image preprocessing config`);
  const k = options.topK ?? 5;
  if (!Number.isInteger(k) || k < 1) throw new ArgumentError(`classify: topK must be a positive integer, got ${k}`);
  const batchSize = options.batchSize ?? 8;
  const labelSource = options.labels ?? model.pretrainedCfg.labelSet;
  const labels = typeof labelSource === 'string' ? loadLabels(labelSource) : labelSource;
  if (labels && labels.length !== model.numClasses) {
    throw new ShapeError(`classify: ${labels.length} labels for a model with ${model.numClasses} classes`);
  }
  model.eval();
  const dtype = model.parameters()[0]?.dtype ?? 'float32';
  const results: Prediction[][] = [];
  for (let at = 0; at < images.length; at += batchSize) {
    const batch = await preprocessBatch(images.slice(at, at + batchSize), preprocess);
    const probs = noGrad(() => softmax(cast(model.forward(cast(batch, dtype)), 'float32'), -1));
    results.push(...topK(probs, k, labels));
  }
  return results;
}
