/**
 * At inference every non-transposed conv runs through the fused kernel with its weight packed
 * once: it equals the recorded conv (whose ops are checked against torch) for 1-D, 2-D and 3-D,
 * groups, dilation, stride, padding, channels-last input and bf16, and a write to the weight is seen.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/tensor/index.ts';
import { BF16_TOL, F32_TOL, assertClose } from '../helpers/opcheck.ts';

const g = new T.Generator(3);
const cases = [
  { name: 'conv1d k3 s2 p1', f: T.conv1d, x: [2, 8, 17], w: [6, 8, 3], o: { stride: 2, padding: 1 } },
  { name: 'conv2d k3 groups 2 dilation 2', f: T.conv2d, x: [2, 8, 13, 11], w: [12, 4, 3, 3], o: { groups: 2, dilation: 2, padding: 2 } },
  { name: 'conv2d 1x1 no bias', f: T.conv2d, x: [1, 16, 7, 7], w: [32, 16, 1, 1], o: {}, noBias: true },
  { name: 'conv2d depthwise k5 same', f: T.conv2d, x: [1, 8, 9, 9], w: [8, 1, 5, 5], o: { groups: 8, padding: 'same' } },
  { name: 'conv3d k2 s2', f: T.conv3d, x: [1, 4, 6, 6, 6], w: [5, 4, 2, 2, 2], o: { stride: 2 } },
] as const;

for (const c of cases) {
  test(`inference ${c.name} equals the recorded conv, f32 and bf16`, () => {
    const x = T.randn([...c.x], { generator: g });
    const w = T.randn([...c.w], { generator: g }).mul(0.3);
    const b = 'noBias' in c ? null : T.randn([c.w[0]], { generator: g });
    const conv = c.f as (x: T.Tensor, w: T.Tensor, b: T.Tensor | null, o: object) => T.Tensor;
    const recorded = conv(x.detach().requiresGrad_(true), w, b, c.o).detach();
    assertClose(T.noGrad(() => conv(x, w, b, c.o)), recorded, F32_TOL, 'f32');
    assertClose(T.noGrad(() => conv(x, w, b, c.o)), recorded, F32_TOL, 'f32, second call (packed weight reused)');
    const low = T.noGrad(() => conv(x.to('bfloat16'), w.to('bfloat16'), b?.to('bfloat16') ?? null, c.o));
    assert.equal(low.dtype, 'bfloat16');
    assertClose(low.float(), recorded, BF16_TOL, 'bf16');
  });
}

test('inference conv2d on a channels-last input, and after the weight is written', () => {
  const x = T.randn([2, 8, 10, 10], { generator: g });
  const w = T.randn([16, 8, 3, 3], { generator: g });
  const reference = () => T.conv2d(x.detach().requiresGrad_(true), w, null, { padding: 1 }).detach();
  assertClose(T.noGrad(() => T.conv2d(T.toChannelsLast(x), w, null, { padding: 1 })), reference(), F32_TOL, 'channels-last');
  T.noGrad(() => T.conv2d(x, w, null, { padding: 1 }));
  w.copy_(T.mul(w, -0.5));
  assertClose(T.noGrad(() => T.conv2d(x, w, null, { padding: 1 })), reference(), F32_TOL, 'after copy_ into the weight');
});
