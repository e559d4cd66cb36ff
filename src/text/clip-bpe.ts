/**
 * CLIP's byte-level BPE tokenizer, as openai/CLIP's `clip/simple_tokenizer.py` (SimpleTokenizer,
 * run without ftfy) and `clip.tokenize` do it (paper: Radford et al. 2021, arXiv:2103.00020):
 * `html.unescape` twice and Python's strip, whitespace runs to one space, Python-style
 * lower-casing, the pre-tokenization pattern, UTF-8 bytes as byte characters with `</w>` on each
 * word's last symbol, merges by rank, then `<|startoftext|>` ids `<|endoftext|>` padded with 0 to
 * 77 tokens. Step list: reference/multimodal.md §1.9.
 */
import { Buffer } from 'node:buffer';
import { ArgumentError } from '../errors.ts';
import { bpeMerge, type MergeRanks } from './bpe.ts';
import { bytesToChars, charsToBytes } from './byte-unicode.ts';
import { basicClean, PY_REGEX_SPACE, whitespaceClean } from './clean.ts';
import {
  checkContextLength, packRows, reportTruncation, TruncationWarning, type BatchOptions, type TokenizedBatch, type Tokenizer,
} from './tokenizer.ts';

/** CLIP's start and end tokens. */
export const CLIP_SOT = '<|startoftext|>';
export const CLIP_EOT = '<|endoftext|>';
/** Tokens per sequence of every CLIP model. */
export const CLIP_CONTEXT_LENGTH = 77;
/** Where `</w>` marks a word's end. */
export const WORD_END = '</w>';

/** A BPE vocabulary: token → id, and the merges in rank order. */
export interface BpeVocabulary {
  encoder: ReadonlyMap<string, number>;
  merges: readonly (readonly [string, string])[];
  /** The file(s) it came from, for messages. */
  source: string;
}

// The reference pattern with `iu` (Python `regex` with IGNORECASE), and Python's `\s`.
const PATTERN = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${PY_REGEX_SPACE}\\p{L}\\p{N}]+`,
  'giu',
);
// Under IGNORECASE, JS lets [\p{L}] match U+0345 (it case-folds to ι) while `regex` matches it with
// no alternative, so it only separates pieces, as whitespace does; a lookahead cannot exclude it,
// since under `i` it would exclude ι too.
const YPOGEGRAMMENI = /\u0345/g;
const LONE_SURROGATE = /\p{Cs}/u;
const DEFAULT_CACHE_ENTRIES = 20_000;

/** Options of {@link ClipBpeTokenizer}. */
export interface ClipBpeOptions {
  /** Default tokens per sequence; 77. */
  contextLength?: number;
  /** Words whose BPE result is kept (oldest dropped first); default 20000. */
  cacheEntries?: number;
}

class Ranks implements MergeRanks {
  private readonly byKey = new Map<string, number>();
  constructor(private readonly merges: readonly (readonly [string, string])[]) {
    // Symbols never hold a space (byte characters and `</w>` only), so one joins the key; a repeated
    // pair takes its last rank, as the reference's dict(zip(merges, range(...))) does.
    merges.forEach(([a, b], r) => this.byKey.set(`${a} ${b}`, r));
  }
  rank(left: string, right: string): number | undefined {
    return this.byKey.get(`${left} ${right}`);
  }
  pair(rank: number): readonly [string, string] {
    return this.merges[rank];
  }
}

/** CLIP's byte-level BPE tokenizer over a vocabulary (see loadTokenizer for reading one from files). */
export class ClipBpeTokenizer implements Tokenizer {
  readonly kind = 'clip-bpe' as const;
  readonly contextLength: number;
  readonly sotId: number;
  readonly eotId: number;
  /** Padding id of clip.tokenize. */
  readonly padId = 0;
  private readonly encoder: ReadonlyMap<string, number>;
  private readonly decoder = new Map<number, string>();
  private readonly ranks: Ranks;
  private readonly cache = new Map<string, number[]>();
  private readonly cacheEntries: number;

  constructor(vocab: BpeVocabulary, options: ClipBpeOptions = {}) {
    this.encoder = vocab.encoder;
    for (const [token, id] of vocab.encoder) this.decoder.set(id, token);
    this.ranks = new Ranks(vocab.merges);
    const special = (token: string) => {
      const id = vocab.encoder.get(token);
      if (id === undefined) throw new ArgumentError(`ClipBpeTokenizer: the vocabulary of ${vocab.source} has no ${token}`);
      return id;
    };
    this.sotId = special(CLIP_SOT);
    this.eotId = special(CLIP_EOT);
    this.contextLength = options.contextLength ?? CLIP_CONTEXT_LENGTH;
    checkContextLength(this.contextLength, 2);
    this.cacheEntries = options.cacheEntries ?? DEFAULT_CACHE_ENTRIES;
  }

  get vocabSize(): number {
    return this.encoder.size;
  }

  /** The text as the reference sees it before splitting: cleaned, whitespace-collapsed, lower-cased. */
  normalize(text: string): string {
    if (typeof text !== 'string') throw new ArgumentError(`ClipBpeTokenizer: expected a string, got ${typeof text}`);
    const surrogate = LONE_SURROGATE.exec(text);
    if (surrogate) {
      throw new ArgumentError(`ClipBpeTokenizer: the text has a lone surrogate U+${surrogate[0].charCodeAt(0).toString(16).toUpperCase()} at index ${surrogate.index}, which has no UTF-8 encoding`);
    }
    return whitespaceClean(basicClean(text)).toLowerCase();
  }

  /** Ids of a text, without the start and end tokens (SimpleTokenizer.encode). */
  encode(text: string): number[] {
    return this.encodeUpTo(text, Infinity);
  }

  // Stops once more than `limit` ids are out: a batch row needs only its first context-length ids.
  private encodeUpTo(text: string, limit: number): number[] {
    const ids: number[] = [];
    for (const match of this.normalize(text).replace(YPOGEGRAMMENI, ' ').matchAll(PATTERN)) {
      const piece = match[0];
      if (piece === CLIP_SOT || piece === CLIP_EOT) ids.push(piece === CLIP_SOT ? this.sotId : this.eotId);
      else for (const id of this.wordIds(bytesToChars(Buffer.from(piece, 'utf8')))) ids.push(id);
      if (ids.length > limit) break;
    }
    return ids;
  }

  private wordIds(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const symbols = Array.from(word);
    symbols[symbols.length - 1] += WORD_END;
    const ids = bpeMerge(symbols, this.ranks).map((s) => this.idOf(s));
    if (this.cache.size >= this.cacheEntries) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(word, ids);
    return ids;
  }

  private idOf(token: string): number {
    const id = this.encoder.get(token);
    if (id === undefined) throw new ArgumentError(`ClipBpeTokenizer: BPE produced '${token}', which is not in the vocabulary`);
    return id;
  }

  /** The text of ids: byte characters back to UTF-8 (invalid sequences become U+FFFD), `</w>` as a space. */
  decode(ids: readonly number[]): string {
    let chars = '';
    for (const id of ids) {
      const token = this.decoder.get(id);
      if (token === undefined) throw new ArgumentError(`ClipBpeTokenizer.decode: id ${id} is not in the vocabulary (ids are integers in [0, ${this.vocabSize}))`);
      chars += token;
    }
    const bytes = charsToBytes(chars);
    if (!bytes) throw new ArgumentError(`ClipBpeTokenizer.decode: the tokens of ${JSON.stringify(ids.slice(0, 10))} hold characters that stand for no byte`);
    return new TextDecoder('utf-8').decode(bytes).replaceAll(WORD_END, ' ');
  }

  /**
   * clip.tokenize: `[SOT] + ids + [EOT]` per text, padded with 0; a text longer than the context
   * keeps its first tokens with EOT in the last place (truncate=True), with a warning.
   */
  encodeBatch(texts: readonly string[], options: BatchOptions = {}): TokenizedBatch {
    const contextLength = options.contextLength ?? this.contextLength;
    checkContextLength(contextLength, 2);
    const rows: number[][] = [];
    const truncated: boolean[] = [];
    texts.forEach((text, b) => {
      const ids = this.encodeUpTo(text, contextLength - 2);
      const row = [this.sotId, ...ids, this.eotId];
      const cut = row.length > contextLength;
      if (cut) {
        if (options.truncate === false) {
          throw new ArgumentError(`ClipBpeTokenizer: text ${b} has more than ${contextLength} tokens with its special tokens (the context length); pass truncate: true to cut it`);
        }
        row.length = contextLength;
        row[contextLength - 1] = this.eotId;
        reportTruncation(new TruncationWarning(b, contextLength, text), options.onTruncate);
      }
      rows.push(row);
      truncated.push(cut);
    });
    return { ...packRows(rows, contextLength, options.padId ?? this.padId), rows, truncated };
  }
}
