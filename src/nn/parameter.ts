/**
 * Parameter: the tensor type of a module's learnable weights.
 *
 * A Parameter is a Tensor subclass (not a marker flag) so `instanceof Parameter` tells a
 * weight from an activation, as in torch. `new Parameter(t)` is a leaf that shares t's
 * storage (t itself is not changed and may be a non-leaf: the parameter is cut from its
 * graph) and requires grad unless asked not to. Ops on a Parameter return plain Tensors.
 */
import { Tensor } from '../tensor/tensor.ts';

export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    data.assertAlive('Parameter');
    super(data.storage, data.shape, data.strides, data.offset, data.dtype);
    if (requiresGrad) this.requiresGrad_(true);
  }
}

/**
 * Points `target` at `source`'s data (storage, shape, strides, dtype), keeping the object:
 * torch's `tensor.data = source`. Module.to uses it so every holder of a parameter or
 * buffer (module fields, optimizers, shared modules) sees the converted tensor.
 */
export function replaceData(target: Tensor, source: Tensor): void {
  target.setData(source);
}
