/**
 * Pooling with TF 'SAME' padding (timm `layers/pool2d_same.py`): the input is padded per its
 * size, with −∞ for max pooling so padded cells never win, then pooled without padding.
 */
import { maxPool2d } from '../../tensor/ops/pool.ts';
import { spatialList, type SpatialArg } from '../../tensor/ops/spatial.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';
import { padSame } from './padding.ts';

/** Max pooling over [N, C, H, W] with TF 'SAME' padding (timm's MaxPool2dSame, dilation 1). */
export class MaxPool2dSame extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];

  constructor(kernelSize: SpatialArg, stride?: SpatialArg) {
    super();
    this.kernelSize = spatialList('MaxPool2dSame', 'kernelSize', kernelSize, 2, 1) as [number, number];
    this.stride = spatialList('MaxPool2dSame', 'stride', stride ?? kernelSize, 2, 1) as [number, number];
  }

  override forward(x: Tensor): Tensor {
    return maxPool2d(padSame(x, this.kernelSize, this.stride, [1, 1], -Infinity), { kernelSize: this.kernelSize, stride: this.stride });
  }

  override extraRepr(): string {
    return `kernel_size=(${this.kernelSize.join(', ')}), stride=(${this.stride.join(', ')})`;
  }
}
