/** l2Normalize (torch.nn.functional.normalize, p = 2): unit rows along a dim, the norm floored at eps, gradients through it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/tensor/index.ts';

test('l2Normalize: unit L2 norm along the dim; a zero row stays zero; the gradient of a non-zero row is its projection off the row', () => {
  const x = T.tensor([[3, 4], [0, 0], [-1, 0]]).requiresGrad_();
  const y = T.l2Normalize(x);
  assert.deepEqual(Array.from(y.toArray() as Float32Array), [0.6, 0.8, 0, 0, -1, 0].map(Math.fround));
  const byColumn = T.l2Normalize(T.tensor([[3, 0], [4, 2]]), 0).toArray() as Float32Array;
  assert.deepEqual(Array.from(byColumn), [0.6, 0, 0.8, 1].map(Math.fround));
  T.sum(T.mul(y, T.tensor([[1, 0], [1, 1], [0, 1]]))).backward();
  const g = x.grad!.toArray() as Float32Array;
  // d/dx of (x/|x|)·c for x = (3, 4), c = (1, 0): (c − (c·u)u)/|x| = ((1 − 0.36), −0.48)/5.
  assert.ok(Math.abs(g[0] - 0.128) < 1e-6 && Math.abs(g[1] + 0.096) < 1e-6, `grad ${g[0]}, ${g[1]}`);
  assert.deepEqual([g[4], g[5]], [0, 1]);
});
