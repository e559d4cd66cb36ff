/**
 * Backbones as multi-scale feature extractors (timm's `features_only=True, out_indices=…`):
 * a classifier without its head whose forward returns the chosen feature levels — a CNN's or a
 * hierarchical transformer's stage outputs, a plain ViT's block tokens as maps — each an NCHW map
 * described by `featureInfo` (channels and total stride). Dense heads (segmentation) build on it.
 *
 * The extractor's state-dict keys are the backbone's own, less the head, so a classification
 * checkpoint loads into the backbone before wrapping (createModel does) or into the extractor
 * with `strict: false`. Every level is NCHW, also where timm's Swin returns NHWC.
 */
import { ArgumentError } from '../errors.ts';
import { Module } from '../nn/module.ts';
import { cast } from '../tensor/ops/elementwise.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { ModelContract, ModelSpec, PretrainedCfg, SpecDim, TensorSpec } from './contract.ts';
import { featureTakeIndices, type FeatureInfo, type ImageInputShape, type Intermediates, type IntermediatesOptions } from './image-classifier.ts';

/** What a backbone offers to become a feature extractor: its levels and timm's forward_intermediates. */
export interface FeatureBackbone extends Module {
  readonly featureInfo: readonly FeatureInfo[];
  forwardIntermediates(x: Tensor, options?: IntermediatesOptions): Intermediates;
  /** Removes the head (called with 0) when the backbone is a classifier. */
  resetClassifier?(numClasses: number): void;
  /** The images it takes; any size when absent. */
  readonly inputShape?: ImageInputShape;
}

/** Options of a feature extractor (timm's out_indices). */
export interface FeatureExtractorOptions {
  /** Feature levels to return: the last n, or indices into the backbone's featureInfo (negative counts from the end); all when absent. */
  outIndices?: number | readonly number[];
}

/** A backbone without its head whose forward returns the chosen levels' NCHW maps, in order. */
export class FeatureExtractor extends Module {
  readonly backbone: FeatureBackbone;
  /** Absolute indices into the backbone's levels, in output order. */
  readonly outIndices: readonly number[];
  /** The returned levels: module, channels and total stride of each output. */
  readonly featureInfo: readonly FeatureInfo[];
  readonly inputShape: ImageInputShape;

  constructor(backbone: FeatureBackbone, options: FeatureExtractorOptions = {}) {
    super();
    if (backbone.featureInfo.length === 0) throw new ArgumentError(`FeatureExtractor: ${backbone.constructor.name} declares no feature levels`);
    this.outIndices = featureTakeIndices(backbone.featureInfo.length, options.outIndices).take;
    this.featureInfo = this.outIndices.map((i) => backbone.featureInfo[i]);
    backbone.resetClassifier?.(0);
    this.backbone = backbone;
    this.inputShape = backbone.inputShape ?? { inChans: 3, fixedSize: null };
    // Adopt the backbone's members under their own names, so checkpoint keys stay the backbone's.
    const persistent = new Set(backbone.stateDict().keys());
    for (const [name, p] of backbone.namedParameters({ recurse: false })) this.registerParameter(name, p);
    for (const [name, b] of backbone.namedBuffers({ recurse: false })) this.registerBuffer(name, b, { persistent: persistent.has(name) });
    for (const [name, m] of backbone.namedChildren()) this.registerModule(name, m);
  }

  /** pixels [N, C, H, W] → one map [N, C_i, H/r_i, W/r_i] per chosen level. */
  forward(x: Tensor): Tensor[] {
    return this.backbone.forwardIntermediates(x, { indices: this.outIndices, stopEarly: true, intermediatesOnly: true }).intermediates;
  }

  override train(mode = true): this {
    super.train(mode);
    this.backbone.training = mode;
    return this;
  }
}

/** Name of the k-th returned level in a feature extractor's spec. */
export function featureOutputName(k: number): string {
  return `features_${k}`;
}

function featureSpec(model: FeatureExtractor, cfg: PretrainedCfg): ModelSpec {
  const { inChans, fixedSize, multipleOf } = model.inputShape;
  const built = cfg.preprocess.image?.inputSize;
  const [h, w] = fixedSize ?? [built?.[1] ?? 224, built?.[2] ?? 224];
  const sizes: Record<string, number> = fixedSize ? {} : { H: h, W: w };
  const side = (name: 'H' | 'W', size: number, r: number): SpecDim => {
    if (fixedSize) return Math.ceil(size / r);
    sizes[`${name}/${r}`] = Math.ceil(size / r);
    return `${name}/${r}`;
  };
  const outputs: TensorSpec[] = model.featureInfo.map((info, k) => ({
    name: featureOutputName(k),
    shape: [info.numChannels, side('H', h, info.reduction), side('W', w, info.reduction)],
    dtype: 'float32',
    description: `${info.module} at stride ${info.reduction}`,
  }));
  return {
    task: 'image-features',
    inputs: [{ name: 'pixel_values', shape: fixedSize ? [inChans, h, w] : [inChans, 'H', 'W'], dtype: 'float32', description: 'normalized images, as the preprocessing config makes them' }],
    outputs,
    sizes,
    ...(multipleOf && !fixedSize ? { multipleOf: { H: multipleOf, W: multipleOf } } : {}),
  };
}

/** The contract of feature extractors: pixel_values → features_0 … features_{n−1}. */
export const FEATURE_EXTRACTION: ModelContract<FeatureExtractor> = {
  task: 'image-features',
  spec: featureSpec,
  forwardNamed(model, inputs) {
    const dtype = model.parameters()[0]?.dtype ?? 'float32';
    const levels = model.forward(cast(inputs.get('pixel_values')!, dtype));
    return new Map(levels.map((t, k) => [featureOutputName(k), cast(t, 'float32')]));
  },
};
