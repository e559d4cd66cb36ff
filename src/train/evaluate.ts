/** Evaluation of a classifier on a loader: mean loss, top-1/top-5 accuracy and a confusion matrix. */
import type { DataLoader } from '../data/loader.ts';
import type { Module } from '../nn/module.ts';
import { noGrad } from '../tensor/autograd.ts';
import { cast } from '../tensor/index.ts';
import { Tensor } from '../tensor/tensor.ts';
import { crossEntropy } from './losses.ts';
import { ConfusionMatrix, RunningAverage, targetRanks } from './metrics.ts';

/** A model the trainer can run: forward gives logits [N, C], or a (cls, dist) pair for DeiT students. */
export interface TrainableModel extends Module {
  forward(x: Tensor): Tensor | readonly [Tensor, Tensor];
}

/** Evaluation results. */
export interface EvalResult {
  loss: number;
  top1: number;
  top5: number;
  count: number;
  confusion: ConfusionMatrix;
}

/** The class logits of a model's output (the first of a DeiT student's pair). */
export function firstLogits(out: Tensor | readonly [Tensor, Tensor]): Tensor {
  return out instanceof Tensor ? out : out[0];
}

/** Evaluates a classifier on a loader (in eval mode, restoring train mode after): mean loss, top-1/top-5 accuracy and a confusion matrix. */
export async function evaluate(model: TrainableModel, loader: DataLoader, numClasses: number, inputDtype: 'float32' | 'bfloat16' = 'float32'): Promise<EvalResult> {
  const wasTraining = model.training;
  model.eval();
  const loss = new RunningAverage();
  const confusion = new ConfusionMatrix(numClasses);
  let hit1 = 0;
  let hit5 = 0;
  let count = 0;
  try {
    for await (const batch of loader) {
      noGrad(() => {
        const logits = cast(firstLogits(model.forward(cast(batch.images, inputDtype))), 'float32');
        const n = batch.labels.shape[0];
        loss.update(crossEntropy(logits, batch.labels).item(), n);
        const ranks = targetRanks(logits, batch.labels);
        hit1 += ranks.filter((r) => r < 1).length;
        hit5 += ranks.filter((r) => r < 5).length;
        count += n;
        confusion.update(logits, batch.labels);
      });
    }
  } finally {
    model.train(wasTraining);
  }
  return { loss: loss.average, top1: count ? hit1 / count : 0, top5: count ? hit5 / count : 0, count, confusion };
}
