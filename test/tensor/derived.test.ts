/**
 * DerivedValue (src/tensor/derived.ts): the cache behind folded conv+BN weights, standardized
 * kernels and norms' eval affines. It must recompute after a source is written in place or
 * replaced, or a non-tensor source changes identity, keep the value otherwise, and keep it alive
 * through the allocation scope of the call that first computed it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/tensor/index.ts';
import { DerivedValue } from '../../src/tensor/derived.ts';

test('DerivedValue recomputes only when a source is written, replaced, or a plain source changes', () => {
  const w = T.full([3], 2);
  const derived = new DerivedValue<T.Tensor>();
  let computed = 0;
  const get = (extra: object) => derived.get([w, null, extra], () => {
    computed += 1;
    return T.mul(w, 10);
  });
  const key = {};
  assert.deepEqual([...get(key).toArray()], [20, 20, 20]);
  get(key);
  assert.equal(computed, 1, 'unchanged sources reuse the value');
  T.noGrad(() => w.copy_(T.full([3], 3)));
  assert.deepEqual([...get(key).toArray()], [30, 30, 30], 'an in-place write recomputes');
  w.setData(T.full([3], 4));
  assert.deepEqual([...get(key).toArray()], [40, 40, 40], 'a replaced storage recomputes');
  get({});
  assert.equal(computed, 4, 'another plain source recomputes');
  derived.clear();
  get({});
  assert.equal(computed, 5, 'clear drops the value');
});

test('a DerivedValue computed inside a tidy scope outlives it', () => {
  const w = T.full([4], 1);
  const derived = new DerivedValue<T.Tensor>();
  const value = T.noGrad(() => T.tidy(() => {
    derived.get([w], () => T.add(w, 1));
    return null;
  }));
  assert.equal(value, null);
  const kept = derived.get([w], () => assert.fail('must not recompute'));
  assert.ok(!kept.disposed);
  assert.deepEqual([...kept.toArray()], [2, 2, 2, 2]);
});
