/**
 * Multiscale pooling attention ("MViTv2: Improved Multiscale Vision Transformers", Li et al.,
 * CVPR 2022, §3; timm `models/mvitv2.py` MultiScaleAttention in mode 'conv', no class token).
 * Tokens [B, N, dim] on an h×w grid are projected to q, k, v (dimOut wide, numHeads heads of d);
 * each is pooled on its grid by a strided depthwise 3×3 conv (one d-channel kernel shared by all
 * heads, no bias) and layer-normalized over d; then softmax(q·kᵀ/√d + rel-pos(q))·v, plus the
 * pooled q (residual pooling), heads merged, proj. The query stride shrinks the output grid.
 *
 * Parameters, timm's names: rel_pos_h, rel_pos_w [2·max(q, kv) − 1, d] (sized for the grid the
 * block is built for), qkv [3·dimOut, dim], proj [dimOut, dimOut], pool_{q,k,v}.weight [d, 1, 3, 3],
 * norm_{q,k,v} [d].
 *
 * Layout: every tensor stays token-major, [B, L, heads, d], which is the channels-last view
 * [B, heads·d, h, w] of the grid: the depthwise convs read and write it without a reorder (their
 * d-channel kernel tiled over the heads), and the attention matmuls read head views of it.
 */
import { ArgumentError, ShapeError, formatShape } from '../../errors.ts';
import { needsGrad } from '../../tensor/autograd.ts';
import { empty } from '../../tensor/creation.ts';
import { DerivedValue } from '../../tensor/derived.ts';
import { softmax } from '../../tensor/ops/activation.ts';
import { conv2d } from '../../tensor/ops/conv.ts';
import { add } from '../../tensor/ops/elementwise.ts';
import { linear, linearEpilogue, matmul } from '../../tensor/ops/linalg.ts';
import { contiguous, narrow, permute, repeat, reshape } from '../../tensor/ops/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { truncNormal_ } from '../init.ts';
import { checkInt, type FactoryOptions } from '../layers/common.ts';
import { Conv2d } from '../layers/conv.ts';
import { Linear } from '../layers/linear.ts';
import { LayerNorm } from '../layers/norm.ts';
import { Module } from '../module.ts';
import type { Parameter } from '../parameter.ts';
import { decomposedRelPosScores, relPosTableLength, type Grid } from './decomposed-rel-pos.ts';

export type { Grid };

/** Options of MultiScaleAttention. */
export interface MultiScaleAttentionOptions extends FactoryOptions {
  numHeads: number;
  /** Side of the square token grid the block is built for: it sizes the relative-position tables. */
  featSize: number;
  /** Stride of the query pooling (default 1); the output grid is ⌈h/s⌉ × ⌈w/s⌉. */
  strideQ?: number;
  /** Stride of the key and value pooling (default 1). */
  strideKv?: number;
  /** Bias on the qkv projection (default true). */
  qkvBias?: boolean;
  /** Add the pooled queries to the attention output (default true, MViTv2's residual pooling). */
  residualPooling?: boolean;
  /** Epsilon of norm_q/k/v (default 1e-6, MViTv2's). */
  normEps?: number;
}

/** A weight row block of qkv and its bias. */
type QkvPart = readonly [Tensor, Tensor | null];

/** Pooled tokens [B, L, heads, d] and their grid. */
interface Pooled {
  tokens: Tensor;
  grid: [number, number];
}

/** Pooling attention over tokens [B, h·w, dim] → [B, h'·w', dimOut] with h' = ⌈h/strideQ⌉. */
export class MultiScaleAttention extends Module {
  readonly numHeads: number;
  readonly headDim: number;
  readonly dimOut: number;
  readonly strideQ: number;
  readonly strideKv: number;
  readonly residualPooling: boolean;
  readonly relPosH: Parameter;
  readonly relPosW: Parameter;
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly poolQ: Conv2d;
  readonly normQ: LayerNorm;
  readonly poolK: Conv2d;
  readonly normK: LayerNorm;
  readonly poolV: Conv2d;
  readonly normV: LayerNorm;
  // At inference: the q, k, v row blocks of qkv (fixed views keep their packed kernel weights) and the tiled pooling kernels.
  readonly #qkvParts = new DerivedValue<QkvPart[]>();
  readonly #tiled = [new DerivedValue<Tensor>(), new DerivedValue<Tensor>(), new DerivedValue<Tensor>()];

  constructor(dim: number, dimOut: number, options: MultiScaleAttentionOptions) {
    super();
    const { numHeads, featSize } = options;
    checkInt('MultiScaleAttention', 'dim', dim, 1);
    checkInt('MultiScaleAttention', 'numHeads', numHeads, 1);
    checkInt('MultiScaleAttention', 'featSize', featSize, 1);
    if (dimOut % numHeads !== 0) throw new ArgumentError(`MultiScaleAttention: dimOut ${dimOut} must be divisible by numHeads ${numHeads}`);
    this.strideQ = options.strideQ ?? 1;
    this.strideKv = options.strideKv ?? 1;
    checkInt('MultiScaleAttention', 'strideQ', this.strideQ, 1);
    checkInt('MultiScaleAttention', 'strideKv', this.strideKv, 1);
    this.numHeads = numHeads;
    this.dimOut = dimOut;
    this.headDim = dimOut / numHeads;
    this.residualPooling = options.residualPooling ?? true;
    const d = this.headDim;
    const factory = { dtype: options.dtype, generator: options.generator };
    // timm sizes the tables with floor division of the built grid; a forward may see ⌈·⌉ grids.
    const length = relPosTableLength(Math.floor(featSize / this.strideQ), Math.floor(featSize / this.strideKv));
    this.relPosH = this.param('rel_pos_h', empty([length, d], { dtype: options.dtype }));
    this.relPosW = this.param('rel_pos_w', empty([length, d], { dtype: options.dtype }));
    // timm's trunc_normal_tf_(std=0.02): truncated at ±2 standard deviations.
    for (const t of [this.relPosH, this.relPosW]) truncNormal_(t, 0, 0.02, -0.04, 0.04, options.generator);
    this.qkv = this.module('qkv', new Linear(dim, 3 * dimOut, { ...factory, bias: options.qkvBias ?? true }));
    this.proj = this.module('proj', new Linear(dimOut, dimOut, factory));
    const pool = (stride: number) => new Conv2d(d, d, 3, { ...factory, stride, padding: 1, groups: d, bias: false });
    const norm = () => new LayerNorm(d, { eps: options.normEps ?? 1e-6, dtype: options.dtype });
    this.poolQ = this.module('pool_q', pool(this.strideQ));
    this.normQ = this.module('norm_q', norm());
    this.poolK = this.module('pool_k', pool(this.strideKv));
    this.normK = this.module('norm_k', norm());
    this.poolV = this.module('pool_v', pool(this.strideKv));
    this.normV = this.module('norm_v', norm());
  }

  /** Rows of rel_pos_h/w: the largest relative distance the tables hold, plus one. */
  get tableLength(): number {
    return this.relPosH.shape[0];
  }

  /**
   * tokens x [B, h·w, dim] on `grid` → [B, h'·w', dimOut] and the pooled grid; `residual` (the
   * block's skip, already on the pooled grid) is added inside the output projection.
   */
  override forward(x: Tensor, grid: Grid, residual: Tensor | null = null): { x: Tensor; grid: [number, number] } {
    if (x.ndim !== 3 || x.shape[1] !== grid[0] * grid[1]) {
      throw new ShapeError(`MultiScaleAttention: expected tokens [B, ${grid[0]}·${grid[1]}, ${this.qkv.inFeatures}], got shape ${formatShape(x.shape)}`);
    }
    const [wq, wk, wv] = this.#projections(x);
    const q = this.#pool(0, wq, grid, this.poolQ, this.normQ);
    const k = this.#pool(1, wk, grid, this.poolK, this.normK);
    const v = this.#pool(2, wv, grid, this.poolV, this.normV);
    const heads = (t: Tensor) => permute(t, [0, 2, 1, 3]); // (B, H, L, d)
    const logits = decomposedRelPosScores(heads(q.tokens), heads(k.tokens), this.headDim ** -0.5, q.grid, k.grid, this.relPosH, this.relPosW); // (B, H, Lq, Lk)
    const attn = softmax(logits, -1);
    const out = permute(matmul(attn, heads(v.tokens)), [0, 2, 1, 3]); // (B, Lq, H, d)
    const merged = this.residualPooling ? add(out, q.tokens) : contiguous(out); // (B, Lq, H, d)
    const [B, Lq] = q.tokens.shape;
    const y = linearEpilogue(reshape(merged, [B, Lq, this.dimOut]), this.proj.weight, this.proj.bias, { residual }); // (B, Lq, dimOut)
    return { x: y, grid: q.grid };
  }

  // q, k, v [B, N, dimOut] each, by three matmuls on qkv's row blocks (no strided copy out of one [B, N, 3·dimOut]).
  #projections(x: Tensor): Tensor[] {
    const { weight, bias } = this.qkv;
    const C = this.dimOut;
    const split = (): QkvPart[] => [0, 1, 2].map((i) => [narrow(weight, 0, i * C, C), bias ? narrow(bias, 0, i * C, C) : null]);
    const parts = needsGrad(weight, bias) ? split() : this.#qkvParts.get([weight, bias], split);
    return parts.map(([w, b]) => linear(x, w, b));
  }

  // tokens [B, h·w, heads·d] → pooled, normalized [B, h'·w', heads, d] on the pooled grid.
  #pool(slot: number, tokens: Tensor, grid: Grid, pool: Conv2d, norm: LayerNorm): Pooled {
    const [B, , C] = tokens.shape;
    const maps = permute(reshape(tokens, [B, grid[0], grid[1], C]), [0, 3, 1, 2]); // (B, C, h, w), channels-last
    const w = pool.weight;
    const kernel = needsGrad(w) ? repeat(w, [this.numHeads, 1, 1, 1]) : this.#tiled[slot].get([w], () => repeat(w.detach(), [this.numHeads, 1, 1, 1]));
    const pooled = conv2d(maps, kernel, null, { stride: pool.stride, padding: 1, groups: C }); // (B, C, h', w')
    const [h, wd] = [pooled.shape[2], pooled.shape[3]];
    const out = reshape(permute(pooled, [0, 2, 3, 1]), [B, h * wd, this.numHeads, this.headDim]); // (B, L', H, d)
    return { tokens: norm.forward(out), grid: [h, wd] };
  }
}
