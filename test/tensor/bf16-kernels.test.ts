/**
 * bf16 through the oneDNN-backed kernels. On CPUs whose oneDNN has no bf16 kernels (before
 * AVX-512) these calls are emulated in f32 (native ExportOneDnn); on others oneDNN runs them
 * natively. Either way the results must be the f32 computation rounded to bf16, and in-place
 * or aliased calls must keep their meaning.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NativeError } from '../../src/errors.ts';
import * as T from '../../src/tensor/index.ts';

const rounded = (t: T.Tensor) => t.to('bfloat16').to('float32');

function assertClose(actual: T.Tensor, expected: T.Tensor, rtol: number, what: string): void {
  const a = Array.from(actual.to('float32').toArray() as Float32Array);
  const e = Array.from(expected.to('float32').toArray() as Float32Array);
  assert.equal(a.length, e.length, what);
  const scale = Math.max(...e.map(Math.abs), 1e-6);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - e[i]) <= rtol * scale, `${what}[${i}]: ${a[i]} vs ${e[i]}`);
}

test('oneDnnHasBf16 answers a boolean', () => {
  assert.equal(typeof T.native.oneDnnHasBf16(), 'boolean');
});

test('bf16 eltwise in place (src is dst) equals the f32 result rounded', () => {
  const x32 = rounded(T.randn([4, 33], { generator: new T.Generator(1) }));
  const x = x32.to('bfloat16');
  T.native.eltwise(T.ELTWISE_ALG.tanh, 0, 0, x, x);
  assertClose(x, rounded(T.tanh(x32)), 2 ** -8, 'tanh in place');
});

test('bf16 matmul on two views of one storage, with a residual, equals the f32 result rounded', () => {
  const storage32 = rounded(T.randn([2, 8, 8], { generator: new T.Generator(2) }));
  const both = storage32.to('bfloat16');
  const a = both.select(0, 0);
  const b = both.select(0, 1);
  const residual = rounded(T.randn([8, 8], { generator: new T.Generator(3) })).to('bfloat16');
  const out = T.empty([8, 8], { dtype: 'bfloat16' });
  T.native.matmul({ a, b, out, residual });
  const expected = T.add(T.matmul(storage32.select(0, 0), storage32.select(0, 1)), residual.to('float32'));
  assertClose(out, rounded(expected), 2 ** -7, 'a·b + residual');
  assertClose(both, storage32, 0, 'inputs untouched');
});

test('bf16 conv with f32 per-channel scale and shift equals the f32 result rounded', () => {
  const g = new T.Generator(4);
  const x32 = rounded(T.randn([1, 3, 6, 6], { generator: g }));
  const w32 = rounded(T.randn([4, 3, 3, 3], { generator: g }));
  const scale = T.randn([4], { generator: g });
  const shift = T.randn([4], { generator: g });
  const out = T.empty([1, 4, 4, 4], { dtype: 'bfloat16' });
  const geometry = { stride: [1, 1], padLeft: [0, 0], padRight: [0, 0], dilation: [1, 1], groups: 1, transposed: false };
  T.native.convForward({ x: x32.to('bfloat16'), weight: w32.to('bfloat16'), out, ...geometry, scale, shift, inference: true });
  const conv = T.conv2d(x32, w32);
  const expected = T.add(T.mul(conv, scale.reshape([1, 4, 1, 1])), shift.reshape([1, 4, 1, 1]));
  assertClose(out, rounded(expected), 2 ** -7, 'conv · scale + shift');
});

test('a bf16 linear at inference packs its bf16 weight once, and repacks after a write, equal to the f32 result rounded', () => {
  const g = new T.Generator(5);
  const x32 = rounded(T.randn([5, 24], { generator: g }));
  const w32 = rounded(T.randn([40, 24], { generator: g }));
  const b32 = rounded(T.randn([40], { generator: g }));
  const w = w32.to('bfloat16');
  const expected = rounded(T.linear(x32, w32, b32));
  T.noGrad(() => {
    for (const call of ['first', 'cached']) {
      assertClose(T.linear(x32.to('bfloat16'), w, b32.to('bfloat16')), expected, 2 ** -7, `${call} call`);
    }
    const w2 = rounded(T.randn([40, 24], { generator: g }));
    w.copy_(w2.to('bfloat16'));
    assertClose(T.linear(x32.to('bfloat16'), w, b32.to('bfloat16')), rounded(T.linear(x32, w2, b32)), 2 ** -7, 'after a write');
    assertClose(w, w2, 0, 'the weight itself untouched');
  });
});

test('native matmul: a bf16 weight beside f32 data runs only as a packed weight', () => {
  const g = new T.Generator(6);
  const x = rounded(T.randn([3, 16], { generator: g }));
  const w32 = rounded(T.randn([16, 8], { generator: g }));
  const out = T.empty([3, 8]);
  T.native.matmul({ a: x, b: w32.to('bfloat16'), out, packedWeights: {} });
  assertClose(out, T.matmul(x, w32), 1e-6, 'packed bf16 weight, f32 data');
  assert.throws(
    () => T.native.matmul({ a: x, b: w32.to('bfloat16'), out: T.empty([3, 8]) }),
    /b is bfloat16 but a is float32; only a packed weight may be bfloat16 beside float32 data/,
  );
});

test('bf16 layer norm with f32 weight, bias and statistics equals the f32 result rounded, forward and backward', () => {
  const g = new T.Generator(7);
  const x32 = rounded(T.randn([6, 24], { generator: g }));
  const dy32 = rounded(T.randn([6, 24], { generator: g }));
  const weight = T.randn([24], { generator: g });
  const bias = T.randn([24], { generator: g });
  const stats = () => ({ mean: T.empty([6]), variance: T.empty([6]) });
  const s32 = stats();
  const s16 = stats();
  const out32 = T.empty([6, 24]);
  const out16 = T.empty([6, 24], { dtype: 'bfloat16' });
  T.native.layerNormForward({ x: x32, weight, bias, out: out32, ...s32, eps: 1e-5 });
  T.native.layerNormForward({ x: x32.to('bfloat16'), weight, bias, out: out16, ...s16, eps: 1e-5 });
  assertClose(out16, rounded(out32), 2 ** -7, 'layer norm forward');
  assertClose(s16.variance, s32.variance, 1e-6, 'row variance, f32');
  const grads = (dtype: T.DType) => ({ gradIn: T.empty([6, 24], { dtype }), gradWeight: T.empty([24]), gradBias: T.empty([24]) });
  const g32 = grads('float32');
  const g16 = grads('bfloat16');
  T.native.layerNormBackward({ x: x32, gradOut: dy32, ...s32, weight, bias, ...g32, eps: 1e-5 });
  T.native.layerNormBackward({ x: x32.to('bfloat16'), gradOut: dy32.to('bfloat16'), ...s16, weight, bias, ...g16, eps: 1e-5 });
  assertClose(g16.gradIn, rounded(g32.gradIn), 2 ** -7, 'layer norm grad of x');
  assertClose(g16.gradWeight, g32.gradWeight, 1e-5, 'grad of weight, f32');
});

test('bf16 batch norm in training, row-major (own kernel) and channels-last (oneDNN), equals the f32 result rounded', () => {
  const g = new T.Generator(8);
  const x32 = rounded(T.randn([2, 16, 5, 5], { generator: g }));
  const weight = T.randn([16], { generator: g });
  for (const layout of ['row-major', 'channels-last'] as const) {
    const lay = (t: T.Tensor) => (layout === 'channels-last' ? T.toChannelsLast(t) : t);
    const run = (dtype: T.DType) => {
      const src = lay(x32.to(dtype));
      const stats = { mean: T.empty([16]), variance: T.empty([16]) };
      const out = lay(T.empty(src.shape, { dtype }));
      assert.equal(T.isChannelsLast(src) && T.isChannelsLast(out), layout === 'channels-last', `${layout} ${dtype} operands`);
      T.native.batchNormForward({ x: src, ...stats, weight, out, eps: 1e-5, training: true });
      return { out, ...stats };
    };
    const f32 = run('float32');
    const bf16 = run('bfloat16');
    assertClose(bf16.out, rounded(f32.out), 2 ** -7, `${layout} forward`);
    assertClose(bf16.mean, f32.mean, 1e-6, `${layout} batch mean, f32`);
  }
});

test('a norm call that mixes bf16 data with f32 data outside its statistics reaches the kernel, which refuses it', () => {
  const x = T.randn([4, 8]).to('bfloat16');
  assert.throws(
    () => T.native.layerNormForward({ x, out: T.empty([4, 8]), eps: 1e-5 }),
    (e: Error) => e instanceof NativeError && /\[layerNormForward\]/.test(e.message) && /out must match the data/.test(e.message),
  );
});
