/** The native resampler reproduces Pillow's Image.resize exactly for every filter (fixture: tools/reference/image_resize.py). */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { readSafetensors } from '../../src/io/safetensors.ts';
import * as T from '../../src/index.ts';
import { fixturesDir } from '../helpers/opcheck.ts';

const FILTER_CODE: Record<string, number> = { nearest: 0, box: 1, bilinear: 2, hamming: 3, bicubic: 4, lanczos: 5 };
const { tensors } = readSafetensors(path.join(fixturesDir, 'image', 'resize.safetensors'));
const image = tensors.get('image')!;

for (const [key, expected] of tensors) {
  if (key === 'image') continue;
  const [filter, size] = key.split('/');
  test(`resizeImage ${filter} to ${size} matches Pillow exactly`, () => {
    const [h, w] = [expected.shape[0], expected.shape[1]];
    const out = T.zeros([h, w, 3], { dtype: 'uint8' });
    T.native.resizeImage(image, out, FILTER_CODE[filter], [0, 0, image.shape[1], image.shape[0]]);
    assert.deepEqual(out.toArray(), expected.toArray());
  });
}

test('resizeImage rejects bad arguments with NativeError', () => {
  const out = T.zeros([4, 4, 3], { dtype: 'uint8' });
  assert.throws(() => T.native.resizeImage(image, out, 9, [0, 0, 53, 37]), (e: unknown) => e instanceof T.NativeError && /filter/.test((e as Error).message));
  assert.throws(() => T.native.resizeImage(image, out, 2, [0, 0, 54, 37]), (e: unknown) => e instanceof T.NativeError && /box/.test((e as Error).message));
  assert.throws(() => T.native.resizeImage(T.zeros([4, 4, 3]), out, 2, [0, 0, 4, 4]), (e: unknown) => e instanceof T.NativeError && /uint8/.test((e as Error).message));
});
