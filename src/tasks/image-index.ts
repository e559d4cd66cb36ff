/**
 * Image search over a folder: `indexImages` embeds every image under a folder with a CLIP image
 * tower into an on-disk index (ImageIndexStore), incrementally — a re-run embeds only new or
 * changed files and drops deleted ones — and `searchImages` finds the files nearest to a text or
 * an image. Files are decoded and preprocessed in worker threads while the model runs.
 *
 * Each batch is one atomic commit, and a file counts as indexed only once its row is committed,
 * so a run killed at any point, then re-run, ends with the index an uninterrupted run gives.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { ArgumentError } from '../errors.ts';
import { DecodePool } from '../data/decode-pool.ts';
import type { DecodeReply } from '../data/decode-task.ts';
import { ImageIndexStore, type IndexedFile, type IndexRow, type SearchHit } from '../io/image-index-store.ts';
import { imagePreprocess, type CLIP, type Model } from '../models/index.ts';
import { noGrad } from '../tensor/autograd.ts';
import { fromTypedArray } from '../tensor/creation.ts';
import { cast } from '../tensor/ops/elementwise.ts';
import { l2Normalize } from '../tensor/ops/reduce.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import { embedImages, embedTexts } from './zero-shot.ts';

/** The file extensions `indexImages` picks up (the formats decodeImage reads), lower-cased. */
export const INDEXED_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.gif'];

/** Progress of one index run, reported after each committed batch. */
export interface IndexProgress {
  /** Files handled so far (embedded, unchanged or failed) of the files this run had to look at. */
  done: number;
  total: number;
  /** Files per second so far in this run. */
  rate: number;
  /** Seconds left at that rate. */
  eta: number;
}

/** Options of indexImages. */
export interface IndexImagesOptions {
  /** The model name stored in the index (default: the model's registry name). */
  modelName?: string;
  /** The weights the model was loaded from, stored so that `search` can load the same. */
  weights?: string | null;
  /** Images per forward pass and per commit (default 32). */
  batchSize?: number;
  /** Decode threads (default: the cores less one, at least 1, at most 4). */
  threads?: number;
  /** Build an ANN (IVF-PQ) index once the index holds this many files (default 100,000; below it search is exact). */
  annMinRows?: number;
  /** Called after each committed batch. */
  onProgress?: (progress: IndexProgress) => void;
  /** Called for each file that cannot be read or decoded: it is left out of the index (and tried again by the next run). */
  onSkip?: (path: string, reason: string) => void;
}

/** What one index run did. */
export interface IndexReport {
  /** Image files found under the folder. */
  files: number;
  /** Files embedded in this run (new, or changed content). */
  embedded: number;
  /** Files whose mtime or size changed but whose content hash did not: kept, their stat updated. */
  touched: number;
  /** Files dropped because they are no longer on disk. */
  removed: number;
  /** Files already indexed and unchanged. */
  unchanged: number;
  /** Files that could not be read or decoded, with the reason. */
  failed: { path: string; reason: string }[];
  /** Files in the index after the run. */
  indexed: number;
  /** Wall time of the run, and files embedded per second of it. */
  seconds: number;
  imagesPerSecond: number;
}

/** One image file under the indexed folder. */
export interface FoundImage {
  /** Relative to the folder, with '/' separators. */
  path: string;
  mtimeMs: number;
  size: number;
}

/** Every image file under `dir` (recursively, following links; dot-files and dot-folders skipped), sorted by path. */
export async function findImages(dir: string): Promise<FoundImage[]> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) throw new ArgumentError(`index: ${dir} is not a folder`);
  const found: FoundImage[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = join(folder, entry.name);
      const st = await stat(full).catch(() => null);
      if (!st) continue;
      if (st.isDirectory()) await walk(full);
      else if (st.isFile() && INDEXED_EXTENSIONS.some((ext) => entry.name.toLowerCase().endsWith(ext))) {
        found.push({ path: relative(root, full).split(sep).join('/'), mtimeMs: st.mtimeMs, size: st.size });
      }
    }
  };
  await walk(root);
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Embeds every image under `dir` into the index at `indexDir` (created when absent), bringing an
 * existing index up to date: new and changed files are embedded, deleted ones dropped.
 */
export async function indexImages(model: Model<CLIP>, dir: string, indexDir: string, options: IndexImagesOptions = {}): Promise<IndexReport> {
  const started = performance.now();
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`indexImages: batchSize must be a positive integer, got ${batchSize}`);
  const preprocess = imagePreprocess(model.pretrainedCfg);
  if (!preprocess) throw new ArgumentError(`indexImages: ${model.modelName} has no image preprocessing config`);
  const root = resolve(dir);
  const onDisk = await findImages(root);
  const store = await ImageIndexStore.openOrCreate(indexDir, { model: options.modelName ?? model.modelName, weights: options.weights ?? null, embedDim: model.embedDim });
  try {
    await store.setRoot(root);
    const plan = planRun(onDisk, await store.files());
    await store.remove(plan.remove);
    model.eval();
    const pool = new DecodePool(preprocess, options.threads);
    let run: RunCounts;
    try {
      run = await embedFiles(model, store, pool, root, plan.todo, batchSize, options);
    } finally {
      await pool.close();
    }
    if (plan.remove.length > 0 || run.embedded > 0 || run.touched > 0) await store.compact(options.annMinRows ?? 100_000);
    const seconds = (performance.now() - started) / 1000;
    return {
      files: onDisk.length,
      embedded: run.embedded,
      touched: run.touched,
      removed: plan.removed,
      unchanged: onDisk.length - plan.todo.length,
      failed: run.failed,
      indexed: await store.count(),
      seconds,
      imagesPerSecond: run.embedded / seconds,
    };
  } finally {
    store.close();
  }
}

/** A file this run must look at, with the hash indexed for it when its stat changed. */
interface TodoFile extends FoundImage {
  knownHash?: string;
  /** The path has a row to replace once the new embedding is committed. */
  replaces: boolean;
}

// What an index run must do, from the folder's files and the index's rows.
function planRun(onDisk: readonly FoundImage[], indexed: readonly IndexedFile[]): { todo: TodoFile[]; remove: string[]; removed: number } {
  const byPath = new Map<string, IndexedFile>();
  const duplicated = new Set<string>();
  for (const row of indexed) {
    if (byPath.has(row.path)) duplicated.add(row.path);
    byPath.set(row.path, row);
  }
  const present = new Set(onDisk.map((f) => f.path));
  const gone = [...byPath.keys()].filter((p) => !present.has(p));
  const todo: TodoFile[] = [];
  for (const file of onDisk) {
    const row = duplicated.has(file.path) ? undefined : byPath.get(file.path);
    if (row && row.mtimeMs === file.mtimeMs && row.size === file.size) continue;
    todo.push({ ...file, knownHash: row?.hash, replaces: row !== undefined });
  }
  return { todo, remove: [...gone, ...duplicated], removed: gone.length };
}

interface RunCounts {
  embedded: number;
  touched: number;
  failed: { path: string; reason: string }[];
}

// Decodes run ahead of the model by this many batches, so the threads stay busy while it runs.
const DECODE_AHEAD_BATCHES = 2;

async function embedFiles(model: Model<CLIP>, store: ImageIndexStore, pool: DecodePool, root: string, todo: readonly TodoFile[], batchSize: number, options: IndexImagesOptions): Promise<RunCounts> {
  const counts: RunCounts = { embedded: 0, touched: 0, failed: [] };
  const started = performance.now();
  const window = batchSize * (DECODE_AHEAD_BATCHES + 1);
  const pending: Promise<DecodeReply>[] = [];
  let next = 0;
  const refill = () => {
    while (next < todo.length && pending.length < window) {
      pending.push(pool.decode(join(root, todo[next].path), todo[next].knownHash));
      ++next;
    }
  };
  let batch: { file: TodoFile; hash: string; pixels: Float32Array; shape: number[] }[] = [];
  let done = 0;
  const commit = async () => {
    if (batch.length > 0) {
      await store.remove(batch.filter((b) => b.file.replaces).map((b) => b.file.path));
      await store.add(embedBatch(model, batch));
      counts.embedded += batch.length;
      batch = [];
    }
    const seconds = (performance.now() - started) / 1000;
    const rate = done / Math.max(seconds, 1e-9);
    options.onProgress?.({ done, total: todo.length, rate, eta: (todo.length - done) / Math.max(rate, 1e-9) });
  };
  refill();
  for (let i = 0; i < todo.length; ++i) {
    const reply = await pending.shift()!;
    refill();
    const file = todo[i];
    ++done;
    if (reply.kind === 'failed') {
      counts.failed.push({ path: file.path, reason: reply.message });
      options.onSkip?.(file.path, reply.message);
    } else if (reply.kind === 'unchanged') {
      await store.touch({ path: file.path, mtimeMs: file.mtimeMs, size: file.size, hash: reply.hash });
      ++counts.touched;
    } else {
      batch.push({ file, hash: reply.hash, pixels: reply.pixels, shape: reply.shape });
      if (batch.length === batchSize) await commit();
    }
  }
  await commit();
  return counts;
}

function embedBatch(model: Model<CLIP>, batch: readonly { file: TodoFile; hash: string; pixels: Float32Array; shape: number[] }[]): IndexRow[] {
  const per = batch[0].pixels.length;
  const data = new Float32Array(per * batch.length);
  batch.forEach((b, i) => data.set(b.pixels, i * per));
  const dtype = model.parameters()[0]?.dtype ?? 'float32';
  const embeds = noGrad(() => l2Normalize(cast(model.encodeImage(cast(fromTypedArray(data, [batch.length, ...batch[0].shape]), dtype)), 'float32')));
  const flat = embeds.toArray() as Float32Array;
  const dim = embeds.shape[1];
  return batch.map((b, i) => ({ path: b.file.path, mtimeMs: b.file.mtimeMs, size: b.file.size, hash: b.hash, embedding: flat.slice(i * dim, (i + 1) * dim) }));
}

/** A search hit with the file's full path (the indexed folder joined with its relative path). */
export interface ImageSearchHit extends SearchHit {
  file: string;
}

/** What to search an index for: a text (embedded with the tokenizer) or an image. */
export type ImageQuery = { text: string; tokenizer: Tokenizer } | { image: string | Buffer | Uint8Array };

/**
 * The `top` indexed files nearest to a text or an image, best first, by cosine similarity of
 * CLIP embeddings. The model must be the one the index was built with (IndexMismatchError otherwise).
 */
export async function searchImages(model: Model<CLIP>, indexDir: string, query: ImageQuery, top = 10): Promise<ImageSearchHit[]> {
  const store = await ImageIndexStore.open(indexDir);
  try {
    store.expectModel(model.modelName);
    store.expectDim(model.embedDim);
    const embedding = 'text' in query ? embedTexts(model, query.tokenizer, [query.text]) : await embedImages(model, [query.image]);
    const hits = await store.search(embedding.toArray() as Float32Array, top);
    return hits.map((h) => ({ ...h, file: store.root ? join(store.root, h.path) : h.path }));
  } finally {
    store.close();
  }
}
