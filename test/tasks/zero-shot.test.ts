/** Zero-shot classification, image/text embedding and retrieval on a small seeded CLIP with CLIP's real tokenizer. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import * as T from '../../src/index.ts';
import { preprocessBatch } from '../../src/data/transforms.ts';
import { IMAGENET_TEMPLATES, embedImages, embedTexts, retrieve, zeroShot, zeroShotWeights } from '../../src/tasks/zero-shot.ts';
import { loadTokenizer } from '../../src/text/load.ts';
import { assertClose } from '../helpers/opcheck.ts';
import { SMALL_CLIP_PREPROCESS, smallClip } from '../helpers/small-clip.ts';
import { SHARED_BPE_GZ } from '../text/hf-vocab-files.ts';

const preprocess = SMALL_CLIP_PREPROCESS;

const images = () => Promise.all([[250, 20, 20], [20, 240, 30], [30, 40, 250]].map((rgb, i) => {
  const raw = Buffer.alloc(40 * 48 * 3);
  for (let p = 0; p < 40 * 48; p++) for (let c = 0; c < 3; c++) raw[p * 3 + c] = (rgb[c] + 37 * ((p + i) % 5)) & 255;
  return sharp(raw, { raw: { width: 48, height: 40, channels: 3 } }).png().toBuffer();
}));

test('zeroShot with the template {} gives the softmax of the model\'s own logits_per_image', async () => {
  const model = smallClip();
  const tokenizer = await loadTokenizer(SHARED_BPE_GZ);
  const labels = ['red square', 'green square', 'blue square', 'a cat'];
  const pngs = await images();
  const got = await zeroShot(model, tokenizer, pngs, labels, { templates: ['{}'], topK: 4 });
  const pixels = await preprocessBatch(pngs, preprocess);
  const { logitsPerImage } = T.noGrad(() => model.forward(pixels, tokenizer.encodeBatch(labels).inputIds));
  const want = T.softmax(logitsPerImage, -1).toArray() as Float32Array;
  got.forEach((row, i) => {
    assert.equal(row.length, 4);
    for (const p of row) {
      assert.equal(p.label, labels[p.index]);
      assert.ok(Math.abs(p.probability - want[i * 4 + p.index]) < 1e-5, `image ${i} class ${p.index}: ${p.probability} vs ${want[i * 4 + p.index]}`);
    }
    assert.ok(row[0].probability >= row[1].probability && row[1].probability >= row[3].probability);
  });
});

test('zeroShotWeights: per class, normalised prompt embeddings averaged over templates, normalised again', async () => {
  const model = smallClip();
  const tokenizer = await loadTokenizer(SHARED_BPE_GZ);
  const templates = ['a photo of a {}.', 'itap of a {}.', 'a {} in a video game.'];
  const w = zeroShotWeights(model, tokenizer, ['dog', ' cat '], templates, { batchSize: 2 }); // (E, C)
  assert.deepEqual([...w.shape], [32, 2]);
  const columns = T.transpose(w, 0, 1).toArray() as Float32Array;
  ['dog', 'cat'].forEach((label, c) => {
    const e = embedTexts(model, tokenizer, templates.map((t) => t.replace('{}', label))).toArray() as Float32Array; // (3, E), normalised
    const avg = Array.from({ length: 32 }, (_, d) => (e[d] + e[32 + d] + e[64 + d]) / 3);
    const len = Math.hypot(...avg);
    avg.forEach((v, d) => assert.ok(Math.abs(v / len - columns[c * 32 + d]) < 1e-5, `class ${c} dim ${d}`));
  });
});

test('embedImages / embedTexts: batching does not change the embeddings; normalize: false keeps the projections', async () => {
  const model = smallClip();
  const tokenizer = await loadTokenizer(SHARED_BPE_GZ);
  const pngs = await images();
  const one = await embedImages(model, pngs, { batchSize: 1, normalize: false });
  const all = await embedImages(model, pngs, { normalize: false });
  assertClose(one, all, 1e-5, 'batch 1 vs 3');
  const pixels = await preprocessBatch(pngs, preprocess);
  const direct = T.noGrad(() => model.encodeImage(pixels));
  assertClose(all, direct, 1e-5, 'embedImages vs encodeImage');
  const norms = T.norm(await embedImages(model, pngs), 2, -1).toArray() as Float32Array;
  for (const n of norms) assert.ok(Math.abs(n - 1) < 1e-5);
  const texts = ['a', 'b c', 'a much longer caption about shapes'];
  assertClose(embedTexts(model, tokenizer, texts, { batchSize: 2 }), embedTexts(model, tokenizer, texts), 1e-5, 'texts batch 2 vs 3');
});

test('retrieve: the k most similar gallery rows by cosine, best first', () => {
  const g = new T.Generator(3);
  const gallery = T.randn([20, 8], { generator: g });
  const queries = T.add(T.indexSelect(gallery, 0, T.tensor([7, 2], { dtype: 'int64' })), T.mul(T.randn([2, 8], { generator: g }), 0.01));
  const hits = retrieve(queries, gallery, 3);
  assert.deepEqual(hits.map((h) => h[0].index), [7, 2]);
  for (const row of hits) {
    assert.equal(row.length, 3);
    assert.ok(row[0].score > 0.99 && row[0].score >= row[1].score && row[1].score >= row[2].score);
  }
  assert.throws(() => retrieve(queries, T.randn([5, 4]), 1), (e: unknown) => e instanceof T.ShapeError && /same E/.test(e.message));
});

test('bad labels and templates are typed errors naming what came', async () => {
  const model = smallClip();
  const tokenizer = await loadTokenizer(SHARED_BPE_GZ);
  const pngs = (await images()).slice(0, 1);
  const rejects = (labels: string[], pattern: RegExp, options = {}) => assert.rejects(zeroShot(model, tokenizer, pngs, labels, options), (e: unknown) => e instanceof T.ArgumentError && pattern.test(e.message));
  await rejects([], /non-empty list of class labels, got \[\]/);
  await rejects(['cat', ' '], /label 1 is " ", expected a non-blank class name/);
  await rejects(['cat', 'dog', 'cat '], /label 'cat' is given twice \(labels 0 and 2\)/);
  await rejects(['cat', 'dog'], /template 0 is "a photo", expected text with exactly one '\{\}'/, { templates: ['a photo'] });
  await rejects(['cat', 'dog'], /template 1 is "\{\} and \{\}"/, { templates: ['{}', '{} and {}'] });
  await rejects(['cat', 'dog'], /topK must be a positive integer, got 0/, { topK: 0 });
});

test('IMAGENET_TEMPLATES: the 80 templates of CLIP, each with one {}', () => {
  assert.equal(IMAGENET_TEMPLATES.length, 80);
  assert.equal(IMAGENET_TEMPLATES[0], 'a bad photo of a {}.');
  for (const t of IMAGENET_TEMPLATES) assert.equal(t.split('{}').length, 2, t);
});
