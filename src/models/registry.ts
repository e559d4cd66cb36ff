/**
 * The model registry: named variants (`resnet50`, `vit_base_patch16_224`, ...) with their
 * pretrained configurations (`resnet50.tv_in1k`), as timm names them. Families register
 * their variant tables explicitly from src/models/index.ts; `createModel('arch.tag')`
 * builds one, `listModels('vit_*')` lists them.
 */
import { TsvisionError } from '../errors.ts';
import type { Module } from '../nn/module.ts';
import type { ModelEntry, PretrainedCfg } from './contract.ts';

/** An unknown model name; `suggestions` holds the closest registered names. */
export class UnknownModelError extends TsvisionError {
  readonly suggestions: string[];
  constructor(name: string, suggestions: string[]) {
    super('E_UNKNOWN_MODEL', `unknown model '${name}'${suggestions.length ? `; did you mean ${suggestions.map((s) => `'${s}'`).join(', ')}?` : ''} (tsvision models lists them)`);
    this.suggestions = suggestions;
  }
}

const registry = new Map<string, ModelEntry>();

/**
 * Adds a family's variants to the registry (src/models/index.ts registers the built-in ones; a
 * user's own family registers the same way). Every pretrained cfg's keyLayout must name one of
 * the entry's keyLayouts.
 */
export function registerModels<M extends Module>(entries: readonly ModelEntry<M>[]): void {
  for (const e of entries) {
    if (registry.has(e.name)) throw new TsvisionError('E_DUPLICATE_MODEL', `model '${e.name}' is registered twice (${registry.get(e.name)!.family} and ${e.family})`);
    if (Object.keys(e.pretrained).length === 0) throw new TsvisionError('E_MODEL_ENTRY', `model '${e.name}' has no pretrained config; give at least one (its default tag)`);
    for (const [tag, cfg] of Object.entries(e.pretrained)) {
      if (cfg.keyLayout !== undefined && !e.keyLayouts?.[cfg.keyLayout]) {
        throw new TsvisionError('E_MODEL_ENTRY', `model '${e.name}.${tag}' names key layout '${cfg.keyLayout}', but the entry has ${Object.keys(e.keyLayouts ?? {}).map((k) => `'${k}'`).join(', ') || 'none'}`);
      }
    }
    registry.set(e.name, e);
  }
}

/** Removes a registered model (for tests that register their own). */
export function unregisterModel(name: string): boolean {
  return registry.delete(name);
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
