/**
 * Models: every family registers its variant table here, explicitly and in one place.
 * `buildModel(name)` builds a randomly initialised model; loading checkpoints is one layer
 * up, in src/tasks/pretrained.ts (createModel, loadPretrained), since it reads files and the hub.
 */
import { TsvisionError } from '../errors.ts';
import { ConvNd } from '../nn/layers/conv.ts';
import type { Module } from '../nn/module.ts';
import type { CreateModelOptions, ModelContract, ModelEntry, ModelSpec, PretrainedCfg } from './contract.ts';
import type { ImageClassifier } from './image-classifier.ts';
import { FEATURE_EXTRACTION, FeatureExtractor, type FeatureExtractorOptions } from './features.ts';
import { registerModels, resolveModel } from './registry.ts';
import { RESNET_MODELS } from './resnet.ts';
import { VIT_MODELS } from './vit.ts';
import { DEIT_MODELS } from './deit.ts';
import { VIT_HYBRID_MODELS } from './vit-hybrid.ts';
import { MIXER_MODELS } from './mlp-mixer.ts';
import { CONVMIXER_MODELS } from './convmixer.ts';
import { XCIT_MODELS } from './xcit.ts';
import { MVITV2_MODELS } from './mvitv2.ts';
import { SWIN_MODELS } from './swin.ts';
import { CLIP_MODELS } from './clip.ts';

registerModels(RESNET_MODELS);
registerModels(VIT_MODELS);
registerModels(DEIT_MODELS);
registerModels(VIT_HYBRID_MODELS);
registerModels(MIXER_MODELS);
registerModels(CONVMIXER_MODELS);
registerModels(XCIT_MODELS);
registerModels(MVITV2_MODELS);
registerModels(SWIN_MODELS);
registerModels(CLIP_MODELS);

export * from './contract.ts';
export * from './image-classifier.ts';
export * from './features.ts';
export * from './registry.ts';
export * from './constants.ts';
export { adaptInputConv } from './adapt-input-conv.ts';
export { ResNet, RESNET_VARIANTS, type ResNetConfig } from './resnet.ts';
export {
  VisionTransformer, VIT_VARIANTS, TORCHVISION_VIT_VARIANTS, torchvisionToTimm, resamplePosEmbedInStateDict, vitCfg,
  type VitConfig, type VitOptions, type VitGlobalPool, type VitCfgChanges,
} from './vit.ts';
export { VisionTransformerDistilled, DEIT_VARIANTS, type DeitConfig } from './deit.ts';
export { HybridEmbed, createVitHybrid, VIT_HYBRID_VARIANTS, type VitHybridConfig } from './vit-hybrid.ts';
export { ResNetV2, type ResNetV2Config } from './resnetv2.ts';
export { MlpMixer, MixerBlock, MIXER_VARIANTS, type MixerConfig, type MixerOptions, type MixerGlobalPool } from './mlp-mixer.ts';
export { ConvMixer, ConvMixerBlock, CONVMIXER_VARIANTS, type ConvMixerConfig } from './convmixer.ts';
export { Xcit, XCABlock, ConvPatchEmbed, XCIT_VARIANTS, xcitCfg, xcitCheckpointFilter, type XcitConfig, type XcitOptions, type XcitGlobalPool } from './xcit.ts';
export { MultiScaleVit, MVITV2_VARIANTS, filterMvitCheckpoint, mvitCfg, type MvitConfig } from './mvitv2.ts';
export {
  SwinTransformer, SwinTransformerBlock, SwinTransformerStage, SWIN_VARIANTS, TORCHVISION_SWIN_VARIANTS, filterSwinCheckpoint, swinCfg,
  type SwinConfig, type SwinOptions, type SwinWindowing, type SwinGlobalPool,
} from './swin.ts';
export { torchvisionSwinToTimm } from './swin-torchvision.ts';
export {
  CLIP, ClipVisionTransformer, ModifiedResNet, ClipBottleneck, CLIP_VARIANTS, CLIP_EOT_ID, CLIP_SOT_ID, IMAGE_TEXT_EMBEDDING, filterClipCheckpoint, hfClipToOpenAI,
  type ClipConfig, type ClipOptions, type ClipTextConfig, type ClipVitVisionConfig, type ClipResNetVisionConfig, type ModifiedResNetConfig,
} from './clip.ts';

/** What a built model carries besides its weights: its registry name, pretrained config, spec and entry. */
export interface BuiltModel {
  /** 'arch.tag'. */
  modelName: string;
  pretrainedCfg: PretrainedCfg;
  /** Its named inputs and outputs, as it is now (a new head changes them). */
  readonly spec: ModelSpec;
  entry: ModelEntry;
}

/**
 * A registry model. The type parameter is the model's class: image classifiers unless the
 * caller says otherwise (check `spec.task` for what a name really builds; asImageClassifier does).
 */
export type Model<M extends Module = ImageClassifier> = M & BuiltModel;

/** Options of buildModel: the registry's, and timm's features_only with its out_indices. */
export interface BuildModelOptions extends CreateModelOptions, FeatureExtractorOptions {
  /** Build the backbone as a feature extractor (its head removed) returning the outIndices levels as NCHW maps. */
  featuresOnly?: boolean;
}

/** Builds a randomly initialised model from 'arch' or 'arch.tag' (the tag picks the pretrained config). */
export function buildModel<M extends Module = ImageClassifier>(name: string, options: BuildModelOptions = {}): Model<M> {
  const { featuresOnly, outIndices, ...createOptions } = options;
  const { entry, tag, cfg } = resolveModel(name);
  const numClasses = createOptions.numClasses ?? cfg.numClasses;
  const module = entry.create({ ...createOptions, numClasses }) as M;
  if (createOptions.convWinograd !== undefined) for (const m of module.modules()) if (m instanceof ConvNd) m.winograd = createOptions.convWinograd;
  const model = withRegistryInfo(module, entry, `${entry.name}.${tag}`, { ...cfg, numClasses }, entry.contract);
  return (featuresOnly ? asFeatureExtractor(model as unknown as Model, { outIndices }) : model) as Model<M>;
}

function withRegistryInfo<M extends Module>(module: M, entry: ModelEntry, modelName: string, pretrainedCfg: PretrainedCfg, contract: ModelContract): Model<M> {
  const model = Object.assign(module, { modelName, pretrainedCfg, entry });
  Object.defineProperty(model, 'spec', { get: () => contract.spec(module, pretrainedCfg), enumerable: true, configurable: true });
  return model as Model<M>;
}

/**
 * A built image classifier (weights loaded or not) as a feature extractor: its head removed, its
 * forward returning the chosen levels. Its spec is the image-features one.
 */
export function asFeatureExtractor(model: Model, options: FeatureExtractorOptions = {}): Model<FeatureExtractor> {
  const extractor = new FeatureExtractor(model, options);
  return withRegistryInfo(extractor, model.entry, model.modelName, { ...model.pretrainedCfg, numClasses: 0 }, FEATURE_EXTRACTION as ModelContract);
}

/** The model as an image classifier, or a typed error naming its task when it is not one. */
export function asImageClassifier(model: Model<Module>, op: string): Model<ImageClassifier> {
  if (model.spec.task !== 'image-classification') {
    throw new TsvisionError('E_MODEL_TASK', `${op}: needs an image-classification model; ${model.modelName} is ${model.spec.task}`);
  }
  return model as Model<ImageClassifier>;
}
