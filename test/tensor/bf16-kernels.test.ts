/**
 * bf16 through the oneDNN-backed kernels. On CPUs whose oneDNN has no bf16 kernels (before
 * AVX-512) these calls are emulated in f32 (native ExportOneDnn); on others oneDNN runs them
 * natively. Either way the results must be the f32 computation rounded to bf16, and in-place
 * or aliased calls must keep their meaning.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
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
  T.native.matmul(a, b, null, out, null, residual, null);
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
  T.native.convForward(x32.to('bfloat16'), w32.to('bfloat16'), null, out, [1, 1], [0, 0], [0, 0], [1, 1], 1, false, scale, shift, null, false, false, true);
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
  T.native.matmul(x, w32.to('bfloat16'), null, out, null, null, {});
  assertClose(out, T.matmul(x, w32), 1e-6, 'packed bf16 weight, f32 data');
  assert.throws(
    () => T.native.matmul(x, w32.to('bfloat16'), null, T.empty([3, 8]), null, null, null),
    /b is bfloat16 but a is float32; only a packed weight may be bfloat16 beside float32 data/,
  );
});
