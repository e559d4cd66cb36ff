/**
 * Hugging Face tokenizer files made from a BPE vocabulary, laid out as transformers'
 * CLIPTokenizer.save_vocabulary writes them: vocab.json is
 * `json.dumps(encoder, indent=2, sort_keys=True, ensure_ascii=False) + "\n"` (keys in code point
 * order; CLIP's tokens are all BMP characters, so UTF-16 order is the same), merges.txt is
 * `#version: 0.2` then one `left right` line per merge in rank order. The parity test checks the
 * bytes against the sha256 the Python oracle recorded for the files it wrote the same way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BpeVocabulary } from '../../src/text/index.ts';

/** Writes vocab.json and merges.txt into `dir` and returns their paths. */
export function writeHfVocab(vocab: BpeVocabulary, dir: string): { vocabFile: string; mergesFile: string } {
  fs.mkdirSync(dir, { recursive: true });
  const tokens = [...vocab.encoder.keys()].sort();
  // Entries one per line, as Python's indent=2 writes them; a JS object would reorder integer-like keys.
  const vocabText = `{\n${tokens.map((t) => `  ${JSON.stringify(t)}: ${vocab.encoder.get(t)}`).join(',\n')}\n}\n`;
  const mergesText = `#version: 0.2\n${vocab.merges.map(([a, b]) => `${a} ${b}\n`).join('')}`;
  const vocabFile = path.join(dir, 'vocab.json');
  const mergesFile = path.join(dir, 'merges.txt');
  fs.writeFileSync(vocabFile, vocabText);
  fs.writeFileSync(mergesFile, mergesText);
  return { vocabFile, mergesFile };
}

/** The OpenAI merges file the tests read: the copy in ../shared/data beside the repository. */
export const SHARED_BPE_GZ = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'data', 'clip-bpe-vocab-16e6.txt.gz');
