/** Mlp: the two-layer feed-forward block of ViT, Mixer and friends (timm `layers/mlp.py`, same names). */
import type { Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';
import { add } from '../../tensor/ops/elementwise.ts';
import { linearEpilogue } from '../../tensor/ops/linalg.ts';
import { GELU, ReLU } from '../layers/activation.ts';
import type { UnaryModule } from '../layers/containers.ts';
import { Dropout } from '../layers/dropout.ts';
import { Linear } from '../layers/linear.ts';
import type { FactoryOptions } from '../layers/common.ts';

/** Options of Mlp. */
export interface MlpOptions extends FactoryOptions {
  /** Width of the hidden layer (default inFeatures). */
  hiddenFeatures?: number;
  /** Width of the output (default inFeatures). */
  outFeatures?: number;
  /** Builds the activation between the layers (default exact GELU). */
  actLayer?: () => UnaryModule;
  /** Biases on fc1 and fc2 (default true). */
  bias?: boolean;
  /** Dropout after the activation and after fc2, in training (default 0). */
  drop?: number;
}

/** fc1 → act → drop1 → fc2 → drop2 over the last dim. Parameters: fc1.{weight,bias}, fc2.{weight,bias}. */
export class Mlp extends Module {
  readonly fc1: Linear;
  readonly act: UnaryModule;
  readonly drop1: Dropout;
  readonly fc2: Linear;
  readonly drop2: Dropout;

  constructor(inFeatures: number, options: MlpOptions = {}) {
    super();
    const hidden = options.hiddenFeatures ?? inFeatures;
    const out = options.outFeatures ?? inFeatures;
    const layer = { bias: options.bias ?? true, dtype: options.dtype, generator: options.generator };
    this.fc1 = this.module('fc1', new Linear(inFeatures, hidden, layer));
    this.act = this.module('act', options.actLayer ? options.actLayer() : new GELU());
    this.drop1 = this.module('drop1', new Dropout(options.drop ?? 0));
    this.fc2 = this.module('fc2', new Linear(hidden, out, layer));
    this.drop2 = this.module('drop2', new Dropout(options.drop ?? 0));
  }

  /** x → fc2(drop(act(fc1(x)))), plus `residual` when given (a block's skip connection). */
  override forward(x: Tensor, residual: Tensor | null = null): Tensor {
    // A GELU or ReLU runs inside fc1's matmul kernel, and the residual add inside fc2's, when no gradient is recorded.
    const activation = this.act instanceof GELU ? (this.act.approximate === 'tanh' ? 'geluTanh' : 'geluErf') : this.act instanceof ReLU ? 'relu' : null;
    x = activation ? linearEpilogue(x, this.fc1.weight, this.fc1.bias, { activation }) : this.act.forward(this.fc1.forward(x));
    x = this.drop1.forward(x);
    if (residual && this.drop2.isIdentity) return linearEpilogue(x, this.fc2.weight, this.fc2.bias, { residual });
    const y = this.drop2.forward(this.fc2.forward(x));
    return residual ? add(residual, y) : y;
  }
}
