/**
 * The image index on a small folder with a small seeded CLIP: rows equal to the model's own
 * embeddings of the files, incremental re-runs (new, changed, touched, deleted files), decode
 * failures left out and retried, mismatched models refused, and search both ways.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { ImageIndexError, IndexMismatchError } from '../../src/errors.ts';
import { ImageIndexStore, sqlString } from '../../src/io/image-index-store.ts';
import * as T from '../../src/index.ts';
import { findImages, indexImages, searchImages } from '../../src/tasks/image-index.ts';
import { embedImages, embedTexts } from '../../src/tasks/zero-shot.ts';
import { loadTokenizer } from '../../src/text/load.ts';
import { smallClip } from '../helpers/small-clip.ts';
import { SHARED_BPE_GZ } from '../text/hf-vocab-files.ts';

let tmp = '';
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-index-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const shapes = new T.ShapesCaptions({ size: 32, length: 300, seed: 3 });

async function writeShape(file: string, index: number, format: 'jpeg' | 'png' = 'jpeg'): Promise<void> {
  const { image } = shapes.get(index);
  const raw = Buffer.from((image.toArray() as Uint8Array).buffer);
  const encoded = sharp(raw, { raw: { width: 32, height: 32, channels: 3 } });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, await (format === 'png' ? encoded.png() : encoded.jpeg()).toBuffer());
}

/** A fresh folder with `n` shape images, a few in a sub-folder, one PNG, one name with a quote. */
async function folderOf(name: string, n: number): Promise<string> {
  const dir = path.join(tmp, name);
  for (let i = 0; i < n; ++i) {
    const file = i === 0 ? "it's.jpg" : i === 1 ? 'one.png' : i % 3 === 0 ? `sub/s${i}.jpg` : `i${i}.jpg`;
    await writeShape(path.join(dir, file), i, i === 1 ? 'png' : 'jpeg');
  }
  return dir;
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

async function indexRows(index: string) {
  const store = await ImageIndexStore.open(index);
  try {
    return await store.rows();
  } finally {
    store.close();
  }
}

test('findImages: image files under the folder, recursively, sorted, dot-files and other files left out', async () => {
  const dir = path.join(tmp, 'find');
  await writeShape(path.join(dir, 'b.jpg'), 0);
  await writeShape(path.join(dir, 'a/c.PNG'), 1, 'png');
  await writeShape(path.join(dir, '.hidden/d.jpg'), 2);
  await writeShape(path.join(dir, '.e.jpg'), 3);
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'x');
  const found = await findImages(dir);
  assert.deepEqual(found.map((f) => f.path), ['a/c.PNG', 'b.jpg']);
  assert.equal(found[1].size, fs.statSync(path.join(dir, 'b.jpg')).size);
  await assert.rejects(findImages(path.join(dir, 'b.jpg')), /is not a folder/);
});

test('indexImages: one row per image, its hash and stat, and the embedding embedImages gives in the main thread', async () => {
  const model = smallClip();
  const dir = await folderOf('rows', 20);
  const index = path.join(tmp, 'rows.index');
  const progress: number[] = [];
  const report = await indexImages(model, dir, index, { batchSize: 8, threads: 2, onProgress: (p) => progress.push(p.done) });
  assert.equal(report.embedded, 20);
  assert.equal(report.indexed, 20);
  assert.deepEqual(progress, [8, 16, 20]);
  const rows = await indexRows(index);
  const files = (await findImages(dir)).map((f) => f.path);
  assert.deepEqual(rows.map((r) => r.path), files);
  const want = (await embedImages(model, files.map((f) => path.join(dir, f)))).toArray() as Float32Array;
  rows.forEach((row, i) => {
    const st = fs.statSync(path.join(dir, row.path));
    assert.equal(row.hash, sha256(path.join(dir, row.path)));
    assert.equal(row.size, st.size);
    assert.equal(row.mtimeMs, st.mtimeMs);
    for (let k = 0; k < 32; ++k) assert.ok(Math.abs(row.embedding[k] - want[i * 32 + k]) < 1e-5, `${row.path}[${k}]: ${row.embedding[k]} vs ${want[i * 32 + k]}`);
  });
});

test('indexImages re-runs: only new and changed files are embedded, touched files keep their row, deleted files go', async () => {
  const model = smallClip();
  const dir = await folderOf('incremental', 12);
  const index = path.join(tmp, 'incremental.index');
  await indexImages(model, dir, index, { batchSize: 4 });
  const again = await indexImages(model, dir, index, { batchSize: 4 });
  assert.deepEqual([again.embedded, again.touched, again.removed, again.unchanged], [0, 0, 0, 12]);

  const touched = path.join(dir, 'i2.jpg');
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(touched, later, later);
  await writeShape(path.join(dir, 'i4.jpg'), 40); // new content at an old path
  fs.rmSync(path.join(dir, "it's.jpg"));
  await writeShape(path.join(dir, 'new/n1.jpg'), 50);
  const before = new Map((await indexRows(index)).map((r) => [r.path, r]));
  const report = await indexImages(model, dir, index, { batchSize: 4 });
  assert.deepEqual([report.embedded, report.touched, report.removed, report.unchanged, report.indexed], [2, 1, 1, 9, 12]);
  const rows = new Map((await indexRows(index)).map((r) => [r.path, r]));
  assert.equal(rows.has("it's.jpg"), false);
  assert.equal(rows.get('i2.jpg')!.mtimeMs, fs.statSync(touched).mtimeMs);
  assert.deepEqual(rows.get('i2.jpg')!.embedding, before.get('i2.jpg')!.embedding);
  assert.equal(rows.get('i4.jpg')!.hash, sha256(path.join(dir, 'i4.jpg')));
  assert.notDeepEqual(rows.get('i4.jpg')!.embedding, before.get('i4.jpg')!.embedding);
  const fresh = (await embedImages(model, [path.join(dir, 'new/n1.jpg')])).toArray() as Float32Array;
  rows.get('new/n1.jpg')!.embedding.forEach((v, k) => assert.ok(Math.abs(v - fresh[k]) < 1e-5));
});

test('indexImages: a file that fails to decode is reported with its path and left out; fixed, the next run adds it', async () => {
  const model = smallClip();
  const dir = await folderOf('corrupt', 6);
  const bad = path.join(dir, 'bad.jpg');
  fs.writeFileSync(bad, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
  fs.writeFileSync(path.join(dir, 'text.png'), 'not a png at all');
  const index = path.join(tmp, 'corrupt.index');
  const skipped: string[] = [];
  const report = await indexImages(model, dir, index, { batchSize: 4, onSkip: (p, why) => skipped.push(`${p}: ${why}`) });
  assert.equal(report.failed.length, 2);
  assert.deepEqual(report.failed.map((f) => f.path), ['bad.jpg', 'text.png']);
  assert.match(skipped[0], /^bad\.jpg: .*bad\.jpg: cannot (read|decode) the jpeg/);
  assert.match(skipped[1], /^text\.png: .*not an image/);
  assert.equal(report.indexed, 6);
  assert.deepEqual((await indexRows(index)).map((r) => r.path).includes('bad.jpg'), false);
  await writeShape(bad, 7);
  fs.rmSync(path.join(dir, 'text.png'));
  const fixed = await indexImages(model, dir, index, { batchSize: 4 });
  assert.deepEqual([fixed.embedded, fixed.failed.length, fixed.indexed], [1, 0, 7]);
});

test('search: an image finds itself first; a text query scores every file by the text embedding', async () => {
  const model = smallClip();
  const dir = await folderOf('search', 16);
  const index = path.join(tmp, 'search.index');
  await indexImages(model, dir, index, { batchSize: 5 });
  const hits = await searchImages(model, index, { image: path.join(dir, 'i5.jpg') }, 3);
  assert.equal(hits.length, 3);
  assert.equal(hits[0].path, 'i5.jpg');
  assert.equal(hits[0].file, path.join(dir, 'i5.jpg'));
  assert.ok(Math.abs(hits[0].score - 1) < 1e-5 && hits[1].score <= hits[0].score && hits[2].score <= hits[1].score);

  const tokenizer = await loadTokenizer(SHARED_BPE_GZ);
  const textHits = await searchImages(model, index, { text: 'a red circle', tokenizer }, 16);
  const text = embedTexts(model, tokenizer, ['a red circle']).toArray() as Float32Array;
  const rows = new Map((await indexRows(index)).map((r) => [r.path, r.embedding]));
  const cosine = (e: Float32Array) => e.reduce((s, v, k) => s + v * text[k], 0);
  const want = [...rows].map(([p, e]) => ({ p, s: cosine(e) })).sort((a, b) => b.s - a.s);
  assert.deepEqual(textHits.map((h) => h.path), want.map((w) => w.p));
  textHits.forEach((h, i) => assert.ok(Math.abs(h.score - want[i].s) < 1e-5));
});

test('an index built with one model refuses another model or embedding size, naming both', async () => {
  const model = smallClip();
  const dir = await folderOf('mismatch', 3);
  const index = path.join(tmp, 'mismatch.index');
  await indexImages(model, dir, index);
  await assert.rejects(indexImages(model, dir, index, { modelName: 'clip_rn50.openai' }), (e: unknown) => {
    assert.ok(e instanceof IndexMismatchError);
    assert.match(e.message, /built with model small_clip\.test, got clip_rn50\.openai/);
    return true;
  });
  const wide = Object.assign(new T.CLIP({ embedDim: 48, vision: { type: 'vit', imageSize: 32, patchSize: 8, width: 64, layers: 1, heads: 2 }, text: { width: 64, heads: 2, layers: 1 } }), {
    modelName: 'small_clip.test', pretrainedCfg: model.pretrainedCfg, entry: null as never, spec: null as never,
  }) as T.Model<T.CLIP>;
  await assert.rejects(searchImages(wide, index, { image: path.join(dir, 'i2.jpg') }), /built with embedding size 32, got 48/);
  const store = await ImageIndexStore.open(index);
  try {
    await assert.rejects(store.search(new Float32Array(16), 1), /built with embedding size 32, got 16/);
  } finally {
    store.close();
  }
});

test('ImageIndexStore.open: a folder that holds no index, or no folder, is an ImageIndexError naming it', async () => {
  const empty = path.join(tmp, 'empty');
  fs.mkdirSync(empty);
  await assert.rejects(ImageIndexStore.open(empty), (e: unknown) => e instanceof ImageIndexError && /empty: no index here: .*found no tables/.test(e.message));
  await assert.rejects(ImageIndexStore.open(path.join(tmp, 'absent')), (e: unknown) => e instanceof ImageIndexError && /absent: no index here/.test(e.message));
  assert.equal(sqlString("it's"), "'it''s'");
});

test('indexImages builds an ANN index once the index is large enough; search still finds an image first', async () => {
  const model = smallClip();
  const dir = path.join(tmp, 'ann');
  for (let i = 0; i < 300; ++i) await writeShape(path.join(dir, `a${i}.jpg`), i);
  const index = path.join(tmp, 'ann.index');
  await indexImages(model, dir, index, { batchSize: 64, annMinRows: 256 });
  const store = await ImageIndexStore.open(index);
  try {
    assert.equal(await store.hasAnnIndex(), true);
  } finally {
    store.close();
  }
  const hits = await searchImages(model, index, { image: path.join(dir, 'a7.jpg') }, 1);
  assert.equal(hits[0].path, 'a7.jpg');
});
