/**
 * The on-disk image index: one LanceDB table `images` (path, mtime, size, content hash, unit-length
 * embedding) in a folder, with the model it was built with in the table's schema metadata.
 * LanceDB commits each write as a new table version atomically, so a process killed mid-write
 * leaves the last committed version readable.
 */
import { existsSync, statSync } from 'node:fs';
import type { Connection, Table } from '@lancedb/lancedb';
import { ArgumentError, ImageIndexError, IndexMismatchError } from '../errors.ts';

/** What an index was built with. */
export interface ImageIndexMeta {
  /** Registry model name, with its tag when one was given (clip_vit_base_patch32.openai). */
  model: string;
  /** The weights as given to the model loader (file, folder, hub id), or null for the registry default. */
  weights: string | null;
  /** Length of every stored embedding. */
  embedDim: number;
}

/** One indexed file as found on disk when it was embedded. */
export interface IndexedFile {
  /** Path relative to the indexed folder, with '/' separators. */
  path: string;
  mtimeMs: number;
  size: number;
  /** SHA-256 of the file's bytes, hex. */
  hash: string;
}

/** An indexed file with its L2-normalised embedding. */
export interface IndexRow extends IndexedFile {
  embedding: Float32Array;
}

/** A search result: a path and its cosine similarity to the query. */
export interface SearchHit {
  path: string;
  score: number;
}

const TABLE = 'images';
const META_KEY = 'tsvision.image-index';
// The indexed folder is kept on the path column (field metadata can change, the schema's cannot) so a moved folder can be re-indexed in place.
const ROOT_KEY = 'tsvision.root';
const FORMAT = 1;
// Long IN (...) lists are split so one delete predicate stays a modest SQL string.
const DELETE_CHUNK = 500;

let lance: Promise<typeof import('@lancedb/lancedb')> | undefined;
let arrow: Promise<typeof import('apache-arrow')> | undefined;

/** A SQL string literal for a LanceDB filter: quotes doubled. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** An open image index. */
export class ImageIndexStore {
  private constructor(
    /** The index folder. */
    readonly dir: string,
    /** What the index was built with. */
    readonly meta: ImageIndexMeta,
    private readonly db: Connection,
    private readonly table: Table,
    private rootDir: string | null,
  ) {}

  /** The folder the paths are relative to, as of the last index run (null before the first). */
  get root(): string | null {
    return this.rootDir;
  }

  /** Records the folder the paths are relative to. */
  async setRoot(root: string): Promise<void> {
    if (root === this.rootDir) return;
    await wrap(this.dir, 'write', () => this.table.updateFieldMetadata([{ path: 'path', metadata: { [ROOT_KEY]: root } }]));
    this.rootDir = root;
  }

  /** Opens an existing index; ImageIndexError when the folder holds none or it cannot be read. */
  static async open(dir: string): Promise<ImageIndexStore> {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ImageIndexError(dir, 'no index here: expected a folder written by tsvision index');
    const { connect } = await loadLance();
    const db = await wrap(dir, 'open', () => connect(dir));
    const names = await wrap(dir, 'open', () => db.tableNames());
    if (!names.includes(TABLE)) {
      db.close();
      throw new ImageIndexError(dir, `no index here: expected a LanceDB table '${TABLE}' written by tsvision index, found ${names.length ? names.map((n) => `'${n}'`).join(', ') : 'no tables'}`);
    }
    const table = await wrap(dir, 'open', () => db.openTable(TABLE));
    const schema = await wrap(dir, 'read', () => table.schema());
    const meta = parseMeta(dir, schema.metadata.get(META_KEY));
    return new ImageIndexStore(dir, meta, db, table, schema.fields.find((f) => f.name === 'path')?.metadata.get(ROOT_KEY) ?? null);
  }

  /**
   * Opens the index in `dir`, creating it (and the folder) when there is none; an existing index
   * built with another model or embedding size is an IndexMismatchError.
   */
  static async openOrCreate(dir: string, meta: ImageIndexMeta): Promise<ImageIndexStore> {
    checkMeta(meta);
    const { connect } = await loadLance();
    const db = await wrap(dir, 'open', () => connect(dir));
    if ((await wrap(dir, 'open', () => db.tableNames())).includes(TABLE)) {
      db.close();
      const store = await ImageIndexStore.open(dir);
      try {
        store.expectModel(meta.model);
        store.expectDim(meta.embedDim);
      } catch (e) {
        store.close();
        throw e;
      }
      return store;
    }
    const { Field, FixedSizeList, Float32, Float64, Int64, Schema, Utf8 } = await loadArrow();
    const schema = new Schema(
      [
        new Field('path', new Utf8(), false),
        new Field('mtime', new Float64(), false),
        new Field('size', new Int64(), false),
        new Field('hash', new Utf8(), false),
        new Field('vector', new FixedSizeList(meta.embedDim, new Field('item', new Float32(), true)), false),
      ],
      new Map([[META_KEY, JSON.stringify({ format: FORMAT, ...meta })]]),
    );
    const table = await wrap(dir, 'create', () => db.createEmptyTable(TABLE, schema, { existOk: true }));
    return new ImageIndexStore(dir, meta, db, table, null);
  }

  /** IndexMismatchError unless `model` is the model the index was built with (tags compared when both have one). */
  expectModel(model: string): void {
    if (!sameModel(this.meta.model, model)) throw new IndexMismatchError(this.dir, 'model', this.meta.model, model);
  }

  /** IndexMismatchError unless `dim` is the index's embedding length. */
  expectDim(dim: number): void {
    if (dim !== this.meta.embedDim) throw new IndexMismatchError(this.dir, 'embedding size', String(this.meta.embedDim), String(dim));
  }

  /** Number of indexed files. */
  count(): Promise<number> {
    return wrap(this.dir, 'read', () => this.table.countRows());
  }

  /** Every indexed file (no embeddings), in no particular order. */
  async files(): Promise<IndexedFile[]> {
    const rows = await wrap(this.dir, 'read', () => this.table.query().select(['path', 'mtime', 'size', 'hash']).toArray());
    return rows.map((r) => ({ path: r.path, mtimeMs: r.mtime, size: Number(r.size), hash: r.hash }));
  }

  /** Every indexed file with its embedding, sorted by path. */
  async rows(): Promise<IndexRow[]> {
    const rows = await wrap(this.dir, 'read', () => this.table.query().toArray());
    return rows
      .map((r) => ({ path: r.path as string, mtimeMs: r.mtime as number, size: Number(r.size), hash: r.hash as string, embedding: Float32Array.from(r.vector as Iterable<number>) }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Adds rows in one commit: after a crash either all of them are in the index or none. */
  async add(rows: readonly IndexRow[]): Promise<void> {
    if (rows.length === 0) return;
    for (const row of rows) this.expectDim(row.embedding.length);
    const data = rows.map((r) => ({ path: r.path, mtime: r.mtimeMs, size: BigInt(r.size), hash: r.hash, vector: Array.from(r.embedding) }));
    await wrap(this.dir, 'write', () => this.table.add(data));
  }

  /** Removes every row of these paths. */
  async remove(paths: readonly string[]): Promise<void> {
    for (let at = 0; at < paths.length; at += DELETE_CHUNK) {
      const list = paths.slice(at, at + DELETE_CHUNK).map(sqlString).join(', ');
      await wrap(this.dir, 'write', () => this.table.delete(`path IN (${list})`));
    }
  }

  /** Records a new mtime and size for a file whose content (hash) did not change. */
  async touch(file: IndexedFile): Promise<void> {
    await wrap(this.dir, 'write', () => this.table.update({ where: `path = ${sqlString(file.path)}`, valuesSql: { mtime: `CAST(${file.mtimeMs} AS DOUBLE)`, size: `CAST(${file.size} AS BIGINT)` } }));
  }

  /** The `top` files most similar to a unit-length query embedding, best first. */
  async search(query: Float32Array, top: number): Promise<SearchHit[]> {
    if (!Number.isInteger(top) || top < 1) throw new ArgumentError(`search: top must be a positive integer, got ${top}`);
    this.expectDim(query.length);
    const hits = await wrap(this.dir, 'search', () => this.table.vectorSearch(Array.from(query)).distanceType('cosine').select(['path', '_distance']).limit(top).toArray());
    return hits.map((h) => ({ path: h.path as string, score: 1 - (h._distance as number) }));
  }

  /**
   * Merges the small per-batch fragments and deletes superseded versions; builds an IVF-PQ ANN
   * index on the embeddings once the table holds `annMinRows` rows (later rows join it here too).
   */
  async compact(annMinRows: number): Promise<void> {
    await wrap(this.dir, 'compact', () => this.table.optimize({ cleanupOlderThan: new Date() }));
    const rows = await this.count();
    const indices = await wrap(this.dir, 'read', () => this.table.listIndices());
    if (rows >= annMinRows && !indices.some((i) => i.columns.includes('vector'))) {
      const { Index } = await loadLance();
      const numSubVectors = [16, 8, 4, 2, 1].find((n) => this.meta.embedDim % n === 0 && this.meta.embedDim / n >= 8) ?? 1;
      const config = Index.ivfPq({ distanceType: 'cosine', numPartitions: Math.max(1, Math.round(Math.sqrt(rows))), numSubVectors });
      await wrap(this.dir, 'index', () => this.table.createIndex('vector', { config }));
    }
  }

  /** Whether an ANN index covers the embeddings. */
  async hasAnnIndex(): Promise<boolean> {
    return (await wrap(this.dir, 'read', () => this.table.listIndices())).some((i) => i.columns.includes('vector'));
  }

  /** Releases the table and the connection. */
  close(): void {
    this.table.close();
    this.db.close();
  }
}

function loadLance(): Promise<typeof import('@lancedb/lancedb')> {
  return (lance ??= import('@lancedb/lancedb'));
}

function loadArrow(): Promise<typeof import('apache-arrow')> {
  return (arrow ??= import('apache-arrow'));
}

// LanceDB reports problems as plain Errors; they become ImageIndexErrors naming the folder and the step.
async function wrap<T>(dir: string, step: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ImageIndexError || e instanceof IndexMismatchError || e instanceof ArgumentError) throw e;
    throw new ImageIndexError(dir, `cannot ${step} the index: ${(e as Error).message ?? String(e)}`);
  }
}

function checkMeta(meta: ImageIndexMeta): void {
  if (!Number.isInteger(meta.embedDim) || meta.embedDim < 1) throw new ArgumentError(`image index: embedDim must be a positive integer, got ${meta.embedDim}`);
  if (typeof meta.model !== 'string' || meta.model === '') throw new ArgumentError('image index: the model name must be a non-empty string');
}

function parseMeta(dir: string, text: string | undefined): ImageIndexMeta {
  if (text === undefined) throw new ImageIndexError(dir, `the table '${TABLE}' carries no '${META_KEY}' metadata: it was not written by tsvision index`);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ImageIndexError(dir, `the '${META_KEY}' metadata is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (parsed.format !== FORMAT) throw new ImageIndexError(dir, `index format ${JSON.stringify(parsed.format)} is not the format ${FORMAT} this version reads`);
  const { model, weights, embedDim } = parsed;
  if (typeof model !== 'string' || !(weights === null || typeof weights === 'string') || typeof embedDim !== 'number') {
    throw new ImageIndexError(dir, `the '${META_KEY}' metadata lacks model, weights or embedDim: ${text.slice(0, 200)}`);
  }
  return { model, weights, embedDim };
}

// 'clip_rn50' matches 'clip_rn50.openai'; two different tags do not match.
function sameModel(a: string, b: string): boolean {
  const [nameA, tagA] = a.split('.', 2);
  const [nameB, tagB] = b.split('.', 2);
  return nameA === nameB && (tagA === undefined || tagB === undefined || tagA === tagB);
}
