/** Bad input to the core ops raises typed errors naming the op, what was expected and what came. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/index.ts';

function throwsLike(fn: () => unknown, cls: new (...a: never[]) => Error, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    for (const p of patterns) assert.match((e as Error).message, p);
    return true;
  });
}

test('binary ops: shapes that do not broadcast', () => {
  throwsLike(() => T.add(T.ones([2, 3]), T.ones([4])), T.ShapeError, /add/, /\[2, 3\]/, /\[4\]/);
  throwsLike(() => T.mul(T.ones([2, 3]), T.ones([3, 3])), T.ShapeError, /mul/, /\[3, 3\]/);
});

test('matmul and linear: mismatched inner dims, bad ranks, integer dtypes', () => {
  throwsLike(() => T.matmul(T.ones([2, 3]), T.ones([4, 5])), T.ShapeError, /matmul/, /\[2, 3\]/, /\[4, 5\]/);
  throwsLike(() => T.matmul(T.ones([2, 3, 4]), T.ones([3, 4, 5])), T.ShapeError, /matmul/, /broadcast/, /\[2\]/, /\[3\]/);
  throwsLike(() => T.matmul(T.tensor(1), T.ones([2])), T.ShapeError, /rank/);
  throwsLike(() => T.matmul(T.ones([2, 2], { dtype: 'int32' }), T.ones([2, 2], { dtype: 'int32' })), T.DTypeError, /matmul/, /int32/);
  throwsLike(() => T.linear(T.ones([2, 5]), T.ones([3, 4])), T.ShapeError, /linear/, /5/, /\[3, 4\]/);
  throwsLike(() => T.linear(T.ones([2, 4]), T.ones([3, 4]), T.ones([4])), T.ShapeError, /bias/, /\[3\]/, /\[4\]/);
  throwsLike(() => T.bmm(T.ones([2, 3, 4]), T.ones([3, 4, 5])), T.ShapeError, /bmm/);
});

test('shape ops: invalid shapes, dims out of range, bad ranges', () => {
  throwsLike(() => T.ones([2, 3]).reshape(4, 2), T.ShapeError, /reshape/, /\[4, 2\]/, /6/);
  throwsLike(() => T.ones([2, 3]).reshape(-1, -1), T.ShapeError, /-1/);
  throwsLike(() => T.ones([2, 3]).permute(1, 0).view(6), T.ShapeError, /view/, /reshape/);
  throwsLike(() => T.ones([2, 3]).permute(0, 0), T.ShapeError, /permute/);
  throwsLike(() => T.ones([2, 3]).transpose(0, 2), T.IndexError, /transpose/, /dim 2/, /rank 2/);
  throwsLike(() => T.ones([2, 3]).sum(5), T.IndexError, /sum/, /dim 5/);
  throwsLike(() => T.ones([2, 3]).narrow(1, 2, 2), T.IndexError, /narrow/, /size 3/);
  throwsLike(() => T.ones([2, 3]).select(0, 2), T.IndexError, /select/, /index 2/, /size 2/);
  throwsLike(() => T.ones([2, 3]).expand(2, 4), T.ShapeError, /expand/, /\[2, 3\]/, /\[2, 4\]/);
  throwsLike(() => T.cat([T.ones([2, 3]), T.ones([2, 4])], 0), T.ShapeError, /cat/, /\[2, 4\]/);
  throwsLike(() => T.cat([], 0), T.ArgumentError, /cat/);
  throwsLike(() => T.stack([T.ones([2]), T.ones([3])]), T.ShapeError, /stack/);
  throwsLike(() => T.split(T.ones([5]), [2, 2]), T.ShapeError, /split/, /5/);
  throwsLike(() => T.pad(T.ones([2, 3]), [1]), T.ShapeError, /pad/);
  throwsLike(() => T.ones([2]).slice(0, 0, 2, 0), T.ArgumentError, /step/);
  throwsLike(() => T.empty([2, -1]), T.ArgumentError, /-1/);
});

test('reductions: empty max, mean of integers', () => {
  throwsLike(() => T.amax(T.zeros([0, 3]), 0), T.ArgumentError, /empty/);
  throwsLike(() => T.mean(T.arange(4)), T.DTypeError, /mean/, /int64/);
  throwsLike(() => T.ones([2]).item(), T.ArgumentError, /item/, /2 elements/);
});

test('native errors arrive as NativeError with the op name, and the process stays up', () => {
  const a = T.ones([2, 2]);
  throwsLike(() => T.native.binary(99, a, a, a), T.NativeError, /\[binary\]/, /99/);
  throwsLike(() => T.native.copy(a, T.ones([3])), T.NativeError, /\[copy\]/, /shapes differ/);
  throwsLike(() => T.native.matmul({ a, b: T.ones([3, 2]), out: a }), T.NativeError, /\[matmul\]/);
  assert.deepEqual(T.add(a, a).tolist(), [[2, 2], [2, 2]]);
});

test('kernels with many arguments take one options object and name a missing or mistyped field', () => {
  const a = T.ones([2, 2]);
  const positional = T.native.matmul as (...args: unknown[]) => void;
  throwsLike(() => positional(a, a, null, a), T.NativeError, /\[matmul\]/, /one options object, got 4 arguments/);
  throwsLike(() => T.native.matmul({ a, b: a } as never), T.NativeError, /\[matmul\]/, /out must be a tensor/);
  throwsLike(() => T.native.matmul({ a, b: a, out: a, scale: '2' } as never), T.NativeError, /scale must be a number/);
  throwsLike(() => T.native.layerNormForward({ x: a, out: a, eps: 1e-5, weight: a }), T.NativeError, /weight must be a contiguous vector of 2 elements/);
  throwsLike(() => T.native.reduce({ op: 0, src: a, outer: 1, reduced: 3, inner: 1, out: T.ones([1]) }), T.NativeError, /\[reduce\]/, /outer\*reduced\*inner/);
  throwsLike(() => T.native.randomFill({ dst: a, kind: 0, a: 0, b: 1, seedHi: 0, seedLo: 0 } as never), T.NativeError, /offset must be a number/);
});

test('dtype names are validated', () => {
  throwsLike(() => T.parseDType('float16'), T.DTypeError, /float16/, /float32/);
});

test('native binary rejects operands not expanded to the output shape (no out-of-bounds reads)', () => {
  throwsLike(() => T.native.binary(0, T.ones([3]), T.ones([2]), T.zeros([3])), T.NativeError, /\[binary\]/, /expanded/, /\[2\]|2,/);
  throwsLike(() => T.native.binary(0, T.ones([1]), T.ones([3]), T.zeros([3])), T.NativeError, /\[binary\]/);
});
