/** `tsvision models`: the registry with parameter counts, input sizes and default tags. */
import { defineCommand } from '../options.ts';

/** The models command. */
export const modelsCommand = defineCommand({
  summary: 'list the registered models with parameter counts and input sizes',
  options: {
    filter: { type: 'string', placeholder: 'pattern', help: 'a glob (vit_*) or substring' },
  },
  async run(values) {
    const { listModels, resolveModel } = await import('../../models/index.ts');
    const { imagePreprocess } = await import('../../models/contract.ts');
    const names = listModels(values.filter);
    const width = Math.max(5, ...names.map((n) => n.length));
    console.log(`${'model'.padEnd(width)}  ${'params'.padStart(8)}  input      default tag`);
    for (const name of names) {
      const { entry, tag, cfg } = resolveModel(name);
      const image = imagePreprocess(cfg);
      const input = image ? `${image.inputSize[1]}x${image.inputSize[2]}` : (cfg.preprocess.volume?.roiSize.join('x') ?? '-');
      console.log(`${name.padEnd(width)}  ${(entry.paramCount / 1e6).toFixed(2).padStart(7)}M  ${input.padEnd(9)}  ${tag}`);
    }
  },
});
