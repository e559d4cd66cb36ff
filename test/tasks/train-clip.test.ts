/**
 * train-clip's data specs (shapes-captions settings, captions tables, WebDataset shards), recall@K,
 * and a short contrastive run of clip_vit_tiny_patch8_48 with accumulation: metrics per epoch,
 * the loss going down, and weights that load back into the registry model.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import * as T from '../../src/index.ts';
import { DataLoader } from '../../src/data/loader.ts';
import { openCaptionData, runClipTraining, textToImageRecall } from '../../src/tasks/train-clip.ts';
import { tar } from '../helpers/tar.ts';
import { SHARED_BPE_GZ } from '../text/hf-vocab-files.ts';

let tmp = '';
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-train-clip-'));
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const png = (r: number) => sharp({ create: { width: 20, height: 16, channels: 3, background: { r, g: 30, b: 60 } } }).png().toBuffer();

test('openCaptionData: shapes-captions settings, held-out zero-shot classes, and bad settings named', async () => {
  const data = openCaptionData('shapes-captions:train=40,val=8,size=32,heldout=3,zeroshot=6');
  assert.equal(data.kind, 'shapes-captions');
  assert.equal((data.train as T.Dataset).length, 40);
  assert.equal(data.val!.length, 8);
  assert.match((await data.val!.get(3))!.text!, / (above|below|to the left of|to the right of) /, 'retrieval pairs are two-shape scenes');
  assert.equal(data.zeroShot!.classes.length, 64);
  assert.equal(data.zeroShot!.images.length, 6);
  const heldOut = (data.zeroShot!.images as T.ShapesZeroShot).classes;
  assert.equal(heldOut.length, 3);
  data.zeroShot!.labelIndex.forEach((k, label) => assert.equal(data.zeroShot!.classes[k], heldOut[label]));
  assert.deepEqual(data.imageSize, [32, 32]);
  const sample = (await (data.train as T.Dataset).get(5))!;
  assert.equal(sample.label, 5);
  assert.match(sample.text!, /^an? /);
  assert.equal(openCaptionData('shapes-captions:heldout=0').zeroShot, null);
  assert.throws(() => openCaptionData('shapes-captions:train=0'), /bad shapes-captions setting 'train=0'/);
  assert.throws(() => openCaptionData('shapes-captions:colour=3'), /bad shapes-captions setting 'colour=3', expected train=N/);
  assert.throws(() => openCaptionData(path.join(tmp, 'nothing.csv')), /does not exist/);
});

test('openCaptionData: a captions table and WebDataset shards give batches with their captions', async () => {
  const table = path.join(tmp, 'pairs.csv');
  fs.writeFileSync(path.join(tmp, 'a.png'), await png(200));
  fs.writeFileSync(path.join(tmp, 'b.png'), await png(20));
  fs.writeFileSync(table, 'filepath,title\na.png,a red thing\nb.png,"a dark, bluish thing"\n');
  const fromTable = openCaptionData(table, { valSpec: table });
  assert.equal(fromTable.kind, 'table');
  assert.equal(fromTable.val!.length, 2);
  const loader = new DataLoader(fromTable.train as T.Dataset, { batchSize: 2 });
  for await (const b of loader) assert.deepEqual(b.texts, ['a red thing', 'a dark, bluish thing']);

  const shards = path.join(tmp, 'shards');
  fs.mkdirSync(shards);
  fs.writeFileSync(path.join(shards, 'part-0.tar'), tar([['s1.png', await png(90)], ['s1.txt', Buffer.from('first caption')], ['s2.png', await png(40)], ['s2.txt', Buffer.from('second caption')]]));
  const fromShards = openCaptionData(shards);
  assert.equal(fromShards.kind, 'webdataset');
  const texts: string[] = [];
  for await (const b of new DataLoader(fromShards.train, { batchSize: 2 })) texts.push(...b.texts!);
  assert.deepEqual(texts.sort(), ['first caption', 'second caption']);
  fs.mkdirSync(path.join(tmp, 'empty'));
  assert.throws(() => openCaptionData(path.join(tmp, 'empty')), /holds no \.tar shards/);
});

test('textToImageRecall: a query counts at K when fewer than K images score above its own', () => {
  const sim = T.tensor([[0.9, 0.1, 0.2], [0.5, 0.4, 0.3], [0.8, 0.7, 0.1]]);
  assert.deepEqual(textToImageRecall(sim, [1, 2, 3]), [1 / 3, 2 / 3, 1]);
});

test('runClipTraining: a short run with accumulation records zero-shot and recall each epoch; the weights load back', async () => {
  const output = path.join(tmp, 'run');
  const lines: string[] = [];
  const result = await runClipTraining({
    model: 'clip_vit_tiny_patch8_48', data: 'shapes-captions:train=256,val=64,zeroshot=32,heldout=4', output, vocab: SHARED_BPE_GZ,
    epochs: 2, batchSize: 32, accum: 2, lr: 1e-3, seed: 3, log: (l) => lines.push(l), progressStream: null,
  });
  assert.equal(result.history.length, 2);
  for (const r of result.history) {
    for (const key of ['top1', 'top5', 'heldOutTop1', 'recallAt1', 'recallAt5', 'recallAt10'] as const) assert.ok(r[key]! >= 0 && r[key]! <= 1, `${key} ${r[key]}`);
    assert.ok(r.recallAt1! <= r.recallAt5! && r.recallAt5! <= r.recallAt10!);
    assert.ok(r.heldOutTop1! >= r.top1!, 'fewer candidates cannot make top-1 worse');
  }
  assert.equal(result.stepLosses.length, 8);
  assert.ok(result.stepLosses.at(-1)! < result.stepLosses[0], `loss ${result.stepLosses[0]} → ${result.stepLosses.at(-1)}`);
  assert.ok(lines.some((l) => /epoch 2\/2: .*zero-shot top-1 .*text→image R@1 .*R@5/.test(l)), lines.join('\n'));
  assert.match(fs.readFileSync(path.join(output, 'metrics.csv'), 'utf8').split('\n')[0], /heldOutTop1,recallAt1,recallAt5,recallAt10$/);
  const reloaded = await T.createModel<T.CLIP>('clip_vit_tiny_patch8_48', { weights: output });
  assert.ok(Math.abs(reloaded.logitScale.item() - Math.log(1 / 0.07)) > 1e-4, 'logit_scale moved from its initial value');
});

test('runClipTraining: fine-tuning from a run\'s weights in bf16 mixed precision keeps f32 weights and finite losses', async () => {
  const first = path.join(tmp, 'base');
  const quiet = { log: () => undefined, progressStream: null, vocab: SHARED_BPE_GZ };
  await runClipTraining({ model: 'clip_vit_tiny_patch8_48', data: 'shapes-captions:train=64,val=16,zeroshot=8', output: first, epochs: 1, batchSize: 32, ...quiet });
  const lines: string[] = [];
  const tuned = await runClipTraining({
    model: 'clip_vit_tiny_patch8_48', data: 'shapes-captions:train=64,val=16,zeroshot=8', output: path.join(tmp, 'tuned'), pretrained: first,
    epochs: 1, batchSize: 32, amp: 'bf16', ...quiet, log: (l) => lines.push(l),
  });
  assert.ok(lines.some((l) => l === `loaded ${first}`), lines.join('\n'));
  assert.ok(tuned.stepLosses.every(Number.isFinite) && tuned.stepLosses.length === 2, `losses ${tuned.stepLosses}`);
  const saved = await T.createModel<T.CLIP>('clip_vit_tiny_patch8_48', { weights: path.join(tmp, 'tuned') });
  assert.equal(saved.logitScale.dtype, 'float32');
});
