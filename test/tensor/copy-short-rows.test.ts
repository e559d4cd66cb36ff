/**
 * Strided copies whose innermost run (in the output's memory order) is short and whose next dim is
 * long, as NCHW -> NHWC of a 3-channel image: the copy loops over the long dim innermost. Every
 * element must land where the index map says, for same-dtype and casting copies.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/tensor/index.ts';

// x[n, c, h, w] = n·10^6 + c·10^5 + h·10^3 + w: every element is distinct and exact in f32.
function indexed(shape: [number, number, number, number]): T.Tensor {
  const [N, C, H, W] = shape;
  const data = new Float32Array(N * C * H * W);
  let i = 0;
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) data[i++] = n * 1e6 + c * 1e5 + h * 1e3 + w;
  return T.fromTypedArray(data, shape);
}

function assertChannelsLastCopy(y: T.Tensor, shape: [number, number, number, number], what: string): void {
  const [N, C, H, W] = shape;
  assert.deepEqual(y.strides, [H * W * C, 1, W * C, C], `${what}: channels-last strides`);
  // The storage in memory order, which for a channels-last view is NHWC.
  const mem = y.dtype === 'int32' ? new Int32Array(y.storage.buffer, 0, N * C * H * W) : new Float32Array(y.storage.buffer, 0, N * C * H * W);
  for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) {
    const expected = n * 1e6 + c * 1e5 + h * 1e3 + w;
    const at = ((n * H + h) * W + w) * C + c;
    if (mem[at] !== expected) assert.fail(`${what}: [${n}, ${c}, ${h}, ${w}] holds ${mem[at]}, expected ${expected}`);
  }
}

test('NCHW -> NHWC of 3-channel and 1-channel images lands every element', () => {
  for (const shape of [[2, 3, 20, 17], [1, 1, 16, 40], [3, 5, 9, 30]] as [number, number, number, number][]) {
    assertChannelsLastCopy(T.toChannelsLast(indexed(shape)), shape, `f32 ${shape}`);
  }
});

test('a casting copy with short rows (f32 -> int32 channels-last) lands every element', () => {
  const shape: [number, number, number, number] = [2, 3, 16, 20];
  const x = indexed(shape);
  const out = T.empty(shape, { dtype: 'int32' });
  const channelsLast = out.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
  T.native.copy(x, channelsLast);
  assertChannelsLastCopy(channelsLast, shape, 'int32');
});
