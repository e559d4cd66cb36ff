/**
 * Eval transforms reproduce the PIL-based reference pipelines (fixture:
 * tools/reference/image_preprocess.py): timm transforms_imagenet_eval (center, non-square,
 * squash, border), torchvision's ImageClassification preset and OpenAI CLIP's _transform, from
 * the encoded file to the normalized tensor.
 *
 * Comparison rule: differences are measured in pixel units, |ours − ref| · std · 255 (normalization
 * undone). Every case must match to within 1e-3 of a pixel level, i.e. the same 8-bit pixels
 * (in practice the tensors are bit-identical); the max difference of each case is reported as a
 * test diagnostic. One known exception is listed in KNOWN_DIFFERENCES.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as X from '../../src/data/transforms.ts';
import { decodeImage } from '../../src/io/image.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import * as T from '../../src/index.ts';
import { fixturesDir } from '../helpers/opcheck.ts';

const dir = path.join(fixturesDir, 'image');
const fixture = (name: string) => path.join(dir, name);
const { tensors: refs } = readSafetensors(fixture('preprocess.safetensors'));
const IM = { mean: X.IMAGENET_DEFAULT_MEAN, std: X.IMAGENET_DEFAULT_STD };

const CONFIGS: Record<string, X.EvalConfig> = {
  timm_bilinear: { inputSize: [3, 24, 24], cropPct: 0.875, interpolation: 'bilinear', ...IM },
  timm_bicubic: { inputSize: [3, 24, 24], cropPct: 0.9, interpolation: 'bicubic', ...IM },
  timm_rect: { inputSize: [3, 24, 32], cropPct: 0.9, interpolation: 'bicubic', ...IM },
  timm_squash: { inputSize: [3, 24, 24], cropPct: 0.9, interpolation: 'bicubic', cropMode: 'squash', ...IM },
  timm_border: { inputSize: [3, 24, 24], cropPct: 0.9, interpolation: 'bicubic', cropMode: 'border', ...IM },
  tv: X.torchvisionPreset({ cropSize: 24, resizeSize: 28 }),
  clip: X.clipPreset(24),
};

/**
 * CLIP resizes a 16-bit greyscale PNG (PIL mode I) before converting it, in Pillow's 32-bit
 * integer resampler; we clip to 8 bits at decode and resize in 8 bits, so pixels near the clip
 * point differ. Bound: the measured max difference on the fixture.
 */
const KNOWN_DIFFERENCES: Record<string, number> = { 'clip/gray16.png': 57.01 };

// Max |ours − ref| in pixel levels (0..255), normalization undone with the config's std.
function maxPixelDiff(ours: T.Tensor, ref: T.Tensor, std: readonly number[]): number {
  const scale = T.fromTypedArray(Float32Array.from(std.map((s) => s * 255)), [3, 1, 1]);
  const d = T.mul(T.sub(ours, ref), scale);
  return Math.max(d.amax().item(), -d.amin().item());
}

for (const [key, ref] of refs) {
  const [pipeline, file] = key.split('/');
  const cfg = CONFIGS[pipeline];
  if (!cfg) continue;
  test(`${pipeline} preprocessing of ${file} matches the reference`, async (t) => {
    const ours = await X.preprocess(fixture(file), cfg);
    assert.deepEqual(ours.shape, ref.shape);
    const diff = maxPixelDiff(ours, ref, cfg.std);
    t.diagnostic(`max difference ${diff.toFixed(6)} / 255`);
    assert.ok(diff <= (KNOWN_DIFFERENCES[key] ?? 1e-3), `max difference ${diff} / 255`);
  });
}

test('centerCrop equals torchvision CenterCrop, including zero padding when the crop is larger', () => {
  const input = refs.get('crop/input')!;
  for (const [key, expected] of refs) {
    if (!key.startsWith('crop/') || key === 'crop/input') continue;
    const [h, w] = key.slice(5).split('x').map(Number);
    assert.deepEqual(X.centerCrop(input, [h, w]).toArray(), expected.toArray(), key);
  }
});

test('resize with nearest equals Pillow NEAREST (accumulated source coordinates)', () => {
  const image = refs.get('nearest/input')!;
  for (const [key, expected] of refs) {
    if (!key.startsWith('nearest/') || key === 'nearest/input') continue;
    const [h, w] = key.slice(8).split('x').map(Number);
    assert.deepEqual(X.resize(image, [h, w], 'nearest').toArray(), expected.toArray(), key);
  }
});

test("centerCrop offsets: round half to even (torchvision) or floor (HF); padding split floor/ceil or ceil/floor", () => {
  const rows = (n: number) => T.arange(0, n, 1, { dtype: 'uint8' }).reshape(n, 1, 1);
  const first = (n: number, crop: number, offset: 'round' | 'floor') => (X.centerCrop(rows(n), [crop, 1], { offset }).tolist() as number[][][])[0][0][0];
  // H − h = 3: round(1.5) = 2, floor 1; H − h = 5: round(2.5) = 2 = floor; H − h = 7: round(3.5) = 4, floor 3.
  assert.deepEqual([first(7, 4, 'round'), first(7, 4, 'floor')], [2, 1]);
  assert.deepEqual([first(9, 4, 'round'), first(9, 4, 'floor')], [2, 2]);
  assert.deepEqual([first(11, 4, 'round'), first(11, 4, 'floor')], [4, 3]);
  const padded = (offset: 'round' | 'floor') => (X.centerCrop(rows(2), [5, 1], { offset, fill: 9 }).tolist() as number[][][]).map((r) => r[0][0]);
  assert.deepEqual(padded('round'), [9, 0, 1, 9, 9]);
  assert.deepEqual(padded('floor'), [9, 9, 0, 1, 9]);
  const perChannel = X.centerCrop(T.zeros([1, 1, 3], { dtype: 'uint8' }), 3, { fill: [124, 116, 104] });
  assert.deepEqual((perChannel.tolist() as number[][][])[0][0], [124, 116, 104]);
});

test('resize sizes follow torchvision Resize(int) and timm floor(size / crop_pct)', () => {
  assert.deepEqual(X.shorterSideSize(480, 640, 256), [256, 341]);
  assert.deepEqual(X.shorterSideSize(640, 480, 256), [341, 256]);
  assert.deepEqual(X.shorterSideSize(375, 500, 248), [248, 330]);
  assert.deepEqual(X.shorterSideSize(300, 300, 224), [224, 224]);
  const table: [number, number][] = [[0.875, 256], [0.9, 248], [0.95, 235], [0.96, 233], [0.965, 232], [1.0, 224]];
  for (const [cropPct, size] of table) assert.deepEqual(X.evalResizeSize({ inputSize: [3, 224, 224], cropPct, ...IM }), [size, size], `crop_pct ${cropPct}`);
  assert.deepEqual(X.evalResizeSize(X.torchvisionPreset()), [256, 256]);
  assert.deepEqual(X.evalResizeSize(X.clipPreset(336)), [336, 336]);
});

test('roundHalfEven is Python round()', () => {
  assert.deepEqual([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, 2.4999, 2.5001, 3].map(X.roundHalfEven), [0, 2, 2, 4, 0, -2, 2, 3, 3]);
});

test('resize returns the image itself at its own size, and keeps its channels', () => {
  const img = refs.get('rgb/rgb_landscape.png')!;
  assert.equal(X.resize(img, [37, 53], 'bicubic'), img);
  const grey = T.full([5, 7, 1], 200, { dtype: 'uint8' });
  assert.deepEqual(X.resizeShorter(grey, 10, 'bicubic').shape, [10, 14, 1]);
  assert.deepEqual(X.resizeShorter(grey, 10, 'bicubic').amin().item(), 200);
});

test('toTensor gives float32 [C, H, W] / 255 and normalize (x − mean) / std per channel, for [C,H,W] and [N,C,H,W]', () => {
  const img = T.tensor([[[0, 51, 255], [102, 153, 204]]], { dtype: 'uint8' }); // [1, 2, 3]
  const x = X.toTensor(img);
  assert.deepEqual(x.shape, [3, 1, 2]);
  assert.equal(x.dtype, 'float32');
  assert.deepEqual(Array.from(x.toArray() as Float32Array), [0, 102 / 255, 51 / 255, 153 / 255, 1, 204 / 255].map(Math.fround));
  const y = X.normalize(x, [0.5, 0.25, 0], [0.5, 0.5, 2]);
  const f = Math.fround;
  const expected = [[0, 0.5, 0.5], [102, 0.5, 0.5], [51, 0.25, 0.5], [153, 0.25, 0.5], [255, 0, 2], [204, 0, 2]].map(([v, m, s]) => f(f(f(v / 255) - f(m)) / f(s)));
  assert.deepEqual(Array.from(y.toArray() as Float32Array), expected);
  assert.deepEqual(X.normalize(T.stack([x, x]), [0.5, 0.25, 0], [0.5, 0.5, 2]).shape, [2, 3, 1, 2]);
});

test('preprocessBatch stacks buffers, paths, decoded images and tensors into [N, 3, H, W]', async () => {
  const cfg = CONFIGS.timm_bicubic;
  const decoded = await decodeImage(fixture('rgb_small.png'));
  const batch = await X.preprocessBatch([readFileSync(fixture('rgb_landscape.png')), fixture('rgb_portrait.jpg'), decoded, decoded.image], cfg);
  assert.deepEqual(batch.shape, [4, 3, 24, 24]);
  const expected = ['rgb_landscape.png', 'rgb_portrait.jpg', 'rgb_small.png', 'rgb_small.png'].map((f) => refs.get(`timm_bicubic/${f}`)!);
  assert.ok(maxPixelDiff(batch, T.stack(expected), cfg.std) <= 1e-3);
});

test('evalTransform accepts a greyscale [H, W, 1] tensor as PIL convert("RGB") would give it', async () => {
  const grey = await decodeImage(fixture('gray.png'), { mode: 'L' });
  const fromTensor = X.evalTransform(CONFIGS.timm_bilinear)(grey.image);
  assert.ok(maxPixelDiff(fromTensor, refs.get('timm_bilinear/gray.png')!, IM.std) <= 1e-3);
});

test('evalConfigFromTimm reads a timm pretrained_cfg', () => {
  const cfg = X.evalConfigFromTimm({ input_size: [3, 384, 384], crop_pct: 1.0, interpolation: 'bicubic', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], crop_mode: 'squash' });
  assert.deepEqual(cfg, { inputSize: [3, 384, 384], cropPct: 1.0, interpolation: 'bicubic', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], cropMode: 'squash' });
  assert.deepEqual(X.evalResizeSize(cfg), [384, 384]);
});

test('bad transform arguments raise typed errors naming the op and the values', async () => {
  const img = T.zeros([4, 4, 3], { dtype: 'uint8' });
  const throwsLike = (fn: () => unknown, cls: new (...a: never[]) => Error, pattern: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof cls && pattern.test((e as Error).message));
  throwsLike(() => X.resize(T.zeros([4, 4, 3]), [2, 2]), T.DTypeError, /resize: expected a uint8 \[H, W, C\] image, got dtype float32/);
  throwsLike(() => X.resize(T.zeros([4, 4], { dtype: 'uint8' }), [2, 2]), T.ShapeError, /resize: .* got shape \[4, 4\]/);
  throwsLike(() => X.resize(img, [0, 2]), T.ArgumentError, /resize: size must be two positive integers \[h, w\], got \[0, 2\]/);
  throwsLike(() => X.resize(img, [2, 2], 'cubic' as T.ResampleFilter), T.ArgumentError, /resize: unknown interpolation 'cubic'/);
  throwsLike(() => X.resizeShorter(img, 2.5), T.ArgumentError, /resizeShorter: size must be a positive integer, got 2.5/);
  throwsLike(() => X.centerCrop(img, [2, 2], { fill: [1, 2] }), T.ArgumentError, /fill has 2 values, expected 1 or 3/);
  throwsLike(() => X.centerCrop(T.zeros([4, 4]), 2), T.ShapeError, /centerCrop: expected an \[H, W, C\] image, got shape \[4, 4\]/);
  throwsLike(() => X.normalize(T.zeros([2, 4, 4]), [0, 0, 0], [1, 1, 1]), T.ShapeError, /normalize: .* got shape \[2, 4, 4\]/);
  throwsLike(() => X.normalize(T.zeros([3, 4, 4]), [0, 0, 0], [1, 0, 1]), T.ArgumentError, /std must be non-zero/);
  throwsLike(() => X.evalTransform({ inputSize: [1, 24, 24], ...IM }), T.ArgumentError, /inputSize must be \[3, H, W\]/);
  throwsLike(() => X.evalTransform({ inputSize: [3, 24, 24], cropPct: 0, ...IM }), T.ArgumentError, /cropPct must be in \(0, 1\], got 0/);
  throwsLike(() => X.evalTransform({ inputSize: [3, 24, 24], cropMode: 'zoom' as 'center', ...IM }), T.ArgumentError, /unknown cropMode 'zoom'/);
  throwsLike(() => X.evalTransform(CONFIGS.tv)(T.zeros([4, 4, 2], { dtype: 'uint8' })), T.ShapeError, /expected an RGB \[H, W, 3\] or grey \[H, W, 1\] uint8 tensor, got shape \[4, 4, 2\]/);
  await assert.rejects(X.preprocessBatch([], CONFIGS.tv), T.ArgumentError);
});
