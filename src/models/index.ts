/**
 * Models: every family registers its variant table here, explicitly and in one place.
 * `buildModel(name)` builds a randomly initialised model; loading checkpoints is one layer
 * up, in src/tasks/pretrained.ts (createModel, loadPretrained), since it reads files and the hub.
 */
import { TsvisionError } from '../errors.ts';
import { ConvNd } from '../nn/layers/conv.ts';
import type { Module } from '../nn/module.ts';
import type { CreateModelOptions, ModelEntry, ModelSpec, PretrainedCfg } from './contract.ts';
import type { ImageClassifier } from './image-classifier.ts';
import { registerModels, resolveModel } from './registry.ts';
import { RESNET_MODELS } from './resnet.ts';
import { VIT_MODELS } from './vit.ts';
import { DEIT_MODELS } from './deit.ts';
import { VIT_HYBRID_MODELS } from './vit-hybrid.ts';

registerModels(RESNET_MODELS);
registerModels(VIT_MODELS);
registerModels(DEIT_MODELS);
registerModels(VIT_HYBRID_MODELS);

export * from './contract.ts';
export * from './image-classifier.ts';
export * from './registry.ts';
export * from './constants.ts';
export { adaptInputConv } from './adapt-input-conv.ts';
export { ResNet, RESNET_VARIANTS, type ResNetConfig } from './resnet.ts';
export {
  VisionTransformer, VIT_VARIANTS, TORCHVISION_VIT_VARIANTS, torchvisionToTimm, resamplePosEmbedInStateDict, dropPathRates, vitCfg,
  type VitConfig, type VitOptions, type VitGlobalPool, type VitCfgChanges,
} from './vit.ts';
export { VisionTransformerDistilled, DEIT_VARIANTS, type DeitConfig } from './deit.ts';
export { HybridEmbed, createVitHybrid, VIT_HYBRID_VARIANTS, type VitHybridConfig } from './vit-hybrid.ts';
export { ResNetV2, type ResNetV2Config } from './resnetv2.ts';

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

/** Builds a randomly initialised model from 'arch' or 'arch.tag' (the tag picks the pretrained config). */
export function buildModel<M extends Module = ImageClassifier>(name: string, options: CreateModelOptions = {}): Model<M> {
  const { entry, tag, cfg } = resolveModel(name);
  const numClasses = options.numClasses ?? cfg.numClasses;
  const module = entry.create({ ...options, numClasses }) as M;
  if (options.convWinograd !== undefined) for (const m of module.modules()) if (m instanceof ConvNd) m.winograd = options.convWinograd;
  const pretrainedCfg = { ...cfg, numClasses };
  const model = Object.assign(module, { modelName: `${entry.name}.${tag}`, pretrainedCfg, entry });
  Object.defineProperty(model, 'spec', { get: () => entry.contract.spec(module, pretrainedCfg), enumerable: true });
  return model as Model<M>;
}

/** The model as an image classifier, or a typed error naming its task when it is not one. */
export function asImageClassifier(model: Model<Module>, op: string): Model<ImageClassifier> {
  if (model.spec.task !== 'image-classification') {
    throw new TsvisionError('E_MODEL_TASK', `${op}: needs an image-classification model; ${model.modelName} is ${model.spec.task}`);
  }
  return model as Model<ImageClassifier>;
}
