/**
 * Parity of the index ops (index_select, gather, scatter_add, index_add, masked_fill,
 * embedding) and of pad reflect/replicate/circular, tril and triu with torch; fixture from
 * tools/reference/ops_index.py. Also: determinism of the scatter kernels and their bf16 runs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IndexError } from '../../src/errors.ts';
import * as T from '../../src/tensor/index.ts';
import { checkOpFixture, type OpFn } from '../helpers/opcheck.ts';

const table: Record<string, OpFn> = {
  indexSelect: ([x, i], k) => T.indexSelect(x, k.dim, i),
  gather: ([x, i], k) => T.gather(x, k.dim, i),
  scatterAdd: ([x, i, s], k) => T.scatterAdd(x, k.dim, i, s),
  indexAdd: ([x, i, s], k) => T.indexAdd(x, k.dim, i, s),
  maskedFill: ([x, m], k) => T.maskedFill(x, m, Number(k.value)), // JSON has no -Infinity: the fixture spells it as a string,
  embedding: ([i, w], k) => T.embedding(i, w, { paddingIdx: k.paddingIdx }),
  pad: ([x], k) => T.pad(x, k.pad, k.mode),
  tril: ([x], k) => T.tril(x, k.diagonal),
  triu: ([x], k) => T.triu(x, k.diagonal),
};

checkOpFixture('index.safetensors', table);

test('indexAdd accumulates many repeats of a row the same way on every run', () => {
  const n = 4096;
  const src = T.randn([n, 96], { generator: new T.Generator(7) });
  const index = T.randint(0, 3, [n], { generator: new T.Generator(8) });
  const first = T.indexAdd(T.zeros([3, 96]), 0, index, src).toArray();
  for (let run = 0; run < 3; ++run) assert.deepEqual(T.indexAdd(T.zeros([3, 96]), 0, index, src).toArray(), first);
  // Against a float64 sum in JS.
  const s = src.toArray() as Float32Array;
  const ix = index.toArray() as BigInt64Array;
  const want = new Float64Array(3 * 96);
  for (let r = 0; r < n; ++r) for (let c = 0; c < 96; ++c) want[Number(ix[r]) * 96 + c] += s[r * 96 + c];
  const got = first as Float32Array;
  for (let i = 0; i < want.length; ++i) assert.ok(Math.abs(got[i] - want[i]) < 1e-3, `element ${i}: ${got[i]} vs ${want[i]}`);
});

test('scatterAdd along each dim matches indexAdd with an expanded index', () => {
  const gen = new T.Generator(3);
  const x = T.randn([5, 6, 7], { generator: gen });
  for (const dim of [0, 1, 2]) {
    const k = 9;
    const shape = [5, 6, 7];
    shape[dim] = k;
    const src = T.randn(shape, { generator: gen });
    const index = T.randint(0, x.shape[dim], [k], { generator: gen });
    const expanded = T.expand(T.reshape(index, shape.map((_, i) => (i === dim ? k : 1))), shape).contiguous();
    const a = T.scatterAdd(x, dim, expanded, src).toArray();
    const b = T.indexAdd(x, dim, index, src).toArray();
    assert.deepEqual(a, b, `dim ${dim}`);
  }
});

test('bfloat16 scatter-add accumulates in float32 and rounds once', () => {
  // 256 additions of 1 into one bf16 element: step-by-step bf16 rounding would stall at 256.
  const src = T.ones([300, 1], { dtype: 'bfloat16' });
  const index = T.zeros([300], { dtype: 'int64' });
  const out = T.indexAdd(T.zeros([1, 1], { dtype: 'bfloat16' }), 0, index, src);
  assert.equal(out.dtype, 'bfloat16');
  assert.equal(out.item(), 300);
});

test('every data dtype goes through gather, scatter-add and masked fill', () => {
  const index = T.tensor([2, 0, 2], { dtype: 'int32' });
  for (const dtype of T.ALL_DTYPES) {
    const x = T.tensor([1, 0, 1], { dtype });
    assert.deepEqual(T.indexSelect(x, 0, index).tolist(), T.tensor([1, 1, 1], { dtype }).tolist(), dtype);
    const added = T.indexAdd(x, 0, index, T.tensor([1, 1, 0], { dtype }));
    assert.equal(added.dtype, dtype);
    const expected = dtype === 'bool' ? [true, false, true] : [2, 0, 2];
    assert.deepEqual(added.tolist(), expected, dtype);
    const filled = T.maskedFill(x, T.tensor([false, true, false]), 1);
    assert.deepEqual(filled.tolist(), dtype === 'bool' ? [true, true, true] : [1, 1, 1], dtype);
  }
});

test('an out-of-range index leaves nothing half-written and the op usable', () => {
  const x = T.ones([3, 2]);
  assert.throws(() => T.indexAdd(x, 0, T.tensor([0, 5], { dtype: 'int64' }), T.ones([2, 2])), IndexError);
  assert.deepEqual(x.tolist(), [[1, 1], [1, 1], [1, 1]]);
  assert.deepEqual(T.indexAdd(x, 0, T.tensor([0, 0], { dtype: 'int64' }), T.ones([2, 2])).tolist(), [[3, 3], [1, 1], [1, 1]]);
});

test('0-D inputs', () => {
  const x = T.scalarTensor(4);
  assert.deepEqual(T.indexSelect(x, 0, T.tensor([0], { dtype: 'int64' })).shape, []);
  assert.equal(T.gather(x, 0, T.scalarTensor(0, 'int64')).item(), 4);
  assert.equal(T.scatterAdd(x, 0, T.scalarTensor(0, 'int64'), T.scalarTensor(2)).item(), 6);
  assert.equal(T.indexAdd(x, -1, T.tensor([0], { dtype: 'int64' }), T.tensor([3])).item(), 7);
});

test('empty tensors', () => {
  const x = T.zeros([0, 3]);
  assert.deepEqual(T.indexSelect(x, 1, T.tensor([2, 2], { dtype: 'int64' })).shape, [0, 2]);
  assert.deepEqual(T.embedding(T.zeros([0], { dtype: 'int64' }), T.ones([4, 3])).shape, [0, 3]);
  assert.deepEqual(T.maskedFill(T.zeros([2, 0]), T.zeros([1, 0], { dtype: 'bool' }), 1).shape, [2, 0]);
  assert.deepEqual(T.gather(T.ones([2, 3]), 1, T.zeros([2, 0], { dtype: 'int64' })).shape, [2, 0]);
});
