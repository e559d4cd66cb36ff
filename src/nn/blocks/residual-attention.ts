/**
 * OpenAI CLIP's transformer (openai/CLIP `clip/model.py` ResidualAttentionBlock and Transformer;
 * open_clip's `transformer.py` keeps the names): pre-norm blocks x + attn(ln_1(x)), then
 * x + mlp(ln_2(x)), where attn is torch's nn.MultiheadAttention (in_proj_weight [3D, D] with rows
 * q, k, v; in_proj_bias [3D]; out_proj) and mlp is c_fc → QuickGELU (or exact GELU) → c_proj.
 * CLIP's image and text towers both stack these under `transformer.resblocks.{i}`. Tokens are
 * batch-first [B, N, D] here; OpenAI's sequence-first [N, B, D] is the same computation.
 */
import { quickGelu } from '../../tensor/ops/activation.ts';
import { scaledDotProductAttention } from '../../tensor/ops/attention.ts';
import { linear, linearEpilogue } from '../../tensor/ops/linalg.ts';
import { permute, reshape, select, transpose } from '../../tensor/ops/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { checkInt } from '../layers/common.ts';
import { GELU, QuickGELU } from '../layers/activation.ts';
import { ModuleList } from '../layers/containers.ts';
import { LayerNorm } from '../layers/norm.ts';
import { Linear } from '../layers/linear.ts';
import { MultiheadAttention } from '../layers/attention.ts';
import { Module } from '../module.ts';
import { runBlocks } from '../run-blocks.ts';

/** The MLP activation of a CLIP transformer: OpenAI's weights use QuickGELU, open_clip's non-quickgelu configs exact GELU. */
export type ClipActivation = 'quickGelu' | 'gelu';

/** c_fc → activation → c_proj, OpenAI's names (`mlp.c_fc`, `mlp.c_proj`). */
export class ClipMlp extends Module {
  readonly cFc: Linear;
  readonly gelu: QuickGELU | GELU;
  readonly cProj: Linear;

  constructor(dim: number, hidden: number, activation: ClipActivation = 'quickGelu') {
    super();
    this.cFc = this.module('c_fc', new Linear(dim, hidden));
    this.gelu = this.module('gelu', activation === 'gelu' ? new GELU() : new QuickGELU());
    this.cProj = this.module('c_proj', new Linear(hidden, dim));
  }

  /** x [..., D] → [..., D], plus `residual` when given (added inside c_proj's kernel at inference). */
  override forward(x: Tensor, residual: Tensor | null = null): Tensor {
    const h = this.gelu instanceof GELU
      ? linearEpilogue(x, this.cFc.weight, this.cFc.bias, { activation: 'geluErf' })
      : quickGelu(linear(x, this.cFc.weight, this.cFc.bias));
    return residual ? linearEpilogue(h, this.cProj.weight, this.cProj.bias, { residual }) : this.cProj.forward(h);
  }
}

/** Options of ResidualAttentionBlock. */
export interface ResidualAttentionBlockOptions {
  /** MLP hidden width / dim (default 4). */
  mlpRatio?: number;
  /** Default 'quickGelu'. */
  activation?: ClipActivation;
}

/** One pre-norm block: ln_1, attn (nn.MultiheadAttention names), ln_2, mlp. */
export class ResidualAttentionBlock extends Module {
  readonly attn: MultiheadAttention;
  readonly ln1: LayerNorm;
  readonly mlp: ClipMlp;
  readonly ln2: LayerNorm;

  constructor(dim: number, numHeads: number, options: ResidualAttentionBlockOptions = {}) {
    super();
    this.attn = this.module('attn', new MultiheadAttention(dim, numHeads));
    this.ln1 = this.module('ln_1', new LayerNorm(dim));
    this.mlp = this.module('mlp', new ClipMlp(dim, Math.trunc(dim * (options.mlpRatio ?? 4)), options.activation));
    this.ln2 = this.module('ln_2', new LayerNorm(dim));
  }

  // Self-attention over x [B, N, D] through the packed in-projection, plus `residual`.
  #attention(x: Tensor, attnMask: Tensor | null, residual: Tensor): Tensor {
    const [B, N, D] = x.shape;
    const { numHeads: H, headDim, inProjWeight, inProjBias, outProj } = this.attn;
    const qkv = permute(reshape(linear(x, inProjWeight!, inProjBias), [B, N, 3, H, headDim]), [2, 0, 3, 1, 4]); // (3, B, H, N, d)
    const out = scaledDotProductAttention(select(qkv, 0, 0), select(qkv, 0, 1), select(qkv, 0, 2), { attnMask }); // (B, H, N, d)
    const merged = reshape(transpose(out, 1, 2), [B, N, D]); // (B, N, D)
    return linearEpilogue(merged, outProj.weight, outProj.bias, { residual });
  }

  /** tokens [B, N, D] → [B, N, D]; attnMask (bool: true = may attend, or additive float) broadcasts to [B, H, N, N]. */
  override forward(x: Tensor, attnMask: Tensor | null = null): Tensor {
    x = this.#attention(this.ln1.forward(x), attnMask, x);
    return this.mlp.forward(this.ln2.forward(x), x);
  }
}

/** OpenAI's Transformer: `resblocks.{i}` of equal width. */
export class ResidualAttentionStack extends Module {
  readonly width: number;
  readonly layers: number;
  readonly resblocks: ModuleList<ResidualAttentionBlock>;

  constructor(width: number, layers: number, numHeads: number, options: ResidualAttentionBlockOptions = {}) {
    super();
    checkInt('ResidualAttentionStack', 'layers', layers, 0);
    this.width = width;
    this.layers = layers;
    this.resblocks = this.module('resblocks', new ModuleList(Array.from({ length: layers }, () => new ResidualAttentionBlock(width, numHeads, options))));
  }

  /** tokens [B, N, width] through every block, with the same attnMask in each. */
  override forward(x: Tensor, attnMask: Tensor | null = null): Tensor {
    return runBlocks(x, [...this.resblocks].map((block) => (t: Tensor) => block.forward(t, attnMask)));
  }
}
