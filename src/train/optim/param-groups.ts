/**
 * Parameter groups as timm builds them (`param_groups_weight_decay` plus a head split): no weight
 * decay for 1-D parameters (norm weights, biases), names ending in `.bias`, and names matching the
 * model's `noWeightDecay()` list (position embeddings, cls/dist tokens; `*` is a wildcard, as in
 * timm's fnmatch). With `headLr` or `headWeightDecay`, the classifier's parameters (the model's
 * `pretrainedCfg.classifier`) get their own groups with those values.
 */
import type { Module } from '../../nn/module.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { classifierNames, isKeyUnder, type PretrainedCfg } from '../../models/contract.ts';

/** A model that names parameters which must not be decayed (timm's `no_weight_decay()`). */
export interface HasNoWeightDecay {
  noWeightDecay(): readonly string[];
}

export interface ParamGroupOptions {
  /** Extra name patterns with no decay, added to the model's own `noWeightDecay()`. */
  noWeightDecayList?: readonly string[];
  /** Learning rate of the classifier head's groups. */
  headLr?: number;
  /** Weight decay of the head's decayed group (defaults to weightDecay). */
  headWeightDecay?: number;
}

/** A group spec for an optimizer constructor; `names` lists the parameters' dotted names. */
export interface ParamGroupSpec {
  params: Tensor[];
  names: string[];
  weightDecay: number;
  lr?: number;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

// The classifier modules of a registry model (its pretrained cfg's); none for a plain module.
function headsOf(model: Module): readonly string[] {
  return 'pretrainedCfg' in model ? classifierNames(model.pretrainedCfg as PretrainedCfg) : [];
}

/** Splits a model's trainable parameters into decay / no-decay (and head) groups. */
export function paramGroupsWeightDecay(model: Module, weightDecay = 1e-5, options: ParamGroupOptions = {}): ParamGroupSpec[] {
  const own = typeof (model as Partial<HasNoWeightDecay>).noWeightDecay === 'function' ? (model as unknown as HasNoWeightDecay).noWeightDecay() : [];
  const patterns = [...own, ...(options.noWeightDecayList ?? [])].map(globToRegExp);
  const splitHead = options.headLr !== undefined || options.headWeightDecay !== undefined;
  const heads = splitHead ? headsOf(model) : [];
  const isHead = (name: string) => isKeyUnder(name, heads);
  const headWd = options.headWeightDecay ?? weightDecay;
  const groups = new Map<string, ParamGroupSpec>();
  const add = (key: string, name: string, p: Tensor, wd: number, lr?: number) => {
    let g = groups.get(key);
    if (!g) {
      g = { params: [], names: [], weightDecay: wd, ...(lr === undefined ? {} : { lr }) };
      groups.set(key, g);
    }
    g.params.push(p);
    g.names.push(name);
  };
  for (const [name, p] of model.namedParameters()) {
    if (!p.requiresGrad) continue;
    const noDecay = !weightDecay || p.ndim <= 1 || name.endsWith('.bias') || patterns.some((r) => r.test(name));
    if (isHead(name)) add(noDecay ? 'head_no_decay' : 'head_decay', name, p, noDecay ? 0 : headWd, options.headLr);
    else add(noDecay ? 'no_decay' : 'decay', name, p, noDecay ? 0 : weightDecay);
  }
  return ['no_decay', 'decay', 'head_no_decay', 'head_decay'].flatMap((k) => (groups.has(k) ? [groups.get(k) as ParamGroupSpec] : []));
}
