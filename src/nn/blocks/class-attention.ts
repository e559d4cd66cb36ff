/**
 * Class attention (CaiT, "Going deeper with Image Transformers", Touvron et al. 2021; timm
 * `models/cait.py` ClassAttn) and XCiT's class-attention block (timm `models/xcit.py`
 * ClassAttentionBlock), with timm's names. Only the class token (token 0) queries; keys and
 * values come from every token, so the cost is linear in the number of tokens.
 */
import { ArgumentError, formatShape, ShapeError } from '../../errors.ts';
import { full } from '../../tensor/creation.ts';
import { add, mul } from '../../tensor/ops/elementwise.ts';
import { scaledDotProductAttention } from '../../tensor/ops/attention.ts';
import { cat, narrow, permute, reshape, transpose } from '../../tensor/ops/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';
import type { Parameter } from '../parameter.ts';
import { checkInt, checkProbability, paramDtype, type FactoryOptions } from '../layers/common.ts';
import type { UnaryModule } from '../layers/containers.ts';
import { DropPath, Dropout } from '../layers/dropout.ts';
import { Linear } from '../layers/linear.ts';
import { LayerNorm } from '../layers/norm.ts';
import { Mlp } from './mlp.ts';

/** Options of ClassAttn. */
export interface ClassAttnOptions extends FactoryOptions {
  /** Bias on q, k and v (default false, as timm's layer; XCiT passes true). */
  qkvBias?: boolean;
  /** Dropout on the attention weights, in training (default 0). */
  attnDrop?: number;
  /** Dropout after the output projection, in training (default 0). */
  projDrop?: number;
}

/**
 * softmax(q·kᵀ/√d)·v with q from the class token only, over tokens [B, N, D]; returns the
 * class token's update [B, 1, D]. Parameters: q, k, v, proj (each {weight,bias} [D, D]).
 */
export class ClassAttn extends Module {
  readonly numHeads: number;
  readonly headDim: number;
  readonly attnDropP: number;
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly proj: Linear;
  readonly projDrop: Dropout;

  constructor(dim: number, numHeads: number, options: ClassAttnOptions = {}) {
    super();
    checkInt('ClassAttn', 'dim', dim, 1);
    checkInt('ClassAttn', 'numHeads', numHeads, 1);
    if (dim % numHeads !== 0) throw new ArgumentError(`ClassAttn: dim ${dim} must be divisible by numHeads ${numHeads}`);
    this.attnDropP = options.attnDrop ?? 0;
    checkProbability('ClassAttn', this.attnDropP);
    this.numHeads = numHeads;
    this.headDim = dim / numHeads;
    const linear = { dtype: options.dtype, generator: options.generator, bias: options.qkvBias ?? false };
    this.q = this.module('q', new Linear(dim, dim, linear));
    this.k = this.module('k', new Linear(dim, dim, linear));
    this.v = this.module('v', new Linear(dim, dim, linear));
    this.proj = this.module('proj', new Linear(dim, dim, { dtype: options.dtype, generator: options.generator }));
    this.projDrop = this.module('proj_drop', new Dropout(options.projDrop ?? 0));
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim !== 3) throw new ShapeError(`ClassAttn: expected tokens [B, N, D], got shape ${formatShape(x.shape)}`);
    const [B, N, D] = x.shape;
    const heads = (t: Tensor, n: number) => permute(reshape(t, [B, n, this.numHeads, this.headDim]), [0, 2, 1, 3]); // (B, H, n, d)
    const q = heads(this.q.forward(narrow(x, 1, 0, 1)), 1);
    const out = scaledDotProductAttention(q, heads(this.k.forward(x), N), heads(this.v.forward(x), N), {
      dropoutP: this.training ? this.attnDropP : 0,
    }); // (B, H, 1, d)
    return this.projDrop.forward(this.proj.forward(reshape(transpose(out, 1, 2), [B, 1, D]))); // (B, 1, D)
  }
}

// y·γ where the block has LayerScale.
const scaled = (y: Tensor, gamma: Parameter | null): Tensor => (gamma ? mul(y, gamma) : y);

// x + dropPath(y).
const residual = (x: Tensor, y: Tensor, dropPath: DropPath | null): Tensor => add(x, dropPath ? dropPath.forward(y) : y);

/** Options of ClassAttentionBlock. */
export interface ClassAttentionBlockOptions extends ClassAttnOptions {
  /** Hidden width of the MLP as a multiple of dim (default 4). */
  mlpRatio?: number;
  /** LayerScale initial value of gamma1/gamma2; no LayerScale when null (default 1). */
  eta?: number | null;
  /** Normalise every token after the attention, not only the class token (default false). */
  tokensNorm?: boolean;
  /** Stochastic depth rate of both residual branches (default 0). */
  dropPath?: number;
  /** Builds the MLP activation (default exact GELU). */
  actLayer?: () => UnaryModule;
  /** Builds norm1/norm2 (default LayerNorm with eps 1e-6). */
  normLayer?: (dim: number) => UnaryModule;
}

/**
 * XCiT's class-attention block over [cls, patches] [B, 1 + N, D], as timm (and the official
 * code) computes it, quirks included: with u = norm1(x), the class token gets γ1·attn(u) and
 * each patch token γ1·u added; then norm2 (all tokens with tokensNorm, else the class token
 * only); then the class token gets γ2·mlp added and the patch tokens are added to themselves.
 * Parameters: norm1, attn.{q,k,v,proj}, norm2, mlp.{fc1,fc2}, gamma1, gamma2 [D].
 */
export class ClassAttentionBlock extends Module {
  readonly norm1: UnaryModule;
  readonly attn: ClassAttn;
  readonly dropPath1: DropPath | null;
  readonly norm2: UnaryModule;
  readonly mlp: Mlp;
  readonly dropPath2: DropPath | null;
  readonly gamma1: Parameter | null;
  readonly gamma2: Parameter | null;
  readonly tokensNorm: boolean;

  constructor(dim: number, numHeads: number, options: ClassAttentionBlockOptions = {}) {
    super();
    const factory = { dtype: options.dtype, generator: options.generator };
    const norm = options.normLayer ?? ((d: number) => new LayerNorm(d, { eps: 1e-6, dtype: options.dtype }));
    const dropPath = options.dropPath ?? 0;
    this.norm1 = this.module('norm1', norm(dim));
    this.attn = this.module('attn', new ClassAttn(dim, numHeads, options));
    this.dropPath1 = dropPath > 0 ? this.module('drop_path1', new DropPath(dropPath)) : null;
    this.norm2 = this.module('norm2', norm(dim));
    this.mlp = this.module('mlp', new Mlp(dim, {
      ...factory, hiddenFeatures: Math.trunc(dim * (options.mlpRatio ?? 4)), actLayer: options.actLayer, drop: options.projDrop,
    }));
    this.dropPath2 = dropPath > 0 ? this.module('drop_path2', new DropPath(dropPath)) : null;
    const eta = options.eta === undefined ? 1 : options.eta;
    const dtype = paramDtype('ClassAttentionBlock', options);
    this.gamma1 = eta === null ? null : this.param('gamma1', full([dim], eta, { dtype }));
    this.gamma2 = eta === null ? null : this.param('gamma2', full([dim], eta, { dtype }));
    this.tokensNorm = options.tokensNorm ?? false;
  }

  /** [cls, patches] [B, 1 + N, D] → [B, 1 + N, D]. */
  override forward(x: Tensor): Tensor {
    if (x.ndim !== 3 || x.shape[1] < 2) throw new ShapeError(`ClassAttentionBlock: expected tokens [B, 1 + N, D] with N >= 1, got shape ${formatShape(x.shape)}`);
    const n = x.shape[1] - 1;
    const u = this.norm1.forward(x);
    x = residual(x, scaled(cat([this.attn.forward(u), narrow(u, 1, 1, n)], 1), this.gamma1), this.dropPath1); // (B, 1 + N, D)
    x = this.tokensNorm ? this.norm2.forward(x) : cat([this.norm2.forward(narrow(x, 1, 0, 1)), narrow(x, 1, 1, n)], 1);
    const cls = scaled(this.mlp.forward(narrow(x, 1, 0, 1)), this.gamma2); // (B, 1, D)
    return residual(x, cat([cls, narrow(x, 1, 1, n)], 1), this.dropPath2);
  }
}
