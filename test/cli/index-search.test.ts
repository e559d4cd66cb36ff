/** tsvision index and search as a user runs them: a folder indexed (a broken file skipped by name), re-runs, search by image and text, typed errors. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { SHARED_BPE_GZ } from '../text/hf-vocab-files.ts';
import { cli } from './run-cli.ts';

let dir = '';
let images = '';
let index = '';
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-cli-index-'));
  images = path.join(dir, 'photos');
  index = path.join(dir, 'photos.index');
  fs.mkdirSync(path.join(images, 'sub'), { recursive: true });
  const colours = [[230, 20, 20], [20, 200, 40], [30, 40, 220], [240, 240, 30]];
  await Promise.all(colours.map(([r, g, b], i) => sharp({ create: { width: 48, height: 40, channels: 3, background: { r, g, b } } }).jpeg().toFile(path.join(images, i % 2 ? `sub/c${i}.jpg` : `c${i}.jpg`))));
  fs.writeFileSync(path.join(images, 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('index: embeds the folder, names the file it skips; a re-run embeds nothing', () => {
  const first = cli('index', images, '--out', index, '--batch-size', '3');
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /tsvision: skipped broken\.jpg: .*broken\.jpg/);
  assert.match(first.stdout, /photos\.index: 4 images indexed \(4 embedded, 0 unchanged, 0 removed, 1 skipped\)/);
  const again = cli('index', images, '--out', index, '--json');
  assert.equal(again.code, 0, again.stderr);
  const report = JSON.parse(again.stdout) as { embedded: number; unchanged: number; indexed: number; failed: unknown[] };
  assert.deepEqual([report.embedded, report.unchanged, report.indexed, report.failed.length], [0, 4, 4, 1]);
});

test('search --image finds the same image first; a text query ranks every image; --json lines', () => {
  const byImage = cli('search', index, '--image', path.join(images, 'sub/c1.jpg'), '--top', '2', '--json');
  assert.equal(byImage.code, 0, byImage.stderr);
  const hits = byImage.stdout.trim().split('\n').map((l) => JSON.parse(l) as { path: string; file: string; score: number });
  assert.equal(hits.length, 2);
  assert.deepEqual([hits[0].path, hits[0].file], ['sub/c1.jpg', path.join(images, 'sub/c1.jpg')]);
  assert.ok(Math.abs(hits[0].score - 1) < 1e-4);
  const byText = cli('search', index, 'a red square', '--vocab', SHARED_BPE_GZ);
  assert.equal(byText.code, 0, byText.stderr);
  const lines = byText.stdout.trim().split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0], /^-?\d\.\d{4} {2}\/.*\.jpg$/);
});

test('search: another model, a missing index, or both a text and --image are refused with what was expected', () => {
  const other = cli('search', index, 'a car', '--model', 'clip_rn50');
  assert.equal(other.code, 1);
  assert.match(other.stderr, /IndexMismatchError .*the index was built with model clip_vit_base_patch32\.openai, got clip_rn50/);
  const missing = cli('search', path.join(dir, 'nowhere'), 'a car');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /ImageIndexError .*nowhere: no index here/);
  const both = cli('search', index, 'a car', '--image', path.join(images, 'c0.jpg'));
  assert.equal(both.code, 2);
  assert.match(both.stderr, /give either a TEXT after INDEX or --image FILE, exactly one/);
});
