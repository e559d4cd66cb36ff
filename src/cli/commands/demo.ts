/** `tsvision demo`: the engine end to end on a built-in synthetic dataset. */
import { defineCommand } from '../options.ts';

/** The demo command. */
export const demoCommand = defineCommand({
  summary: 'train a tiny conv net on a built-in synthetic dataset (no downloads)',
  options: {
    steps: { type: 'integer', min: 1, default: 100, placeholder: 'n', help: 'SGD steps' },
    seed: { type: 'integer', min: 0, default: 0, placeholder: 'n', help: 'random seed' },
  },
  async run(values) {
    const { runDemo } = await import('../demo.ts');
    runDemo({ steps: values.steps, seed: values.seed, print: (line) => console.log(line) });
  },
});
