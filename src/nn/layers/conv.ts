/**
 * Convolutions (torch.nn.Conv1d/2d/3d, ConvTranspose1d/2d/3d): parameter layout, default
 * init and options as torch; the compute is the functional ops of src/tensor/ops/conv.ts.
 * Inputs may be batched [N, C, ...] or unbatched [C, ...].
 */
import { ArgumentError, formatShape, ShapeError } from '../../errors.ts';
import { empty } from '../../tensor/creation.ts';
import {
  conv1d, conv2d, conv3d, convTranspose1d, convTranspose2d, convTranspose3d,
  type ConvOptions, type ConvTransposeOptions, type ConvWinograd, type SpatialArg,
} from '../../tensor/ops/conv.ts';
import { pad, squeeze, unsqueeze } from '../../tensor/ops/shape.ts';
import type { Generator } from '../../tensor/random.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { kaimingUniform_ } from '../init.ts';
import { Module } from '../module.ts';
import type { Parameter } from '../parameter.ts';
import { checkInt, paramDtype, type FactoryOptions } from './common.ts';
import { initBiasFromWeight } from './linear.ts';

/** How a convolution pads its input: zeros (in the kernel), or reflect / replicate / circular (by F.pad first). */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

/** Options of Conv1d/2d/3d. */
export interface ConvNdOptions extends FactoryOptions {
  stride?: SpatialArg;
  /** Per-side padding, or 'valid' (none) / 'same' (output size = input size; stride 1 only). */
  padding?: SpatialArg | 'valid' | 'same';
  dilation?: SpatialArg;
  groups?: number;
  bias?: boolean;
  paddingMode?: PaddingMode;
}

/** Options of ConvTranspose1d/2d/3d. */
export interface ConvTransposeNdOptions extends FactoryOptions {
  stride?: SpatialArg;
  padding?: SpatialArg;
  outputPadding?: SpatialArg;
  dilation?: SpatialArg;
  groups?: number;
  bias?: boolean;
}

const tupleRepr = (v: readonly number[]) => (v.length === 1 ? `(${v[0]},)` : `(${v.join(', ')})`);

function spatial(op: string, what: string, value: SpatialArg, n: number, min: number): number[] {
  const list = typeof value === 'number' ? new Array<number>(n).fill(value) : [...value];
  if (list.length !== n) throw new ArgumentError(`${op}: ${what} must be one number or ${n} numbers, got [${list.join(', ')}]`);
  for (const v of list) checkInt(op, what, v, min);
  return list;
}

type ConvFn<O> = (x: Tensor, weight: Tensor, bias: Tensor | null, options: O) => Tensor;

/** What the plain and transposed convolutions share: channels, kernel, parameters, init. */
abstract class ConvBase extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly dilation: number[];
  readonly groups: number;
  weight: Parameter;
  bias: Parameter | null;
  protected readonly layerName: string;
  protected readonly spatialDims: number;

  protected constructor(
    name: string, n: number, inChannels: number, outChannels: number, kernelSize: SpatialArg, transposed: boolean,
    options: { stride?: SpatialArg; dilation?: SpatialArg; groups?: number; bias?: boolean } & FactoryOptions,
  ) {
    super();
    this.layerName = name;
    this.spatialDims = n;
    checkInt(name, 'inChannels', inChannels, 1);
    checkInt(name, 'outChannels', outChannels, 1);
    const groups = options.groups ?? 1;
    checkInt(name, 'groups', groups, 1);
    if (inChannels % groups !== 0) throw new ArgumentError(`${name}: inChannels ${inChannels} must be divisible by groups ${groups}`);
    if (outChannels % groups !== 0) throw new ArgumentError(`${name}: outChannels ${outChannels} must be divisible by groups ${groups}`);
    const dtype = paramDtype(name, options);
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.groups = groups;
    this.kernelSize = spatial(name, 'kernelSize', kernelSize, n, 1);
    this.stride = spatial(name, 'stride', options.stride ?? 1, n, 1);
    this.dilation = spatial(name, 'dilation', options.dilation ?? 1, n, 1);
    // torch's layouts: [out, in/groups, ...k] for conv, [in, out/groups, ...k] for transposed conv.
    const wshape = transposed ? [inChannels, outChannels / groups, ...this.kernelSize] : [outChannels, inChannels / groups, ...this.kernelSize];
    this.weight = this.param('weight', empty(wshape, { dtype }));
    this.bias = (options.bias ?? true) ? this.param('bias', empty([outChannels], { dtype })) : null;
    this.resetParameters(options.generator);
  }

  /** torch's default init: kaiming_uniform(a=√5) weight, U(±1/√fanIn) bias. */
  resetParameters(generator?: Generator): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5), generator });
    if (this.bias) initBiasFromWeight(this.bias, this.weight, generator);
  }

  // Runs fn on a batched view of x: unbatched [C, ...] input gets a batch dim of 1 and loses it after.
  protected batched(x: Tensor, fn: (xb: Tensor) => Tensor): Tensor {
    const n = this.spatialDims;
    if (x.ndim !== n + 1 && x.ndim !== n + 2) {
      throw new ShapeError(`${this.layerName}: expected input of rank ${n + 1} (unbatched) or ${n + 2} (batched), got shape ${formatShape(x.shape)}`);
    }
    return x.ndim === n + 1 ? squeeze(fn(unsqueeze(x, 0)), 0) : fn(x);
  }

  protected reprCommon(): string[] {
    return [`${this.inChannels}, ${this.outChannels}, kernel_size=${tupleRepr(this.kernelSize)}, stride=${tupleRepr(this.stride)}`];
  }
}

/** Convolution over n spatial dims; Conv1d/2d/3d fix n and the functional op. */
export abstract class ConvNd extends ConvBase {
  readonly padding: number[] | 'valid' | 'same';
  readonly paddingMode: PaddingMode;
  /** This conv's Winograd choice at inference instead of the process's (configure's convWinograd); null: the process's. */
  winograd: ConvWinograd | null = null;
  readonly #conv: ConvFn<ConvOptions>;

  protected constructor(name: string, n: number, conv: ConvFn<ConvOptions>, inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvNdOptions) {
    super(name, n, inChannels, outChannels, kernelSize, false, options);
    this.#conv = conv;
    const padding = options.padding ?? 0;
    if (padding === 'same' || padding === 'valid') {
      if (padding === 'same' && this.stride.some((s) => s !== 1)) throw new ArgumentError(`${name}: padding='same' is not supported for strided convolutions (stride ${tupleRepr(this.stride)})`);
      this.padding = padding;
    } else if (typeof padding === 'string') {
      throw new ArgumentError(`${name}: padding must be a number, numbers, 'valid' or 'same', got '${padding}'`);
    } else {
      this.padding = spatial(name, 'padding', padding, n, 0);
    }
    const mode = options.paddingMode ?? 'zeros';
    if (!['zeros', 'reflect', 'replicate', 'circular'].includes(mode)) {
      throw new ArgumentError(`${name}: paddingMode must be 'zeros', 'reflect', 'replicate' or 'circular', got '${String(mode)}'`);
    }
    this.paddingMode = mode;
  }

  // F.pad amounts for a non-zeros padding mode: (before, after) pairs from the last dim back.
  #padAmounts(): number[] {
    const out: number[] = [];
    for (let d = this.spatialDims - 1; d >= 0; --d) {
      if (this.padding === 'valid') out.push(0, 0);
      else if (this.padding === 'same') {
        const total = this.dilation[d] * (this.kernelSize[d] - 1);
        const before = Math.floor(total / 2);
        out.push(before, total - before);
      } else out.push(this.padding[d], this.padding[d]);
    }
    return out;
  }

  override forward(x: Tensor): Tensor {
    return this.batched(x, (xb) => {
      const opts = { stride: this.stride, dilation: this.dilation, groups: this.groups, winograd: this.winograd };
      if (this.paddingMode === 'zeros') return this.#conv(xb, this.weight, this.bias, { ...opts, padding: this.padding });
      return this.#conv(pad(xb, this.#padAmounts(), this.paddingMode), this.weight, this.bias, { ...opts, padding: 0 });
    });
  }

  override extraRepr(): string {
    const parts = this.reprCommon();
    if (typeof this.padding === 'string') parts.push(`padding=${this.padding}`);
    else if (this.padding.some((p) => p !== 0)) parts.push(`padding=${tupleRepr(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${tupleRepr(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=False');
    if (this.paddingMode !== 'zeros') parts.push(`padding_mode=${this.paddingMode}`);
    return parts.join(', ');
  }
}

/** Transposed convolution over n spatial dims; ConvTranspose1d/2d/3d fix n and the functional op. */
export abstract class ConvTransposeNd extends ConvBase {
  readonly padding: number[];
  readonly outputPadding: number[];
  readonly #conv: ConvFn<ConvTransposeOptions>;

  protected constructor(name: string, n: number, conv: ConvFn<ConvTransposeOptions>, inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvTransposeNdOptions) {
    super(name, n, inChannels, outChannels, kernelSize, true, options);
    this.#conv = conv;
    this.padding = spatial(name, 'padding', options.padding ?? 0, n, 0);
    this.outputPadding = spatial(name, 'outputPadding', options.outputPadding ?? 0, n, 0);
    this.outputPadding.forEach((p, d) => {
      if (p >= Math.max(this.stride[d], this.dilation[d])) {
        throw new ArgumentError(`${name}: outputPadding ${p} must be smaller than stride ${this.stride[d]} or dilation ${this.dilation[d]}`);
      }
    });
  }

  // torch's _output_padding: the output padding that yields outputSize (spatial dims, or all dims).
  #outputPaddingFor(x: Tensor, outputSize: readonly number[]): number[] {
    const n = this.spatialDims;
    const sizes = outputSize.length === n ? outputSize : outputSize.length === x.ndim ? outputSize.slice(x.ndim - n) : null;
    if (!sizes) throw new ArgumentError(`${this.layerName}: outputSize must have ${n} or ${x.ndim} entries, got [${outputSize.join(', ')}]`);
    return sizes.map((size, d) => {
      const minSize = (x.shape[x.ndim - n + d] - 1) * this.stride[d] - 2 * this.padding[d] + this.dilation[d] * (this.kernelSize[d] - 1) + 1;
      const maxSize = minSize + this.stride[d] - 1;
      if (!(size >= minSize && size <= maxSize)) {
        throw new ArgumentError(`${this.layerName}: requested an output size of [${sizes.join(', ')}], but valid sizes for dim ${d} range from ${minSize} to ${maxSize} (for an input of ${formatShape(x.shape)})`);
      }
      return size - minSize;
    });
  }

  /** Runs the layer; `outputSize` picks among the output sizes a strided transposed conv can give. */
  override forward(x: Tensor, outputSize?: readonly number[]): Tensor {
    const outputPadding = outputSize ? this.#outputPaddingFor(x, outputSize) : this.outputPadding;
    return this.batched(x, (xb) => this.#conv(xb, this.weight, this.bias, {
      stride: this.stride, padding: this.padding, outputPadding, dilation: this.dilation, groups: this.groups,
    }));
  }

  override extraRepr(): string {
    const parts = this.reprCommon();
    if (this.padding.some((p) => p !== 0)) parts.push(`padding=${tupleRepr(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${tupleRepr(this.dilation)}`);
    if (this.outputPadding.some((p) => p !== 0)) parts.push(`output_padding=${tupleRepr(this.outputPadding)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=False');
    return parts.join(', ');
  }
}

/** 1-D convolution: input [N, C, L]; weight [out, in/groups, k]. */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvNdOptions = {}) {
    super('Conv1d', 1, conv1d, inChannels, outChannels, kernelSize, options);
  }
}

/** 2-D convolution: input [N, C, H, W]; weight [out, in/groups, kH, kW]. */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvNdOptions = {}) {
    super('Conv2d', 2, conv2d, inChannels, outChannels, kernelSize, options);
  }
}

/** 3-D convolution: input [N, C, D, H, W]; weight [out, in/groups, kD, kH, kW]. */
export class Conv3d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvNdOptions = {}) {
    super('Conv3d', 3, conv3d, inChannels, outChannels, kernelSize, options);
  }
}

/** 1-D transposed convolution: weight [in, out/groups, k]. */
export class ConvTranspose1d extends ConvTransposeNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvTransposeNdOptions = {}) {
    super('ConvTranspose1d', 1, convTranspose1d, inChannels, outChannels, kernelSize, options);
  }
}

/** 2-D transposed convolution: weight [in, out/groups, kH, kW]. */
export class ConvTranspose2d extends ConvTransposeNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvTransposeNdOptions = {}) {
    super('ConvTranspose2d', 2, convTranspose2d, inChannels, outChannels, kernelSize, options);
  }
}

/** 3-D transposed convolution: weight [in, out/groups, kD, kH, kW]. */
export class ConvTranspose3d extends ConvTransposeNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvTransposeNdOptions = {}) {
    super('ConvTranspose3d', 3, convTranspose3d, inChannels, outChannels, kernelSize, options);
  }
}
