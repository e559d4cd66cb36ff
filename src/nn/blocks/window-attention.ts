/**
 * Window self-attention with a learned relative position bias (Swin v1; timm
 * `models/swin_transformer.py` WindowAttention, torchvision ShiftedWindowAttention, timm's
 * names): multi-head attention inside each window of a grid already cut into windows
 * (src/nn/blocks/window.ts), the table's bias and a shifted layout's mask added to the logits as
 * one additive mask of the fused attention op. At inference each module keeps that mask
 * ([nW, heads, N, N] for a shifted layout) until its table or layout changes.
 */
import { ArgumentError } from '../../errors.ts';
import { needsGrad } from '../../tensor/autograd.ts';
import { empty } from '../../tensor/creation.ts';
import { DerivedValue } from '../../tensor/derived.ts';
import { scaledDotProductAttention } from '../../tensor/ops/attention.ts';
import { add, cast } from '../../tensor/ops/elementwise.ts';
import { linearEpilogue } from '../../tensor/ops/linalg.ts';
import { permute, reshape, select, transpose, unsqueeze } from '../../tensor/ops/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { checkInt } from '../layers/common.ts';
import { Dropout } from '../layers/dropout.ts';
import { Linear } from '../layers/linear.ts';
import { Module } from '../module.ts';
import type { Parameter } from '../parameter.ts';
import { relativePositionBias, relativePositionTableSize } from './relative-position.ts';

/** Options of WindowAttention. */
export interface WindowAttentionOptions {
  /** Bias on the qkv projection (default true). */
  qkvBias?: boolean;
  /** Dropout on the attention weights, in training (default 0). */
  attnDrop?: number;
  /** Dropout after the output projection, in training (default 0). */
  projDrop?: number;
}

/** Window self-attention with a learned relative position bias (timm WindowAttention, same names). */
export class WindowAttention extends Module {
  readonly numHeads: number;
  readonly headDim: number;
  readonly windowSize: [number, number];
  readonly attnDrop: number;
  readonly relativePositionBiasTable: Parameter;
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly projDrop: Dropout;
  readonly #mask = new DerivedValue<Tensor>();

  constructor(dim: number, numHeads: number, windowSize: [number, number], options: WindowAttentionOptions = {}) {
    super();
    checkInt('WindowAttention', 'numHeads', numHeads, 1);
    if (dim % numHeads !== 0) throw new ArgumentError(`WindowAttention: dim ${dim} must be divisible by numHeads ${numHeads}`);
    this.numHeads = numHeads;
    this.headDim = dim / numHeads;
    this.windowSize = windowSize;
    this.attnDrop = options.attnDrop ?? 0;
    this.relativePositionBiasTable = this.param('relative_position_bias_table', empty([relativePositionTableSize(windowSize), numHeads]));
    this.qkv = this.module('qkv', new Linear(dim, 3 * dim, { bias: options.qkvBias ?? true }));
    this.proj = this.module('proj', new Linear(dim, dim));
    this.projDrop = this.module('proj_drop', new Dropout(options.projDrop ?? 0));
  }

  /**
   * The additive mask of the attention logits, in the table's dtype: the table's bias [heads, N, N],
   * plus a shifted layout's mask [nW, N, N] broadcast over the heads ([nW, heads, N, N]). At
   * inference it is kept until the table or the layout changes.
   */
  attentionMask(shiftMask: Tensor | null = null): Tensor {
    const table = this.relativePositionBiasTable;
    const build = () => {
      const bias = relativePositionBias(table, this.windowSize); // (H, N, N)
      return shiftMask ? cast(add(bias, unsqueeze(shiftMask, 1)), table.dtype) : bias; // (nW, H, N, N) or (H, N, N)
    };
    return needsGrad(table) ? build() : this.#mask.get([table, shiftMask], build);
  }

  /**
   * Windows [B, nW, N, C] → [B, nW, N, C]; shiftMask [nW, N, N] (0 / −100) keeps a shifted window's
   * regions apart; `residual` (a block's skip connection, in the same window order) is added to the output.
   */
  override forward(x: Tensor, shiftMask: Tensor | null = null, residual: Tensor | null = null): Tensor {
    const [B, nW, N, C] = x.shape;
    const qkv = permute(reshape(this.qkv.forward(x), [B, nW, N, 3, this.numHeads, this.headDim]), [3, 0, 1, 4, 2, 5]); // (3, B, nW, H, N, d)
    const out = scaledDotProductAttention(select(qkv, 0, 0), select(qkv, 0, 1), select(qkv, 0, 2), {
      attnMask: this.attentionMask(shiftMask), dropoutP: this.training ? this.attnDrop : 0,
    }); // (B, nW, H, N, d)
    const merged = reshape(transpose(out, 2, 3), [B, nW, N, C]); // (B, nW, N, C)
    if (residual && this.projDrop.isIdentity) return linearEpilogue(merged, this.proj.weight, this.proj.bias, { residual }); // add inside proj's kernel
    const y = this.projDrop.forward(this.proj.forward(merged));
    return residual ? add(residual, y) : y;
  }
}
