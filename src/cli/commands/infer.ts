/** `tsvision infer`: named input tensors in, the model's named outputs out (safetensors). */
import { ArgumentError, formatShape } from '../../errors.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { defineCommand } from '../options.ts';
import { inputFileProblem } from '../paths.ts';
import { loadCliModel, MODEL_OPTIONS } from './model-options.ts';

/** The infer command. */
export const inferCommand = defineCommand({
  summary: 'run a model on named input tensors and write its named outputs (safetensors)',
  description: [
    "The inputs are the tensors named by the model's input spec: an image classifier takes pixel_values [N, C, H, W] at its input size (tsvision models shows it); a model with more inputs (input_ids, attention_mask, pixel_mask, ...) takes each by its name. Give --input once per file; the tensors of all files are merged by name.",
    'The outputs are the named outputs of the model (an image classifier writes logits and pre_logits), in float32.',
  ],
  options: {
    ...MODEL_OPTIONS,
    input: { type: 'repeated', required: true, placeholder: 'file', help: 'safetensors file of named input tensors', check: inputFileProblem },
    output: { type: 'string', required: true, placeholder: 'file', help: 'safetensors file to write (checked before the inputs are read)' },
  },
  async run(values) {
    const { checkOutputPath, readSafetensors, writeSafetensors } = await import('../../io/safetensors.ts');
    checkOutputPath(values.output);
    const inputs = new Map<string, Tensor>();
    const source = new Map<string, string>();
    for (const file of values.input) {
      for (const [name, tensor] of readSafetensors(file).tensors) {
        if (source.has(name)) throw new ArgumentError(`infer: the input '${name}' is in both ${source.get(name)} and ${file}; give each input once`);
        source.set(name, file);
        inputs.set(name, tensor);
      }
    }
    const { inferNamed } = await import('../../tasks/infer.ts');
    const model = await loadCliModel(values);
    const outputs = inferNamed(model, inputs);
    writeSafetensors(values.output, outputs, { model: model.modelName, producer: 'tsvision infer' });
    for (const [name, t] of outputs) console.log(`${name}: ${formatShape(t.shape)} ${t.dtype}`);
  },
});
