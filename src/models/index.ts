/**
 * Models: every family registers its variant table here, explicitly and in one place.
 * `buildModel(name)` builds a randomly initialised model; loading checkpoints is one layer
 * up, in src/io/pretrained.ts (createModel), since it reads files and the hub.
 */
import { registerModels, resolveModel, type CreateModelOptions, type ImageClassifier, type PretrainedCfg } from './registry.ts';
import { RESNET_MODELS } from './resnet.ts';
import { VIT_MODELS } from './vit.ts';
import { DEIT_MODELS } from './deit.ts';
import { VIT_HYBRID_MODELS } from './vit-hybrid.ts';

registerModels(RESNET_MODELS);
registerModels(VIT_MODELS);
registerModels(DEIT_MODELS);
registerModels(VIT_HYBRID_MODELS);

export * from './registry.ts';
export * from './constants.ts';
export { ResNet, RESNET_VARIANTS, type ResNetConfig } from './resnet.ts';
export {
  VisionTransformer, VIT_VARIANTS, TORCHVISION_VIT_VARIANTS, torchvisionToTimm, resamplePosEmbedInStateDict, dropPathRates,
  type VitConfig, type VitOptions, type VitGlobalPool,
} from './vit.ts';
export { VisionTransformerDistilled, DEIT_VARIANTS, type DeitConfig } from './deit.ts';
export { HybridEmbed, createVitHybrid, VIT_HYBRID_VARIANTS, type VitHybridConfig } from './vit-hybrid.ts';
export { ResNetV2, type ResNetV2Config, type FeatureInfo } from './resnetv2.ts';

/** A model with the pretrained config it was built for. */
export type Model = ImageClassifier & { pretrainedCfg: PretrainedCfg; modelName: string };

/** Builds a randomly initialised model from 'arch' or 'arch.tag' (the tag picks the pretrained config). */
export function buildModel(name: string, options: CreateModelOptions = {}): Model {
  const { entry, tag, cfg } = resolveModel(name);
  const numClasses = options.numClasses ?? cfg.numClasses;
  const model = entry.create({ ...options, numClasses }) as Model;
  model.pretrainedCfg = { ...cfg, numClasses };
  model.modelName = `${entry.name}.${tag}`;
  return model;
}
