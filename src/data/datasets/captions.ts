/**
 * Image–caption pairs from files, as open_clip reads them: a captions table (CSV, TSV or JSON
 * Lines) with an image-path column and a caption column, image paths relative to the table's
 * folder; or WebDataset shards whose samples hold an image and a `.txt` caption (or a `.json`
 * with "caption" or "text"). Corrupt images fail naming the file, or are reported and skipped.
 */
import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ArgumentError } from '../../errors.ts';
import { decodeImage } from '../../io/image.ts';
import { DatasetError, type SampleError } from './image-folder.ts';
import type { CaptionDataset, CaptionSample } from './shapes-captions.ts';
import { checkIndex, type Dataset, type IterableDataset, type OnError, type Sample } from './types.ts';
import type { WebDataset } from './webdataset.ts';

/** Column names tried, in order, when none is given (open_clip's defaults first). */
export const IMAGE_KEYS = ['filepath', 'image', 'file', 'path', 'filename'] as const;
export const CAPTION_KEYS = ['title', 'caption', 'text'] as const;

/** Options of ImageCaptionTable. */
export interface ImageCaptionTableOptions {
  /** Column holding the image path (default: the first of IMAGE_KEYS present). */
  imageKey?: string;
  /** Column holding the caption (default: the first of CAPTION_KEYS present). */
  captionKey?: string;
  /** 'fail' (default) throws a DatasetError naming the file; 'skip' reports it and returns null. */
  onError?: OnError;
  /** Called for each skipped image under 'skip'; the default emits a process warning. */
  onSkip?: (error: SampleError) => void;
}

type Row = Record<string, unknown>;

// Rows of a .csv, .tsv or .jsonl/.json table, as objects keyed by column name.
function readRows(file: string): Row[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new DatasetError(`captions: cannot read ${file}: ${(e as Error).message}`);
  }
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.json') {
    return text.split(/\r?\n/).flatMap((line, i) => {
      if (line.trim() === '') return [];
      try {
        const row = JSON.parse(line) as unknown;
        if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new Error('expected an object');
        return [row as Row];
      } catch (e) {
        throw new DatasetError(`captions: ${file} line ${i + 1} is not a JSON object: ${(e as Error).message}`);
      }
    });
  }
  if (ext !== '.csv' && ext !== '.tsv') throw new DatasetError(`captions: ${file} must be .csv, .tsv or .jsonl, got '${ext || 'no extension'}'`);
  try {
    return parse(text, { columns: true, delimiter: ext === '.tsv' ? '\t' : ',', skip_empty_lines: true, bom: true, relax_quotes: ext === '.tsv' }) as Row[];
  } catch (e) {
    throw new DatasetError(`captions: cannot parse ${file}: ${(e as Error).message}`);
  }
}

function pickKey(file: string, rows: Row[], given: string | undefined, candidates: readonly string[], what: string): string {
  const columns = Object.keys(rows[0]);
  const key = given ?? candidates.find((c) => columns.includes(c));
  if (key === undefined || !columns.includes(key)) {
    throw new DatasetError(`captions: ${file} has no ${what} column ${given ? `'${given}'` : `(looked for ${candidates.join(', ')})`}; its columns are ${columns.join(', ')}`);
  }
  return key;
}

/** Image–caption pairs listed in a CSV, TSV or JSON Lines table. */
export class ImageCaptionTable implements CaptionDataset {
  readonly file: string;
  /** [image path, caption] per row, in file order. */
  readonly pairs: readonly (readonly [string, string])[];
  readonly onError: OnError;
  /** Images skipped so far (under 'skip'). */
  readonly skipped: SampleError[] = [];
  readonly #onSkip: (error: SampleError) => void;

  constructor(file: string, options: ImageCaptionTableOptions = {}) {
    const onError = options.onError ?? 'fail';
    if (onError !== 'skip' && onError !== 'fail') throw new ArgumentError(`captions: onError must be 'skip' or 'fail', got '${onError}'`);
    const rows = readRows(file);
    if (rows.length === 0) throw new DatasetError(`captions: ${file} has no rows`);
    const imageKey = pickKey(file, rows, options.imageKey, IMAGE_KEYS, 'image path');
    const captionKey = pickKey(file, rows, options.captionKey, CAPTION_KEYS, 'caption');
    const root = dirname(file);
    this.pairs = rows.map((row, i) => {
      const [path, caption] = [row[imageKey], row[captionKey]];
      if (typeof path !== 'string' || path === '' || typeof caption !== 'string') {
        throw new DatasetError(`captions: ${file} row ${i + 1} needs a non-empty '${imageKey}' and a text '${captionKey}', got ${JSON.stringify(path)} and ${JSON.stringify(caption)}`);
      }
      return [isAbsolute(path) ? path : join(root, path), caption] as const;
    });
    this.file = file;
    this.onError = onError;
    this.#onSkip = options.onSkip ?? ((e) => process.emitWarning(`captions: skipped ${e.path}: ${e.message}`, 'DatasetWarning'));
  }

  get length(): number {
    return this.pairs.length;
  }

  /** Decodes pair `index` to a uint8 [H, W, 3] image and its caption, or null if the image is corrupt under 'skip'. */
  async get(index: number): Promise<CaptionSample | null> {
    const [path, caption] = this.pairs[checkIndex('captions.get', index, this.pairs.length)];
    try {
      return { image: (await decodeImage(path, { mode: 'RGB' })).image, caption };
    } catch (e) {
      const message = (e as Error).message.startsWith(`${path}: `) ? (e as Error).message.slice(path.length + 2) : (e as Error).message;
      if (this.onError === 'fail') throw new DatasetError(`captions: cannot decode ${path}: ${message}`);
      const error = { path, message };
      this.skipped.push(error);
      this.#onSkip(error);
      return null;
    }
  }
}

const SHARD_IMAGE_EXTS = ['jpg', 'jpeg', 'png', 'webp'];

// A WebDataset sample's caption: its .txt, or the "caption"/"text" of its .json.
function captionOf(files: ReadonlyMap<string, Buffer>): string {
  const txt = files.get('txt');
  if (txt) return txt.toString('utf8').trim();
  const json = files.get('json');
  if (json) {
    const value = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
    const caption = value?.caption ?? value?.text;
    if (typeof caption === 'string') return caption;
    throw new Error('its .json has no "caption" or "text" string');
  }
  throw new Error(`no caption (.txt, or .json with "caption") among [${[...files.keys()].join(', ')}]`);
}

/**
 * The image–caption pairs of an epoch of WebDataset shards (the shards' shuffle settings apply);
 * a sample without an image or caption, or with a corrupt image, fails or is skipped as the
 * dataset's onError says.
 */
export async function* webDatasetCaptions(shards: WebDataset, epoch = 0): AsyncGenerator<CaptionSample> {
  for await (const raw of shards.rawSamples(epoch)) {
    const where = `${raw.shard} sample '${raw.key}'`;
    try {
      const ext = SHARD_IMAGE_EXTS.find((x) => raw.files.has(x));
      if (!ext) throw new Error(`no image (.${SHARD_IMAGE_EXTS.join(', .')}) among [${[...raw.files.keys()].join(', ')}]`);
      const caption = captionOf(raw.files);
      yield { image: (await decodeImage(raw.files.get(ext)!, { mode: 'RGB' })).image, caption };
    } catch (e) {
      if (e instanceof DatasetError) throw e;
      shards.reportFailure(where, (e as Error).message);
    }
  }
}

/** A caption dataset as the DataLoader's samples: each image with its caption as `text` and its index as `label` (a pair id). */
export class CaptionPairs implements Dataset {
  readonly classes: readonly string[] = [];
  constructor(readonly base: CaptionDataset) {}

  get length(): number {
    return this.base.length;
  }

  /** Pair `index` as a Sample, or null when the base skipped it. */
  async get(index: number): Promise<Sample | null> {
    const pair = await this.base.get(index);
    return pair && { image: pair.image, label: index, text: pair.caption };
  }
}

/** WebDataset shards' image–caption pairs as a streaming DataLoader dataset (`label` counts the pairs of the epoch). */
export function webDatasetPairs(shards: WebDataset): IterableDataset {
  return {
    classes: [],
    async *iterate(epoch: number): AsyncIterable<Sample> {
      let k = 0;
      for await (const pair of webDatasetCaptions(shards, epoch)) yield { image: pair.image, label: k++, text: pair.caption };
    },
  };
}
