/**
 * Memory stays flat in a training loop: native buffers are freed by the GC and autograd
 * state is released after backward. 5,000 forward+backward+SGD steps of a small conv net;
 * RSS after the last step must be within 100 MB of RSS after step 100.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/index.ts';

test('RSS stays within 100 MB over 5,000 training steps of a small conv net', { timeout: 300_000 }, () => {
  const g = new T.Generator(0);
  const params = {
    conv1: T.mul(T.randn([8, 3, 3, 3], { generator: g }), 0.2).requiresGrad_(),
    bias1: T.zeros([8], { requiresGrad: true }),
    conv2: T.mul(T.randn([16, 8, 3, 3], { generator: g }), 0.1).requiresGrad_(),
    fc: T.mul(T.randn([10, 16 * 4 * 4], { generator: g }), 0.05).requiresGrad_(),
    fcBias: T.zeros([10], { requiresGrad: true }),
  };
  const x = T.randn([8, 3, 16, 16], { generator: g });
  const target = T.randint(0, 10, [8], { generator: g });
  const oneHot = T.eq(T.arange(10).reshape(1, 10), target.reshape(8, 1)).to('float32');
  let rssAt100 = 0;
  let firstLoss = 0;
  let lastLoss = 0;
  for (let step = 1; step <= 5000; ++step) {
    let h = T.relu(T.conv2d(x, params.conv1, params.bias1, { padding: 1 }));
    h = T.maxPool2d(h, { kernelSize: 2 });
    h = T.relu(T.conv2d(h, params.conv2, null, { padding: 1 }));
    h = T.maxPool2d(h, { kernelSize: 2 }).flatten(1);
    const logits = T.linear(h, params.fc, params.fcBias);
    const loss = T.mean(T.sum(T.mul(T.logSoftmax(logits, 1), oneHot), 1)).neg();
    loss.backward();
    T.noGrad(() => {
      for (const p of Object.values(params)) {
        p.copy_(T.sub(p, T.mul(p.grad!, 0.05)));
        p.grad = null;
      }
    });
    if (step === 1) firstLoss = loss.item();
    if (step === 100) rssAt100 = process.memoryUsage().rss;
    lastLoss = loss.item();
  }
  const growth = (process.memoryUsage().rss - rssAt100) / 2 ** 20;
  assert.ok(lastLoss < firstLoss, `loss should decrease: ${firstLoss} -> ${lastLoss}`);
  assert.ok(growth < 100, `RSS grew by ${growth.toFixed(1)} MB between step 100 and step 5000`);
});
