/**
 * The model registry: named variants (`resnet50`, `vit_base_patch16_224`, ...) with their
 * pretrained configurations (`resnet50.tv_in1k`), as timm names them. Families register
 * their variant tables explicitly from src/models/index.ts; `createModel('arch.tag')`
 * builds one, `listModels('vit_*')` lists them.
 */
import { TsvisionError } from '../errors.ts';
import type { Module, StateDict } from '../nn/module.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** Resampling used by a model's eval preprocessing. */
export type Interpolation = 'bilinear' | 'bicubic' | 'nearest';

/** How a checkpoint's keys map to ours; each non-native layout has a pure remapper in its family file. */
export type KeyLayout = 'timm' | 'torchvision' | 'deit' | 'openai' | 'hf';

/** Weight source and preprocessing of one pretrained variant (timm's PretrainedCfg). */
export interface PretrainedCfg {
  /** Hugging Face hub repo holding `model.safetensors` (+ `config.json`), e.g. 'timm/resnet50.tv_in1k'. */
  hubId?: string;
  /** Layout of the checkpoint's keys; the family's native layout when absent. */
  keyLayout?: KeyLayout;
  /** [C, H, W] at which the model is evaluated. */
  inputSize: [number, number, number];
  /** Size timm evaluates at when it differs from the training size. */
  testInputSize?: [number, number, number];
  /** timm resizes the shorter side to floor(H / cropPct), then center-crops H. */
  cropPct: number;
  testCropPct?: number;
  cropMode?: 'center' | 'squash' | 'border';
  interpolation: Interpolation;
  mean: [number, number, number];
  std: [number, number, number];
  numClasses: number;
  /** Dotted name of the first conv (adapted when inChans differs). */
  firstConv: string;
  /** Dotted name(s) of the classifier head (dropped when numClasses differs). */
  classifier: string | string[];
  license?: string;
  /** Label set of the head, e.g. 'imagenet-1k'. */
  labelSet?: string;
}

/** Options every model factory accepts. */
export interface CreateModelOptions {
  /** Classes of the head; 0 builds the model without a head (features only). */
  numClasses?: number;
  inChans?: number;
  /** Image size the model is built for (position embeddings, attention windows). */
  imgSize?: number;
  dropRate?: number;
  dropPathRate?: number;
}

/** The contract every image classifier follows (timm's): features, head, forward, reset. */
export interface ImageClassifier extends Module {
  readonly numClasses: number;
  /** Width of the pooled features that enter the head. */
  readonly numFeatures: number;
  /** The backbone without pooling and head: a feature map [N, C, H, W] or tokens [N, L, C]. */
  forwardFeatures(x: Tensor): Tensor;
  /** Pooling and head; with preLogits, the pooled features before the classifier. */
  forwardHead(x: Tensor, options?: { preLogits?: boolean }): Tensor;
  /** pixels [N, C, H, W] → logits [N, numClasses]. */
  forward(x: Tensor): Tensor;
  /** Replaces the head with a fresh one for numClasses (0 removes it). */
  resetClassifier(numClasses: number): void;
}

/** One registered variant. */
export interface ModelEntry {
  /** Architecture name, e.g. 'resnet50'. */
  name: string;
  /** Family file that defines it, e.g. 'resnet'. */
  family: string;
  /** Learnable parameters with the default 1000-class head (timm's count; verified by test/models/registry.test.ts). */
  paramCount: number;
  /** Builds the model; config values come from the family's variant table. */
  create: (options: CreateModelOptions) => ImageClassifier;
  /** Pretrained configs by tag; the first one is the default tag. */
  pretrained: Record<string, PretrainedCfg>;
  /** Pure key remappers from other checkpoint layouts to the family's own, chosen by a cfg's keyLayout. */
  remappers?: Partial<Record<KeyLayout, (sd: StateDict) => StateDict>>;
}

/** An unknown model name; `suggestions` holds the closest registered names. */
export class UnknownModelError extends TsvisionError {
  readonly suggestions: string[];
  constructor(name: string, suggestions: string[]) {
    super('E_UNKNOWN_MODEL', `unknown model '${name}'${suggestions.length ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(', ')}?` : ''} (tsvision models lists them)`);
    this.suggestions = suggestions;
  }
}

const registry = new Map<string, ModelEntry>();

/** Adds a family's variants to the registry (called from src/models/index.ts). */
export function registerModels(entries: readonly ModelEntry[]): void {
  for (const e of entries) {
    if (registry.has(e.name)) throw new TsvisionError('E_DUPLICATE_MODEL', `model '${e.name}' is registered twice (${registry.get(e.name)!.family} and ${e.family})`);
    registry.set(e.name, e);
  }
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; ++i) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; ++j) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The closest registered names to `name` (for error messages). */
export function suggestModels(name: string, limit = 3): string[] {
  const arch = name.split('.')[0].toLowerCase();
  return [...registry.keys()]
    .map((k) => [k, k.includes(arch) || arch.includes(k) ? 0 : editDistance(arch, k)] as const)
    .sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]))
    .filter(([, d]) => d <= Math.max(3, arch.length / 3))
    .slice(0, limit)
    .map(([k]) => k);
}

/** Splits 'arch.tag' and finds the entry and pretrained config (default tag when none is given). */
export function resolveModel(name: string): { entry: ModelEntry; tag: string; cfg: PretrainedCfg } {
  const [arch, tag] = name.split('.', 2);
  const entry = registry.get(arch);
  if (!entry) throw new UnknownModelError(name, suggestModels(name));
  const tags = Object.keys(entry.pretrained);
  const chosen = tag ?? tags[0];
  const cfg = entry.pretrained[chosen];
  if (!cfg) {
    throw new TsvisionError('E_UNKNOWN_TAG', `model '${arch}' has no pretrained tag '${tag}'; known tags: ${tags.join(', ')}`);
  }
  return { entry, tag: chosen, cfg };
}

/** The registered entry of an architecture name (no tag). */
export function getModelEntry(name: string): ModelEntry {
  return resolveModel(name).entry;
}

/** Registered names, optionally filtered by a glob ('vit_*') or substring. */
export function listModels(filter?: string): string[] {
  const names = [...registry.keys()].sort();
  if (!filter) return names;
  if (/[*?]/.test(filter)) {
    const re = new RegExp(`^${filter.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    return names.filter((n) => re.test(n));
  }
  return names.filter((n) => n.includes(filter));
}
