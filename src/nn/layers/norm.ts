/**
 * Normalization layers (torch.nn.BatchNorm1d/2d/3d, LayerNorm, GroupNorm): parameters,
 * buffers and their names as torch; compute by src/tensor/ops/norm.ts.
 */
import { ArgumentError, formatShape, ShapeError } from '../../errors.ts';
import { ones, scalarTensor, zeros } from '../../tensor/creation.ts';
import { add, cast, mul } from '../../tensor/ops/elementwise.ts';
import { neg, rsqrt } from '../../tensor/ops/unary.ts';
import { needsGrad } from '../../tensor/autograd.ts';
import { batchNorm, groupNorm, layerNorm } from '../../tensor/ops/norm.ts';
import { DerivedValue } from '../../tensor/derived.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { ones_, zeros_ } from '../init.ts';
import { Module } from '../module.ts';
import type { Parameter } from '../parameter.ts';
import { checkInt, paramDtype, type FactoryOptions } from './common.ts';

/** Options of BatchNorm1d/2d/3d. */
export interface BatchNormNdOptions extends FactoryOptions {
  eps?: number;
  /** Weight of the new batch statistic in the running ones (default 0.1); null for a cumulative average. */
  momentum?: number | null;
  /** Learn a per-channel scale and shift (default true). */
  affine?: boolean;
  /** Keep running statistics for eval (default true); without them batch statistics are used always. */
  trackRunningStats?: boolean;
}

function checkEps(op: string, eps: number): void {
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new ArgumentError(`${op}: eps must be a finite number >= 0, got ${eps}`);
}

/**
 * Batch normalization over the channel dim 1. Parameters weight, bias [C]; buffers
 * running_mean, running_var [C] and num_batches_tracked (int64 scalar). In training it uses
 * batch statistics and updates the running ones; in eval it uses the running ones.
 */
export abstract class BatchNormNd extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  numBatchesTracked: Tensor | null;
  readonly #name: string;
  readonly #ranks: readonly number[];

  protected constructor(name: string, ranks: readonly number[], numFeatures: number, options: BatchNormNdOptions) {
    super();
    checkInt(name, 'numFeatures', numFeatures, 1);
    const eps = options.eps ?? 1e-5;
    checkEps(name, eps);
    const momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (momentum !== null && !(momentum >= 0 && momentum <= 1)) throw new ArgumentError(`${name}: momentum must be in [0, 1] or null, got ${momentum}`);
    const dtype = paramDtype(name, options);
    this.#name = name;
    this.#ranks = ranks;
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    this.weight = this.affine ? this.param('weight', ones([numFeatures], { dtype })) : null;
    this.bias = this.affine ? this.param('bias', zeros([numFeatures], { dtype })) : null;
    if (this.trackRunningStats) {
      this.runningMean = this.buffer('running_mean', zeros([numFeatures], { dtype }));
      this.runningVar = this.buffer('running_var', ones([numFeatures], { dtype }));
      this.numBatchesTracked = this.buffer('num_batches_tracked', scalarTensor(0, 'int64'));
    } else {
      this.runningMean = this.runningVar = this.numBatchesTracked = null;
    }
  }

  /** Running mean 0, running var 1, no batches seen. */
  resetRunningStats(): void {
    if (this.runningMean) zeros_(this.runningMean);
    if (this.runningVar) ones_(this.runningVar);
    this.numBatchesTracked?.zero_();
  }

  /** Running stats reset, weight 1, bias 0. */
  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  // Checkpoints saved without a version (safetensors among them) may lack num_batches_tracked; torch loads 0 then.
  protected override missingStateDefault(name: string): Tensor | null {
    return name === 'num_batches_tracked' ? scalarTensor(0, 'int64') : null;
  }

  override forward(x: Tensor): Tensor {
    if (!this.#ranks.includes(x.ndim)) {
      throw new ShapeError(`${this.#name}: expected input of rank ${this.#ranks.join(' or ')}, got shape ${formatShape(x.shape)}`);
    }
    let factor = this.momentum ?? 0;
    if (this.training && this.numBatchesTracked) {
      this.numBatchesTracked.copy_(add(this.numBatchesTracked, 1));
      if (this.momentum === null) factor = 1 / this.numBatchesTracked.item();
    }
    // Without running stats, batch statistics are used in eval too (torch's bn_training).
    const useBatchStats = this.training || (!this.runningMean && !this.runningVar);
    const updateStats = !this.training || this.trackRunningStats;
    return batchNorm(x, updateStats ? this.runningMean : null, updateStats ? this.runningVar : null, this.weight, this.bias, {
      training: useBatchStats, momentum: factor, eps: this.eps,
    });
  }

  /**
   * The per-channel affine y = x·scale + shift this norm applies in eval mode (f32, recorded by
   * autograd), for folding into a preceding conv; null when it normalizes with batch statistics.
   */
  evalAffine(): { scale: Tensor; shift: Tensor } | null {
    if (this.training || !this.runningMean || !this.runningVar) return null;
    // Without a gradient to record, the pair is reused until one of the four tensors is written.
    if (needsGrad(this.weight, this.bias)) return this.#computeAffine();
    return this.#affine.get([this.weight, this.bias, this.runningMean, this.runningVar], () => this.#computeAffine());
  }

  #computeAffine(): { scale: Tensor; shift: Tensor } {
    let scale = rsqrt(add(cast(this.runningVar!, 'float32'), this.eps));
    if (this.weight) scale = mul(scale, this.weight);
    let shift = neg(mul(cast(this.runningMean!, 'float32'), scale));
    if (this.bias) shift = add(shift, this.bias);
    return { scale, shift };
  }

  readonly #affine = new DerivedValue<{ scale: Tensor; shift: Tensor }>();

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum ?? 'None'}, affine=${this.affine ? 'True' : 'False'}, track_running_stats=${this.trackRunningStats ? 'True' : 'False'}`;
  }
}

/** BatchNorm over [N, C] or [N, C, L]. */
export class BatchNorm1d extends BatchNormNd {
  constructor(numFeatures: number, options: BatchNormNdOptions = {}) {
    super('BatchNorm1d', [2, 3], numFeatures, options);
  }
}

/** BatchNorm over [N, C, H, W]. */
export class BatchNorm2d extends BatchNormNd {
  constructor(numFeatures: number, options: BatchNormNdOptions = {}) {
    super('BatchNorm2d', [4], numFeatures, options);
  }
}

/** BatchNorm over [N, C, D, H, W]. */
export class BatchNorm3d extends BatchNormNd {
  constructor(numFeatures: number, options: BatchNormNdOptions = {}) {
    super('BatchNorm3d', [5], numFeatures, options);
  }
}

/** Options of LayerNorm. */
export interface LayerNormOptions extends FactoryOptions {
  eps?: number;
  /** Learn weight (and bias) of normalizedShape (default true). */
  elementwiseAffine?: boolean;
  /** Learn the bias too when affine (default true). */
  bias?: boolean;
}

/** Normalizes over the trailing normalizedShape dims. Parameters weight, bias of normalizedShape. */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    for (const d of this.normalizedShape) checkInt('LayerNorm', 'normalizedShape entry', d, 1);
    this.eps = options.eps ?? 1e-5;
    checkEps('LayerNorm', this.eps);
    const dtype = paramDtype('LayerNorm', options);
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    this.weight = this.elementwiseAffine ? this.param('weight', ones(this.normalizedShape, { dtype })) : null;
    this.bias = this.elementwiseAffine && (options.bias ?? true) ? this.param('bias', zeros(this.normalizedShape, { dtype })) : null;
  }

  /** Weight 1, bias 0. */
  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  override forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    const shape = this.normalizedShape.length === 1 ? `(${this.normalizedShape[0]},)` : `(${this.normalizedShape.join(', ')})`;
    return `${shape}, eps=${this.eps}, elementwise_affine=${this.elementwiseAffine ? 'True' : 'False'}`;
  }
}

/** Options of GroupNorm. */
export interface GroupNormOptions extends FactoryOptions {
  eps?: number;
  /** Learn a per-channel weight and bias (default true). */
  affine?: boolean;
}

/** Normalizes [N, C, ...] per sample over groups of C/numGroups channels. Parameters weight, bias [C]. */
export class GroupNorm extends Module {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly affine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(numGroups: number, numChannels: number, options: GroupNormOptions = {}) {
    super();
    checkInt('GroupNorm', 'numGroups', numGroups, 1);
    checkInt('GroupNorm', 'numChannels', numChannels, 1);
    if (numChannels % numGroups !== 0) throw new ArgumentError(`GroupNorm: numChannels ${numChannels} must be divisible by numGroups ${numGroups}`);
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = options.eps ?? 1e-5;
    checkEps('GroupNorm', this.eps);
    const dtype = paramDtype('GroupNorm', options);
    this.affine = options.affine ?? true;
    this.weight = this.affine ? this.param('weight', ones([numChannels], { dtype })) : null;
    this.bias = this.affine ? this.param('bias', zeros([numChannels], { dtype })) : null;
  }

  /** Weight 1, bias 0. */
  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  override forward(x: Tensor): Tensor {
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.affine ? 'True' : 'False'}`;
  }
}
