/**
 * One pretrained-loading path, like timm's build_model_with_cfg: resolve the source (a
 * .safetensors file, a hub-layout folder, a hub repo id, or a `tsvision train --output`
 * directory), remap its keys by the pretrained cfg's layout, let the family adapt it (position
 * embeddings for another image size), size or replace the classifier head, adapt the first conv
 * to other input channels (timm's adapt_input_conv), and load strictly.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError, StateDictError, TsvisionError } from '../errors.ts';
import { resolveWeights, type ResolveOptions } from '../io/hub.ts';
import { readSafetensors } from '../io/safetensors.ts';
import { adaptInputConv } from '../models/adapt-input-conv.ts';
import { asFeatureExtractor, asImageClassifier, buildModel, classifierNames, isKeyUnder, type BuildModelOptions, type ImageClassifier, type Model } from '../models/index.ts';
import type { Module, StateDict } from '../nn/module.ts';
import { clone } from '../tensor/ops/shape.ts';
import { latestCheckpoint } from '../train/checkpoint.ts';

/** Options of loadPretrained. */
export interface LoadPretrainedOptions {
  /** Classes of the head: a fresh head when the checkpoint's differs; the checkpoint's own count when absent. */
  numClasses?: number;
  /** Input channels the model was built for; the checkpoint's first conv is adapted to them. */
  inChans?: number;
  /** Download and cache options for hub ids. */
  hub?: ResolveOptions;
}

/** What loadPretrained did. */
export interface PretrainedLoad {
  /** The safetensors file the weights came from. */
  file: string;
  /** Classes of the checkpoint's head (0 when it has none). */
  checkpointClasses: number;
  /** The head was left freshly initialised because the class count differs from the checkpoint's. */
  headReplaced: boolean;
  /** The first conv was adapted from the checkpoint's input channels to the model's. */
  adaptedInChans: number | null;
}

/** A model whose head can be replaced (every image classifier). */
interface WithClassifier {
  numClasses: number;
  resetClassifier(numClasses: number): void;
}

function hasClassifier(model: Module): model is Module & WithClassifier {
  return 'resetClassifier' in model && typeof model.resetClassifier === 'function' && 'numClasses' in model;
}

function readConfig(file: string | undefined): Record<string, unknown> | null {
  if (!file) return null;
  try {
    const config: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof config === 'object' && config !== null && !Array.isArray(config) ? (config as Record<string, unknown>) : null;
  } catch (e) {
    throw new TsvisionError('E_CONFIG', `${file}: not a valid JSON config (${(e as Error).message})`);
  }
}

/** The weights file of a source and, for hub folders, its config.json; `native`: a tsvision training output, in the family's own key layout. */
async function resolveSource(source: string, hub?: ResolveOptions): Promise<{ file: string; config: Record<string, unknown> | null; native: boolean }> {
  if (existsSync(source) && statSync(source).isDirectory()) {
    const checkpoint = existsSync(join(source, 'state.json')) ? source : latestCheckpoint(source);
    if (checkpoint) return { file: join(checkpoint, 'model.safetensors'), config: null, native: true };
  }
  const resolved = await resolveWeights(source, hub);
  return { file: resolved.weights, config: readConfig(resolved.files['config.json']), native: false };
}

/** The class count of a checkpoint's head: its weight's rows, else the config's num_classes or label map, else 0. */
function checkpointClasses(sd: StateDict, heads: readonly string[], config: Record<string, unknown> | null): number {
  const weight = heads.map((h) => sd.get(`${h}.weight`)).find((t) => t !== undefined);
  if (weight) return weight.shape[0];
  if (typeof config?.num_classes === 'number') return config.num_classes;
  const labels = config?.id2label ?? config?.label_names;
  return labels && typeof labels === 'object' ? Object.keys(labels).length : 0;
}

/**
 * Loads pretrained weights into a registry model: keys remapped by its cfg's layout, the head
 * sized from the checkpoint or replaced for `numClasses`, the first conv adapted to the model's
 * input channels; every other key must fit exactly (a StateDictError names the first
 * mismatched, missing and unexpected keys). Leaves the model in eval mode.
 */
export async function loadPretrained<M extends Module>(model: Model<M>, source: string, options: LoadPretrainedOptions = {}): Promise<PretrainedLoad> {
  const { entry, pretrainedCfg: cfg } = model;
  const { file, config, native } = await resolveSource(source, options.hub);
  let sd: StateDict = readSafetensors(file).tensors;
  if (!native && cfg.keyLayout) sd = entry.keyLayouts![cfg.keyLayout](sd);
  if (entry.filterCheckpoint) sd = entry.filterCheckpoint(sd, model);
  const own = model.stateDict();
  const heads = classifierNames(cfg);
  const fromCheckpoint = checkpointClasses(sd, heads, config);
  let headReplaced = false;
  if (hasClassifier(model) && heads.length > 0) {
    const target = options.numClasses ?? fromCheckpoint;
    if (target !== model.numClasses) model.resetClassifier(target);
    if (target !== fromCheckpoint) {
      headReplaced = true;
      for (const key of [...sd.keys()]) if (isKeyUnder(key, heads)) sd.delete(key);
      for (const [key, t] of model.stateDict()) if (isKeyUnder(key, heads)) sd.set(key, clone(t));
    }
  } else if (options.numClasses !== undefined) {
    throw new ArgumentError(`loadPretrained: ${model.modelName} has no classifier head to size for ${options.numClasses} classes`);
  }
  const adaptedInChans = adaptFirstConv(sd, own, cfg.firstConv, options.inChans);
  try {
    model.loadStateDict(sd);
  } catch (e) {
    if (!(e instanceof StateDictError)) throw e;
    throw new StateDictError(`${file} does not fit ${model.modelName} (${model.constructor.name}): ${e.summary()}`, e);
  }
  model.eval();
  return { file, checkpointClasses: fromCheckpoint, headReplaced, adaptedInChans };
}

// Adapts the checkpoint's first conv in place to the model's input channels; returns the checkpoint's channel count when it did.
function adaptFirstConv(sd: StateDict, own: StateDict, firstConv: string | undefined, inChans: number | undefined): number | null {
  if (!firstConv) return null;
  const key = `${firstConv}.weight`;
  const target = own.get(key);
  const weight = sd.get(key);
  if (!target || !weight || weight.ndim !== 4) return null;
  if (inChans !== undefined && inChans !== target.shape[1]) {
    throw new ArgumentError(`loadPretrained: inChans ${inChans}, but the model's first conv ${firstConv} takes ${target.shape[1]} channels; build the model with inChans ${inChans}`);
  }
  if (weight.shape[1] === target.shape[1]) return null;
  sd.set(key, adaptInputConv(target.shape[1], weight));
  return weight.shape[1];
}

/** Options of createModel. */
export interface CreateModelWithWeightsOptions extends BuildModelOptions {
  /** A .safetensors file, a hub-layout folder, a hub repo id ('timm/resnet50.a1_in1k', '@rev' optional) or a train --output directory. */
  weights?: string;
  /** Download and cache options for hub ids. */
  hub?: ResolveOptions;
}

/**
 * Builds a registry model and, with `weights`, loads them through loadPretrained: the head takes
 * the checkpoint's class count unless `numClasses` says otherwise, and a model built for other
 * input channels gets an adapted first conv.
 */
export async function createModel<M extends Module = ImageClassifier>(name: string, options: CreateModelWithWeightsOptions = {}): Promise<Model<M>> {
  const { weights, hub, featuresOnly, outIndices, ...buildOptions } = options;
  const model = buildModel<Module>(name, buildOptions);
  if (weights) await loadPretrained(model, weights, { numClasses: buildOptions.numClasses, inChans: buildOptions.inChans, hub });
  // The checkpoint goes into the whole classifier first (head sizing, key layouts), as timm loads before wrapping.
  return (featuresOnly ? asFeatureExtractor(asImageClassifier(model, 'createModel featuresOnly'), { outIndices }) : model) as unknown as Model<M>;
}
