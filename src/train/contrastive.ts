/**
 * CLIP's contrastive training objective (open_clip's ClipLoss): the symmetric cross-entropy over
 * the cosine-similarity matrix of a batch's image and text embeddings, scaled by exp(logit_scale).
 *
 * Gradient accumulation keeps the full-batch loss, as open_clip's --accum-freq does: a no-grad
 * pass caches every micro-batch's embeddings; then each micro-batch runs again with gradients and
 * its fresh embeddings replace its cached ones in the full-batch loss, whose backward reaches only
 * that micro-batch's activations. The tower parameters thus get exactly the full-batch gradient
 * (in memory of one micro-batch's activations); logit_scale, in every pass's loss, gets it once per
 * micro-batch, as in open_clip.
 */
import { ArgumentError } from '../errors.ts';
import type { Batch } from '../data/loader.ts';
import type { Module } from '../nn/module.ts';
import type { Parameter } from '../nn/parameter.ts';
import { noGrad } from '../tensor/autograd.ts';
import { cast, clamp, exp } from '../tensor/ops/elementwise.ts';
import { cat, contiguous, narrow } from '../tensor/ops/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import type { TrainCallback } from './callbacks/types.ts';
import { clipLoss } from './losses.ts';
import type { MicroBatch, TrainObjective } from './trainer.ts';

/** A two-tower image–text model: what contrastive training needs of CLIP. */
export interface ContrastiveModel extends Module {
  readonly logitScale: Parameter;
  encodeImage(pixels: Tensor): Tensor;
  encodeText(ids: Tensor): Tensor;
}

/** The largest temperature open_clip lets logit_scale reach: exp(logit_scale) <= 100. */
export const MAX_LOGIT_SCALE = Math.log(100);

/**
 * Token ids of captions, cut to the tokenizer's context and padded only to the longest caption of
 * the batch: with the causal mask and end-of-text pooling, the embeddings equal those of rows
 * padded to the full context, at a fraction of the text tower's cost.
 */
export function captionIds(tokenizer: Tokenizer, texts: readonly string[]): Tensor {
  const batch = tokenizer.encodeBatch(texts);
  const longest = Math.max(1, ...batch.rows.map((r) => r.length));
  return longest === batch.inputIds.shape[1] ? batch.inputIds : contiguous(narrow(batch.inputIds, 1, 0, longest));
}

/** The contrastive objective; batches must carry their captions (Batch.texts). */
export class ContrastiveObjective implements TrainObjective {
  private group: { pixels: Tensor; ids: Tensor }[] = [];

  constructor(
    private readonly model: ContrastiveModel,
    private readonly tokenizer: Tokenizer,
    private readonly inputDtype: 'float32' | 'bfloat16' = 'float32',
  ) {}

  /** Collects the update's micro-batches; at its last, runs the (cached) full-batch loss and its backward. */
  microStep(batch: Batch, micro: MicroBatch, spoiled: boolean): number | null {
    if (!batch.texts) throw new ArgumentError('ContrastiveObjective: each batch needs its captions (Batch.texts); give the loader image–caption samples');
    this.group.push({ pixels: cast(batch.images, this.inputDtype), ids: captionIds(this.tokenizer, batch.texts) });
    if (!micro.closesUpdate) return null;
    const group = this.group;
    this.group = [];
    if (group.length === 1) {
      const loss = this.loss(this.model.encodeImage(group[0].pixels), this.model.encodeText(group[0].ids));
      const value = loss.item();
      if (Number.isFinite(value) && !spoiled) loss.backward();
      return value;
    }
    const cached = noGrad(() => group.map(({ pixels, ids }) => ({ image: this.model.encodeImage(pixels), text: this.model.encodeText(ids) })));
    const full = noGrad(() => this.loss(cat(cached.map((c) => c.image), 0), cat(cached.map((c) => c.text), 0)).item());
    if (!Number.isFinite(full) || spoiled) return full;
    let value = full;
    group.forEach(({ pixels, ids }, j) => {
      const image = this.model.encodeImage(pixels);
      const text = this.model.encodeText(ids);
      const loss = this.loss(cat(cached.map((c, k) => (k === j ? image : c.image)), 0), cat(cached.map((c, k) => (k === j ? text : c.text)), 0));
      value = loss.item();
      loss.backward();
    });
    return value;
  }

  private loss(images: Tensor, texts: Tensor): Tensor {
    return clipLoss(cast(images, 'float32'), cast(texts, 'float32'), exp(cast(this.model.logitScale, 'float32')));
  }
}

/** After each update, clamps logit_scale to [0, ln 100] as open_clip does. */
export function logitScaleClamp(model: ContrastiveModel): TrainCallback {
  return {
    onStepEnd: () => {
      noGrad(() => model.logitScale.copy_(clamp(model.logitScale, 0, MAX_LOGIT_SCALE)));
    },
  };
}
