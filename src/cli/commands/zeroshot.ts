/** `tsvision zeroshot IMAGE... --labels "cat,dog,car"`: CLIP zero-shot classification with prompt templates. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { defineCommand, UsageError } from '../options.ts';
import { inputFileProblem } from '../paths.ts';
import { loadCliModel, MODEL_OPTIONS } from './model-options.ts';

/** Class names from --labels: a comma-separated list, or a file with one name per line. */
export function parseLabelList(spec: string): string[] {
  const fromFile = existsSync(spec) && statSync(spec).isFile();
  const labels = (fromFile ? readFileSync(spec, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '') : spec.split(',')).map((l) => l.trim());
  const blank = labels.findIndex((l) => l === '');
  if (labels.length === 0 || blank >= 0) {
    throw new UsageError(`--labels needs class names separated by commas (or a file with one per line), got ${JSON.stringify(spec)}${blank >= 0 ? ` with an empty name at position ${blank + 1}` : ''}`, 'zeroshot');
  }
  return labels;
}

/** The zeroshot command. */
export const zeroshotCommand = defineCommand({
  summary: 'classify images into any class names with CLIP (zero-shot, prompt templates)',
  description: [
    "Each class name goes into every prompt template ('a photo of a {}.'; by default the 80 ImageNet templates of the CLIP paper), the prompts' text embeddings are averaged per class, and each image goes to the classes whose text is most similar.",
    'The tokenizer comes from --vocab when given, else from --weights when it is a folder holding vocab.json + merges.txt, else from the model\'s hub repo.',
  ],
  positionals: { name: 'IMAGE', help: 'image files (PNG, JPEG, WebP, ...)' },
  options: {
    ...MODEL_OPTIONS,
    model: { type: 'string', default: 'clip_vit_base_patch32', placeholder: 'name', help: 'CLIP registry model (tsvision models clip lists them)' },
    labels: { type: 'string', required: true, placeholder: 'a,b,c|file', help: 'class names, comma-separated, or a file with one per line' },
    template: { type: 'repeated', placeholder: 'text', help: "prompt template with {} for the class name (default: CLIP's 80 ImageNet templates)" },
    vocab: { type: 'string', placeholder: 'file', help: 'tokenizer vocabulary file or folder', check: inputFileProblem },
    top: { type: 'integer', min: 1, default: 5, placeholder: 'k', help: 'classes per image' },
    json: { type: 'boolean', help: 'print one JSON object per image' },
  },
  async run(values, images) {
    if (images.length === 0) throw new UsageError('give at least one IMAGE', 'zeroshot');
    const labels = parseLabelList(values.labels);
    const model = await loadCliModel(values);
    const { asClipModel, zeroShot } = await import('../../tasks/zero-shot.ts');
    const { loadTokenizer } = await import('../../text/load.ts');
    const folder = values.weights && existsSync(join(values.weights, 'vocab.json')) ? values.weights : undefined;
    const tokenizer = await loadTokenizer(values.vocab ?? folder ?? values.model);
    const templates = values.template.length > 0 ? values.template : undefined;
    const results = await zeroShot(asClipModel(model, 'zeroshot'), tokenizer, images, labels, { templates, topK: values.top });
    results.forEach((predictions, i) => {
      if (values.json) {
        console.log(JSON.stringify({ image: images[i], predictions: predictions.map(({ label, probability }) => ({ label, probability })) }));
        return;
      }
      console.log(images[i]);
      for (const p of predictions) console.log(`  ${(p.probability * 100).toFixed(2).padStart(6)}%  ${p.label}`);
    });
  },
});
