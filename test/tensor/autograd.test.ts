import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/index.ts';

test('grads accumulate across backward calls and from several uses of a tensor', () => {
  const x = T.tensor([1, 2, 3], { requiresGrad: true });
  T.mul(x, x).sum().backward();
  assert.deepEqual(x.grad!.tolist(), [2, 4, 6]);
  T.add(x, x).sum().backward();
  assert.deepEqual(x.grad!.tolist(), [4, 6, 8]);
});

test('backward with an explicit grad for a non-scalar output', () => {
  const x = T.tensor([[1, 2], [3, 4]], { requiresGrad: true });
  const y = T.mul(x, 3);
  y.backward(T.tensor([[1, 0], [0, 2]]));
  assert.deepEqual(x.grad!.tolist(), [[3, 0], [0, 6]]);
});

test('broadcast inputs receive grads summed back to their shape', () => {
  const a = T.ones([2, 3], { requiresGrad: true });
  const b = T.ones([3], { requiresGrad: true });
  const c = T.ones([2, 1], { requiresGrad: true });
  T.mul(T.add(a, b), c).sum().backward();
  assert.deepEqual(b.grad!.tolist(), [2, 2, 2]);
  assert.deepEqual(c.grad!.tolist(), [[6], [6]]);
  assert.ok(b.grad!.isContiguous());
});

test('a backward on a leaf sets its grad to ones', () => {
  const x = T.tensor(5, { requiresGrad: true });
  x.backward();
  assert.equal(x.grad!.item(), 1);
});

test('errors: backward without grad, non-scalar without a grad, wrong grad shape, freed graph', () => {
  const plain = T.tensor([1, 2]);
  assert.throws(() => plain.sum().backward(), (e: unknown) => e instanceof T.AutogradError && /does not require grad/.test(e.message));
  const x = T.tensor([1, 2], { requiresGrad: true });
  assert.throws(() => T.mul(x, 2).backward(), (e: unknown) => e instanceof T.AutogradError && /scalar/.test(e.message) && /\[2\]/.test(e.message));
  assert.throws(() => T.mul(x, 2).backward(T.ones([3])), (e: unknown) => e instanceof T.AutogradError && /\[3\]/.test(e.message) && /\[2\]/.test(e.message));
  const y = T.mul(x, x).sum();
  y.backward();
  assert.throws(() => y.backward(), (e: unknown) => e instanceof T.AutogradError && /already freed/.test(e.message));
});

test('retainGraph allows a second backward through the same graph', () => {
  const x = T.tensor([1, 2], { requiresGrad: true });
  const y = T.mul(x, x).sum();
  y.backward(undefined, { retainGraph: true });
  y.backward();
  assert.deepEqual(x.grad!.tolist(), [4, 8]);
});

test('noGrad records nothing; detach cuts the graph; enableGrad re-enables', () => {
  const x = T.tensor([1, 2], { requiresGrad: true });
  const y = T.noGrad(() => T.mul(x, 2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  const z = T.mul(x, 2).detach();
  assert.equal(z.requiresGrad, false);
  const w = T.noGrad(() => T.enableGrad(() => T.mul(x, 2)));
  assert.equal(w.requiresGrad, true);
});

test('retainGrad keeps the grad of a non-leaf', () => {
  const x = T.tensor([1, 2], { requiresGrad: true });
  const h = T.mul(x, 3).retainGrad();
  T.mul(h, h).sum().backward();
  assert.deepEqual(h.grad!.tolist(), [6, 12]);
  assert.deepEqual(x.grad!.tolist(), [18, 36]);
});

test('grads flow through views (permute, narrow, reshape, expand) to the base', () => {
  const x = T.arange(6, undefined, 1, { dtype: 'float32' }).reshape(2, 3).requiresGrad_();
  const y = x.permute(1, 0).narrow(0, 1, 2).reshape(4);
  T.mul(y, T.tensor([1, 2, 3, 4])).sum().backward();
  assert.deepEqual(x.grad!.tolist(), [[0, 1, 3], [0, 2, 4]]);
});

test('requiresGrad_ rejects integer tensors', () => {
  assert.throws(() => T.arange(3).requiresGrad_(), T.DTypeError);
});

test('bf16 leaves get bf16 grads', () => {
  const x = T.ones([3], { dtype: 'bfloat16', requiresGrad: true });
  T.mul(x, 2).sum().backward();
  assert.equal(x.grad!.dtype, 'bfloat16');
  assert.deepEqual(x.grad!.tolist(), [2, 2, 2]);
});
