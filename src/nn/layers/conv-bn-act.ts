/**
 * Conv2d → BatchNorm2d (→ + residual) (→ ReLU), the unit of every BN-based CNN. In eval mode
 * the norm is an affine map per channel, so it runs inside the convolution's kernel together
 * with the skip add and the ReLU (oneDNN post-ops): one pass over the output instead of four,
 * as inference engines fold it. In training, or with non-zero padding modes, the same modules
 * run one after the other.
 */
import { relu } from '../../tensor/ops/activation.ts';
import { conv2dEpilogue } from '../../tensor/ops/conv.ts';
import { add } from '../../tensor/ops/elementwise.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import type { Conv2d } from './conv.ts';
import type { BatchNorm2d } from './norm.ts';

/** What follows the norm: a tensor of the output's shape to add, then ReLU. */
export interface ConvBnActOptions {
  residual?: Tensor | null;
  relu?: boolean;
  /** The residual is dead after this call: the fused kernel may write its output over it. */
  overwriteResidual?: boolean;
}

/** act(bn(conv(x)) + residual), fused into one kernel when bn is in eval mode. */
export function convBnAct(conv: Conv2d, bn: BatchNorm2d, x: Tensor, options: ConvBnActOptions = {}): Tensor {
  const affine = conv.paddingMode === 'zeros' ? bn.evalAffine() : null;
  if (affine) {
    const geometry = { stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups };
    return conv2dEpilogue(x, conv.weight, conv.bias, geometry, { ...affine, ...options });
  }
  let y = bn.forward(conv.forward(x));
  if (options.residual) y = add(y, options.residual);
  return options.relu ? relu(y) : y;
}
