/**
 * Binary ops on channels-last activations keep the layout when the other operand is
 * channels-last too or broadcast (a residual add keeps a CNN's activations channels-last, so
 * the convolutions after it run without reorders), with the contiguous tensors' values and
 * grads; a channels-last operand with a row-major one of the same shape gives row-major.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/tensor/index.ts';
import { BF16_TOL, F32_TOL, assertClose } from '../helpers/opcheck.ts';

const ops: [string, (a: T.Tensor, b: T.Tensor) => T.Tensor][] = [
  ['add', (a, b) => T.add(a, b)],
  ['mul', (a, b) => T.mul(a, b)],
  ['sub', (a, b) => T.sub(a, b)],
];

for (const [name, f] of ops) {
  test(`${name}: channels-last with channels-last, or with a per-channel broadcast, stays channels-last with the contiguous values and grads`, () => {
    const a = T.randn([2, 5, 4, 3], { generator: new T.Generator(1) });
    const b = T.randn([2, 5, 4, 3], { generator: new T.Generator(2) });
    const perChannel = T.randn([1, 5, 1, 1], { generator: new T.Generator(3) });
    const cot = T.randn([2, 5, 4, 3], { generator: new T.Generator(4) });
    for (const [label, other] of [['full', b], ['broadcast', perChannel]] as const) {
      const run = (layout: (t: T.Tensor) => T.Tensor) => {
        const x = layout(a.detach()).requiresGrad_(true);
        const y = (label === 'full' ? layout(other.detach()) : other.detach()).requiresGrad_(true);
        const out = f(x, y);
        out.backward(cot);
        return { out, gx: x.grad!, gy: y.grad! };
      };
      const cl = run((t) => T.toChannelsLast(t));
      const ref = run((t) => t);
      assert.ok(T.isChannelsLast(cl.out), `${label}: output is channels-last`);
      assertClose(cl.out, ref.out, F32_TOL, `${label}: values`);
      assertClose(cl.gx, ref.gx, F32_TOL, `${label}: grad of the first operand`);
      assertClose(cl.gy, ref.gy, F32_TOL, `${label}: grad of the second operand`);
      // The broadcast operand may come first too.
      const swapped = T.noGrad(() => f(label === 'full' ? T.toChannelsLast(other) : other, T.toChannelsLast(a)));
      assert.ok(T.isChannelsLast(swapped), `${label}: output is channels-last with the operands swapped`);
      assertClose(swapped, T.noGrad(() => f(other, a)), F32_TOL, `${label}: swapped values`);
    }
    const low = T.noGrad(() => f(T.toChannelsLast(a.to('bfloat16')), T.toChannelsLast(b.to('bfloat16'))));
    assert.ok(T.isChannelsLast(low), 'bf16 output is channels-last');
    assertClose(low.float(), T.noGrad(() => f(a, b)), BF16_TOL, 'bf16 values');
  });
}

test('a channels-last operand with a row-major one of the same shape gives a row-major result', () => {
  const a = T.randn([2, 5, 4, 3], { generator: new T.Generator(5) });
  const b = T.randn([2, 5, 4, 3], { generator: new T.Generator(6) });
  const mixed = T.add(T.toChannelsLast(a), b);
  assert.ok(mixed.isContiguous(), 'row-major output');
  assertClose(mixed, T.add(a, b), F32_TOL, 'values');
  assert.ok(T.add(a, b).isContiguous(), 'row-major operands give a row-major output');
});
