/**
 * Parity of batch/layer/group norm and interpolate with torch; fixture from tools/reference/ops_norm.py.
 * Batch norm training cases also compare the running statistics updated in place.
 */
import { test } from 'node:test';
import * as T from '../../src/tensor/index.ts';
import { assertClose, BF16_TOL, checkOpFixture, F32_TOL, type OpFn } from '../helpers/opcheck.ts';

const table: Record<string, OpFn> = {
  batchNorm: ([x, mean, variance, weight, bias], k) => {
    // Fresh copies: the update is in place and the fixture's tensors are reused by the bf16 run.
    const runningMean = mean.clone();
    const runningVar = variance.clone();
    const out = T.batchNorm(x, runningMean, runningVar, weight, bias, { training: k.training, momentum: k.momentum, eps: k.eps });
    return k.training ? [out, runningMean, runningVar] : out;
  },
  batchNormNoStats: ([x, weight, bias]) => T.batchNorm(x, null, null, weight, bias, { training: true }),
  layerNorm: ([x, ...params], k) => {
    const weight = k.weight ? params[0] : null;
    const bias = k.bias ? params[params.length - 1] : null;
    return T.layerNorm(x, k.shape, weight, bias, k.eps);
  },
  groupNorm: ([x, weight, bias], k) => T.groupNorm(x, k.groups, weight, bias, k.eps),
  interpolate: ([x], k) => T.interpolate(x, { size: k.size, scaleFactor: k.scaleFactor, mode: k.mode, alignCorners: k.alignCorners }),
};

checkOpFixture('norm.safetensors', table);

// Beyond the fixture: bf16 grads against float32 grads (the fixture checks bf16 outputs only),
// and the two batch norm kernels (own row-major, oneDNN channels-last) as each other's oracle.

interface Run {
  outs: T.Tensor[];
  grads: T.Tensor[];
}

// Runs f on float leaves of the given dtype and backpropagates a fixed cotangent.
function runWith(bases: T.Tensor[], dtype: T.DType, cot: T.Tensor, f: (xs: T.Tensor[]) => T.Tensor): Run {
  const leaves = bases.map((b) => b.to(dtype).detach().requiresGrad_(true));
  const out = f(leaves);
  out.backward(cot.to(dtype));
  return { outs: [out.float()], grads: leaves.map((l) => l.grad!.float()) };
}

function assertRunsClose(a: Run, b: Run, tol: number, label: string): void {
  a.outs.forEach((o, i) => assertClose(o, b.outs[i], tol, `${label}: output ${i}`));
  a.grads.forEach((g, i) => assertClose(g, b.grads[i], tol, `${label}: grad ${i}`));
}

const bf16Cases: [string, number[][], number[], (xs: T.Tensor[]) => T.Tensor][] = [
  ['batchNorm train', [[4, 6, 5, 5], [6], [6]], [4, 6, 5, 5], ([x, w, b]) => T.batchNorm(x, null, null, w, b, { training: true })],
  ['batchNorm eval', [[4, 6, 5], [6], [6]], [4, 6, 5], ([x, w, b]) => T.batchNorm(x, T.zeros([6]), T.ones([6]), w, b)],
  ['batchNorm channels-last', [[3, 4, 4, 8], [8], [8]], [3, 8, 4, 4], ([x, w, b]) => T.batchNorm(x.permute(0, 3, 1, 2), null, null, w, b, { training: true })],
  ['layerNorm', [[6, 32], [32], [32]], [6, 32], ([x, w, b]) => T.layerNorm(x, [32], w, b)],
  ['groupNorm', [[2, 8, 3, 3], [8], [8]], [2, 8, 3, 3], ([x, w, b]) => T.groupNorm(x, 4, w, b)],
  ['interpolate bicubic', [[2, 3, 6, 5]], [2, 3, 11, 7], ([x]) => T.interpolate(x, { size: [11, 7], mode: 'bicubic', alignCorners: false })],
  ['interpolate trilinear', [[1, 2, 3, 4, 5]], [1, 2, 6, 3, 9], ([x]) => T.interpolate(x, { size: [6, 3, 9], mode: 'trilinear', alignCorners: true })],
];

for (const [name, shapes, outShape, f] of bf16Cases) {
  test(`bf16 grads follow float32: ${name}`, () => {
    T.manualSeed(7);
    const bases = shapes.map((s) => T.randn(s));
    const cot = T.randn(outShape);
    assertRunsClose(runWith(bases, 'bfloat16', cot, f), runWith(bases, 'float32', cot, f), BF16_TOL, name);
  });
}

test('batchNorm: row-major and channels-last kernels agree for every affine and mode combination', () => {
  T.manualSeed(3);
  const x = T.randn([3, 4, 5, 6]);
  const cot = T.randn([3, 4, 5, 6]);
  const w = T.rand([4]);
  const b = T.randn([4]);
  for (const training of [true, false]) {
    for (const [useW, useB] of [[false, false], [true, false], [false, true], [true, true]]) {
      const run = (channelsLast: boolean) => {
        const base = channelsLast ? T.contiguous(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2) : x;
        const xs = [base, ...(useW ? [w] : []), ...(useB ? [b] : [])];
        const stats = [T.zeros([4]), T.ones([4])];
        const r = runWith(xs, 'float32', cot, ([xi, ...p]) => {
          const wi = useW ? p[0] : null;
          const bi = useB ? p[p.length - 1] : null;
          return T.batchNorm(xi, stats[0], stats[1], wi, bi, { training });
        });
        return { outs: [...r.outs, ...stats], grads: r.grads };
      };
      assertRunsClose(run(true), run(false), F32_TOL, `training=${training} weight=${useW} bias=${useB}`);
    }
  }
});
