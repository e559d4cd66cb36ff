/**
 * Multi-head self-attention with a fused qkv projection (timm `layers/attention.py` Attention):
 * parameters qkv.{weight,bias} [3·D, D] (rows: q, then k, then v; head h owns rows h·d..(h+1)·d−1
 * within each) and proj.{weight,bias} [D, D].
 */
import { ArgumentError, formatShape, ShapeError } from '../../errors.ts';
import { scaledDotProductAttention } from '../../tensor/ops/attention.ts';
import { add } from '../../tensor/ops/elementwise.ts';
import { linearEpilogue } from '../../tensor/ops/linalg.ts';
import { permute, reshape, select, transpose } from '../../tensor/ops/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';
import { checkInt, checkProbability, type FactoryOptions } from '../layers/common.ts';
import { Dropout } from '../layers/dropout.ts';
import { Linear } from '../layers/linear.ts';

/** Options of Attention. */
export interface AttentionOptions extends FactoryOptions {
  /** Bias on the qkv projection (default false, as timm's layer; ViTs pass true). */
  qkvBias?: boolean;
  /** Bias on the output projection (default true). */
  projBias?: boolean;
  /** Dropout on the attention weights, in training (default 0). */
  attnDrop?: number;
  /** Dropout after the output projection, in training (default 0). */
  projDrop?: number;
}

/** softmax(q·kᵀ/√d)·v over numHeads heads of x [B, N, D], then proj. */
export class Attention extends Module {
  readonly numHeads: number;
  readonly headDim: number;
  readonly attnDrop: number;
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly projDrop: Dropout;

  constructor(dim: number, numHeads: number, options: AttentionOptions = {}) {
    super();
    checkInt('Attention', 'dim', dim, 1);
    checkInt('Attention', 'numHeads', numHeads, 1);
    if (dim % numHeads !== 0) throw new ArgumentError(`Attention: dim ${dim} must be divisible by numHeads ${numHeads}`);
    this.attnDrop = options.attnDrop ?? 0;
    checkProbability('Attention', this.attnDrop);
    this.numHeads = numHeads;
    this.headDim = dim / numHeads;
    const factory = { dtype: options.dtype, generator: options.generator };
    this.qkv = this.module('qkv', new Linear(dim, 3 * dim, { ...factory, bias: options.qkvBias ?? false }));
    this.proj = this.module('proj', new Linear(dim, dim, { ...factory, bias: options.projBias ?? true }));
    this.projDrop = this.module('proj_drop', new Dropout(options.projDrop ?? 0));
  }

  /**
   * x [B, N, D] → [B, N, D]; attnMask (bool: true = may attend, or additive float) broadcasts to
   * [B, H, N, N]; `residual` (a block's skip connection) is added to the output.
   */
  override forward(x: Tensor, attnMask: Tensor | null = null, residual: Tensor | null = null): Tensor {
    if (x.ndim !== 3) throw new ShapeError(`Attention: expected tokens [B, N, D], got shape ${formatShape(x.shape)}`);
    const [B, N, D] = x.shape;
    const qkv = permute(reshape(this.qkv.forward(x), [B, N, 3, this.numHeads, this.headDim]), [2, 0, 3, 1, 4]); // (3, B, H, N, d)
    const out = scaledDotProductAttention(select(qkv, 0, 0), select(qkv, 0, 1), select(qkv, 0, 2), {
      attnMask,
      dropoutP: this.training ? this.attnDrop : 0,
    }); // (B, H, N, d)
    const merged = reshape(transpose(out, 1, 2), [B, N, D]);
    if (residual && this.projDrop.isIdentity) return linearEpilogue(merged, this.proj.weight, this.proj.bias, { residual }); // add inside proj's kernel
    const y = this.projDrop.forward(this.proj.forward(merged)); // (B, N, D)
    return residual ? add(residual, y) : y;
  }
}
