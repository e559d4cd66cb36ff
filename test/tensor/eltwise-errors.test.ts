/** Typed errors of the unary, activation, softmax, dropout and attention ops (and their native kernels) on bad input. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError, DisposedError, DTypeError, IndexError, NativeError, ShapeError } from '../../src/errors.ts';
import * as T from '../../src/tensor/index.ts';

/** Asserts fn throws an instance of cls whose message contains every fragment. */
function throwsWith(fn: () => unknown, cls: new (...args: never[]) => Error, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    for (const f of fragments) assert.ok(err.message.includes(f), `message '${err.message}' lacks '${f}'`);
    return true;
  });
}

test('where: a non-bool cond is a DTypeError naming its dtype', () => {
  const a = T.ones([3]);
  throwsWith(() => T.where(T.ones([3]), a, 0), DTypeError, 'where', 'cond', 'float32', 'bool');
  throwsWith(() => T.where(T.ones([3], { dtype: 'int64' }), a, a), DTypeError, 'where', 'int64');
});

test('where: shapes that do not broadcast are a ShapeError naming them', () => {
  throwsWith(() => T.where(T.ones([2, 3], { dtype: 'bool' }), T.ones([4]), 0), ShapeError, 'where', '[2, 3]', '[4]');
});

test('softmax / logSoftmax: a dim out of range is an IndexError with the valid range', () => {
  const x = T.ones([2, 3]);
  throwsWith(() => T.softmax(x, 2), IndexError, 'softmax', 'dim 2', 'rank 2', '-2..1');
  throwsWith(() => T.softmax(x, -3), IndexError, 'softmax', 'dim -3');
  throwsWith(() => T.logSoftmax(x, 5), IndexError, 'logSoftmax', 'dim 5');
  throwsWith(() => T.softmax(x, 0.5), IndexError, 'softmax', 'dim 0.5');
});

test('float-only ops reject integer and bool tensors with a DTypeError', () => {
  const i = T.ones([2], { dtype: 'int64' });
  throwsWith(() => T.softmax(i, 0), DTypeError, 'softmax', 'int64', 'float32 or bfloat16');
  throwsWith(() => T.gelu(i), DTypeError, 'gelu', 'int64');
  throwsWith(() => T.silu(i), DTypeError, 'silu', 'int64');
  throwsWith(() => T.dropout(i, 0.5), DTypeError, 'dropout', 'int64');
  const b = T.ones([2], { dtype: 'bool' });
  throwsWith(() => T.neg(b), DTypeError, 'neg', 'bool');
  throwsWith(() => T.abs(b), DTypeError, 'abs', 'bool');
  throwsWith(() => T.clamp(b, 0, 1), DTypeError, 'clamp', 'bool');
});

test('dropout: p outside [0, 1] is an ArgumentError naming p', () => {
  const x = T.ones([4]);
  for (const p of [-0.1, 1.5, NaN]) throwsWith(() => T.dropout(x, p), ArgumentError, 'dropout', 'p must be in [0, 1]', String(p));
  throwsWith(() => T.dropout(x, 2, false), ArgumentError, 'dropout');
});

test('gelu: an unknown approximation and clamp without bounds are ArgumentErrors', () => {
  throwsWith(() => T.gelu(T.ones([2]), 'fast' as 'tanh'), ArgumentError, 'gelu', "'none' or 'tanh'", 'fast');
  throwsWith(() => T.clamp(T.ones([2])), ArgumentError, 'clamp', 'min and max');
  throwsWith(() => T.clamp(T.ones([2]), null, null), ArgumentError, 'clamp');
});

test('disposed inputs are DisposedErrors, not crashes', () => {
  const x = T.ones([3]);
  x.dispose();
  throwsWith(() => T.exp(x), DisposedError, 'exp');
  throwsWith(() => T.relu(x), DisposedError, 'relu');
  throwsWith(() => T.softmax(x, 0), DisposedError, 'softmax');
  throwsWith(() => T.where(T.ones([3], { dtype: 'bool' }), x, 0), DisposedError, 'where');
});

test('scaledDotProductAttention: mismatched shapes are ShapeErrors naming both', () => {
  const q = T.ones([2, 4, 8]);
  throwsWith(() => T.scaledDotProductAttention(q, T.ones([2, 5, 6]), T.ones([2, 5, 8])), ShapeError, 'scaledDotProductAttention', 'head dim 8', '6', '[2, 5, 6]');
  throwsWith(() => T.scaledDotProductAttention(q, T.ones([2, 5, 8]), T.ones([2, 6, 8])), ShapeError, 'scaledDotProductAttention', 'length 5', '6', '[2, 6, 8]');
  throwsWith(() => T.scaledDotProductAttention(T.ones([8]), T.ones([5, 8]), T.ones([5, 8])), ShapeError, 'q', '[8]', 'rank >= 2');
  throwsWith(() => T.scaledDotProductAttention(q, T.ones([3, 5, 8]), T.ones([3, 5, 8])), ShapeError, 'scaledDotProductAttention', 'broadcast');
});

test('scaledDotProductAttention: a mask of the wrong shape or dtype is rejected', () => {
  const q = T.ones([2, 4, 8]);
  const k = T.ones([2, 5, 8]);
  throwsWith(() => T.scaledDotProductAttention(q, k, k, { attnMask: T.zeros([4, 6]) }), ShapeError, 'attnMask', '[4, 6]', '[2, 4, 5]');
  throwsWith(() => T.scaledDotProductAttention(q, k, k, { attnMask: T.zeros([3, 4, 5]) }), ShapeError, 'attnMask', '[3, 4, 5]');
  throwsWith(() => T.scaledDotProductAttention(q, k, k, { attnMask: T.ones([4, 5], { dtype: 'bool' }).unsqueeze(0).expand(2, 4, 5).reshape(2, 1, 4, 5) }), ShapeError, 'attnMask', '[2, 1, 4, 5]');
  throwsWith(() => T.scaledDotProductAttention(q, k, k, { attnMask: T.zeros([4, 5], { dtype: 'int64' }) }), DTypeError, 'attnMask', 'int64');
});

test('scaledDotProductAttention: invalid options are ArgumentErrors and integer inputs DTypeErrors', () => {
  const q = T.ones([4, 8]);
  throwsWith(() => T.scaledDotProductAttention(q, q, q, { attnMask: T.zeros([4, 4]), isCausal: true }), ArgumentError, 'attnMask', 'isCausal');
  throwsWith(() => T.scaledDotProductAttention(q, q, q, { dropoutP: 1.2 }), ArgumentError, 'dropoutP', '1.2');
  throwsWith(() => T.scaledDotProductAttention(q, q, q, { scale: Infinity }), ArgumentError, 'scale', 'Infinity');
  throwsWith(() => T.scaledDotProductAttention(T.ones([4, 8], { dtype: 'int32' }), q, q), DTypeError, 'q', 'int32');
});

test('native eltwise kernels reject bad views with a NativeError instead of crashing', () => {
  const x = T.ones([3, 4]);
  const out = T.empty([4, 3]);
  throwsWith(() => T.native.eltwise(0, 0, 0, x.mT, out), NativeError, '[eltwise]', 'src must be contiguous');
  throwsWith(() => T.native.eltwise(0, 0, 0, x, out), NativeError, '[eltwise]', 'shape');
  throwsWith(() => T.native.eltwise(99, 0, 0, x, x), NativeError, '[eltwise]', 'algorithm code 99');
  throwsWith(() => T.native.unaryMath(0, 0, 0, T.ones([2], { dtype: 'int32' }), T.ones([2], { dtype: 'int32' })), NativeError, '[unaryMath]', 'int32');
  throwsWith(() => T.native.where(x, x, x, x), NativeError, '[where]', 'cond', 'bool');
  throwsWith(() => T.native.softmax(x, T.empty([3, 4]), 2, false), NativeError, '[softmax]', 'axis 2');
  throwsWith(() => T.native.softmaxBackward(x, x, T.empty([3, 4], { dtype: 'bfloat16' }), 1, false), NativeError, '[softmaxBackward]', 'bfloat16');
});
