/** tsvision zeroshot as a user runs it: JSON predictions over the given labels, typed errors for bad label lists and non-CLIP models. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { SHARED_BPE_GZ } from '../text/hf-vocab-files.ts';
import { cli } from './run-cli.ts';

let dir = '';
let image = '';
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-cli-zs-'));
  image = path.join(dir, 'red.png');
  await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 230, g: 20, b: 20 } } }).png().toFile(image);
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('zeroshot --json: every label ranked once, probabilities summing to 1', () => {
  const r = cli('zeroshot', image, '--labels', 'cat, dog,car', '--template', 'a photo of a {}.', '--template', 'itap of a {}.', '--vocab', SHARED_BPE_GZ, '--json', '--top', '3');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /no --weights given: clip_vit_base_patch32 has random weights/);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { image: string; predictions: { label: string; probability: number }[] });
  assert.equal(lines.length, 1);
  assert.equal(lines[0].image, image);
  assert.deepEqual(lines[0].predictions.map((p) => p.label).sort(), ['car', 'cat', 'dog']);
  const total = lines[0].predictions.reduce((s, p) => s + p.probability, 0);
  assert.ok(Math.abs(total - 1) < 1e-5, `probabilities sum to ${total}`);
});

test('zeroshot: an empty or malformed label list is a usage error naming it; a classifier is refused by task', () => {
  const empty = cli('zeroshot', image, '--labels', ' ', '--vocab', SHARED_BPE_GZ);
  assert.equal(empty.code, 2, empty.stderr);
  assert.match(empty.stderr, /--labels needs class names separated by commas .* got " " with an empty name at position 1/);
  const gap = cli('zeroshot', image, '--labels', 'cat,,dog', '--vocab', SHARED_BPE_GZ);
  assert.match(gap.stderr, /with an empty name at position 2/);
  const classifier = cli('zeroshot', image, '--labels', 'cat,dog', '--model', 'resnet18', '--vocab', SHARED_BPE_GZ);
  assert.notEqual(classifier.code, 0);
  assert.match(classifier.stderr, /zeroshot: needs an image-text model \(CLIP\); resnet18\.\w+ is image-classification/);
});
