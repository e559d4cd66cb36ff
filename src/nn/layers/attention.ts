/**
 * MultiheadAttention (torch.nn.MultiheadAttention) with torch's parameter layout:
 * in_proj_weight [3E, E] and in_proj_bias [3E] (q, k, v stacked), out_proj.weight/bias; or,
 * when kdim/vdim differ from E, q_proj_weight [E, E], k_proj_weight [E, kdim],
 * v_proj_weight [E, vdim]. add_bias_kv and add_zero_attn are not supported.
 */
import { ArgumentError, DTypeError, formatShape, ShapeError } from '../../errors.ts';
import { empty, zeros } from '../../tensor/creation.ts';
import { isFloating } from '../../tensor/dtype.ts';
import { dropout, softmax } from '../../tensor/ops/activation.ts';
import { scaledDotProductAttention } from '../../tensor/ops/attention.ts';
import { add, cast, mul } from '../../tensor/ops/elementwise.ts';
import { maskedFill } from '../../tensor/ops/index.ts';
import { linear, matmul } from '../../tensor/ops/linalg.ts';
import { mean } from '../../tensor/ops/reduce.ts';
import { chunk, permute, reshape, squeeze, transpose, unsqueeze } from '../../tensor/ops/shape.ts';
import type { Generator } from '../../tensor/random.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { xavierUniform_, zeros_ } from '../init.ts';
import { Module } from '../module.ts';
import type { Parameter } from '../parameter.ts';
import { checkInt, checkProbability, paramDtype, type FactoryOptions } from './common.ts';
import { Linear } from './linear.ts';

/** Options of MultiheadAttention. */
export interface MultiheadAttentionOptions extends FactoryOptions {
  /** Dropout on the attention weights in training (default 0). The generator option also draws its masks. */
  dropout?: number;
  /** Biases on the input and output projections (default true). */
  bias?: boolean;
  /** Feature size of key (default embedDim). */
  kdim?: number;
  /** Feature size of value (default embedDim). */
  vdim?: number;
  /** Inputs and output are [N, L, E] instead of [L, N, E] (default false). */
  batchFirst?: boolean;
}

/** Options of MultiheadAttention.forward. */
export interface MultiheadAttentionForwardOptions {
  /** [N, S] ([S] unbatched): bool true = ignore that key, or float values added to the scores. */
  keyPaddingMask?: Tensor | null;
  /** Also return the attention weights (default true, as torch). */
  needWeights?: boolean;
  /** [L, S] or [N·numHeads, L, S]: bool true = may not attend, or float values added to the scores. */
  attnMask?: Tensor | null;
  /** Average the returned weights over heads ([N, L, S]) rather than per head ([N, H, L, S]) (default true). */
  averageAttnWeights?: boolean;
}


/** Multi-head attention: out_proj(softmax(q·kᵀ/√d + mask)·v) with q, k, v projected from query, key, value. */
export class MultiheadAttention extends Module {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  inProjWeight: Parameter | null = null;
  qProjWeight: Parameter | null = null;
  kProjWeight: Parameter | null = null;
  vProjWeight: Parameter | null = null;
  inProjBias: Parameter | null = null;
  outProj: Linear;
  generator: Generator | undefined;

  constructor(embedDim: number, numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    checkInt('MultiheadAttention', 'embedDim', embedDim, 1);
    checkInt('MultiheadAttention', 'numHeads', numHeads, 1);
    if (embedDim % numHeads !== 0) throw new ArgumentError(`MultiheadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    this.kdim = options.kdim ?? embedDim;
    this.vdim = options.vdim ?? embedDim;
    checkInt('MultiheadAttention', 'kdim', this.kdim, 1);
    checkInt('MultiheadAttention', 'vdim', this.vdim, 1);
    this.dropout = options.dropout ?? 0;
    checkProbability('MultiheadAttention', this.dropout);
    const dtype = paramDtype('MultiheadAttention', options);
    this.embedDim = embedDim;
    this.numHeads = numHeads;
    this.headDim = embedDim / numHeads;
    this.batchFirst = options.batchFirst ?? false;
    this.generator = options.generator;
    if (this.kdim === embedDim && this.vdim === embedDim) {
      this.inProjWeight = this.param('in_proj_weight', empty([3 * embedDim, embedDim], { dtype }));
    } else {
      this.qProjWeight = this.param('q_proj_weight', empty([embedDim, embedDim], { dtype }));
      this.kProjWeight = this.param('k_proj_weight', empty([embedDim, this.kdim], { dtype }));
      this.vProjWeight = this.param('v_proj_weight', empty([embedDim, this.vdim], { dtype }));
    }
    const bias = options.bias ?? true;
    if (bias) this.inProjBias = this.param('in_proj_bias', empty([3 * embedDim], { dtype }));
    this.outProj = this.module('out_proj', new Linear(embedDim, embedDim, { bias, dtype, generator: options.generator }));
    this.resetParameters(options.generator);
  }

  /** torch's init: xavier_uniform in-projections, zero biases; out_proj.weight keeps Linear's init. */
  resetParameters(generator?: Generator): void {
    for (const w of [this.inProjWeight, this.qProjWeight, this.kProjWeight, this.vProjWeight]) if (w) xavierUniform_(w, 1, generator);
    if (this.inProjBias) {
      zeros_(this.inProjBias);
      if (this.outProj.bias) zeros_(this.outProj.bias);
    }
  }

  // An additive float mask from a bool (true → −∞) or float mask.
  #additive(what: string, mask: Tensor, like: Tensor): Tensor {
    if (mask.dtype === 'bool') return maskedFill(zeros(mask.shape, { dtype: like.dtype }), mask, -Infinity);
    if (!isFloating(mask.dtype)) throw new DTypeError(`MultiheadAttention: ${what} must be bool or float, got ${mask.dtype}`);
    return cast(mask, like.dtype);
  }

  /**
   * Attends query [L, N, E] ([N, L, E] with batchFirst, [L, E] unbatched) to key [S, N, kdim]
   * and value [S, N, vdim]. Returns [output like query, weights or null].
   */
  override forward(query: Tensor, key: Tensor, value: Tensor, options: MultiheadAttentionForwardOptions = {}): [Tensor, Tensor | null] {
    const batched = query.ndim === 3;
    if (query.ndim !== 3 && query.ndim !== 2) throw new ShapeError(`MultiheadAttention: query must be [L, N, E] or unbatched [L, E], got ${formatShape(query.shape)}`);
    if (key.ndim !== query.ndim || value.ndim !== query.ndim) {
      throw new ShapeError(`MultiheadAttention: key ${formatShape(key.shape)} and value ${formatShape(value.shape)} must have the rank of query ${formatShape(query.shape)}`);
    }
    // Work in [N, L, E].
    const toBatchFirst = (t: Tensor) => (!batched ? unsqueeze(t, 0) : this.batchFirst ? t : transpose(t, 0, 1));
    const q0 = toBatchFirst(query);
    const k0 = toBatchFirst(key);
    const v0 = toBatchFirst(value);
    const [N, L, E] = q0.shape;
    const S = k0.shape[1];
    const H = this.numHeads;
    const D = this.headDim;
    if (E !== this.embedDim) throw new ShapeError(`MultiheadAttention: query has ${E} features, expected embedDim ${this.embedDim}`);
    if (k0.shape[2] !== this.kdim || v0.shape[2] !== this.vdim) {
      throw new ShapeError(`MultiheadAttention: key ${formatShape(key.shape)} and value ${formatShape(value.shape)} must end in kdim ${this.kdim} and vdim ${this.vdim}`);
    }
    if (k0.shape[0] !== N || v0.shape[0] !== N || v0.shape[1] !== S) {
      throw new ShapeError(`MultiheadAttention: query ${formatShape(query.shape)}, key ${formatShape(key.shape)} and value ${formatShape(value.shape)} disagree on batch or source length`);
    }

    let projected: Tensor[];
    if (this.inProjWeight && query === key && key === value) {
      // Self-attention: one matmul against the packed [3E, E] weight, as torch's _in_projection_packed.
      projected = chunk(linear(q0, this.inProjWeight, this.inProjBias), 3, -1);
    } else {
      const [wq, wk, wv] = this.inProjWeight ? chunk(this.inProjWeight, 3, 0) : [this.qProjWeight!, this.kProjWeight!, this.vProjWeight!];
      const [bq, bk, bv] = this.inProjBias ? chunk(this.inProjBias, 3, 0) : [null, null, null];
      projected = [linear(q0, wq, bq), linear(k0, wk, bk), linear(v0, wv, bv)];
    }
    const heads = (t: Tensor, len: number) => permute(reshape(t, [N, len, H, D]), [0, 2, 1, 3]); // (N, H, len, D)
    const q = heads(projected[0], L);
    const k = heads(projected[1], S);
    const v = heads(projected[2], S);

    let mask: Tensor | null = null;
    if (options.attnMask) {
      const m = options.attnMask;
      if (m.ndim === 2 && m.shape[0] === L && m.shape[1] === S) mask = reshape(this.#additive('attnMask', m, q), [1, 1, L, S]);
      else if (m.ndim === 3 && m.shape[0] === N * H && m.shape[1] === L && m.shape[2] === S) mask = reshape(this.#additive('attnMask', m, q), [N, H, L, S]);
      else throw new ShapeError(`MultiheadAttention: attnMask has shape ${formatShape(m.shape)}, expected [${L}, ${S}] or [${N * H}, ${L}, ${S}]`);
    }
    if (options.keyPaddingMask) {
      const m = batched ? options.keyPaddingMask : unsqueeze(options.keyPaddingMask, 0);
      if (m.ndim !== 2 || m.shape[0] !== N || m.shape[1] !== S) {
        throw new ShapeError(`MultiheadAttention: keyPaddingMask has shape ${formatShape(options.keyPaddingMask.shape)}, expected ${batched ? `[${N}, ${S}]` : `[${S}]`}`);
      }
      const padding = reshape(this.#additive('keyPaddingMask', m, q), [N, 1, 1, S]);
      mask = mask ? add(mask, padding) : padding;
    }

    const dropoutP = this.training ? this.dropout : 0;
    let out: Tensor; // (N, H, L, D)
    let weights: Tensor | null = null;
    if (options.needWeights ?? true) {
      let scores = matmul(mul(q, 1 / Math.sqrt(D)), transpose(k, -2, -1)); // (N, H, L, S)
      if (mask) scores = add(scores, mask);
      let attn = softmax(scores, -1);
      if (dropoutP > 0) attn = dropout(attn, dropoutP, true, this.generator);
      out = matmul(attn, v);
      weights = (options.averageAttnWeights ?? true) ? mean(attn, 1) : attn;
      if (!batched) weights = squeeze(weights, 0);
    } else {
      out = scaledDotProductAttention(q, k, v, { attnMask: mask, dropoutP, generator: this.generator });
    }
    let y = this.outProj.forward(reshape(permute(out, [0, 2, 1, 3]), [N, L, E])); // (N, L, E)
    if (!batched) y = squeeze(y, 0);
    else if (!this.batchFirst) y = transpose(y, 0, 1);
    return [y, weights];
  }
}
