/**
 * The contrastive (CLIP) objective: one micro-batch is clipLoss with its backward; accumulated
 * micro-batches with cached embeddings give the towers the full-batch gradient and logit_scale
 * that gradient once per micro-batch (open_clip's --accum-freq); captions are padded to the
 * longest only, with unchanged embeddings; logit_scale is clamped at ln 100.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/index.ts';
import { ContrastiveObjective, MAX_LOGIT_SCALE, captionIds, logitScaleClamp } from '../../src/train/contrastive.ts';
import { clipLoss } from '../../src/train/losses.ts';
import { loadTokenizer } from '../../src/text/load.ts';
import type { Batch } from '../../src/data/loader.ts';
import { smallClip } from '../helpers/small-clip.ts';
import { SHARED_BPE_GZ } from '../text/hf-vocab-files.ts';

const CAPTIONS = ['a red circle', 'a small blue square above a green star', 'a yellow ring', 'a large white bar to the left of a red cross', 'a cyan hexagon', 'a magenta triangle'];

function batchOf(from: number, to: number): Batch {
  const images = T.randn([to - from, 3, 32, 32], { generator: new T.Generator(40 + from) });
  return { images, labels: T.arange(to - from), indices: [], texts: CAPTIONS.slice(from, to) };
}

function grads(model: T.Model<T.CLIP>): Map<string, Float32Array> {
  return new Map(model.namedParameters().filter(([, p]) => p.grad).map(([n, p]) => [n, p.grad!.toArray() as Float32Array]));
}

function assertAllClose(got: Float32Array, want: Float32Array, tol: number, what: string): void {
  let worst = 0;
  let scale = 1;
  for (let i = 0; i < want.length; ++i) {
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  assert.ok(worst <= tol * scale, `${what}: max |diff| ${worst} > ${tol * scale}`);
}

test('one micro-batch: the loss is clipLoss of the two towers, with its gradients', async () => {
  const tokenizer = await loadTokenizer(SHARED_BPE_GZ);
  const model = smallClip();
  const batch = batchOf(0, 4);
  const objective = new ContrastiveObjective(model, tokenizer);
  const value = objective.microStep(batch, { epoch: 0, groupSize: 1, closesUpdate: true }, false);
  const got = grads(model);
  model.zeroGrad();
  const ids = tokenizer.encodeBatch(batch.texts!).inputIds;
  const loss = clipLoss(model.encodeImage(batch.images), model.encodeText(ids), T.exp(model.logitScale));
  assert.ok(Math.abs(value! - loss.item()) < 1e-5, `${value} vs ${loss.item()}`);
  loss.backward();
  for (const [name, g] of grads(model)) assertAllClose(got.get(name)!, g, 1e-5, name);
});

test('accumulated micro-batches: the towers get the full-batch gradient, logit_scale it once per micro-batch', async () => {
  const tokenizer = await loadTokenizer(SHARED_BPE_GZ);
  const model = smallClip();
  model.eval();
  const objective = new ContrastiveObjective(model, tokenizer);
  const parts = [batchOf(0, 2), batchOf(2, 4), batchOf(4, 6)];
  const values = parts.map((b, j) => objective.microStep(b, { epoch: 0, groupSize: 3, closesUpdate: j === 2 }, false));
  assert.deepEqual(values.slice(0, 2), [null, null]);
  const accumulated = grads(model);
  model.zeroGrad();
  const images = T.cat(parts.map((b) => b.images), 0);
  const loss = clipLoss(model.encodeImage(images), model.encodeText(tokenizer.encodeBatch(CAPTIONS).inputIds), T.exp(model.logitScale));
  assert.ok(Math.abs(values[2]! - loss.item()) < 1e-5, `full-batch loss ${values[2]} vs ${loss.item()}`);
  loss.backward();
  const full = grads(model);
  assert.ok(full.size > 10);
  for (const [name, g] of full) {
    const want = name === 'logit_scale' ? g.map((v) => 3 * v) : g;
    assertAllClose(accumulated.get(name)!, want, 1e-4, name);
  }
});

test('a non-finite loss does no backward and is returned for the trainer to stop or skip', async () => {
  const tokenizer = await loadTokenizer(SHARED_BPE_GZ);
  const model = smallClip();
  const batch = { ...batchOf(0, 2), images: T.full([2, 3, 32, 32], Number.NaN) };
  const value = new ContrastiveObjective(model, tokenizer).microStep(batch, { epoch: 0, groupSize: 1, closesUpdate: true }, false);
  assert.ok(Number.isNaN(value));
  assert.ok(model.parameters().every((p) => p.grad === null));
  assert.throws(() => new ContrastiveObjective(model, tokenizer).microStep({ ...batch, texts: undefined }, { epoch: 0, groupSize: 1, closesUpdate: true }, false), /needs its captions/);
});

test('captionIds pads to the longest caption only, and the text embeddings do not change', async () => {
  const tokenizer = await loadTokenizer(SHARED_BPE_GZ);
  const model = smallClip();
  const ids = captionIds(tokenizer, CAPTIONS);
  const longest = Math.max(...tokenizer.encodeBatch(CAPTIONS).rows.map((r) => r.length));
  assert.deepEqual(ids.shape, [CAPTIONS.length, longest]);
  const short = T.noGrad(() => model.encodeText(ids)).toArray() as Float32Array;
  const padded = T.noGrad(() => model.encodeText(tokenizer.encodeBatch(CAPTIONS).inputIds)).toArray() as Float32Array;
  assertAllClose(short, padded, 1e-5, 'text embeddings');
});

test('logitScaleClamp keeps exp(logit_scale) within [1, 100]', () => {
  const model = smallClip();
  const clamp = logitScaleClamp(model);
  T.noGrad(() => model.logitScale.copy_(T.full([], 7)));
  clamp.onStepEnd!(null as never, null as never);
  assert.ok(Math.abs(model.logitScale.item() - MAX_LOGIT_SCALE) < 1e-6);
  T.noGrad(() => model.logitScale.copy_(T.full([], -2)));
  clamp.onStepEnd!(null as never, null as never);
  assert.equal(model.logitScale.item(), 0);
});
