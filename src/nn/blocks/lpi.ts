/**
 * Local patch interaction (XCiT, timm `models/xcit.py` LPI, same names): tokens on their grid
 * talk to their 3×3 neighbours through depthwise conv → GELU → BatchNorm → depthwise conv,
 * which XCA's channel attention alone does not do. Parameters: conv1.{weight,bias} [D, 1, k, k],
 * bn.{weight,bias,running_mean,running_var,num_batches_tracked}, conv2.{weight,bias}.
 */
import { formatShape, ShapeError } from '../../errors.ts';
import { permute, reshape } from '../../tensor/ops/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';
import { checkInt, type FactoryOptions } from '../layers/common.ts';
import { GELU } from '../layers/activation.ts';
import type { UnaryModule } from '../layers/containers.ts';
import { Conv2d } from '../layers/conv.ts';
import { BatchNorm2d } from '../layers/norm.ts';

/** Options of LPI. */
export interface LpiOptions extends FactoryOptions {
  /** Side of the depthwise kernels (default 3; odd, padded to keep the grid). */
  kernelSize?: number;
  /** Builds the activation between the convs (default exact GELU). */
  actLayer?: () => UnaryModule;
}

/** Depthwise conv → act → BatchNorm → depthwise conv over tokens [B, N, D] laid on an H×W grid. */
export class LPI extends Module {
  readonly conv1: Conv2d;
  readonly act: UnaryModule;
  readonly bn: BatchNorm2d;
  readonly conv2: Conv2d;

  constructor(dim: number, options: LpiOptions = {}) {
    super();
    const kernelSize = options.kernelSize ?? 3;
    checkInt('LPI', 'kernelSize', kernelSize, 1);
    const depthwise = { padding: Math.floor(kernelSize / 2), groups: dim, dtype: options.dtype, generator: options.generator };
    this.conv1 = this.module('conv1', new Conv2d(dim, dim, kernelSize, depthwise));
    this.act = this.module('act', options.actLayer ? options.actLayer() : new GELU());
    this.bn = this.module('bn', new BatchNorm2d(dim, { dtype: options.dtype }));
    this.conv2 = this.module('conv2', new Conv2d(dim, dim, kernelSize, depthwise));
  }

  /** tokens [B, N, D] in row-major grid order, N = H·W → [B, N, D]. */
  override forward(x: Tensor, H: number, W: number): Tensor {
    if (x.ndim !== 3 || x.shape[1] !== H * W) throw new ShapeError(`LPI: expected tokens [B, ${H}·${W}, D] of a ${H}×${W} grid, got shape ${formatShape(x.shape)}`);
    const [B, N, D] = x.shape;
    // The tokens are the grid channels-last; convolutions and the norm run in that layout without a copy.
    let y = permute(reshape(x, [B, H, W, D]), [0, 3, 1, 2]); // (B, D, H, W)
    y = this.conv2.forward(this.bn.forward(this.act.forward(this.conv1.forward(y)))); // (B, D, H, W)
    return reshape(permute(y, [0, 2, 3, 1]), [B, N, D]); // (B, N, D)
  }
}
