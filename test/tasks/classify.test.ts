import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import * as T from '../../src/index.ts';
import { fixturesDir } from '../helpers/opcheck.ts';

test('topK ranks each row, breaking ties by index, with labels', () => {
  const probs = T.tensor([[0.1, 0.5, 0.2, 0.2], [0.7, 0.1, 0.1, 0.1]]);
  const labels = [{ name: 'a', names: 'a' }, { name: 'b', names: 'b' }, { name: 'c', names: 'c' }, { name: 'd', names: 'd' }];
  const top = T.topK(probs, 3, labels);
  assert.deepEqual(top[0].map((p) => p.label), ['b', 'c', 'd']);
  assert.deepEqual(top[1].map((p) => p.index), [0, 1, 2]);
  assert.throws(() => T.topK(T.zeros([4]), 1), T.ShapeError);
});

test('classify returns k predictions per image whose probabilities are a softmax', async () => {
  const model = T.buildModel('resnet18.tv_in1k');
  const images = ['rgb_landscape.png', 'gray.jpg', 'rgba.png'].map((f) => path.join(fixturesDir, 'image', f));
  const results = await T.classify(model, images, { topK: 1000, batchSize: 2 });
  assert.equal(results.length, 3);
  for (const r of results) {
    assert.equal(r.length, 1000);
    assert.ok(Math.abs(r.reduce((s, p) => s + p.probability, 0) - 1) < 1e-4);
    assert.ok(r[0].probability >= r[1].probability);
  }
  const names = T.loadLabels('imagenet-1k');
  for (const p of results[0].slice(0, 10)) assert.equal(p.label, names[p.index].name);
  await assert.rejects(T.classify(model, images, { topK: 0 }), T.ArgumentError);
  await assert.rejects(T.classify(model, images, { labels: [{ name: 'x', names: 'x' }] }), /1 labels for a model with 1000 classes/);
});

test('loadLabels reads the built-in ImageNet set and user files', async () => {
  const labels = T.loadLabels('imagenet-1k');
  assert.equal(labels.length, 1000);
  assert.deepEqual(labels[0], { name: 'tench', names: 'tench, Tinca tinca', synset: 'n01440764' });
  assert.equal(labels[207].name, 'golden retriever');
  assert.throws(() => T.loadLabels('/nonexistent/labels.txt'), /cannot read labels/);
});
