/** Text tokenizers: CLIP's byte-level BPE, the shared Tokenizer interface, vocabulary readers and loaders. */
export { type Tokenizer, type TokenizedBatch, type BatchOptions, TruncationWarning, packRows } from './tokenizer.ts';
export { ClipBpeTokenizer, CLIP_SOT, CLIP_EOT, CLIP_CONTEXT_LENGTH, type BpeVocabulary, type ClipBpeOptions } from './clip-bpe.ts';
export { readOpenAiBpe, readHfBpe, OPENAI_MERGE_COUNT } from './vocab-files.ts';
export { loadTokenizer, readBpeVocabulary, OPENAI_BPE_FILE, type LoadTokenizerOptions } from './load.ts';
export { htmlUnescape } from './html-unescape.ts';
export { basicClean, whitespaceClean, pyStrip } from './clean.ts';
export { bpeMerge, type MergeRanks } from './bpe.ts';
