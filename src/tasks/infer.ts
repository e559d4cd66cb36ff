/**
 * Named-tensor inference, the contract tsvision is checked against other implementations
 * with: a model reads named inputs and writes named outputs (classifiers: pixel_values → logits
 * and pre_logits).
 */
import { ArgumentError } from '../errors.ts';
import type { Model } from '../models/index.ts';
import { noGrad } from '../tensor/autograd.ts';
import { cast } from '../tensor/ops/elementwise.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** Runs a model's forward on named inputs and returns its named outputs. */
export function inferNamed(model: Model, inputs: ReadonlyMap<string, Tensor>): Map<string, Tensor> {
  const pixels = inputs.get('pixel_values');
  if (!pixels) {
    throw new ArgumentError(`infer: ${model.modelName} expects an input named 'pixel_values' [N, 3, H, W]; got ${[...inputs.keys()].map((k) => `'${k}'`).join(', ') || 'none'}`);
  }
  model.eval();
  const dtype = model.parameters()[0]?.dtype ?? 'float32';
  return noGrad(() => {
    const features = model.forwardFeatures(cast(pixels, dtype));
    const preLogits = model.forwardHead(features, { preLogits: true });
    const outputs = new Map<string, Tensor>([['pre_logits', cast(preLogits, 'float32')]]);
    if (model.numClasses > 0) outputs.set('logits', cast(model.forwardHead(features), 'float32'));
    return outputs;
  });
}
