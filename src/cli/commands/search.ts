/** `tsvision search INDEX "a red car"` / `--image query.jpg`: the indexed images nearest to a text or an image. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defineCommand, UsageError } from '../options.ts';
import { inputFileProblem } from '../paths.ts';

/** The search command. */
export const searchCommand = defineCommand({
  summary: 'find the images of an index (tsvision index) nearest to a text or an image',
  description: [
    'The model and weights are the ones the index was built with, unless --model/--weights say otherwise (another model or embedding size is refused). Scores are cosine similarities of CLIP embeddings.',
  ],
  positionals: { name: 'INDEX [TEXT]', help: 'index folder, then the text to search for (or --image)' },
  options: {
    image: { type: 'string', placeholder: 'file', help: 'search by example: images nearest to this one', check: inputFileProblem },
    top: { type: 'integer', min: 1, default: 10, placeholder: 'k', help: 'results' },
    model: { type: 'string', placeholder: 'name', help: 'CLIP registry model', defaultHelp: "the index's" },
    weights: { type: 'string', placeholder: 'w', help: 'weights for the model', defaultHelp: "the index's" },
    vocab: { type: 'string', placeholder: 'file', help: 'tokenizer vocabulary file or folder', check: inputFileProblem },
    json: { type: 'boolean', help: 'print one JSON object per result' },
  },
  async run(values, positionals) {
    const [index, text, ...extra] = positionals;
    if (index === undefined) throw new UsageError('give the INDEX folder', 'search');
    if (extra.length > 0 || (text === undefined) === (values.image === undefined)) {
      throw new UsageError(`give either a TEXT after INDEX or --image FILE, exactly one; got ${text === undefined ? 'no text' : 'a text'} and ${values.image === undefined ? 'no --image' : '--image'}${extra.length ? ` and ${extra.length} more argument(s)` : ''}`, 'search');
    }
    const { ImageIndexStore } = await import('../../io/image-index-store.ts');
    const store = await ImageIndexStore.open(index);
    const meta = store.meta;
    try {
      if (values.model) store.expectModel(values.model);
    } finally {
      store.close();
    }
    const { createModel } = await import('../../tasks/pretrained.ts');
    const weights = values.weights ?? meta.weights ?? undefined;
    const model = await createModel(values.model ?? meta.model, { weights });
    if (!weights) console.error(`tsvision: the index names no weights: ${meta.model} has random weights, so the scores mean nothing`);
    model.eval();
    const { asClipModel } = await import('../../tasks/zero-shot.ts');
    const { searchImages } = await import('../../tasks/image-index.ts');
    const clip = asClipModel(model, 'search');
    let query;
    if (text !== undefined) {
      const { loadTokenizer } = await import('../../text/load.ts');
      const folder = weights && existsSync(join(weights, 'vocab.json')) ? weights : undefined;
      query = { text, tokenizer: await loadTokenizer(values.vocab ?? folder ?? meta.model) };
    } else {
      query = { image: values.image! };
    }
    const hits = await searchImages(clip, index, query, values.top);
    for (const hit of hits) console.log(values.json ? JSON.stringify({ path: hit.path, file: hit.file, score: hit.score }) : `${hit.score.toFixed(4)}  ${hit.file}`);
  },
});
