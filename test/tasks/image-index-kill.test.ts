/**
 * `index` on a folder of 10,000 generated images: a run killed with SIGKILL mid-way and re-run
 * gives the index an uninterrupted run gives (every file once, its hash, stat and embedding);
 * adding 100 files re-embeds only those; an image search returns the planted near-duplicate first.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as T from '../../src/index.ts';
import { ImageIndexStore } from '../../src/io/image-index-store.ts';
import { findImages, indexImages, searchImages } from '../../src/tasks/image-index.ts';
import { embedImages } from '../../src/tasks/zero-shot.ts';
import { smallClip } from '../helpers/small-clip.ts';

const FILES = 10_000;
const ADDED = 100;
const BATCH = 250;
const CHILD = fileURLToPath(new URL('../helpers/index-child.ts', import.meta.url));

let tmp = '';
let dir = '';
let query = '';
const scenes = new T.ShapesCaptions({ size: 32, length: FILES + ADDED + 1, seed: 11 });

async function jpeg(index: number, quality = 90): Promise<Buffer> {
  const raw = Buffer.from((scenes.get(index).image.toArray() as Uint8Array).buffer);
  return sharp(raw, { raw: { width: 32, height: 32, channels: 3 } }).jpeg({ quality }).toBuffer();
}

async function writeScenes(from: number, to: number, name: (i: number) => string): Promise<void> {
  const chunk = 200;
  for (let at = from; at < to; at += chunk) {
    await Promise.all(Array.from({ length: Math.min(chunk, to - at) }, async (_, k) => {
      const file = path.join(dir, name(at + k));
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, await jpeg(at + k));
    }));
  }
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-index-kill-'));
  dir = path.join(tmp, 'images');
  // 9,999 scenes in 100 folders, plus the near-duplicate of the query: the same scene saved at a lower JPEG quality.
  await writeScenes(0, FILES - 1, (i) => `d${String(i % 100).padStart(2, '0')}/scene${i}.jpg`);
  const planted = FILES + ADDED;
  fs.writeFileSync(path.join(dir, 'd42/planted.jpg'), await jpeg(planted, 60));
  query = path.join(tmp, 'query.png');
  const raw = Buffer.from((scenes.get(planted).image.toArray() as Uint8Array).buffer);
  await sharp(raw, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(query);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Runs the child indexer; with killAfter, SIGKILLs it once that many files are committed. */
function runChild(index: string, killAfter?: number): Promise<{ lines: Record<string, unknown>[]; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, index, String(BATCH)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: Record<string, unknown>[] = [];
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop()!;
      for (const part of parts) {
        const line = JSON.parse(part) as Record<string, unknown>;
        lines.push(line);
        if (killAfter !== undefined && typeof line.done === 'number' && line.done >= killAfter) child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ lines, signal }));
  });
}

test('a SIGKILLed index run, re-run, equals an uninterrupted one; 100 added files are all a re-run embeds; the near-duplicate comes first', { timeout: 600_000 }, async () => {
  const index = path.join(tmp, 'index');
  const killed = await runChild(index, 3000);
  assert.equal(killed.signal, 'SIGKILL');
  const store = await ImageIndexStore.open(index);
  const partial = await store.count();
  store.close();
  assert.ok(partial >= 3000 && partial < FILES, `the killed run committed ${partial} files`);
  assert.equal(partial % BATCH, 0, 'every batch is committed whole or not at all');

  const resumed = await runChild(index);
  const report = resumed.lines.at(-1)!.report as { embedded: number; unchanged: number; indexed: number };
  assert.equal(resumed.signal, null);
  assert.deepEqual([report.embedded, report.unchanged, report.indexed], [FILES - partial, partial, FILES]);

  // What an uninterrupted run stores: each file once, with its stat, its hash and its embedding.
  const rows = await (async () => {
    const s = await ImageIndexStore.open(index);
    try {
      return await s.rows();
    } finally {
      s.close();
    }
  })();
  const files = await findImages(dir);
  assert.deepEqual(rows.map((r) => r.path), files.map((f) => f.path));
  rows.forEach((row, i) => {
    assert.equal(row.size, files[i].size);
    assert.equal(row.mtimeMs, files[i].mtimeMs);
  });
  const sample = Array.from({ length: 200 }, (_, k) => (k * 4999 + 17) % FILES); // 200 distinct rows spread over the index
  for (const i of sample) assert.equal(rows[i].hash, createHash('sha256').update(fs.readFileSync(path.join(dir, rows[i].path))).digest('hex'));
  const model = smallClip();
  const want = (await embedImages(model, sample.map((i) => path.join(dir, rows[i].path)))).toArray() as Float32Array;
  sample.forEach((i, k) => rows[i].embedding.forEach((v, d) => assert.ok(Math.abs(v - want[k * 32 + d]) < 1e-5, `${rows[i].path}[${d}]`)));

  await writeScenes(FILES - 1, FILES - 1 + ADDED, (i) => `added/scene${i}.jpg`);
  const added = await indexImages(model, dir, index, { batchSize: BATCH });
  assert.deepEqual([added.embedded, added.unchanged, added.indexed], [ADDED, FILES, FILES + ADDED]);

  const hits = await searchImages(model, index, { image: query }, 5);
  assert.equal(hits[0].path, 'd42/planted.jpg');
});
