/**
 * `createOptimizer(name, groups, options)`: an optimizer by its timm name with options typed per
 * optimizer, as timm's `create_optimizer_v2`. The names are the CLI's `--opt` values; the options
 * are each constructor's own (Adafactor with an `lr` uses it as given, without its relative step).
 */
import { ArgumentError } from '../../errors.ts';
import { Adafactor, type AdafactorOptions } from './adafactor.ts';
import { Adam, AdamW, type AdamOptions } from './adam.ts';
import { Lamb, type LambOptions } from './lamb.ts';
import type { BaseHyper, ParamsInput } from './optimizer.ts';
import { SGD, type SGDOptions } from './sgd.ts';

/** Each optimizer name's options. */
export interface OptimizerOptionsByName {
  adamw: Partial<AdamOptions>;
  adam: Partial<AdamOptions>;
  sgd: Partial<SGDOptions> & { lr: number };
  lamb: Partial<Omit<LambOptions, 'step'>>;
  adafactor: Partial<AdafactorOptions>;
}

/** An optimizer createOptimizer knows. */
export type OptimizerName = keyof OptimizerOptionsByName;

/** The optimizer class of each name. */
export interface OptimizerByName {
  adamw: AdamW;
  adam: Adam;
  sgd: SGD;
  lamb: Lamb;
  adafactor: Adafactor;
}

/** Parameters or parameter groups (e.g. paramGroupsWeightDecay's) with the hyper-parameters every optimizer has. */
export type OptimizerGroups = ParamsInput<BaseHyper>;

const FACTORIES: { [N in OptimizerName]: (groups: OptimizerGroups, options: OptimizerOptionsByName[N]) => OptimizerByName[N] } = {
  adamw: (groups, options) => new AdamW(groups, options),
  adam: (groups, options) => new Adam(groups, options),
  sgd: (groups, options) => new SGD(groups, options),
  lamb: (groups, options) => new Lamb(groups, options),
  adafactor: (groups, options) => new Adafactor(groups, options),
};

/** The optimizer names createOptimizer accepts, in the CLI's order. */
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['adamw', 'adam', 'sgd', 'lamb', 'adafactor'];

/** Builds the optimizer `name` over `groups` with its typed options; an unknown name is an ArgumentError listing the known ones. */
export function createOptimizer<N extends OptimizerName>(name: N, groups: OptimizerGroups, options: OptimizerOptionsByName[N]): OptimizerByName[N] {
  if (!Object.hasOwn(FACTORIES, name)) throw new ArgumentError(`createOptimizer: expected one of ${OPTIMIZER_NAMES.join(', ')}, got '${String(name)}'`);
  const make: (groups: OptimizerGroups, options: OptimizerOptionsByName[N]) => OptimizerByName[N] = FACTORIES[name];
  return make(groups, options);
}
