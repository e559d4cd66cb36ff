/**
 * Weight-standardized convolutions (timm `layers/std_conv.py`): "Micro-Batch Training with
 * Batch-Channel Normalization and Weight Standardization", Qiao et al. 2019. Each output
 * channel's kernel is normalized to zero mean and unit (biased) variance on every forward, so
 * the stored weight stays the trainable parameter and its checkpoint name stays `weight`.
 * Used with GroupNorm by BiT ResNetV2 and the R50+ViT hybrid.
 */
import { needsGrad } from '../../tensor/autograd.ts';
import { conv2d } from '../../tensor/ops/conv.ts';
import { layerNorm } from '../../tensor/ops/norm.ts';
import { reshape } from '../../tensor/ops/shape.ts';
import { spatialList, type SpatialArg } from '../../tensor/ops/spatial.ts';
import { DerivedValue } from '../../tensor/derived.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Conv2d } from './conv.ts';
import { isStaticSamePadding, padSame, symmetricPadding } from './padding.ts';
import type { FactoryOptions } from './common.ts';

/** Options of StdConv2d. */
export interface StdConv2dOptions extends FactoryOptions {
  stride?: SpatialArg;
  /** Per-side padding; timm's symmetric default ((stride − 1) + dilation·(k − 1)) / 2 when absent. */
  padding?: SpatialArg;
  dilation?: SpatialArg;
  groups?: number;
  /** Default false, as timm. */
  bias?: boolean;
  /** Added to the per-channel variance (timm's default 1e-6; the R50+ViT hybrid uses 1e-8). */
  eps?: number;
}

/** Options of StdConv2dSame (its padding is always TF 'SAME'). */
export type StdConv2dSameOptions = Omit<StdConv2dOptions, 'padding'>;

// Kernel, stride and dilation per spatial dim, checked (the padding is derived from them before Conv2d sees them).
function geometry(op: string, kernelSize: SpatialArg, options: StdConv2dSameOptions): { k: number[]; s: number[]; d: number[] } {
  return {
    k: spatialList(op, 'kernelSize', kernelSize, 2, 1),
    s: spatialList(op, 'stride', options.stride ?? 1, 2, 1),
    d: spatialList(op, 'dilation', options.dilation ?? 1, 2, 1),
  };
}

/**
 * weight [O, ...] normalized per output channel over all its other dims:
 * (w − mean) / sqrt(var + eps), biased variance (timm computes it with F.batch_norm in training mode).
 */
export function standardizeWeight(weight: Tensor, eps: number): Tensor {
  const out = weight.shape[0];
  const perChannel = weight.numel / out;
  return reshape(layerNorm(reshape(weight, [out, perChannel]), [perChannel], null, null, eps), weight.shape); // (O, C/g, kH, kW)
}

/**
 * The standardized kernel of a StdConv layer: recomputed while a gradient is recorded; at
 * inference kept while the weight's storage is unchanged (its write count), which also lets the
 * conv reuse its packed copy of that kernel instead of repacking a fresh tensor on every call.
 */
class StandardizedKernel {
  readonly #kernel = new DerivedValue<Tensor>();

  get(weight: Tensor, eps: number): Tensor {
    if (needsGrad(weight)) {
      this.#kernel.clear();
      return standardizeWeight(weight, eps);
    }
    return this.#kernel.get([weight], () => standardizeWeight(weight, eps));
  }
}

/** Conv2d whose kernel is weight-standardized on every forward (timm's StdConv2d); at inference, once per weight write. */
export class StdConv2d extends Conv2d {
  readonly eps: number;

  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: StdConv2dOptions = {}) {
    const { k, s, d } = geometry('StdConv2d', kernelSize, options);
    const padding = options.padding ?? [0, 1].map((i) => symmetricPadding(k[i], s[i], d[i]));
    super(inChannels, outChannels, kernelSize, { ...options, padding, bias: options.bias ?? false });
    this.eps = options.eps ?? 1e-6;
  }

  readonly #kernel = new StandardizedKernel();

  override forward(x: Tensor): Tensor {
    return this.batched(x, (xb) => conv2d(xb, this.#kernel.get(this.weight, this.eps), this.bias, {
      stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups,
    }));
  }
}

/**
 * StdConv2d with TF 'SAME' padding (timm's StdConv2dSame): static symmetric padding where
 * that is exact (stride 1, odd span), else padded per input size before the conv.
 */
export class StdConv2dSame extends Conv2d {
  readonly eps: number;
  /** Whether the padding depends on the input size (and is applied in forward). */
  readonly dynamicPadding: boolean;

  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: StdConv2dSameOptions = {}) {
    const { k, s, d } = geometry('StdConv2dSame', kernelSize, options);
    const isStatic = [0, 1].every((i) => isStaticSamePadding(k[i], s[i], d[i]));
    const padding = isStatic ? [0, 1].map((i) => symmetricPadding(k[i], s[i], d[i])) : 0;
    super(inChannels, outChannels, kernelSize, { ...options, padding, bias: options.bias ?? false });
    this.eps = options.eps ?? 1e-6;
    this.dynamicPadding = !isStatic;
  }

  readonly #kernel = new StandardizedKernel();

  override forward(x: Tensor): Tensor {
    return this.batched(x, (xb) => {
      const padded = this.dynamicPadding ? padSame(xb, this.kernelSize, this.stride, this.dilation) : xb;
      return conv2d(padded, this.#kernel.get(this.weight, this.eps), this.bias, {
        stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups,
      });
    });
  }
}
