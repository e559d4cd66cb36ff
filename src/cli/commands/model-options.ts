/** The options shared by the commands that run one registry model (classify, infer), and the model they load. */
import type { Model } from '../../models/index.ts';
import type { OptionTable, OptionValues } from '../options.ts';

/** --model, --weights and --dtype. */
export const MODEL_OPTIONS = {
  model: { type: 'string', required: true, placeholder: 'name', help: 'registry model, optionally with a tag (resnet50.tv_in1k); tsvision models lists them' },
  weights: { type: 'string', placeholder: 'w', help: '.safetensors file, hub-layout folder, hub repo id or train --output directory (random weights without)' },
  dtype: { type: 'choice', choices: ['float32', 'bfloat16'], default: 'float32', placeholder: 'type', help: 'weights and compute type' },
} as const satisfies OptionTable;

/** The parsed values of MODEL_OPTIONS. */
export type ModelValues = OptionValues<typeof MODEL_OPTIONS>;

/**
 * Builds the model (and loads --weights) in eval mode. The random-weights warning comes after
 * the build, so an unknown model name is reported alone.
 */
export async function loadCliModel(values: ModelValues): Promise<Model> {
  const { createModel } = await import('../../tasks/pretrained.ts');
  const model = await createModel(values.model, { weights: values.weights });
  if (!values.weights) console.error(`tsvision: no --weights given: ${values.model} has random weights, so its outputs mean nothing`);
  model.eval();
  if (values.dtype === 'bfloat16') model.to('bfloat16');
  return model;
}
