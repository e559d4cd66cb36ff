/**
 * What every text tokenizer gives (CLIP's byte-level BPE here, BERT's WordPiece later): ids of a
 * text without special tokens, text back from ids, and a padded batch of `input_ids` and
 * `attention_mask` tensors at a context length, with the rows that had to be truncated.
 */
import { ArgumentError } from '../errors.ts';
import { fromTypedArray } from '../tensor/creation.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** A text whose tokens did not fit the context length and were cut. */
export class TruncationWarning extends Error {
  /** Row of the batch. */
  readonly row: number;
  readonly contextLength: number;
  constructor(row: number, contextLength: number, text: string) {
    const shown = text.length > 60 ? `${text.slice(0, 57)}...` : text;
    super(`text ${row} (${JSON.stringify(shown)}) has more tokens than the context length ${contextLength} (special tokens included); it is cut to its first ${contextLength}`);
    this.name = 'TruncationWarning';
    this.row = row;
    this.contextLength = contextLength;
  }
}

/** Options of {@link Tokenizer.encodeBatch}. */
export interface BatchOptions {
  /** Tokens per row, special tokens included; default the tokenizer's context length. */
  contextLength?: number;
  /** Cut a text that is too long (default), or throw an ArgumentError as the reference does with truncate=False. */
  truncate?: boolean;
  /** Receives each cut text; without it the warning goes through process.emitWarning. */
  onTruncate?: (warning: TruncationWarning) => void;
  /** Id that fills rows after their last token; default the tokenizer's padding id. */
  padId?: number;
}

/** A tokenized batch: B texts at context length L. */
export interface TokenizedBatch {
  /** int64 [B, L]: special tokens included, padded with the padding id. */
  inputIds: Tensor;
  /** int64 [B, L]: 1 on tokens, 0 on padding. */
  attentionMask: Tensor;
  /** Each row's ids before padding (after truncation). */
  rows: number[][];
  /** Whether each row was cut to fit. */
  truncated: boolean[];
}

/** A text tokenizer. */
export interface Tokenizer {
  /** Which algorithm, as a model's TextPreprocessCfg names it. */
  readonly kind: 'clip-bpe' | 'wordpiece';
  readonly vocabSize: number;
  /** Default tokens per sequence, special tokens included. */
  readonly contextLength: number;
  /** Ids of a text, without special tokens. */
  encode(text: string): number[];
  /** The text of ids (special tokens included as their strings). */
  decode(ids: readonly number[]): string;
  /** Tokenizes texts with their special tokens, padded or cut to the context length. */
  encodeBatch(texts: readonly string[], options?: BatchOptions): TokenizedBatch;
}

/** Checks a context length given to a tokenizer: an integer with room for the special tokens. */
export function checkContextLength(contextLength: number, minimum: number): void {
  if (!Number.isSafeInteger(contextLength) || contextLength < minimum) {
    throw new ArgumentError(`tokenizer: context length must be an integer >= ${minimum} (room for the special tokens), got ${contextLength}`);
  }
}

/** Packs rows of ids (each at most `contextLength` long) into int64 input_ids and attention_mask tensors. */
export function packRows(rows: readonly (readonly number[])[], contextLength: number, padId: number): { inputIds: Tensor; attentionMask: Tensor } {
  const ids = new BigInt64Array(rows.length * contextLength).fill(BigInt(padId));
  const mask = new BigInt64Array(rows.length * contextLength);
  rows.forEach((row, b) => {
    if (row.length > contextLength) throw new ArgumentError(`packRows: row ${b} has ${row.length} ids, more than the context length ${contextLength}`);
    for (let t = 0; t < row.length; ++t) {
      ids[b * contextLength + t] = BigInt(row[t]);
      mask[b * contextLength + t] = 1n;
    }
  });
  const shape = [rows.length, contextLength]; // (B, L)
  return { inputIds: fromTypedArray(ids, shape), attentionMask: fromTypedArray(mask, shape) };
}

/** Reports a cut text to `onTruncate`, or as a process warning when none is given. */
export function reportTruncation(warning: TruncationWarning, onTruncate: ((w: TruncationWarning) => void) | undefined): void {
  if (onTruncate) onTruncate(warning);
  else process.emitWarning(warning);
}
