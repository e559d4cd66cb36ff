/** `tsvision tokenize --model NAME_OR_DIR TEXT...`: token ids of texts as JSON, one array per line. */
import { existsSync } from 'node:fs';
import { defineCommand, UsageError } from '../options.ts';

/** The tokenize command. */
export const tokenizeCommand = defineCommand({
  summary: "print the token ids of texts with a model's tokenizer (JSON, one array per text)",
  description: [
    'Each text prints as one line holding a JSON array of ids with the start and end tokens, unpadded (--pad fills it to the context length with the padding id, 0 for CLIP). A text longer than the context length is cut as openai/CLIP does (its first tokens, the end token last), with a warning on stderr.',
    "The vocabulary comes from --vocab when given (bpe_simple_vocab_16e6.txt.gz, vocab.json or merges.txt, or a folder holding them), else from --model: a model folder in hub layout, or a registry model whose hub repo holds vocab.json and merges.txt (downloaded into the hub cache). Put texts that start with '-' after '--'.",
  ],
  positionals: { name: 'TEXT', help: 'texts to tokenize' },
  options: {
    model: { type: 'string', placeholder: 'name|dir', help: 'registry model (clip_vit_base_patch32) or a model folder holding its tokenizer files' },
    vocab: { type: 'string', placeholder: 'file', help: 'vocabulary file or folder, instead of the model\'s', check: (v) => (existsSync(v) ? null : `no such file or folder '${v}'`) },
    'context-length': { type: 'integer', min: 2, placeholder: 'n', help: 'tokens per text, start and end tokens included', defaultHelp: "the model's (77)" },
    pad: { type: 'boolean', help: 'pad each array to the context length' },
  },
  async run(values, texts) {
    const source = values.vocab ?? values.model;
    if (source === undefined) throw new UsageError('give --model (a registry model or model folder) or --vocab (a vocabulary file)', 'tokenize');
    const { loadTokenizer } = await import('../../text/load.ts');
    const tokenizer = await loadTokenizer(source, { contextLength: values['context-length'] });
    const batch = tokenizer.encodeBatch(texts, { onTruncate: (w) => console.error(`tsvision: warning: ${w.message}`) });
    const width = batch.inputIds.shape[1];
    const flat = batch.inputIds.toArray() as BigInt64Array;
    batch.rows.forEach((row, i) => {
      console.log(JSON.stringify(values.pad ? Array.from(flat.subarray(i * width, (i + 1) * width), Number) : row));
    });
  },
});
