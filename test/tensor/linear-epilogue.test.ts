/**
 * linearEpilogue: the fused matmul kernel (activation and residual as oneDNN post-ops) equals the
 * recorded composition linear → act → add, whose ops are each checked against torch; with a
 * gradient to record it is that composition. At inference the weight is packed once and repacked
 * after any write to it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/tensor/index.ts';
import { packedWeightsOf } from '../../src/tensor/ops/packed.ts';
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

test('at inference the weight is packed once; in-place writes and other input shapes repack, never a stale result', () => {
  const gen = new T.Generator(5);
  const weight = T.randn([512, 256], { generator: gen }).mul(0.05);
  const bias = T.randn([512], { generator: gen });
  const reference = (input: T.Tensor) => T.add(T.matmul(input, T.transpose(weight, 0, 1)), bias);
  const inputs = [T.randn([50, 256], { generator: gen }), T.randn([3, 256], { generator: gen }), T.randn([2, 197, 256], { generator: gen })];
  T.noGrad(() => {
    for (const input of inputs) assertClose(T.linear(input, weight, bias), reference(input), F32_TOL, `rows ${input.shape.slice(0, -1)}`);
    const holder = packedWeightsOf(weight);
    assert.ok(holder.buffer instanceof ArrayBuffer, 'packed into the holder');
    weight.copy_(T.mul(weight, -2));
    assert.notEqual(packedWeightsOf(weight), holder, 'an in-place write drops the packed copy');
    for (const input of inputs) assertClose(T.linear(input, weight, bias), reference(input), F32_TOL, `after copy_, rows ${input.shape.slice(0, -1)}`);
    assertClose(T.linearEpilogue(inputs[0], weight, bias, { activation: 'relu' }), T.relu(reference(inputs[0])), F32_TOL, 'epilogue');
  });
});

test('at inference, strided rows, transposed inputs and residuals, and no bias give the composition', () => {
  const gen = new T.Generator(6);
  const weight = T.randn([48, 32], { generator: gen }).mul(0.1);
  const wide = T.randn([20, 40], { generator: gen });
  const rows = T.narrow(wide, 1, 4, 32);
  const transposed = T.transpose(T.randn([32, 20], { generator: gen }), 0, 1);
  const residualT = T.transpose(T.randn([48, 20], { generator: gen }), 0, 1);
  const reference = (input: T.Tensor, res: T.Tensor | null) => {
    const y = T.gelu(T.matmul(input, T.transpose(weight, 0, 1)));
    return res ? T.add(y, res) : y;
  };
  T.noGrad(() => {
    for (const [name, input] of [['strided rows', rows], ['transposed', transposed]] as const) {
      for (const res of [null, residualT, T.contiguous(residualT)]) {
        const what = `${name}${res ? (res.isContiguous() ? ' + residual' : ' + transposed residual') : ''}`;
        assertClose(T.linearEpilogue(input, weight, null, { activation: 'geluErf', residual: res }), reference(input, res), F32_TOL, what);
      }
    }
  });
});
