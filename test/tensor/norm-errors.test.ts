/** Typed errors of batchNorm, layerNorm, groupNorm, interpolate and resampleAlong on bad input. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError, DisposedError, DTypeError, IndexError, NativeError, ShapeError, TsvisionError } from '../../src/errors.ts';
import * as T from '../../src/tensor/index.ts';

type ErrorClass = new (message: string) => TsvisionError;

// Asserts fn throws `cls` and that the message contains every fragment (op name, expected, actual).
function throwsWith(fn: () => unknown, cls: ErrorClass, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `message '${e.message}' lacks '${f}'`);
    return true;
  });
}

const x4 = () => T.randn([2, 3, 4, 4]);
const vec = (n: number) => T.ones([n]);

test('batchNorm: running stats or affine params of the wrong channel count', () => {
  throwsWith(() => T.batchNorm(x4(), vec(4), vec(3)), ShapeError, 'batchNorm', 'runningMean', '[4]', '[3]');
  throwsWith(() => T.batchNorm(x4(), vec(3), vec(5)), ShapeError, 'batchNorm', 'runningVar', '[5]', '[3]');
  throwsWith(() => T.batchNorm(x4(), vec(3), vec(3), vec(2)), ShapeError, 'batchNorm', 'weight', '[2]', '[3]');
  throwsWith(() => T.batchNorm(x4(), vec(3), vec(3), vec(3), T.ones([3, 1])), ShapeError, 'batchNorm', 'bias', '[3, 1]', '[3]');
});

test('batchNorm: bad input rank and dtype', () => {
  throwsWith(() => T.batchNorm(T.randn([5]), vec(5), vec(5)), ShapeError, 'batchNorm', 'rank >= 2', '[5]');
  throwsWith(() => T.batchNorm(T.zeros([2, 3], { dtype: 'int32' }), vec(3), vec(3)), DTypeError, 'batchNorm', 'int32', 'float32');
  throwsWith(() => T.batchNorm(x4(), T.zeros([3], { dtype: 'int64' }), vec(3)), DTypeError, 'batchNorm', 'runningMean', 'int64');
});

test('batchNorm: one value per channel in training, like torch', () => {
  throwsWith(() => T.batchNorm(T.randn([1, 3]), vec(3), vec(3), null, null, { training: true }), ArgumentError,
    'batchNorm', 'expected more than 1 value per channel when training', '[1, 3]');
  throwsWith(() => T.batchNorm(T.randn([1, 3, 1, 1]), null, null, null, null, { training: true }), ArgumentError,
    'more than 1 value per channel', '[1, 3, 1, 1]');
  // Eval mode normalizes a single value fine.
  assert.deepEqual(T.batchNorm(T.randn([1, 3]), vec(3), vec(3)).shape, [1, 3]);
});

test('batchNorm: missing running stats in eval, or only one of them', () => {
  throwsWith(() => T.batchNorm(x4(), null, null), ArgumentError, 'batchNorm', 'required in eval mode');
  throwsWith(() => T.batchNorm(x4(), vec(3), null, null, null, { training: true }), ArgumentError, 'batchNorm', 'given together', 'runningMean');
  throwsWith(() => T.batchNorm(x4(), vec(3), vec(3), null, null, { eps: -1 }), ArgumentError, 'batchNorm', 'eps', '-1');
  throwsWith(() => T.batchNorm(x4(), vec(3), vec(3), null, null, { training: true, momentum: NaN }), ArgumentError, 'batchNorm', 'momentum', 'NaN');
});

test('batchNorm: a disposed input', () => {
  const x = x4();
  x.dispose();
  throwsWith(() => T.batchNorm(x, vec(3), vec(3)), DisposedError, 'batchNorm');
});

test('layerNorm: normalizedShape that does not match the trailing dims', () => {
  throwsWith(() => T.layerNorm(T.randn([2, 6, 4]), [6]), ShapeError, 'layerNorm', 'normalizedShape [6]', '[2, 6, 4]');
  throwsWith(() => T.layerNorm(T.randn([2, 6, 4]), [5, 4]), ShapeError, 'layerNorm', '[5, 4]', '[2, 6, 4]');
  throwsWith(() => T.layerNorm(T.randn([4]), [2, 4]), ShapeError, 'layerNorm', '[2, 4]', '[4]');
  throwsWith(() => T.layerNorm(T.randn([2, 4]), []), ArgumentError, 'layerNorm', 'at least one dim');
  throwsWith(() => T.layerNorm(T.randn([2, 4]), [-4]), ArgumentError, 'layerNorm', '[-4]');
});

test('layerNorm: weight or bias not of normalizedShape, integer input', () => {
  throwsWith(() => T.layerNorm(T.randn([2, 3, 4]), [3, 4], vec(4)), ShapeError, 'layerNorm', 'weight', '[4]', '[3, 4]');
  throwsWith(() => T.layerNorm(T.randn([2, 4]), [4], vec(4), vec(5)), ShapeError, 'layerNorm', 'bias', '[5]', '[4]');
  throwsWith(() => T.layerNorm(T.zeros([2, 4], { dtype: 'uint8' }), [4]), DTypeError, 'layerNorm', 'uint8');
  throwsWith(() => T.layerNorm(T.randn([2, 4]), [4], null, null, Infinity), ArgumentError, 'layerNorm', 'eps', 'Infinity');
});

test('groupNorm: groups that do not divide the channels, bad counts and shapes', () => {
  throwsWith(() => T.groupNorm(T.randn([2, 6, 4]), 4), ArgumentError, 'groupNorm', 'divisible by numGroups', '[2, 6, 4]', 'numGroups=4');
  throwsWith(() => T.groupNorm(T.randn([2, 6, 4]), 0), ArgumentError, 'groupNorm', 'positive integer', '0');
  throwsWith(() => T.groupNorm(T.randn([2, 6, 4]), 1.5), ArgumentError, 'groupNorm', '1.5');
  throwsWith(() => T.groupNorm(T.randn([6]), 2), ShapeError, 'groupNorm', 'rank >= 2', '[6]');
  throwsWith(() => T.groupNorm(T.randn([2, 6, 4]), 3, vec(3)), ShapeError, 'groupNorm', 'weight', '[3]', '[6]');
  throwsWith(() => T.groupNorm(T.randn([2, 6, 4]), 3, vec(6), vec(4)), ShapeError, 'groupNorm', 'bias', '[4]', '[6]');
  throwsWith(() => T.groupNorm(T.zeros([2, 6], { dtype: 'int32' }), 3), DTypeError, 'groupNorm', 'int32');
});

test('interpolate: both or neither of size and scaleFactor', () => {
  const x = T.randn([1, 2, 4]);
  throwsWith(() => T.interpolate(x, { size: 3, scaleFactor: 2 }), ArgumentError, 'interpolate', 'exactly one of size and scaleFactor', 'both');
  throwsWith(() => T.interpolate(x, {}), ArgumentError, 'interpolate', 'neither');
});

test('interpolate: a mode not valid for the rank', () => {
  throwsWith(() => T.interpolate(T.randn([1, 2, 4]), { size: 3, mode: 'bilinear' }), ShapeError, 'interpolate', "'bilinear'", '4-D', '3-D', '[1, 2, 4]');
  throwsWith(() => T.interpolate(T.randn([1, 2, 4, 4]), { size: 3, mode: 'trilinear' }), ShapeError, 'interpolate', "'trilinear'", '5-D', '4-D');
  throwsWith(() => T.interpolate(T.randn([1, 2, 4, 4, 4]), { size: 3, mode: 'linear' }), ShapeError, 'interpolate', "'linear'", '3-D', '5-D');
  throwsWith(() => T.interpolate(T.randn([1, 2, 4, 4, 4]), { size: 3, mode: 'bicubic' }), ShapeError, 'interpolate', "'bicubic'", '4-D', '5-D');
  throwsWith(() => T.interpolate(T.randn([2, 4]), { size: 3 }), ShapeError, 'interpolate', 'rank 3..5', '[2, 4]');
  throwsWith(() => T.interpolate(T.randn([1, 2, 4]), { size: 3, mode: 'area' as T.InterpolateMode }), ArgumentError, 'interpolate', "'area'");
});

test('interpolate: alignCorners with nearest (true or false), as torch', () => {
  const x = T.randn([1, 2, 4, 4]);
  throwsWith(() => T.interpolate(x, { size: 3, alignCorners: true }), ArgumentError, 'interpolate', 'alignCorners', "'nearest'");
  throwsWith(() => T.interpolate(x, { size: 3, mode: 'nearest', alignCorners: false }), ArgumentError, 'alignCorners');
});

test('interpolate: sizes and scale factors of the wrong length or value', () => {
  const x = T.randn([1, 2, 4, 4]);
  throwsWith(() => T.interpolate(x, { size: [3, 3, 3] }), ShapeError, 'interpolate', 'size [3, 3, 3]', '3 entries', '(2)');
  throwsWith(() => T.interpolate(x, { scaleFactor: [2] }), ShapeError, 'interpolate', 'scaleFactor [2]', '(2)');
  throwsWith(() => T.interpolate(x, { size: [0, 3] }), ArgumentError, 'interpolate', 'must be > 0', 'output [0, 3]');
  throwsWith(() => T.interpolate(x, { scaleFactor: 0.1 }), ArgumentError, 'interpolate', 'input [4, 4]', 'output [0, 0]');
  throwsWith(() => T.interpolate(x, { scaleFactor: -2 }), ArgumentError, 'interpolate', 'scaleFactor [-2, -2]');
  throwsWith(() => T.interpolate(x, { size: 2.5 }), ArgumentError, 'interpolate', 'integers');
  throwsWith(() => T.interpolate(T.zeros([1, 2, 0]), { size: 3 }), ArgumentError, 'interpolate', 'input [0]');
  throwsWith(() => T.interpolate(T.zeros([1, 2, 4], { dtype: 'int64' }), { size: 3 }), DTypeError, 'interpolate', 'int64');
});

test('resampleAlong: bad tap tables reach typed errors, never a crash', () => {
  const x = T.randn([2, 5]);
  const taps = (index: number[], weight: number[], size: number, k: number) => ({ size, taps: k, index: Int32Array.from(index), weight: Float32Array.from(weight) });
  throwsWith(() => T.resampleAlong(x, 1, taps([0, 5], [1, 1], 2, 1)), NativeError, '[resample]', 'index[1] = 5', '0..4');
  throwsWith(() => T.resampleAlong(x, 1, taps([0, -1], [1, 1], 1, 2)), NativeError, '[resample]', 'index[1] = -1');
  throwsWith(() => T.resampleAlong(x, 1, taps([0, 1, 2], [1, 1, 1], 2, 2)), NativeError, '[resample]', '2 x 2 = 4 entries', 'got 3');
  throwsWith(() => T.resampleAlong(x, 1, taps([0], [1], 1, 0)), ArgumentError, 'resampleAlong', 'taps 0');
  throwsWith(() => T.resampleAlong(x, 2, taps([0], [1], 1, 1)), IndexError, 'resampleAlong', 'dim 2');
});
