/**
 * Readers of CLIP BPE vocabularies: OpenAI's `bpe_simple_vocab_16e6.txt.gz` (merges only; the
 * vocabulary is built from them as SimpleTokenizer does) and the Hugging Face pair `vocab.json` +
 * `merges.txt` (as CLIPTokenizer reads them). Both give a BpeVocabulary, checked so that every
 * BPE result has an id: a missing, truncated or malformed file is a VocabularyError naming the
 * file, the line and what was wrong.
 */
import fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { VocabularyError } from '../errors.ts';
import { BYTE_CHARS_IN_VOCAB_ORDER } from './byte-unicode.ts';
import { CLIP_EOT, CLIP_SOT, WORD_END, type BpeVocabulary } from './clip-bpe.ts';

/** Merges SimpleTokenizer takes from the OpenAI file: 49152 - 256 - 2 (its lines 1..48894). */
export const OPENAI_MERGE_COUNT = 49152 - 256 - 2;

function readBytes(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new VocabularyError(file, code === 'ENOENT' ? 'no such file' : `cannot read the file: ${(error as Error).message}`);
  }
}

function decodeUtf8(file: string, bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new VocabularyError(file, 'is not UTF-8 text');
  }
}

// Python's str.split() on a merge line: runs of whitespace separate, none at the ends count.
function splitMerge(file: string, line: string, lineNo: number): [string, string] {
  const parts = line.split(/[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u).filter((p) => p !== '');
  if (parts.length !== 2) throw new VocabularyError(file, `line ${lineNo}: expected a merge 'left right', got ${JSON.stringify(line.slice(0, 80))}`);
  return [parts[0], parts[1]];
}

/** OpenAI's gzipped merges file (`bpe_simple_vocab_16e6.txt.gz`) as SimpleTokenizer reads it: header line, then 48894 merges. */
export function readOpenAiBpe(file: string): BpeVocabulary {
  let text: string;
  try {
    text = decodeUtf8(file, gunzipSync(readBytes(file)));
  } catch (error) {
    if (error instanceof VocabularyError) throw error;
    throw new VocabularyError(file, `is not a complete gzip file (${(error as Error).message}); expected OpenAI's bpe_simple_vocab_16e6.txt.gz`);
  }
  const lines = text.split('\n');
  if (lines.length < OPENAI_MERGE_COUNT + 1) {
    throw new VocabularyError(file, `holds ${Math.max(0, lines.length - 1)} merge lines after its header; CLIP needs ${OPENAI_MERGE_COUNT}`);
  }
  const merges = lines.slice(1, OPENAI_MERGE_COUNT + 1).map((line, i) => splitMerge(file, line, i + 2));
  const tokens = [...BYTE_CHARS_IN_VOCAB_ORDER, ...BYTE_CHARS_IN_VOCAB_ORDER.map((c) => c + WORD_END), ...merges.map(([a, b]) => a + b), CLIP_SOT, CLIP_EOT];
  // Later duplicates win, as in the reference's dict(zip(vocab, range(len(vocab)))).
  const encoder = new Map<string, number>(tokens.map((t, id) => [t, id]));
  return { encoder, merges, source: file };
}

function readVocabJson(file: string): Map<string, number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeUtf8(file, readBytes(file)));
  } catch (error) {
    if (error instanceof VocabularyError) throw error;
    throw new VocabularyError(file, `is not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new VocabularyError(file, `expected a JSON object of token: id, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  const encoder = new Map<string, number>();
  for (const [token, id] of Object.entries(parsed)) {
    if (!Number.isSafeInteger(id) || (id as number) < 0) throw new VocabularyError(file, `token ${JSON.stringify(token)} has id ${JSON.stringify(id)}; ids are non-negative integers`);
    encoder.set(token, id as number);
  }
  return encoder;
}

function readMergesTxt(file: string): [string, string][] {
  // CLIPTokenizer strips the text and skips the first line, the '#version' header.
  const lines = decodeUtf8(file, readBytes(file)).trim().split('\n');
  const start = lines[0]?.startsWith('#') ? 1 : 0;
  return lines.slice(start).map((line, i) => splitMerge(file, line, start + i + 1));
}

function checkCovered(vocabFile: string, mergesFile: string, encoder: ReadonlyMap<string, number>, merges: readonly (readonly [string, string])[]): void {
  for (const c of BYTE_CHARS_IN_VOCAB_ORDER) {
    for (const token of [c, c + WORD_END]) {
      if (!encoder.has(token)) throw new VocabularyError(vocabFile, `lacks the byte token ${JSON.stringify(token)}; a CLIP vocabulary has all 256 byte characters, alone and with ${WORD_END}`);
    }
  }
  for (const token of [CLIP_SOT, CLIP_EOT]) if (!encoder.has(token)) throw new VocabularyError(vocabFile, `lacks the special token ${token}`);
  merges.forEach(([a, b], i) => {
    if (!encoder.has(a + b)) throw new VocabularyError(mergesFile, `merge ${i + 1} '${a} ${b}' makes '${a + b}', which ${vocabFile} lacks`);
  });
}

/** The Hugging Face pair `vocab.json` + `merges.txt` (hub repos such as openai/clip-vit-base-patch32), checked against each other. */
export function readHfBpe(vocabFile: string, mergesFile: string): BpeVocabulary {
  const encoder = readVocabJson(vocabFile);
  const merges = readMergesTxt(mergesFile);
  checkCovered(vocabFile, mergesFile, encoder, merges);
  return { encoder, merges, source: `${vocabFile} + ${mergesFile}` };
}
