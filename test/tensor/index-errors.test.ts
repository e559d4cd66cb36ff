/** Typed errors of the index ops for bad input: dtypes, ranks, shapes, dims, indices, values. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError, DisposedError, DTypeError, IndexError, NativeError, ShapeError } from '../../src/errors.ts';
import * as T from '../../src/tensor/index.ts';

const i64 = (v: number[] | number[][]) => T.tensor(v, { dtype: 'int64' });

/** Asserts fn throws `cls` with a message containing every fragment. */
function throwsWith(fn: () => unknown, cls: new (...args: never[]) => Error, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    for (const f of fragments) assert.ok((e as Error).message.includes(f), `message '${(e as Error).message}' lacks '${f}'`);
    return true;
  });
}

test('indexSelect: negative and too-large indices name the op, the index and the range', () => {
  const x = T.zeros([5, 3]);
  throwsWith(() => T.indexSelect(x, 0, i64([1, -1])), IndexError, 'indexSelect', 'index -1', 'dim 0 of size 5', '0..4');
  throwsWith(() => T.indexSelect(x, 1, T.tensor([3], { dtype: 'int32' })), IndexError, 'indexSelect', 'index 3', 'dim 1 of size 3', '0..2');
  throwsWith(() => T.indexSelect(T.zeros([0, 2]), 0, i64([0])), IndexError, 'index 0', 'size 0', 'empty');
});

test('indexSelect: index dtype, index rank and dim', () => {
  const x = T.zeros([5, 3]);
  throwsWith(() => T.indexSelect(x, 0, T.tensor([1, 2])), DTypeError, 'indexSelect', 'float32', 'int32 or int64');
  throwsWith(() => T.indexSelect(x, 0, i64([[1, 2]])), ShapeError, 'indexSelect', '0-D or 1-D', '[1, 2]');
  throwsWith(() => T.indexSelect(x, 2, i64([0])), IndexError, 'indexSelect', 'dim 2', 'rank 2');
  throwsWith(() => T.indexSelect(T.scalarTensor(1), 0, i64([0, 0])), ShapeError, 'indexSelect', 'one index');
});

test('gather: ranks, sizes, indices and dtypes', () => {
  const x = T.zeros([3, 4]);
  throwsWith(() => T.gather(x, 0, i64([0, 1])), ShapeError, 'gather', 'rank 1', 'rank 2');
  throwsWith(() => T.gather(x, 0, T.zeros([2, 5], { dtype: 'int64' })), ShapeError, 'gather', '[2, 5]', '[3, 4]', 'dim 1');
  throwsWith(() => T.gather(x, 1, i64([[0, -2]])), IndexError, 'gather', 'index -2', 'dim 1 of size 4', '0..3');
  throwsWith(() => T.gather(x, 0, i64([[3]])), IndexError, 'gather', 'index 3', 'dim 0 of size 3');
  throwsWith(() => T.gather(x, 0, T.zeros([1, 1], { dtype: 'uint8' })), DTypeError, 'gather', 'uint8');
  throwsWith(() => T.gather(x, -3, i64([[0]])), IndexError, 'gather', 'dim -3');
});

test('scatterAdd: dtypes, shapes and indices', () => {
  const x = T.zeros([3, 4]);
  throwsWith(() => T.scatterAdd(x, 0, i64([[0]]), T.ones([1, 1], { dtype: 'int64' })), DTypeError, 'scatterAdd', 'int64', 'float32');
  throwsWith(() => T.scatterAdd(x, 0, i64([0]), T.ones([1])), ShapeError, 'scatterAdd', 'rank 2');
  throwsWith(() => T.scatterAdd(x, 0, i64([[0, 0]]), T.ones([1, 1])), ShapeError, 'scatterAdd', 'exceeds', 'dim 1');
  throwsWith(() => T.scatterAdd(x, 0, T.zeros([1, 5], { dtype: 'int64' }), T.ones([1, 5])), ShapeError, 'scatterAdd', '[1, 5]', '[3, 4]', 'dim 1');
  // Along the scattered dim the index may be longer than the input (torch's rule).
  assert.deepEqual((T.scatterAdd(x, 1, T.zeros([1, 5], { dtype: 'int64' }), T.ones([1, 5])).tolist() as number[][])[0], [5, 0, 0, 0]);
  throwsWith(() => T.scatterAdd(x, 0, i64([[0, 7]]), T.ones([1, 2])), IndexError, 'scatterAdd', 'index 7', 'dim 0 of size 3', '0..2');
  throwsWith(() => T.scatterAdd(x, 1, i64([[-1]]), T.ones([1, 1])), IndexError, 'scatterAdd', 'index -1', 'dim 1 of size 4');
});

test('indexAdd: dtypes, shapes and indices', () => {
  const x = T.zeros([3, 4]);
  throwsWith(() => T.indexAdd(x, 0, i64([0]), T.ones([1, 4], { dtype: 'bfloat16' })), DTypeError, 'indexAdd', 'bfloat16', 'float32');
  throwsWith(() => T.indexAdd(x, 0, i64([0, 1]), T.ones([2, 3])), ShapeError, 'indexAdd', '[2, 3]', 'expected [2, 4]');
  throwsWith(() => T.indexAdd(x, 1, i64([0, 1]), T.ones([3, 3])), ShapeError, 'indexAdd', '[3, 3]', 'expected [3, 2]');
  throwsWith(() => T.indexAdd(x, 0, i64([[0]]), T.ones([1, 4])), ShapeError, 'indexAdd', '0-D or 1-D');
  throwsWith(() => T.indexAdd(x, 0, i64([0, 3]), T.ones([2, 4])), IndexError, 'indexAdd', 'index 3', 'dim 0 of size 3', '0..2');
  throwsWith(() => T.indexAdd(x, 0, T.tensor([0.5]), T.ones([1, 4])), DTypeError, 'indexAdd', 'float32', 'int32 or int64');
});

test('maskedFill: mask dtype, broadcasting and values that do not fit', () => {
  const x = T.zeros([2, 3]);
  throwsWith(() => T.maskedFill(x, T.ones([2, 3], { dtype: 'uint8' }), 1), DTypeError, 'maskedFill', 'uint8', 'bool');
  throwsWith(() => T.maskedFill(x, T.zeros([4], { dtype: 'bool' }), 1), ShapeError, 'maskedFill', '[2, 3]', '[4]');
  const mask = T.zeros([2, 3], { dtype: 'bool' });
  throwsWith(() => T.maskedFill(T.zeros([2, 3], { dtype: 'int32' }), mask, 1e10), ArgumentError, 'maskedFill', '10000000000', 'int32');
  throwsWith(() => T.maskedFill(T.zeros([2, 3], { dtype: 'int64' }), mask, NaN), ArgumentError, 'maskedFill', 'NaN', 'int64');
  throwsWith(() => T.maskedFill(T.zeros([2, 3], { dtype: 'uint8' }), mask, 300), ArgumentError, 'maskedFill', '300', 'uint8');
  throwsWith(() => T.maskedFill(x, mask, '1' as unknown as number), ArgumentError, 'maskedFill', 'string');
});

test('embedding: ids, weight rank and paddingIdx', () => {
  const w = T.zeros([4, 3]);
  throwsWith(() => T.embedding(i64([0, 4]), w), IndexError, 'embedding', 'index 4', '4 rows', '0..3');
  throwsWith(() => T.embedding(i64([[-1]]), w), IndexError, 'embedding', 'index -1', '0..3');
  throwsWith(() => T.embedding(T.tensor([0, 1]), w), DTypeError, 'embedding', 'float32', 'int32 or int64');
  throwsWith(() => T.embedding(i64([0]), T.zeros([4])), ShapeError, 'embedding', '[4]', 'rank 2');
  throwsWith(() => T.embedding(i64([0]), w, { paddingIdx: 4 }), IndexError, 'embedding', 'paddingIdx 4', '-4..3');
  throwsWith(() => T.embedding(i64([0]), w, { paddingIdx: -5 }), IndexError, 'embedding', 'paddingIdx -5');
});

test('pad: reflect padding as large as the dim is rejected', () => {
  throwsWith(() => T.pad(T.zeros([1, 2, 3]), [3, 0], 'reflect'), ShapeError, 'pad', 'reflect', 'size 3');
});

test('disposed inputs are reported, not read', () => {
  const x = T.ones([3]);
  const idx = i64([0]);
  x.dispose();
  throwsWith(() => T.indexSelect(x, 0, idx), DisposedError, 'indexSelect');
  throwsWith(() => T.embedding(idx, x), DisposedError, 'embedding');
});

test('the kernels validate their own arguments', () => {
  const x = T.zeros([3, 4]);
  throwsWith(() => T.native.gather(x, 0, T.zeros([2, 5], { dtype: 'int64' }), T.zeros([2, 5])), NativeError, '[gather]', 'exceeds');
  throwsWith(() => T.native.gather(x, 0, T.zeros([2, 2], { dtype: 'float32' }), T.zeros([2, 2])), NativeError, '[gather]', 'int32 or int64');
  throwsWith(() => T.native.scatterAdd(x.permute(1, 0), 0, T.zeros([1, 1], { dtype: 'int64' }), T.zeros([1, 1])), NativeError, '[scatterAdd]', 'contiguous');
  throwsWith(() => T.native.maskedFill(x, T.zeros([3, 4], { dtype: 'uint8' }), 0, T.zeros([3, 4])), NativeError, '[maskedFill]', 'bool');
  assert.equal(T.native.gather(x, 0, T.full([1, 1], 9, { dtype: 'int64' }), T.zeros([1, 1])), 9n);
});
