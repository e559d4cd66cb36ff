/**
 * Attention pooling of a feature map, CLIP's replacement for global average pooling (openai/CLIP
 * `clip/model.py` AttentionPool2d; same parameter names): the mean of the g² tokens is put in
 * front of them, a learned position embedding [g² + 1, C] is added, and that first token alone
 * queries all g² + 1 tokens through multi-head attention with separate q/k/v projections; c_proj
 * maps the result to the output width.
 */
import { ShapeError, formatShape } from '../../errors.ts';
import { empty } from '../../tensor/creation.ts';
import { scaledDotProductAttention } from '../../tensor/ops/attention.ts';
import { add } from '../../tensor/ops/elementwise.ts';
import { linear } from '../../tensor/ops/linalg.ts';
import { mean } from '../../tensor/ops/reduce.ts';
import { cat, narrow, permute, reshape, transpose } from '../../tensor/ops/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { normal_ } from '../init.ts';
import { checkInt } from '../layers/common.ts';
import { Linear } from '../layers/linear.ts';
import { Module } from '../module.ts';
import type { Parameter } from '../parameter.ts';

/** Pools [B, C, g, g] to [B, outDim] by attention from the mean token. */
export class AttentionPool2d extends Module {
  readonly spatialDim: number;
  readonly embedDim: number;
  readonly numHeads: number;
  readonly outDim: number;
  readonly positionalEmbedding: Parameter;
  readonly kProj: Linear;
  readonly qProj: Linear;
  readonly vProj: Linear;
  readonly cProj: Linear;

  constructor(spatialDim: number, embedDim: number, numHeads: number, outDim = embedDim) {
    super();
    checkInt('AttentionPool2d', 'spatialDim', spatialDim, 1);
    checkInt('AttentionPool2d', 'numHeads', numHeads, 1);
    if (embedDim % numHeads !== 0) throw new ShapeError(`AttentionPool2d: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    this.spatialDim = spatialDim;
    this.embedDim = embedDim;
    this.numHeads = numHeads;
    this.outDim = outDim;
    this.positionalEmbedding = this.param('positional_embedding', empty([spatialDim * spatialDim + 1, embedDim]));
    normal_(this.positionalEmbedding, 0, 1 / Math.sqrt(embedDim));
    this.kProj = this.module('k_proj', new Linear(embedDim, embedDim));
    this.qProj = this.module('q_proj', new Linear(embedDim, embedDim));
    this.vProj = this.module('v_proj', new Linear(embedDim, embedDim));
    this.cProj = this.module('c_proj', new Linear(embedDim, outDim));
  }

  /** features [B, C, g, g] (any layout) → [B, outDim]. */
  override forward(x: Tensor): Tensor {
    const g = this.spatialDim;
    if (x.ndim !== 4 || x.shape[1] !== this.embedDim || x.shape[2] !== g || x.shape[3] !== g) {
      throw new ShapeError(`AttentionPool2d: expected features [B, ${this.embedDim}, ${g}, ${g}], got ${formatShape(x.shape)}`);
    }
    const B = x.shape[0];
    const C = this.embedDim;
    const H = this.numHeads;
    const d = C / H;
    const tokens = transpose(reshape(x, [B, C, g * g]), 1, 2); // (B, g², C)
    const withMean = add(cat([mean(tokens, 1, true), tokens], 1), this.positionalEmbedding); // (B, g² + 1, C)
    const heads = (t: Tensor, n: number) => permute(reshape(t, [B, n, H, d]), [0, 2, 1, 3]); // (B, H, n, d)
    const q = heads(linear(narrow(withMean, 1, 0, 1), this.qProj.weight, this.qProj.bias), 1);
    const k = heads(linear(withMean, this.kProj.weight, this.kProj.bias), g * g + 1);
    const v = heads(linear(withMean, this.vProj.weight, this.vProj.bias), g * g + 1);
    const out = reshape(scaledDotProductAttention(q, k, v), [B, C]); // (B, H, 1, d) → (B, C)
    return this.cProj.forward(out);
  }
}
