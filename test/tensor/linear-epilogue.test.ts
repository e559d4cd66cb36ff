/**
 * linearEpilogue: the fused matmul kernel (activation and residual as oneDNN post-ops) equals the
 * recorded composition linear → act → add, whose ops are each checked against torch; with a
 * gradient to record it is that composition.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/tensor/index.ts';
import { BF16_TOL, F32_TOL, assertClose } from '../helpers/opcheck.ts';

const g = new T.Generator(11);
const x = T.randn([2, 5, 24], { generator: g });
const w = T.randn([40, 24], { generator: g }).mul(0.2);
const b = T.randn([40], { generator: g });
const residual = T.randn([2, 5, 40], { generator: g });

const composed = (activation: 'geluErf' | 'geluTanh' | 'relu' | null, res: T.Tensor | null) => {
  let y = T.linear(x, w, b);
  if (activation === 'relu') y = T.relu(y);
  else if (activation) y = T.gelu(y, activation === 'geluTanh' ? 'tanh' : 'none');
  return res ? T.add(y, res) : y;
};

for (const activation of ['geluErf', 'geluTanh', 'relu', null] as const) {
  for (const res of [null, residual]) {
    test(`fused ${activation ?? 'no activation'}${res ? ' + residual' : ''} equals the composition, f32 and bf16`, () => {
      const ref = composed(activation, res);
      assertClose(T.noGrad(() => T.linearEpilogue(x, w, b, { activation, residual: res })), ref, F32_TOL, 'f32');
      const low = T.noGrad(() => T.linearEpilogue(x.to('bfloat16'), w.to('bfloat16'), b.to('bfloat16'), { activation, residual: res?.to('bfloat16') }));
      assert.equal(low.dtype, 'bfloat16');
      assertClose(low.float(), ref, BF16_TOL, 'bf16');
    });
  }
}

test('with a gradient to record, linearEpilogue gives the composition its grads', () => {
  const wg = w.detach().requiresGrad_(true);
  T.linearEpilogue(x, wg, b, { activation: 'geluErf', residual }).sum().backward();
  const viaEpilogue = wg.grad!;
  const wr = w.detach().requiresGrad_(true);
  T.add(T.gelu(T.linear(x, wr, b)), residual).sum().backward();
  assertClose(viaEpilogue, wr.grad!, F32_TOL, 'weight grad');
});
