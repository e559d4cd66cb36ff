/**
 * Conv2d → BatchNorm2d (→ + residual) (→ ReLU), the unit of every BN-based CNN. In eval mode
 * the norm is an affine map per channel, so it is folded into the convolution, as inference
 * engines do: weight · scale and bias · scale + shift, computed once and kept until one of the
 * conv's or norm's tensors is written. The skip add and the ReLU run inside the same kernel
 * (oneDNN sum and eltwise post-ops, which oneDNN's AVX2 kernels take too): one pass over the
 * output instead of four. In training, or with non-zero padding modes, the same modules run one
 * after the other.
 */
import { needsGrad } from '../../tensor/autograd.ts';
import { relu } from '../../tensor/ops/activation.ts';
import { conv2dEpilogue } from '../../tensor/ops/conv.ts';
import { add, cast, mul } from '../../tensor/ops/elementwise.ts';
import { contiguous, reshape } from '../../tensor/ops/shape.ts';
import { DerivedValue } from '../../tensor/derived.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import type { Skip } from '../blocks/residual.ts';
import type { Conv2d } from './conv.ts';
import type { BatchNorm2d } from './norm.ts';
import { Sequential } from './containers.ts';

/** What follows the norm: a residual block's skip (of the output's shape) to add, then ReLU. */
export interface ConvBnActOptions {
  skip?: Skip | null;
  relu?: boolean;
}

interface FoldedConv {
  weight: Tensor;
  bias: Tensor;
}
const foldedConvs = new WeakMap<Conv2d, DerivedValue<FoldedConv>>();

// The conv's weight and bias with the norm's eval affine folded in, in the weight's dtype.
function folded(conv: Conv2d, affine: { scale: Tensor; shift: Tensor }): FoldedConv {
  let cache = foldedConvs.get(conv);
  if (!cache) foldedConvs.set(conv, (cache = new DerivedValue<FoldedConv>()));
  return cache.get([affine, conv.weight, conv.bias ?? null], () => {
    const dtype = conv.weight.dtype;
    const perOutput = [conv.weight.shape[0], ...conv.weight.shape.slice(1).map(() => 1)];
    const weight = contiguous(cast(mul(cast(conv.weight.detach(), 'float32'), reshape(affine.scale, perOutput)), dtype));
    const shift = conv.bias ? add(mul(cast(conv.bias.detach(), 'float32'), affine.scale), affine.shift) : affine.shift;
    return { weight, bias: contiguous(cast(shift, dtype)) };
  });
}

/** act(bn(conv(x)) + residual); in eval mode the norm is folded into the conv and all of it runs as one kernel. */
export function convBnAct(conv: Conv2d, bn: BatchNorm2d, x: Tensor, options: ConvBnActOptions = {}): Tensor {
  const affine = conv.paddingMode === 'zeros' ? bn.evalAffine() : null;
  const residual = options.skip?.tensor ?? null;
  if (affine) {
    const geometry = { stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups, winograd: conv.winograd };
    // A kernel never writes over the tensor it reads: a skip that is also this conv's input stays.
    const overwriteResidual = (options.skip?.overwritable ?? false) && residual!.storage !== x.storage;
    const epilogue = { residual, relu: options.relu, overwriteResidual };
    if (!needsGrad(x, conv.weight, conv.bias, affine.scale, affine.shift, residual)) {
      const { weight, bias } = folded(conv, affine);
      return conv2dEpilogue(x, weight, bias, geometry, epilogue);
    }
    return conv2dEpilogue(x, conv.weight, conv.bias, geometry, { ...affine, ...epilogue });
  }
  let y = bn.forward(conv.forward(x));
  if (residual) y = add(y, residual);
  return options.relu ? relu(y) : y;
}

/**
 * Conv2d then BatchNorm2d as one module (torchvision's `downsample` projection): children '0'
 * and '1' as in an nn.Sequential, so checkpoints keep their keys, run as one fused kernel.
 */
export class ConvNorm extends Sequential {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;

  constructor(conv: Conv2d, bn: BatchNorm2d) {
    super(conv, bn);
    this.conv = conv;
    this.bn = bn;
  }

  override forward(x: Tensor): Tensor {
    return convBnAct(this.conv, this.bn, x);
  }
}
