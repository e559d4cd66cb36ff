/**
 * Conv2d → activation → BatchNorm2d, the unit of ConvMixer (and XCiT's local patch interaction):
 * the norm comes after the activation, so unlike convBnAct it cannot fold into the convolution.
 * What still fuses: a ReLU runs inside the convolution's kernel (its epilogue), exact either way.
 */
import { add } from '../../tensor/ops/elementwise.ts';
import { conv2dEpilogue } from '../../tensor/ops/conv.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';
import { ReLU } from '../layers/activation.ts';
import type { UnaryModule } from '../layers/containers.ts';
import type { Conv2d } from '../layers/conv.ts';
import type { BatchNorm2d } from '../layers/norm.ts';

/** bn(act(conv(x))) (+ residual); a ReLU runs in the conv's kernel. */
export function convActNorm(conv: Conv2d, act: UnaryModule, bn: BatchNorm2d, x: Tensor, residual: Tensor | null = null): Tensor {
  const y = act instanceof ReLU && conv.paddingMode === 'zeros'
    ? conv2dEpilogue(x, conv.weight, conv.bias, { stride: conv.stride, padding: conv.padding, dilation: conv.dilation, groups: conv.groups, winograd: conv.winograd }, { relu: true })
    : act.forward(conv.forward(x));
  const z = bn.forward(y);
  return residual ? add(z, residual) : z;
}

/** Conv → act → BatchNorm as one module with torch's nn.Sequential names '0', '1', '2' (timm's ConvMixer keys). */
export class ConvActNorm extends Module {
  readonly conv: Conv2d;
  readonly act: UnaryModule;
  readonly bn: BatchNorm2d;

  constructor(conv: Conv2d, act: UnaryModule, bn: BatchNorm2d) {
    super();
    this.conv = this.module('0', conv);
    this.act = this.module('1', act);
    this.bn = this.module('2', bn);
  }

  /** bn(act(conv(x))), plus `residual` when given. */
  override forward(x: Tensor, residual: Tensor | null = null): Tensor {
    return convActNorm(this.conv, this.act, this.bn, x, residual);
  }
}
