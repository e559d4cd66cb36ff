/**
 * A tokenizer from where its vocabulary lives: a vocabulary file, a model folder in hub layout
 * (`vocab.json` + `merges.txt`, or OpenAI's `bpe_simple_vocab_16e6.txt.gz`), or a registry model
 * name, whose pretrained cfg names the hub repo the files are fetched from into the hub cache.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ArgumentError, VocabularyError } from '../errors.ts';
import { hubDownload, HubError, type HubOptions } from '../io/hub.ts';
import { ClipBpeTokenizer, CLIP_CONTEXT_LENGTH, type BpeVocabulary } from './clip-bpe.ts';
import type { Tokenizer } from './tokenizer.ts';
import { readHfBpe, readOpenAiBpe } from './vocab-files.ts';

/** OpenAI's merges file as openai/CLIP ships it. */
export const OPENAI_BPE_FILE = 'bpe_simple_vocab_16e6.txt.gz';
const HF_VOCAB = 'vocab.json';
const HF_MERGES = 'merges.txt';

/** Options of {@link loadTokenizer}. */
export interface LoadTokenizerOptions extends HubOptions {
  /** Tokens per sequence; default the model's (77 for CLIP). */
  contextLength?: number;
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** A CLIP BPE vocabulary from a file (a `.gz` merges file, `vocab.json` or `merges.txt` beside its partner) or a folder holding one. */
export function readBpeVocabulary(fileOrDir: string): BpeVocabulary {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(fileOrDir);
  } catch {
    throw new VocabularyError(fileOrDir, 'no such file or folder');
  }
  if (stat.isDirectory()) {
    const inDir = (name: string) => path.join(fileOrDir, name);
    if (isFile(inDir(HF_VOCAB)) && isFile(inDir(HF_MERGES))) return readHfBpe(inDir(HF_VOCAB), inDir(HF_MERGES));
    if (isFile(inDir(OPENAI_BPE_FILE))) return readOpenAiBpe(inDir(OPENAI_BPE_FILE));
    const listing = fs.readdirSync(fileOrDir).sort();
    const shown = listing.slice(0, 20).join(', ') + (listing.length > 20 ? `, ... (${listing.length} in all)` : '');
    throw new VocabularyError(fileOrDir, `holds no tokenizer vocabulary: expected ${HF_VOCAB} + ${HF_MERGES} or ${OPENAI_BPE_FILE} (it holds: ${shown || 'nothing'})`);
  }
  const base = path.basename(fileOrDir);
  if (base.endsWith('.gz')) return readOpenAiBpe(fileOrDir);
  if (base === HF_VOCAB || base === HF_MERGES) {
    const dir = path.dirname(fileOrDir);
    const partner = path.join(dir, base === HF_VOCAB ? HF_MERGES : HF_VOCAB);
    if (!isFile(partner)) throw new VocabularyError(partner, `no such file; ${fileOrDir} needs it beside it`);
    return readHfBpe(path.join(dir, HF_VOCAB), path.join(dir, HF_MERGES));
  }
  throw new VocabularyError(fileOrDir, `is not a tokenizer vocabulary: expected a .gz merges file (${OPENAI_BPE_FILE}), ${HF_VOCAB} or ${HF_MERGES}, or a folder holding them`);
}

async function vocabularyOfModel(name: string, options: LoadTokenizerOptions): Promise<{ vocab: BpeVocabulary; contextLength: number }> {
  const { resolveModel } = await import('../models/index.ts');
  const { cfg } = resolveModel(name);
  const text = cfg.preprocess.text;
  if (!text) throw new ArgumentError(`model '${name}' reads no text, so it has no tokenizer`);
  if (text.tokenizer !== 'clip-bpe') throw new ArgumentError(`model '${name}' uses the ${text.tokenizer} tokenizer; loadTokenizer reads only clip-bpe vocabularies so far`);
  const repo = text.vocabHubId ?? cfg.hubId;
  if (!repo) throw new ArgumentError(`model '${name}' names no hub repo for its vocabulary; give the vocabulary file or folder instead`);
  try {
    const vocabFile = await hubDownload(repo, HF_VOCAB, options);
    const mergesFile = await hubDownload(repo, HF_MERGES, options);
    return { vocab: readHfBpe(vocabFile, mergesFile), contextLength: text.contextLength };
  } catch (error) {
    if (!(error instanceof HubError)) throw error;
    throw new VocabularyError(`hub repo ${repo}`, `the vocabulary of model '${name}' could not be fetched (${error.message}); give a local ${HF_VOCAB} + ${HF_MERGES} or ${OPENAI_BPE_FILE} instead`);
  }
}

// A spec that names a path: it exists, or it has a path separator or a vocabulary file's suffix.
function looksLikePath(spec: string): boolean {
  return fs.existsSync(spec) || /[\\/]/.test(spec) || /\.(gz|json|txt)$/.test(spec);
}

/**
 * The tokenizer of `spec`: a vocabulary file, a model folder, or a registry model name (`clip_vit_base_patch32`),
 * whose vocabulary comes from its hub repo (downloaded into the hub cache, or taken from it offline).
 */
export async function loadTokenizer(spec: string, options: LoadTokenizerOptions = {}): Promise<Tokenizer> {
  if (typeof spec !== 'string' || spec === '') throw new ArgumentError(`loadTokenizer: expected a vocabulary file, a model folder or a model name, got ${JSON.stringify(spec)}`);
  if (looksLikePath(spec)) {
    return new ClipBpeTokenizer(readBpeVocabulary(spec), { contextLength: options.contextLength ?? CLIP_CONTEXT_LENGTH });
  }
  const { vocab, contextLength } = await vocabularyOfModel(spec, options);
  return new ClipBpeTokenizer(vocab, { contextLength: options.contextLength ?? contextLength });
}
