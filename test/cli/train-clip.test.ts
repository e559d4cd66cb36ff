/** tsvision train-clip as a user runs it: a few updates on shapes-captions, and typed errors for a bad data spec or a non-CLIP model. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { SHARED_BPE_GZ } from '../text/hf-vocab-files.ts';
import { cli } from './run-cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-cli-train-clip-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('train-clip: two updates on shapes-captions print the zero-shot and recall figures and write the run', () => {
  const out = path.join(dir, 'run');
  const r = cli('train-clip', '--model', 'clip_vit_tiny_patch8_48', '--data', 'shapes-captions:train=64,val=16,zeroshot=8', '--batch-size', '32', '--epochs', '1', '--vocab', SHARED_BPE_GZ, '--output', out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^done: 2 updates, train loss \d\.\d{4}, zero-shot top-1 \d+\.\d\d%, text→image R@5 \d+\.\d\d%/);
  for (const f of ['metrics.csv', 'metrics.jsonl', 'curves.png', 'best.json']) assert.ok(fs.existsSync(path.join(out, f)), f);
});

test('train-clip: a bad data spec and a classifier are refused naming what was expected', () => {
  const bad = cli('train-clip', '--model', 'clip_vit_tiny_patch8_48', '--data', 'shapes-captions:size=0', '--output', path.join(dir, 'x'), '--vocab', SHARED_BPE_GZ);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /bad shapes-captions setting 'size=0'/);
  const classifier = cli('train-clip', '--model', 'resnet18', '--data', 'shapes-captions', '--output', path.join(dir, 'y'), '--vocab', SHARED_BPE_GZ);
  assert.equal(classifier.code, 1);
  assert.match(classifier.stderr, /resnet18 is not an image–text \(CLIP\) model/);
});
