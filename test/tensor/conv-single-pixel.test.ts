/**
 * A conv on a 1-pixel input with a 1-pixel output runs as a 1×1 conv with the one kernel tap that
 * meets the data. Its output and its grads must equal the same conv run on the explicitly padded
 * input (the general path), for every stride, dilation and bias case that takes the shortcut, and
 * for one that does not.
 */
import { test } from 'node:test';
import * as T from '../../src/tensor/index.ts';
import { F32_TOL, assertClose } from '../helpers/opcheck.ts';

const cases = [
  { name: '3×3 pad 1', kernel: [3, 3], padding: [1, 1], stride: 1, dilation: 1 },
  { name: '3×3 pad 1 stride 2', kernel: [3, 3], padding: [1, 1], stride: 2, dilation: 1 },
  { name: '3×3 pad 2 dilation 2', kernel: [3, 3], padding: [2, 2], stride: 1, dilation: 2 },
  { name: '5×3 pad (2, 1) no bias', kernel: [5, 3], padding: [2, 1], stride: 1, dilation: 1, noBias: true },
  { name: '2×2 pad 1 dilation 2 (no single tap: general path)', kernel: [2, 2], padding: [1, 1], stride: 1, dilation: 2 },
];

for (const c of cases) {
  test(`conv2d on a 1×1 input, ${c.name}: output and grads equal the padded general conv`, () => {
    const run = (padded: boolean) => {
      const x = T.randn([4, 6, 1, 1], { generator: new T.Generator(1) }).requiresGrad_(true);
      const w = T.randn([8, 3, ...c.kernel], { generator: new T.Generator(2) }).requiresGrad_(true);
      const b = c.noBias ? null : T.randn([8], { generator: new T.Generator(3) }).requiresGrad_(true);
      const options = { stride: c.stride, dilation: c.dilation, groups: 2 };
      const conv = () => padded
        ? T.conv2d(T.pad(x, [c.padding[1], c.padding[1], c.padding[0], c.padding[0]]), w, b, options)
        : T.conv2d(x, w, b, { ...options, padding: c.padding });
      const atInference = T.noGrad(conv);
      const y = conv();
      y.backward(T.randn(y.shape, { generator: new T.Generator(4) }));
      return { y: y.detach(), atInference, gx: x.grad!, gw: w.grad!, gb: b?.grad ?? null };
    };
    const fast = run(false);
    const ref = run(true);
    assertClose(fast.y, ref.y, F32_TOL, 'output');
    assertClose(fast.gx, ref.gx, F32_TOL, 'input grad');
    assertClose(fast.gw, ref.gw, F32_TOL, 'weight grad');
    if (ref.gb) assertClose(fast.gb!, ref.gb, F32_TOL, 'bias grad');
    assertClose(fast.atInference, ref.y, F32_TOL, 'output at inference');
  });
}
