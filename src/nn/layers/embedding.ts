/** Embedding (torch.nn.Embedding): a lookup table of rows indexed by integer ids. */
import { ArgumentError, formatShape, ShapeError } from '../../errors.ts';
import { empty } from '../../tensor/creation.ts';
import { add, cast, eq, mul, sub } from '../../tensor/ops/elementwise.ts';
import { embedding } from '../../tensor/ops/index.ts';
import { select, unsqueeze } from '../../tensor/ops/shape.ts';
import type { Generator } from '../../tensor/random.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { normal_ } from '../init.ts';
import { Module } from '../module.ts';
import { Parameter } from '../parameter.ts';
import { checkInt, paramDtype, type FactoryOptions } from './common.ts';

/** Options of Embedding. */
export interface EmbeddingOptions extends FactoryOptions {
  /** A row that starts at zero and gets no gradient (negative counts from the end). */
  paddingIdx?: number | null;
  /** Use this tensor (storage shared) as the weight instead of initialising one. */
  weight?: Tensor;
  /** With `weight`: keep it frozen (requiresGrad false). */
  freeze?: boolean;
}

/** Rows of weight [numEmbeddings, embeddingDim] for ids of any shape → [...ids.shape, embeddingDim]. Init N(0, 1). */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | null;
  weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    checkInt('Embedding', 'numEmbeddings', numEmbeddings, 0);
    checkInt('Embedding', 'embeddingDim', embeddingDim, 0);
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.paddingIdx = resolvePaddingIdx(options.paddingIdx ?? null, numEmbeddings);
    const given = options.weight;
    if (given) {
      if (given.ndim !== 2 || given.shape[0] !== numEmbeddings || given.shape[1] !== embeddingDim) {
        throw new ShapeError(`Embedding: weight has shape ${formatShape(given.shape)}, expected [${numEmbeddings}, ${embeddingDim}]`);
      }
      this.weight = this.param('weight', new Parameter(given, !(options.freeze ?? false)));
    } else {
      this.weight = this.param('weight', empty([numEmbeddings, embeddingDim], { dtype: paramDtype('Embedding', options) }));
      this.resetParameters(options.generator);
    }
  }

  /** An Embedding holding `weights` (shared, not copied), frozen unless freeze is false. */
  static fromPretrained(weights: Tensor, options: { freeze?: boolean; paddingIdx?: number | null } = {}): Embedding {
    if (weights.ndim !== 2) throw new ShapeError(`Embedding.fromPretrained: weights must be [num, dim], got shape ${formatShape(weights.shape)}`);
    return new Embedding(weights.shape[0], weights.shape[1], { weight: weights, freeze: options.freeze ?? true, paddingIdx: options.paddingIdx });
  }

  /** N(0, 1) rows, with the padding row zeroed. */
  resetParameters(generator?: Generator): void {
    normal_(this.weight, 0, 1, generator);
    if (this.paddingIdx !== null) select(this.weight.detach(), 0, this.paddingIdx).zero_();
  }

  override forward(ids: Tensor): Tensor {
    const out = embedding(ids, this.weight);
    if (this.paddingIdx === null) return out;
    // Rows looked up at paddingIdx pass through a detached copy, so they give the weight no gradient.
    const isPad = unsqueeze(cast(eq(ids, this.paddingIdx), out.dtype), -1);
    return add(mul(out, sub(1, isPad)), mul(out.detach(), isPad));
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, padding_idx=${this.paddingIdx}` : ''}`;
  }
}

function resolvePaddingIdx(paddingIdx: number | null, num: number): number | null {
  if (paddingIdx === null) return null;
  if (!Number.isInteger(paddingIdx) || paddingIdx < -num || paddingIdx >= num) {
    throw new ArgumentError(`Embedding: paddingIdx ${paddingIdx} must be within [${-num}, ${num})`);
  }
  return paddingIdx < 0 ? paddingIdx + num : paddingIdx;
}
