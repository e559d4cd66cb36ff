/** Linear and Identity (torch.nn.Linear, torch.nn.Identity). */
import { empty } from '../../tensor/creation.ts';
import { linear } from '../../tensor/ops/linalg.ts';
import type { Generator } from '../../tensor/random.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from '../init.ts';
import { Module } from '../module.ts';
import type { Parameter } from '../parameter.ts';
import { checkInt, paramDtype, type FactoryOptions } from './common.ts';

/** Options of Linear. */
export interface LinearOptions extends FactoryOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
}

/**
 * Uniform bias init shared by Linear and the convolutions: U(−1/√fanIn, 1/√fanIn) with
 * fanIn taken from the weight, as torch's reset_parameters.
 */
export function initBiasFromWeight(bias: Tensor, weight: Tensor, generator?: Generator): void {
  const [fanIn] = calculateFanInAndFanOut(weight);
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  uniform_(bias, -bound, bound, generator);
}

/** y = x·Wᵀ + b over the last dim. Parameters: weight [out, in], bias [out]. */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    checkInt('Linear', 'inFeatures', inFeatures, 0);
    checkInt('Linear', 'outFeatures', outFeatures, 0);
    const dtype = paramDtype('Linear', options);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = this.param('weight', empty([outFeatures, inFeatures], { dtype }));
    this.bias = (options.bias ?? true) ? this.param('bias', empty([outFeatures], { dtype })) : null;
    this.resetParameters(options.generator);
  }

  /** torch's default init: kaiming_uniform(a=√5) weight, U(±1/√in) bias. */
  resetParameters(generator?: Generator): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5), generator });
    if (this.bias) initBiasFromWeight(this.bias, this.weight, generator);
  }

  override forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias ? 'True' : 'False'}`;
  }
}

/** Returns its input unchanged (a placeholder where a layer is optional). */
export class Identity extends Module {
  override forward(x: Tensor): Tensor {
    return x;
  }
}
