/**
 * Norm + activation layers (timm `layers/norm_act.py`): one module holding the norm's
 * parameters under the norm's own names (`weight`, `bias`), followed by an activation that a
 * flag can switch off, as timm uses them after the last conv of a residual branch.
 */
import { relu } from '../../tensor/ops/activation.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { GroupNorm, type GroupNormOptions } from './norm.ts';

/** Options of GroupNormAct. */
export interface GroupNormActOptions extends GroupNormOptions {
  /** Groups (default 32, timm's). */
  numGroups?: number;
  /** Follow the norm with ReLU (default true). */
  applyAct?: boolean;
}

/** GroupNorm over [N, C, ...] then ReLU unless applyAct is false (timm's GroupNormAct; channels first, as timm). */
export class GroupNormAct extends GroupNorm {
  readonly applyAct: boolean;

  constructor(numChannels: number, options: GroupNormActOptions = {}) {
    super(options.numGroups ?? 32, numChannels, options);
    this.applyAct = options.applyAct ?? true;
  }

  override forward(x: Tensor): Tensor {
    const y = super.forward(x);
    return this.applyAct ? relu(y) : y;
  }

  override extraRepr(): string {
    return `${super.extraRepr()}, act=${this.applyAct ? 'ReLU' : 'None'}`;
  }
}
