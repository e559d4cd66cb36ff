/**
 * The image-classification contract (timm's): features, head, forward, reset, intermediates,
 * and what it means for named tensors — pixel_values [N, C, H, W] in, logits and pre_logits out.
 */
import { ArgumentError, IndexError } from '../errors.ts';
import type { Module } from '../nn/module.ts';
import { cast } from '../tensor/ops/elementwise.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { ModelContract, ModelSpec, PretrainedCfg, SpecDim, TensorSpec } from './contract.ts';

/** One feature level's place in a backbone (timm's feature_info): module name, channels and total stride. */
export interface FeatureInfo {
  module: string;
  numChannels: number;
  reduction: number;
}

/** Options of forwardIntermediates (timm's forward_intermediates arguments). */
export interface IntermediatesOptions {
  /** The last n feature levels, or these indices (negative counts from the end); all when absent. */
  indices?: number | readonly number[];
  /** Apply the model's final norm to each intermediate (transformers). */
  norm?: boolean;
  /** Stop after the last level asked for; `features` is then that level's output. */
  stopEarly?: boolean;
  /** Token intermediates as maps [N, C, H, W] (default) or tokens [N, L, C]. */
  outputFmt?: 'NCHW' | 'NLC';
  /** Return the intermediates only; `features` is then null. */
  intermediatesOnly?: boolean;
}

/** What forwardIntermediates returns: the forwardFeatures output (the last level run, with stopEarly) and the chosen levels, in order. */
export interface Intermediates {
  features: Tensor | null;
  intermediates: Tensor[];
}

/** The images a model accepts: channels, and either one fixed [H, W] or any size (optionally a multiple of a stride). */
export interface ImageInputShape {
  inChans: number;
  /** The only size the model takes, or null when it takes any. */
  fixedSize: [number, number] | null;
  /** Sides must be multiples of this (a patch size) when the size is free. */
  multipleOf?: number;
}

/** The contract every image classifier follows (timm's): features, head, forward, reset, intermediates. */
export interface ImageClassifier extends Module {
  readonly numClasses: number;
  /** Width of the pooled features that enter the head. */
  readonly numFeatures: number;
  /** Shape of one image's pooled features (pre-logits): [numFeatures], or [L, D] for a token model without pooling. */
  readonly pooledShape: readonly number[];
  readonly inputShape: ImageInputShape;
  /** The feature levels forwardIntermediates returns, in order. */
  readonly featureInfo: readonly FeatureInfo[];
  /** The backbone without pooling and head: a feature map [N, C, H, W] or tokens [N, L, C]. */
  forwardFeatures(x: Tensor): Tensor;
  /** Pooling and head; with preLogits, the pooled features before the classifier. */
  forwardHead(x: Tensor, options?: { preLogits?: boolean }): Tensor;
  /** pixels [N, C, H, W] → logits [N, numClasses]. */
  forward(x: Tensor): Tensor;
  /** Stage or block outputs as timm's forward_intermediates returns them. */
  forwardIntermediates(x: Tensor, options?: IntermediatesOptions): Intermediates;
  /** Replaces the head with a fresh one for numClasses (0 removes it and its parameters). */
  resetClassifier(numClasses: number): void;
}

/**
 * timm's feature_take_indices: absolute indices of the levels to return (last n for a number,
 * all when absent) and the largest of them.
 */
export function featureTakeIndices(numLevels: number, indices?: number | readonly number[]): { take: number[]; maxIndex: number } {
  const n = indices ?? numLevels;
  let take: number[];
  if (typeof n === 'number') {
    if (!Number.isInteger(n) || n < 1 || n > numLevels) throw new IndexError(`forwardIntermediates: last-n ${n} is out of range (1 to ${numLevels})`);
    take = Array.from({ length: n }, (_, i) => numLevels - n + i);
  } else {
    if (n.length === 0) throw new ArgumentError('forwardIntermediates: indices is an empty list');
    take = n.map((i) => {
      const index = i < 0 ? numLevels + i : i;
      if (!Number.isInteger(index) || index < 0 || index >= numLevels) throw new IndexError(`forwardIntermediates: feature index ${i} is out of range (0 to ${numLevels - 1})`);
      return index;
    });
  }
  return { take, maxIndex: Math.max(...take) };
}

function imageClassifierSpec(model: ImageClassifier, cfg: PretrainedCfg): ModelSpec {
  const { inChans, fixedSize, multipleOf } = model.inputShape;
  const built = cfg.preprocess.image?.inputSize;
  const [h, w] = fixedSize ?? [built?.[1] ?? 224, built?.[2] ?? 224];
  const dims: SpecDim[] = fixedSize ? [inChans, h, w] : [inChans, 'H', 'W'];
  const sizes: Record<string, number> = fixedSize ? {} : { H: h, W: w };
  const pooled = model.pooledShape;
  const outputs: TensorSpec[] = [];
  if (model.numClasses > 0) {
    outputs.push({ name: 'logits', shape: [...pooled.slice(0, -1), model.numClasses], dtype: 'float32', description: 'class scores before softmax' });
  }
  outputs.push({ name: 'pre_logits', shape: pooled, dtype: 'float32', description: 'pooled features that enter the classifier' });
  return {
    task: 'image-classification',
    inputs: [{ name: 'pixel_values', shape: dims, dtype: 'float32', description: 'normalized images, as the preprocessing config makes them' }],
    outputs,
    sizes,
    ...(multipleOf && !fixedSize ? { multipleOf: { H: multipleOf, W: multipleOf } } : {}),
  };
}

/** The registry contract of image classifiers: pixel_values → logits (when there is a head) and pre_logits. */
export const IMAGE_CLASSIFICATION: ModelContract<ImageClassifier> = {
  task: 'image-classification',
  spec: imageClassifierSpec,
  forwardNamed(model, inputs) {
    const dtype = model.parameters()[0]?.dtype ?? 'float32';
    const features = model.forwardFeatures(cast(inputs.get('pixel_values')!, dtype));
    const outputs = new Map<string, Tensor>();
    if (model.numClasses > 0) outputs.set('logits', cast(model.forwardHead(features), 'float32'));
    outputs.set('pre_logits', cast(model.forwardHead(features, { preLogits: true }), 'float32'));
    return outputs;
  },
};
