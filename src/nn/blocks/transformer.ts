/**
 * The pre-norm transformer block of ViT/DeiT (timm `models/vision_transformer.py` Block, same
 * names): x + drop_path1(ls1(attn(norm1(x)))), then x + drop_path2(ls2(mlp(norm2(x)))).
 * LayerScale (ls1, ls2) exists only with initValues; DropPath only with a rate > 0.
 */
import { add } from '../../tensor/ops/elementwise.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';
import type { FactoryOptions } from '../layers/common.ts';
import type { UnaryModule } from '../layers/containers.ts';
import { DropPath } from '../layers/dropout.ts';
import { LayerNorm } from '../layers/norm.ts';
import { Attention } from './attention.ts';
import { LayerScale } from './layer-scale.ts';
import { Mlp } from './mlp.ts';

/** Options of Block. */
export interface BlockOptions extends FactoryOptions {
  /** Hidden width of the MLP as a multiple of dim (default 4). */
  mlpRatio?: number;
  /** Bias on the attention's qkv projection (default false, as timm's Block; ViTs pass true). */
  qkvBias?: boolean;
  /** Biases on the attention output projection and the MLP (default true). */
  projBias?: boolean;
  /** Dropout after the attention projection and in the MLP (default 0). */
  projDrop?: number;
  /** Dropout on the attention weights (default 0). */
  attnDrop?: number;
  /** LayerScale initial value; no LayerScale when absent or null. */
  initValues?: number | null;
  /** Stochastic depth rate of both residual branches (default 0). */
  dropPath?: number;
  /** Builds the MLP activation (default exact GELU). */
  actLayer?: () => UnaryModule;
  /** Builds norm1/norm2 (default LayerNorm with eps 1e-6, timm's). */
  normLayer?: (dim: number) => UnaryModule;
}

/** Pre-norm self-attention + MLP block over tokens [B, N, dim]. */
export class Block extends Module {
  readonly norm1: UnaryModule;
  readonly attn: Attention;
  readonly ls1: LayerScale | null;
  readonly dropPath1: DropPath | null;
  readonly norm2: UnaryModule;
  readonly mlp: Mlp;
  readonly ls2: LayerScale | null;
  readonly dropPath2: DropPath | null;

  constructor(dim: number, numHeads: number, options: BlockOptions = {}) {
    super();
    const factory = { dtype: options.dtype, generator: options.generator };
    const norm = options.normLayer ?? ((d: number) => new LayerNorm(d, { eps: 1e-6, dtype: options.dtype }));
    const initValues = options.initValues ?? null;
    const dropPath = options.dropPath ?? 0;
    this.norm1 = this.module('norm1', norm(dim));
    this.attn = this.module('attn', new Attention(dim, numHeads, {
      ...factory, qkvBias: options.qkvBias ?? false, projBias: options.projBias, attnDrop: options.attnDrop, projDrop: options.projDrop,
    }));
    this.ls1 = initValues !== null ? this.module('ls1', new LayerScale(dim, initValues, factory)) : null;
    this.dropPath1 = dropPath > 0 ? this.module('drop_path1', new DropPath(dropPath)) : null;
    this.norm2 = this.module('norm2', norm(dim));
    this.mlp = this.module('mlp', new Mlp(dim, {
      ...factory, hiddenFeatures: Math.trunc(dim * (options.mlpRatio ?? 4)), actLayer: options.actLayer, bias: options.projBias, drop: options.projDrop,
    }));
    this.ls2 = initValues !== null ? this.module('ls2', new LayerScale(dim, initValues, factory)) : null;
    this.dropPath2 = dropPath > 0 ? this.module('drop_path2', new DropPath(dropPath)) : null;
  }

  // One residual branch: x + dropPath(ls(y)).
  #residual(x: Tensor, y: Tensor, ls: LayerScale | null, dropPath: DropPath | null): Tensor {
    if (ls) y = ls.forward(y);
    if (dropPath) y = dropPath.forward(y);
    return add(x, y);
  }

  /** tokens [B, N, dim] → [B, N, dim]; attnMask as Attention's. */
  override forward(x: Tensor, attnMask: Tensor | null = null): Tensor {
    // Without layer scale or stochastic depth, each branch adds the skip itself (inside its last matmul at inference).
    x = this.ls1 || this.dropPath1
      ? this.#residual(x, this.attn.forward(this.norm1.forward(x), attnMask), this.ls1, this.dropPath1)
      : this.attn.forward(this.norm1.forward(x), attnMask, x);
    return this.ls2 || this.dropPath2
      ? this.#residual(x, this.mlp.forward(this.norm2.forward(x)), this.ls2, this.dropPath2)
      : this.mlp.forward(this.norm2.forward(x), x);
  }
}
