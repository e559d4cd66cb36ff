/**
 * scaledMatmul (attention scores): at inference the scale runs inside the matmul kernel as a
 * post-op; it must equal matmul·scale for batched and strided (transposed) operands in f32 and
 * bf16, keep distinct scales apart in the kernel cache, record grads as matmul(a·scale, b), and
 * refuse bad scales and ranks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError, ShapeError } from '../../src/errors.ts';
import * as T from '../../src/tensor/index.ts';
import { BF16_TOL, F32_TOL, assertClose } from '../helpers/opcheck.ts';

const g = new T.Generator(5);
const q = T.randn([2, 3, 7, 8], { generator: g });
const k = T.randn([2, 3, 9, 8], { generator: g });

test('scaledMatmul equals matmul·scale for batched transposed operands, f32 and bf16', () => {
  for (const dtype of ['float32', 'bfloat16'] as const) {
    const a = q.to(dtype);
    const b = T.transpose(k.to(dtype), -2, -1);
    const got = T.noGrad(() => T.scaledMatmul(a, b, 0.125));
    const want = T.mul(T.matmul(a.to('float32'), b.to('float32')), 0.125);
    assert.equal(got.dtype, dtype);
    assertClose(got.to('float32'), want, dtype === 'float32' ? F32_TOL : BF16_TOL, dtype);
  }
});

test('scales that print alike in 6 digits get their own kernels', () => {
  const b = T.transpose(k, -2, -1);
  const s1 = 0.1250001;
  const s2 = 0.1250002;
  const y1 = T.noGrad(() => T.scaledMatmul(q, b, s1));
  const y2 = T.noGrad(() => T.scaledMatmul(q, b, s2));
  const y3 = T.noGrad(() => T.scaledMatmul(q, b, 3));
  assertClose(y1, T.mul(T.matmul(q, b), s1), F32_TOL, 's1');
  assertClose(y2, T.mul(T.matmul(q, b), s2), F32_TOL, 's2');
  assertClose(y3, T.mul(T.matmul(q, b), 3), F32_TOL, '3');
  assert.notDeepEqual(y1.toArray(), y2.toArray());
});

test('with a gradient to record, scaledMatmul gives matmul(a·scale, b) and its grads', () => {
  const a = q.detach().requiresGrad_();
  const b = T.transpose(k, -2, -1).detach().requiresGrad_();
  T.sum(T.scaledMatmul(a, b, 0.5)).backward();
  const a2 = q.detach().requiresGrad_();
  const b2 = T.transpose(k, -2, -1).detach().requiresGrad_();
  T.sum(T.matmul(T.mul(a2, 0.5), b2)).backward();
  assertClose(a.grad!, a2.grad!, F32_TOL, 'grad a');
  assertClose(b.grad!, b2.grad!, F32_TOL, 'grad b');
});

test('scaledMatmul refuses non-finite scales and rank-1 operands', () => {
  assert.throws(() => T.scaledMatmul(q, T.transpose(k, -2, -1), Number.NaN), ArgumentError);
  assert.throws(() => T.scaledMatmul(q, T.transpose(k, -2, -1), Infinity), ArgumentError);
  assert.throws(() => T.scaledMatmul(T.randn([8]), T.randn([8, 2]), 1), ShapeError);
});
