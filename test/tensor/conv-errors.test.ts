/** Typed errors of the conv family for bad input: ranks, channels, groups, geometry, options, dtypes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError, DisposedError, DTypeError, NativeError, ShapeError } from '../../src/errors.ts';
import * as T from '../../src/tensor/index.ts';

type ErrorClass = new (...args: any[]) => Error;

// Asserts fn throws `cls` with a message containing every fragment.
function throwsWith(fn: () => unknown, cls: ErrorClass, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    for (const f of fragments) assert.ok(e.message.includes(f), `message '${e.message}' lacks '${f}'`);
    return true;
  });
}

const x4 = () => T.randn([2, 4, 6, 6]);
const w4 = () => T.randn([6, 4, 3, 3]);

test('conv: input rank', () => {
  throwsWith(() => T.conv2d(T.randn([4, 6]), w4()), ShapeError, 'conv2d', '[4, 6]', '3-D', '4-D');
  throwsWith(() => T.conv1d(T.randn([1, 2, 3, 4]), T.randn([2, 2, 3])), ShapeError, 'conv1d', '[1, 2, 3, 4]');
  throwsWith(() => T.conv3d(T.randn([1, 2, 4, 4]), T.randn([2, 2, 3, 3, 3])), ShapeError, 'conv3d');
});

test('conv: weight rank', () => {
  throwsWith(() => T.conv2d(x4(), T.randn([8, 3, 3])), ShapeError, 'conv2d', 'weight has shape [8, 3, 3]', 'expected rank 4');
});

test('conv: channels must match weight × groups', () => {
  throwsWith(() => T.conv2d(x4(), T.randn([6, 3, 3, 3])), ShapeError, 'conv2d', '4 channels', 'expected 3');
  throwsWith(() => T.conv2d(x4(), T.randn([6, 2, 3, 3]), null, { groups: 3 }), ShapeError, 'conv2d', 'expected 6', 'groups 3');
});

test('conv: groups must divide output channels and be positive', () => {
  throwsWith(() => T.conv2d(x4(), T.randn([5, 2, 3, 3]), null, { groups: 2 }), ShapeError, 'conv2d', '5 output channels', 'groups 2');
  throwsWith(() => T.conv2d(x4(), w4(), null, { groups: 0 }), ArgumentError, 'conv2d', 'groups', '0');
  throwsWith(() => T.conv2d(x4(), w4(), null, { groups: 1.5 }), ArgumentError, 'conv2d', 'groups');
  throwsWith(() => T.convTranspose2d(T.randn([1, 3, 4, 4]), T.randn([3, 2, 3, 3]), null, { groups: 2 }), ShapeError, 'convTranspose2d', 'groups 2');
});

test('conv: kernel larger than the padded input', () => {
  throwsWith(() => T.conv2d(T.randn([1, 4, 2, 2]), w4()), ShapeError, 'conv2d', '[2, 2]', '[3, 3]');
  throwsWith(() => T.conv1d(T.randn([1, 1, 4]), T.randn([1, 1, 3]), null, { dilation: 2 }), ShapeError, 'conv1d', '[4]', '[5]');
});

test('conv: stride, padding and dilation values', () => {
  throwsWith(() => T.conv2d(x4(), w4(), null, { stride: 0 }), ArgumentError, 'conv2d', 'stride', '[0, 0]');
  throwsWith(() => T.conv2d(x4(), w4(), null, { stride: [1, -1] }), ArgumentError, 'conv2d', 'stride', '[1, -1]');
  throwsWith(() => T.conv2d(x4(), w4(), null, { padding: -1 }), ArgumentError, 'conv2d', 'padding');
  throwsWith(() => T.conv2d(x4(), w4(), null, { dilation: 0 }), ArgumentError, 'conv2d', 'dilation');
  throwsWith(() => T.conv2d(x4(), w4(), null, { stride: [1, 1, 1] }), ArgumentError, 'conv2d', 'stride', '1 or 2 entries');
  throwsWith(() => T.conv2d(x4(), w4(), null, { padding: 'same', stride: 2 }), ArgumentError, 'conv2d', "'same'", 'stride');
  throwsWith(() => T.conv2d(x4(), w4(), null, { padding: 'full' as any }), ArgumentError, 'conv2d', "'full'");
});

test('conv: bias shape', () => {
  throwsWith(() => T.conv2d(x4(), w4(), T.randn([4])), ShapeError, 'conv2d', 'bias has shape [4]', 'expected [6]');
  throwsWith(() => T.convTranspose2d(T.randn([1, 4, 3, 3]), T.randn([4, 3, 3, 3]), T.randn([4])), ShapeError, 'convTranspose2d', 'expected [3]');
});

test('conv: dtypes', () => {
  throwsWith(() => T.conv2d(x4(), w4().bfloat16()), DTypeError, 'conv2d', 'float32', 'bfloat16');
  throwsWith(() => T.conv2d(x4(), w4(), T.randn([6]).bfloat16()), DTypeError, 'conv2d', 'bias dtype bfloat16');
  throwsWith(() => T.conv2d(T.zeros([1, 4, 5, 5], { dtype: 'int32' }), w4()), DTypeError, 'conv2d', 'int32');
});

test('convTranspose: outputPadding must be below stride or dilation', () => {
  const x = T.randn([1, 2, 4, 4]);
  const w = T.randn([2, 3, 3, 3]);
  throwsWith(() => T.convTranspose2d(x, w, null, { stride: 2, outputPadding: 2 }), ArgumentError, 'convTranspose2d', 'outputPadding [2, 2]', 'stride [2, 2]');
  throwsWith(() => T.convTranspose2d(x, w, null, { outputPadding: -1 }), ArgumentError, 'convTranspose2d', 'outputPadding');
  throwsWith(() => T.convTranspose2d(x, w, null, { padding: 4 }), ShapeError, 'convTranspose2d', 'output size');
  throwsWith(() => T.convTranspose2d(x, T.randn([3, 3, 3, 3])), ShapeError, 'convTranspose2d', '2 channels', 'expected 3');
});

test('conv: disposed input', () => {
  const x = x4();
  x.dispose();
  throwsWith(() => T.conv2d(x, w4()), DisposedError, 'conv2d');
});

test('pool: input rank and dtype', () => {
  throwsWith(() => T.maxPool2d(T.randn([4, 4]), { kernelSize: 2 }), ShapeError, 'maxPool2d', '[4, 4]');
  throwsWith(() => T.avgPool1d(T.randn([1, 2, 3, 4]), { kernelSize: 2 }), ShapeError, 'avgPool1d', '[1, 2, 3, 4]');
  throwsWith(() => T.adaptiveAvgPool3d(T.randn([2, 3, 4]), 2), ShapeError, 'adaptiveAvgPool3d');
  throwsWith(() => T.maxPool2d(T.zeros([1, 1, 4, 4], { dtype: 'int64' }), { kernelSize: 2 }), DTypeError, 'maxPool2d', 'int64');
  throwsWith(() => T.maxPool2d(T.randn([1, 0, 4, 4]), { kernelSize: 2 }), ShapeError, 'maxPool2d', '[1, 0, 4, 4]');
});

test('pool: padding at most half the kernel', () => {
  throwsWith(() => T.maxPool2d(x4(), { kernelSize: 3, padding: 2 }), ArgumentError, 'maxPool2d', 'padding [2, 2]', 'kernelSize [3, 3]');
  throwsWith(() => T.avgPool2d(x4(), { kernelSize: [2, 4], padding: [1, 3] }), ArgumentError, 'avgPool2d', 'half');
});

test('pool: kernel, stride and dilation values', () => {
  throwsWith(() => T.maxPool2d(x4(), { kernelSize: 0 }), ArgumentError, 'maxPool2d', 'kernelSize');
  throwsWith(() => T.maxPool2d(x4(), { kernelSize: 2, stride: 0 }), ArgumentError, 'maxPool2d', 'stride');
  throwsWith(() => T.maxPool2d(x4(), { kernelSize: 2, dilation: 0 }), ArgumentError, 'maxPool2d', 'dilation');
  throwsWith(() => T.avgPool2d(x4(), { kernelSize: 2, divisorOverride: 0 }), ArgumentError, 'avgPool2d', 'divisorOverride');
});

test('pool: output too small', () => {
  throwsWith(() => T.maxPool2d(T.randn([1, 1, 2, 2]), { kernelSize: 3 }), ShapeError, 'maxPool2d', 'output size [0, 0]', 'too small');
  throwsWith(() => T.maxPool1d(T.randn([1, 1, 5]), { kernelSize: 3, dilation: 3 }), ShapeError, 'maxPool1d', 'output size');
});

test('adaptive pool: output size', () => {
  throwsWith(() => T.adaptiveAvgPool2d(x4(), 0), ArgumentError, 'adaptiveAvgPool2d', 'outputSize');
  throwsWith(() => T.adaptiveAvgPool2d(x4(), [2, 2, 2]), ArgumentError, 'adaptiveAvgPool2d', 'outputSize', '1 or 2 entries');
});

test('native conv kernels reject inconsistent calls with NativeError', () => {
  const x = x4();
  const w = w4();
  const bad = T.empty([2, 6, 5, 5]);
  const geometry = { stride: [1, 1], padLeft: [1, 1], padRight: [1, 1], dilation: [1, 1], transposed: false };
  throwsWith(() => T.native.convForward({ x, weight: w, out: bad, ...geometry, groups: 1 }), NativeError, '[convForward]', 'spatial dim');
  throwsWith(() => T.native.convForward({ x, weight: w, out: T.empty([2, 6, 6, 6]), ...geometry, groups: 4 }), NativeError, '[convForward]', 'groups 4');
  throwsWith(() => T.native.convForward({ x, weight: w.bfloat16(), out: T.empty([2, 6, 6, 6]), ...geometry, groups: 1 }), NativeError, 'dtype');
  const pool = { alg: 0, kernel: [2, 2], stride: [2, 2], padLeft: [0, 0], padRight: [0, 0], dilation: [1, 1] };
  throwsWith(() => T.native.poolBackward({ ...pool, gradOut: T.empty([2, 4, 3, 3]), gradIn: T.empty([2, 4, 6, 6]), workspace: null }), NativeError, '[poolBackward]', 'workspace');
  throwsWith(() => T.native.adaptiveAvgPool(x.permute(0, 1, 3, 2), T.empty([2, 4, 4, 4])), NativeError, '[adaptiveAvgPool]', 'contiguous');
});

test('conv2dEpilogue: scale/shift per output channel, residual of the output shape, float tensors; linearEpilogue residual', () => {
  const x = T.randn([2, 3, 6, 6]);
  const w = T.randn([4, 3, 3, 3]);
  throwsWith(() => T.conv2dEpilogue(x, w, null, {}, { scale: T.ones([3]) }), ShapeError, 'conv2d', 'epilogue scale has shape [3]', 'expected [4]');
  throwsWith(() => T.conv2dEpilogue(x, w, null, {}, { shift: T.ones([4, 1]) }), ShapeError, 'epilogue shift has shape [4, 1]');
  throwsWith(() => T.conv2dEpilogue(x, w, null, {}, { residual: T.ones([2, 4, 6, 6]) }), ShapeError, 'residual has shape [2, 4, 6, 6]', "expected the output's [2, 4, 4, 4]");
  throwsWith(() => T.conv2dEpilogue(x, w, null, {}, { scale: T.ones([4], { dtype: 'int32' }) }), DTypeError, 'epilogue scale must be a float tensor, got int32');
  throwsWith(() => T.noGrad(() => T.linearEpilogue(T.ones([2, 3]), T.ones([5, 3]), null, { residual: T.ones([2, 4]) })), ShapeError, 'linear: residual has shape [2, 4]', "expected the output's [2, 5]");
});
