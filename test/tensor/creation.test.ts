import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/index.ts';

test('tensor() infers shape and dtype from nested arrays', () => {
  const t = T.tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual([...t.shape], [2, 3]);
  assert.equal(t.dtype, 'float32');
  assert.deepEqual(t.tolist(), [[1, 2, 3], [4, 5, 6]]);
  assert.equal(T.tensor([true, false]).dtype, 'bool');
  assert.deepEqual(T.tensor([true, false]).tolist(), [true, false]);
  assert.equal(T.tensor(3.5).item(), 3.5);
  assert.deepEqual(T.tensor([1, 2], { dtype: 'int64' }).tolist(), [1, 2]);
  assert.throws(() => T.tensor([[1, 2], [3]]), T.ShapeError);
});

test('every dtype round-trips through toArray', () => {
  for (const dtype of T.ALL_DTYPES) {
    const t = T.tensor([0, 1, 1, 0], { dtype });
    assert.equal(t.dtype, dtype);
    assert.deepEqual(Array.from(t.toArray(), Number), [0, 1, 1, 0], dtype);
  }
  const big = T.tensor([2 ** 40 + 1], { dtype: 'int64' });
  assert.equal(big.toArray()[0], 2n ** 40n + 1n);
});

test('fromTypedArray copies and checks the element count', () => {
  const src = new Float32Array([1, 2, 3, 4, 5, 6]);
  const t = T.fromTypedArray(src, [2, 3]);
  src[0] = 100;
  assert.equal(t.toArray()[0], 1);
  assert.throws(() => T.fromTypedArray(src, [4, 2]), T.ShapeError);
});

test('zeros, ones, full, eye, arange, linspace match torch', () => {
  assert.deepEqual(T.zeros([2]).tolist(), [0, 0]);
  assert.deepEqual(T.ones([2], { dtype: 'int32' }).tolist(), [1, 1]);
  assert.deepEqual(T.full([2], 7).tolist(), [7, 7]);
  assert.deepEqual(T.eye(2, 3).tolist(), [[1, 0, 0], [0, 1, 0]]);
  assert.deepEqual(T.arange(1, 10, 3).tolist(), [1, 4, 7]);
  assert.equal(T.arange(4).dtype, 'int64');
  assert.equal(T.arange(0, 1, 0.25).dtype, 'float32');
  assert.deepEqual(T.arange(0, 1, 0.25).tolist(), [0, 0.25, 0.5, 0.75]);
  assert.deepEqual(T.linspace(-1, 1, 5).tolist(), [-1, -0.5, 0, 0.5, 1]);
  assert.deepEqual([...T.zeros([0, 3]).shape], [0, 3]);
});

test('a seeded generator replays; normal and uniform have the right moments', () => {
  const g1 = new T.Generator(42);
  const g2 = new T.Generator(42);
  assert.deepEqual(T.randn([5], { generator: g1 }).tolist(), T.randn([5], { generator: g2 }).tolist());
  const state = g1.getState();
  const a = T.rand([4], { generator: g1 }).tolist();
  g1.setState(state);
  assert.deepEqual(T.rand([4], { generator: g1 }).tolist(), a);
  const n = T.randn([200000], { generator: new T.Generator(1) });
  assert.ok(Math.abs(T.mean(n).item()) < 0.01);
  assert.ok(Math.abs(T.variance(n).item() - 1) < 0.02);
  const u = T.rand([200000], { generator: new T.Generator(2) });
  assert.ok(Math.abs(T.mean(u).item() - 0.5) < 0.01);
  assert.ok(T.amin(u).item() >= 0 && T.amax(u).item() < 1);
  const r = T.randint(3, 7, [10000], { generator: new T.Generator(3) });
  assert.equal(T.amin(r).item(), 3);
  assert.equal(T.amax(r).item(), 6);
});

test('results do not depend on the thread count', () => {
  try {
    T.configure({ threads: 1 });
    assert.equal(T.native.getNumThreads(), 1);
    const one = T.randn([100000], { generator: new T.Generator(9) }).toArray();
    T.configure({ threads: 2 });
    const two = T.randn([100000], { generator: new T.Generator(9) }).toArray();
    assert.deepEqual(one, two);
  } finally {
    T.configure({ threads: null });
  }
});

test('dispose releases storage and later use raises DisposedError', () => {
  for (const n of [4, 100000]) {
    const t = T.ones([n]);
    const v = t.reshape(-1);
    t.dispose();
    assert.equal(t.disposed, true);
    assert.throws(() => t.toArray(), T.DisposedError);
    assert.throws(() => T.add(v, 1), T.DisposedError);
  }
});
