/**
 * Cross-covariance attention (XCiT, timm `models/xcit.py` XCA, same names): attention between
 * the channels of each head instead of between tokens. Each channel's vector over the N tokens
 * of q and k is L2-normalised (F.normalize, eps 1e-12), the d×d matrix q̂ᵀk̂ is scaled by a
 * learned per-head `temperature` [heads, 1, 1] (no 1/√d) and softmaxed, and it mixes the
 * channels of v. Cost is linear in N. Parameters: temperature, qkv.{weight,bias} [3·D, D] (rows
 * q, k, v; head h owns rows h·d..(h+1)·d−1 of each), proj.{weight,bias} [D, D].
 */
import { ArgumentError, formatShape, ShapeError } from '../../errors.ts';
import { ones } from '../../tensor/creation.ts';
import { softmax } from '../../tensor/ops/activation.ts';
import { mul } from '../../tensor/ops/elementwise.ts';
import { matmul } from '../../tensor/ops/linalg.ts';
import { sum } from '../../tensor/ops/reduce.ts';
import { permute, reshape, select, transpose, unsqueeze } from '../../tensor/ops/shape.ts';
import { clamp, rsqrt } from '../../tensor/ops/unary.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';
import type { Parameter } from '../parameter.ts';
import { checkInt, checkProbability, paramDtype, type FactoryOptions } from '../layers/common.ts';
import { Dropout } from '../layers/dropout.ts';
import { Linear } from '../layers/linear.ts';

/** Options of XCA. */
export interface XcaOptions extends FactoryOptions {
  /** Bias on the qkv projection (default false, as timm's layer; XCiT passes true). */
  qkvBias?: boolean;
  /** Dropout on the attention weights, in training (default 0). */
  attnDrop?: number;
  /** Dropout after the output projection, in training (default 0). */
  projDrop?: number;
}

/** F.normalize's eps: a channel's norm is clamped to at least this before dividing by it. */
export const XCA_NORM_EPS = 1e-12;

/** softmax(temperature · q̂ᵀk̂) mixing the channels of v, per head, over tokens [B, N, D]; then proj. */
export class XCA extends Module {
  readonly numHeads: number;
  readonly headDim: number;
  readonly temperature: Parameter;
  readonly qkv: Linear;
  readonly attnDrop: Dropout;
  readonly proj: Linear;
  readonly projDrop: Dropout;

  constructor(dim: number, numHeads: number, options: XcaOptions = {}) {
    super();
    checkInt('XCA', 'dim', dim, 1);
    checkInt('XCA', 'numHeads', numHeads, 1);
    if (dim % numHeads !== 0) throw new ArgumentError(`XCA: dim ${dim} must be divisible by numHeads ${numHeads}`);
    checkProbability('XCA', options.attnDrop ?? 0);
    this.numHeads = numHeads;
    this.headDim = dim / numHeads;
    const factory = { dtype: options.dtype, generator: options.generator };
    this.temperature = this.param('temperature', ones([numHeads, 1, 1], { dtype: paramDtype('XCA', options) }));
    this.qkv = this.module('qkv', new Linear(dim, 3 * dim, { ...factory, bias: options.qkvBias ?? false }));
    this.attnDrop = this.module('attn_drop', new Dropout(options.attnDrop ?? 0));
    this.proj = this.module('proj', new Linear(dim, dim, factory));
    this.projDrop = this.module('proj_drop', new Dropout(options.projDrop ?? 0));
  }

  /** The per-head channel attention [B, H, d, d] of tokens [B, N, D] and the values [B, H, N, d] it mixes. */
  attention(x: Tensor): { attn: Tensor; v: Tensor } {
    if (x.ndim !== 3) throw new ShapeError(`XCA: expected tokens [B, N, D], got shape ${formatShape(x.shape)}`);
    const [B, N] = x.shape;
    const qkv = reshape(this.qkv.forward(x), [B, N, 3, this.numHeads, this.headDim]); // (B, N, 3, H, d)
    const [q, k, v] = [0, 1, 2].map((i) => permute(select(qkv, 2, i), [0, 2, 1, 3])); // (B, H, N, d) each
    // 1/max(‖·‖, eps) of every channel over the tokens as rsqrt(max(‖·‖², eps²)), F.normalize's value and gradient
    // mask; one pass over the contiguous projection (v's norms come along unused) beats two over strided q and k.
    const inv = rsqrt(clamp(sum(mul(qkv, qkv), 1), XCA_NORM_EPS * XCA_NORM_EPS)); // (B, 3, H, d)
    const invQ = unsqueeze(select(inv, 1, 0), 3); // (B, H, d, 1)
    const invK = unsqueeze(select(inv, 1, 1), 2); // (B, H, 1, d)
    // q̂ᵀk̂ = (qᵀk) ⊙ (1/‖q_i‖ · 1/‖k_j‖): normalising the d×d product instead of q and k saves two more passes.
    const attn = softmax(mul(matmul(transpose(q, 2, 3), k), mul(mul(invQ, invK), this.temperature)), -1); // (B, H, d, d)
    return { attn: this.attnDrop.forward(attn), v };
  }

  /** tokens [B, N, D] → [B, N, D]. */
  override forward(x: Tensor): Tensor {
    const [B, N, D] = x.shape;
    const { attn, v } = this.attention(x);
    const out = matmul(v, transpose(attn, 2, 3)); // (B, H, N, d): token n, channel i = Σ_j attn[i, j]·v[n, j]
    const merged = reshape(permute(out, [0, 2, 1, 3]), [B, N, D]); // (B, N, D)
    return this.projDrop.forward(this.proj.forward(merged));
  }
}
