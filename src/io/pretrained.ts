/**
 * Pretrained models: build a registry model and load a checkpoint into it — a .safetensors
 * file, a hub-layout folder, or a hub repo id (downloaded once into the hub cache).
 */
import fs from 'node:fs';
import { TsvisionError } from '../errors.ts';
import type { StateDict } from '../nn/module.ts';
import { buildModel, resolveModel, type CreateModelOptions, type Model } from '../models/index.ts';
import { resolveWeights, type ResolveOptions } from './hub.ts';
import { readSafetensors } from './safetensors.ts';

/** Options of createModel. */
export interface CreateModelWithWeightsOptions extends CreateModelOptions {
  /** A .safetensors file, a hub-layout folder, or a hub repo id ('timm/resnet50.a1_in1k', '@rev' optional). */
  weights?: string;
  /** Download and cache options for hub ids. */
  hub?: ResolveOptions;
}

/**
 * Builds a model and, with `weights`, loads its checkpoint strictly: any missing,
 * unexpected or mis-shaped key fails with a StateDictError naming them. A folder or hub
 * repo's config.json supplies the number of classes when the options do not.
 */
export async function createModel(name: string, options: CreateModelWithWeightsOptions = {}): Promise<Model> {
  const { weights, hub, ...buildOptions } = options;
  if (!weights) return buildModel(name, buildOptions);
  const resolved = await resolveWeights(weights, hub);
  const config = resolved.files['config.json'] ? readJson(resolved.files['config.json']) : undefined;
  const numClasses = buildOptions.numClasses ?? (typeof config?.num_classes === 'number' ? config.num_classes : undefined);
  const model = buildModel(name, { ...buildOptions, numClasses });
  const { entry, cfg } = resolveModel(name);
  let sd: StateDict = readSafetensors(resolved.weights).tensors;
  const layout = cfg.keyLayout;
  if (layout && entry.remappers?.[layout]) sd = entry.remappers[layout]!(sd);
  model.loadStateDict(sd);
  model.eval();
  return model;
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new TsvisionError('E_CONFIG', `${file}: not a valid JSON config (${(e as Error).message})`);
  }
}
