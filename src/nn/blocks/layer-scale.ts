/** LayerScale (CaiT, DeiT III, XCiT): a learned per-channel gain on a residual branch (timm name `gamma`). */
import { full } from '../../tensor/creation.ts';
import { mul } from '../../tensor/ops/elementwise.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { constant_ } from '../init.ts';
import { Module } from '../module.ts';
import type { Parameter } from '../parameter.ts';
import { checkInt, paramDtype, type FactoryOptions } from '../layers/common.ts';

/** x · gamma over the last dim; gamma [dim] starts at initValues. */
export class LayerScale extends Module {
  readonly initValues: number;
  readonly gamma: Parameter;

  constructor(dim: number, initValues = 1e-5, options: FactoryOptions = {}) {
    super();
    checkInt('LayerScale', 'dim', dim, 1);
    this.initValues = initValues;
    this.gamma = this.param('gamma', full([dim], initValues, { dtype: paramDtype('LayerScale', options) }));
  }

  /** gamma = initValues. */
  resetParameters(): void {
    constant_(this.gamma, this.initValues);
  }

  override forward(x: Tensor): Tensor {
    return mul(x, this.gamma);
  }
}
