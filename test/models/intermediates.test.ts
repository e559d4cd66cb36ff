/** forwardIntermediates (timm's forward_intermediates): levels, index selection, and agreement with forwardFeatures. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/index.ts';

const maxAbs = (a: T.Tensor, b: T.Tensor) => T.amax(T.abs(T.sub(T.contiguous(a), T.contiguous(b)))).item();

test('ResNet: the stem and four stages; the last level is forwardFeatures\' output; last-n, negative indices, stopEarly', () => {
  const model = T.buildModel('resnet18').eval();
  const x = T.randn([2, 3, 64, 64], { generator: new T.Generator(0) });
  const all = T.noGrad(() => model.forwardIntermediates(x));
  assert.deepEqual(all.intermediates.map((t) => [...t.shape]), [[2, 64, 32, 32], [2, 64, 16, 16], [2, 128, 8, 8], [2, 256, 4, 4], [2, 512, 2, 2]]);
  const features = T.noGrad(() => model.forwardFeatures(x));
  assert.ok(maxAbs(all.intermediates[4], features) === 0 && maxAbs(all.features!, features) === 0);
  const lastTwo = T.noGrad(() => model.forwardIntermediates(x, { indices: 2, intermediatesOnly: true }));
  assert.equal(lastTwo.features, null);
  assert.deepEqual(lastTwo.intermediates.map((t) => t.shape[1]), [256, 512]);
  const picked = T.noGrad(() => model.forwardIntermediates(x, { indices: [0, -3], stopEarly: true }));
  assert.deepEqual(picked.intermediates.map((t) => t.shape[1]), [64, 128]);
  assert.deepEqual([...picked.features!.shape], [2, 128, 8, 8], 'stopped after layer2');
  assert.ok(maxAbs(picked.intermediates[1], all.intermediates[2]) === 0);
  assert.throws(() => model.forwardIntermediates(x, { indices: 6 }), T.IndexError);
  assert.throws(() => model.forwardIntermediates(x, { indices: [5] }), (e: unknown) => e instanceof T.IndexError && /0 to 4/.test((e as Error).message));
});

test('ViT: one level per block as [B, D, h, w] maps (or tokens), normed on request, the last one forwardFeatures\' patch tokens', () => {
  const model = T.buildModel('vit_tiny_patch16_224').eval();
  const x = T.randn([1, 3, 224, 224], { generator: new T.Generator(1) });
  const { features, intermediates } = T.noGrad(() => model.forwardIntermediates(x, { indices: [-1], norm: true }));
  assert.deepEqual([...intermediates[0].shape], [1, 192, 14, 14]);
  const tokens = T.noGrad(() => model.forwardFeatures(x)); // (1, 197, 192)
  assert.ok(maxAbs(features!, tokens) === 0);
  const asMap = T.permute(T.reshape(T.narrow(tokens, 1, 1, 196), [1, 14, 14, 192]), [0, 3, 1, 2]);
  assert.ok(maxAbs(intermediates[0], asMap) === 0);
  const nlc = T.noGrad(() => model.forwardIntermediates(x, { indices: 3, outputFmt: 'NLC', intermediatesOnly: true }));
  assert.deepEqual(nlc.intermediates.map((t) => [...t.shape]), [[1, 196, 192], [1, 196, 192], [1, 196, 192]]);
  assert.deepEqual(model.featureInfo.map((f) => f.reduction), Array(12).fill(16));
});
