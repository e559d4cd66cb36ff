/** `tsvision classify IMAGE...`: top-k labels and probabilities per image. */
import { defineCommand } from '../options.ts';
import { inputFileProblem } from '../paths.ts';
import { loadCliModel, MODEL_OPTIONS } from './model-options.ts';

/** The classify command. */
export const classifyCommand = defineCommand({
  summary: 'classify images with a model (top-k labels and probabilities)',
  positionals: { name: 'IMAGE', help: 'image files (PNG, JPEG, WebP, ...), resized and cropped as the model was trained' },
  options: {
    ...MODEL_OPTIONS,
    top: { type: 'integer', min: 1, default: 5, placeholder: 'k', help: 'classes per image' },
    labels: { type: 'string', placeholder: 'file', help: "one label per line (default: the model's label set)", check: inputFileProblem },
  },
  async run(values, images) {
    const model = await loadCliModel(values);
    const { classify } = await import('../../tasks/classify.ts');
    const results = await classify(model, images, { topK: values.top, labels: values.labels });
    results.forEach((predictions, i) => {
      console.log(images[i]);
      for (const p of predictions) console.log(`  ${(p.probability * 100).toFixed(2).padStart(6)}%  ${p.label} (${p.index})`);
    });
  },
});
