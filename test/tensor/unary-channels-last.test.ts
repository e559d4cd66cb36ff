/**
 * Unary maps on a channels-last input keep the layout (a CNN's activations stay channels-last
 * through ReLU in training) and give the values and grads they give on the contiguous tensor.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/tensor/index.ts';
import { BF16_TOL, F32_TOL, assertClose } from '../helpers/opcheck.ts';

const maps: [string, (x: T.Tensor) => T.Tensor][] = [
  ['relu', (x) => T.relu(x)],
  ['gelu', (x) => T.gelu(x)],
  ['sigmoid', (x) => T.sigmoid(x)],
  ['exp', (x) => T.exp(x)],
  ['erf', (x) => T.erf(x)],
];

for (const [name, f] of maps) {
  test(`${name} on a channels-last input keeps channels-last, with the contiguous tensor's values and grads`, () => {
    const base = T.randn([2, 5, 4, 3], { generator: new T.Generator(7) });
    const cot = T.randn([2, 5, 4, 3], { generator: new T.Generator(8) });
    const run = (layout: (t: T.Tensor) => T.Tensor) => {
      const x = layout(base.detach()).requiresGrad_(true);
      const y = f(x);
      y.backward(cot);
      return { y, gx: x.grad! };
    };
    const cl = run((t) => T.toChannelsLast(t));
    const ref = run((t) => t);
    assert.ok(T.isChannelsLast(cl.y), 'output is channels-last');
    assertClose(cl.y, ref.y, F32_TOL, 'values');
    assertClose(cl.gx, ref.gx, F32_TOL, 'grads');
    const low = T.noGrad(() => f(T.toChannelsLast(base.to('bfloat16'))));
    assert.ok(T.isChannelsLast(low), 'bf16 output is channels-last');
    assertClose(low.float(), ref.y.detach(), BF16_TOL, 'bf16 values');
  });
}
