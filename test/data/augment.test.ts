/**
 * Training augmentations against PIL/timm (test/fixtures/augment, written by
 * tools/reference/augment_parity.py) plus seeded replay, distribution and statistics checks.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import * as A from '../../src/data/augment.ts';
import * as Ops from '../../src/data/augment-ops.ts';
import * as Tr from '../../src/data/augment-transforms.ts';
import * as AA from '../../src/data/auto-augment.ts';
import * as D from '../../src/data/draws.ts';
import * as RE from '../../src/data/random-erasing.ts';
import * as M from '../../src/data/mixup.ts';
import { ArgumentError, ShapeError } from '../../src/errors.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { fromTypedArray, tensor } from '../../src/tensor/creation.ts';
import { Generator } from '../../src/tensor/random.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { fixturesDir } from '../helpers/opcheck.ts';

const { tensors, metadata } = readSafetensors(path.join(fixturesDir, 'augment', 'augment.safetensors'));
const refs = Object.fromEntries(tensors) as Record<string, Tensor>;
interface Case { name: string; kind: string; op?: string; arg?: number | null; resample?: A.AffineResample; fill?: number[];
  box?: number[] | null; size?: [number, number]; interp?: 'bilinear' | 'bicubic' | 'nearest'; lam?: number; cutmix?: boolean;
  center?: number[]; smoothing?: number; correct?: boolean; lam_out?: number; mode?: 'elem' | 'pair'; lams?: number[];
  centers?: number[][]; order?: number[]; factors?: (number | null)[]; matrix?: number[] }
const cases: Case[] = JSON.parse(metadata.cases);
const image = refs.image;

function values(t: Tensor): number[] {
  return Array.from(t.toArray() as ArrayLike<number>, Number);
}

/** Count and max of |a − b| over two uint8 images. */
function diff(a: Tensor, b: Tensor): { count: number; max: number } {
  assert.deepEqual(a.shape, b.shape);
  const x = values(a);
  const y = values(b);
  let count = 0;
  let max = 0;
  x.forEach((v, i) => {
    const d = Math.abs(v - y[i]);
    if (d > 0) count++;
    max = Math.max(max, d);
  });
  return { count, max };
}

const COLOR_OPS: Record<string, (img: Tensor, f: number) => Tensor> = {
  brightness: A.adjustBrightness, contrast: A.adjustContrast, saturation: A.adjustSaturation, hue: A.adjustHue,
};

test('crop + resize of a given RRC box matches torchvision resized_crop on PIL exactly', () => {
  for (const c of cases.filter((k) => k.kind === 'rrc')) {
    const [top, left, height, width] = c.box as number[];
    const out = A.resizedCrop(image, { top, left, height, width }, c.size as [number, number], c.interp);
    assert.deepEqual(diff(out, refs[c.name]), { count: 0, max: 0 }, c.name);
  }
});

test('ColorJitter ops (brightness, contrast, saturation, hue) match torchvision on PIL exactly', () => {
  const ops = cases.filter((k) => k.kind === 'op');
  assert.equal(ops.filter((c) => c.op === 'hue').length, 9);
  for (const c of ops) {
    const out = COLOR_OPS[c.op as string](image, c.arg as number);
    assert.deepEqual(diff(out, refs[c.name]), { count: 0, max: 0 }, c.name);
  }
});

test('adjustHue matches PIL exactly on grays, near-grays and saturated colors, and leaves L images alone', () => {
  const hueImage = refs.image_hue;
  for (const c of cases.filter((k) => k.kind === 'hue')) {
    assert.deepEqual(diff(A.adjustHue(hueImage, c.arg as number), refs[c.name]), { count: 0, max: 0 }, c.name);
  }
  // A non-contiguous view goes through the same kernel.
  const flipped = A.hflip(hueImage);
  assert.deepEqual(diff(A.adjustHue(flipped, 0.27), A.hflip(refs['cj/hue_image/0.27'])), { count: 0, max: 0 });
  const gray = refs.image_gray;
  assert.equal(A.adjustHue(gray, 0.3), gray);
});

test('ColorJitter passes with fixed draws (order and factors) match torchvision exactly', () => {
  const passes = cases.filter((k) => k.kind === 'cj');
  assert.equal(passes.length, 3);
  for (const c of passes) {
    const out = A.applyColorJitter(image, { order: c.order as number[], factors: c.factors as (number | null)[] });
    assert.deepEqual(diff(out, refs[c.name]), { count: 0, max: 0 }, c.name);
  }
});

test('colorJitter draws a permutation of the four ops and factors in range, and replays per seed', () => {
  const options: A.ColorJitterOptions = { brightness: 0.4, contrast: [0.9, 1.2], saturation: 0.3, hue: 0.1 };
  const rng = new Generator(8);
  const firsts = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const p = A.colorJitterParams(options, rng);
    assert.deepEqual([...p.order].sort(), [0, 1, 2, 3]);
    firsts.add(p.order[0]);
    const [b, c, s, h] = p.factors as number[];
    assert.ok(b >= 0.6 && b <= 1.4 && c >= 0.9 && c <= 1.2 && s >= 0.7 && s <= 1.3 && h >= -0.1 && h <= 0.1, `${p.factors}`);
  }
  assert.equal(firsts.size, 4);
  assert.deepEqual(A.colorJitterParams({ brightness: 0.2, hue: 0 }, new Generator(1)).factors.slice(1), [null, null, null]);
  const t = A.colorJitter(options);
  const expected = A.applyColorJitter(image, A.colorJitterParams(options, new Generator(5)));
  assert.deepEqual(diff(t(image, new Generator(5)), expected), { count: 0, max: 0 });
});

test('RandAugment point and enhance ops match timm/PIL exactly', () => {
  for (const c of cases.filter((k) => k.kind === 'ra' && !k.resample)) {
    const out = A.applyAugmentOp(image, c.op as A.AugmentOpName, c.arg ?? null);
    assert.deepEqual(diff(out, refs[c.name]), { count: 0, max: 0 }, c.name);
  }
});

test('RandAugment affine ops match PIL exactly (nearest, bilinear, bicubic)', () => {
  const affine = cases.filter((k) => k.kind === 'ra' && k.resample);
  assert.equal(affine.length, 30);
  for (const c of affine) {
    const out = A.applyAugmentOp(image, c.op as A.AugmentOpName, c.arg ?? null, c.resample, c.fill);
    assert.deepEqual(diff(out, refs[c.name]), { count: 0, max: 0 }, c.name);
  }
});

test('Image.transform with general matrices and rotate of an L image match PIL exactly', () => {
  const general = cases.filter((k) => k.kind === 'affine');
  const gray = cases.filter((k) => k.kind === 'rotate_gray');
  assert.equal(general.length + gray.length, 15);
  for (const c of general) {
    const out = A.affineTransform(image, c.matrix as number[], c.resample as A.AffineResample, c.fill as number[]);
    assert.deepEqual(diff(out, refs[c.name]), { count: 0, max: 0 }, c.name);
  }
  for (const c of gray) {
    const out = A.rotate(refs.image_gray, c.arg as number, c.resample as A.AffineResample, c.fill as number[]);
    assert.deepEqual(diff(out, refs[c.name]), { count: 0, max: 0 }, c.name);
  }
});

test('bilinear and bicubic affine maps are exact where the answer is known on a large image', () => {
  const n = 257;
  const img = fromTypedArray(Uint8Array.from({ length: n * n * 3 }, (_, i) => (i * 7919) % 251), [n, n, 3]);
  for (const resample of ['bilinear', 'bicubic'] as const) {
    // The identity samples pixel centers (fraction 0) and whole-pixel shifts move the image.
    assert.deepEqual(diff(A.affineTransform(img, [1, 0, 0, 0, 1, 0], resample, [0, 0, 0]), img), { count: 0, max: 0 });
    const shifted = A.affineTransform(img, [1, 0, 5, 0, 1, -3], resample, [9, 9, 9]);
    const expected = A.affineTransform(img, [1, 0, 5, 0, 1, -3], 'nearest', [9, 9, 9]);
    assert.deepEqual(diff(shifted, expected), { count: 0, max: 0 }, resample);
  }
});

test('rrcGetParams stays within the scale and ratio bounds and falls back to a center crop', () => {
  const rng = new Generator(7);
  let fallbacks = 0;
  for (let i = 0; i < 400; i++) {
    const box = A.rrcGetParams(50, 80, [0.08, 1], [3 / 4, 4 / 3], rng);
    assert.ok(box.top >= 0 && box.left >= 0 && box.top + box.height <= 50 && box.left + box.width <= 80);
    const area = (box.height * box.width) / 4000;
    const ratio = box.width / box.height;
    if (box.height === 50 && box.width === 67 && box.top === 0 && box.left === 6) fallbacks++;
    else {
      // Rounding the sides to integers moves area and ratio slightly beyond the sampled ranges.
      assert.ok(area >= 0.06 && area <= 1.05, `area ${area}`);
      assert.ok(ratio >= 0.65 && ratio <= 1.5, `ratio ${ratio}`);
    }
  }
  assert.ok(fallbacks < 40);
  // An impossible scale forces the fallback: the widest 4/3 box of a 50×80 image, centered.
  assert.deepEqual(A.rrcGetParams(50, 80, [2, 3], [3 / 4, 4 / 3], rng), { top: 0, left: 6, height: 50, width: 67 });
  assert.deepEqual(A.rrcGetParams(80, 20, [2, 3], [3 / 4, 4 / 3], rng), { top: 26, left: 0, height: 27, width: 20 });
});

test('createTrainTransform replays a sample exactly for a seed and differs across seeds', () => {
  const t = A.createTrainTransform({
    inputSize: [3, 16, 16], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], interpolation: 'bicubic',
    autoAugment: 'rand-m9-mstd0.5-inc1', reProb: 0.5, reMode: 'pixel',
  });
  const run = (seed: number) => values(t(image, new Generator(seed)));
  const a = run(11);
  assert.deepEqual(run(11), a);
  assert.equal(a.length, 3 * 16 * 16);
  assert.notDeepEqual(run(12), a);
  const cj = A.createTrainTransform({ inputSize: [3, 12, 10], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], colorJitter: 0.4 });
  assert.deepEqual(values(cj(image, new Generator(3))), values(cj(image, new Generator(3))));
  // timm's (brightness, contrast, saturation, hue) tuple: hue 0.2 changes colors beyond what the others do.
  const withHue = A.createTrainTransform({ inputSize: [3, 12, 10], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], colorJitter: [0, 0, 0, 0.2], hflip: 0 });
  const noJitter = A.createTrainTransform({ inputSize: [3, 12, 10], mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], colorJitter: null, hflip: 0 });
  assert.deepEqual(values(withHue(image, new Generator(4))), values(withHue(image, new Generator(4))));
  assert.notDeepEqual(values(withHue(image, new Generator(4))), values(noJitter(image, new Generator(4))));
  assert.throws(() => A.createTrainTransform({ inputSize: [3, 8, 8], mean: [0, 0, 0], std: [1, 1, 1], colorJitter: [0.4, 0.4] }), /colorJitter must be a number or \(brightness, contrast, saturation\[, hue\]\), got 2 values/);
});

test('randAugment config parsing follows timm', () => {
  assert.deepEqual(A.parseRandAugment('rand-m9-mstd0.5'), { magnitude: 9, numLayers: 2, prob: 0.5, magnitudeStd: 0.5, increasing: false });
  assert.deepEqual(A.parseRandAugment('rand-m7-n3-mstd101-inc1'), { magnitude: 7, numLayers: 3, prob: 0.5, magnitudeStd: Infinity, increasing: true });
  assert.equal(A.parseRandAugment('rand-inc0').increasing, true);
  assert.equal(A.parseRandAugment('rand-m9-mmax15-p0.7').magnitudeMax, 15);
  assert.throws(() => A.parseRandAugment('auto-m9'), ArgumentError);
  assert.throws(() => A.parseRandAugment('rand-q3'), /unknown config section 'q3'/);
  assert.equal(A.levelToArg('PosterizeIncreasing', 9, false), 1);
  assert.equal(A.levelToArg('SolarizeIncreasing', 9, false), 256 - 230);
  assert.equal(A.levelToArg('SolarizeAdd', 9, false), 99);
  assert.ok(Math.abs((A.levelToArg('ColorIncreasing', 9, true) as number) - 0.19) < 1e-12);
  assert.ok(Math.abs((A.levelToArg('Rotate', 5, true) as number) + 15) < 1e-12);
  assert.ok(Math.abs((A.levelToArg('TranslateXRel', 10, false) as number) - 0.45) < 1e-12);
});

test('randomErasing erases about p of the images with boxes inside the area and aspect bounds', () => {
  const rng = new Generator(5);
  let erased = 0;
  let areaSum = 0;
  for (let i = 0; i < 300; i++) {
    const boxes = A.randomErasingBoxes(40, 50, { probability: 0.25 }, rng);
    if (boxes.length) {
      erased++;
      const b = boxes[0];
      assert.ok(b.top + b.height <= 40 && b.left + b.width <= 50);
      const frac = (b.height * b.width) / 2000;
      assert.ok(frac >= 0.01 && frac <= 0.37, `area fraction ${frac}`);
      areaSum += frac;
    }
  }
  assert.ok(erased > 50 && erased < 100, `erased ${erased} of 300`);
  const meanArea = areaSum / erased;
  assert.ok(meanArea > 0.12 && meanArea < 0.23, `mean area ${meanArea}`);
  // 'pixel' mode fills the box with standard normal noise and leaves the rest alone.
  const x = tensor(Array.from({ length: 3 }, () => Array.from({ length: 60 }, () => Array(60).fill(7))));
  const out = A.randomErasing({ probability: 1, mode: 'pixel' })(x, new Generator(9));
  const v = values(out).filter((e) => e !== 7);
  assert.ok(v.length > 0.02 * 3 * 3600 * 0.5);
  const mu = v.reduce((s, e) => s + e, 0) / v.length;
  const sd = Math.sqrt(v.reduce((s, e) => s + (e - mu) ** 2, 0) / v.length);
  assert.ok(Math.abs(mu) < 0.15 && Math.abs(sd - 1) < 0.15, `noise mean ${mu}, std ${sd}`);
  assert.deepEqual(values(x).filter((e) => e !== 7), []);
});

test('Mixup/CutMix images and targets match timm for fixed lam and box', () => {
  const x = refs['mix/x'];
  const y = refs['mix/y'];
  cases.filter((c) => c.kind === 'mix').forEach((c) => {
    const m = new M.Mixup({ mixupAlpha: 1, cutmixAlpha: 1, labelSmoothing: c.smoothing, numClasses: 10, correctLam: c.correct });
    const center = c.center as number[];
    const box = c.cutmix ? M.cutmixBox(6, 8, c.lam as number, center[0], center[1]) : undefined;
    if (box) assert.deepEqual([box.yl, box.yh, box.xl, box.xh], c.box);
    const out = m.mixBatch(x, y, { lam: c.lam as number, useCutmix: c.cutmix as boolean, box });
    assert.ok(Math.abs(out.lam - (c.lam_out as number)) < 1e-12, `${c.name} lam`);
    const key = c.name.replace(/\/x$/, '');
    const maxErr = (a: Tensor, b: Tensor) => Math.max(...values(a).map((v, i) => Math.abs(v - values(b)[i])));
    assert.ok(maxErr(out.images, refs[c.name]) < 1e-6, `${c.name} images`);
    assert.ok(maxErr(out.targets, refs[`${key}/target`]) < 1e-6, `${c.name} targets`);
  });
});

test("Mixup 'elem' and 'pair' modes match timm for injected per-element draws", () => {
  const x = refs['mix/x'];
  const y = refs['mix/y'];
  for (const c of cases.filter((k) => k.kind === 'mixelem')) {
    const m = new M.Mixup({ mixupAlpha: 1, cutmixAlpha: 1, labelSmoothing: 0.1, numClasses: 10, mode: c.mode });
    const centers = [...(c.centers as number[][])];
    const flags = c.cutmix as unknown as boolean[];
    const params = (c.lams as number[]).map((lam, i) => {
      const useCutmix = flags[i];
      if (!useCutmix || Math.fround(lam) === 1) return { lam, useCutmix };
      const [cy, cx] = centers.shift() as number[];
      return { lam, useCutmix, box: M.cutmixBox(6, 8, Math.fround(lam), cy, cx) };
    });
    const out = m.mixElements(x, y, params);
    const maxErr = (a: Tensor, b: Tensor) => Math.max(...values(a).map((v, i) => Math.abs(v - values(b)[i])));
    assert.ok(maxErr(out.images, refs[c.name]) < 1e-6, `${c.name} images`);
    assert.ok(maxErr(out.targets, refs[`mix/${c.mode}/target`]) < 1e-6, `${c.name} targets`);
  }
});

test('Mixup modes: seeded replay, pair symmetry, elem lam vector and typed errors', () => {
  const x = refs['mix/x'];
  const y = refs['mix/y'];
  for (const mode of ['batch', 'pair', 'elem'] as const) {
    const m = new M.Mixup({ mixupAlpha: 0.8, cutmixAlpha: 1, numClasses: 10, mode });
    const a = m.apply(x, y, new Generator(4));
    const b = m.apply(x, y, new Generator(4));
    assert.deepEqual(values(a.images), values(b.images));
    assert.deepEqual(a.targets.shape, [4, 10]);
    const rows = values(a.targets);
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(rows.slice(i * 10, i * 10 + 10).reduce((s, v) => s + v, 0) - 1) < 1e-5);
  }
  const pair = new M.Mixup({ mixupAlpha: 1, numClasses: 10, mode: 'pair', labelSmoothing: 0 });
  const r = pair.mixElements(x, y, [{ lam: 0.25, useCutmix: false }, { lam: 1, useCutmix: false }]);
  assert.deepEqual(r.lam, [0.25, 1, 1, 0.25]);
  assert.throws(() => pair.apply(x, tensor([1, 2, 3], { dtype: 'int64' }), new Generator(0)), ShapeError);
  assert.throws(() => new M.Mixup({ numClasses: 0 }), ArgumentError);
  // Beta draws: mean 1/2 and variance 1/(4(2a + 1)) for Beta(a, a).
  const rng = new Generator(1);
  const draws = Array.from({ length: 400 }, () => A.betaSample(rng, 0.8, 0.8));
  const mu = draws.reduce((s, v) => s + v, 0) / draws.length;
  const variance = draws.reduce((s, v) => s + (v - mu) ** 2, 0) / draws.length;
  assert.ok(Math.abs(mu - 0.5) < 0.05 && Math.abs(variance - 1 / (4 * 2.6)) < 0.02, `beta mean ${mu}, var ${variance}`);
});

test('TransMix lam is the CLS attention mass outside the pasted box', () => {
  // 2 images, 2 heads, a 2×3 patch grid on a 4×6 image; the box covers the top-left 2×2 pixels = patch (0, 0).
  const grid: [number, number] = [2, 3];
  const attn = fromTypedArray(Float32Array.from([
    0.5, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05,
    0.3, 0.3, 0.1, 0.1, 0.1, 0.05, 0.05,
    0.0, 0.0, 0.25, 0.25, 0.25, 0.25, 0.0,
    0.0, 0.5, 0.0, 0.0, 0.0, 0.5, 0.0,
  ]), [2, 2, 7]);
  const box = { yl: 0, yh: 2, xl: 0, xh: 2 };
  const lam = values(M.transmixLam(attn, box, [4, 6], grid));
  // Image 0: patch means [0.2, 0.1, 0.1, 0.1, 0.05, 0.05], total 0.6, inside 0.2.
  assert.ok(Math.abs(lam[0] - (1 - 0.2 / 0.6)) < 1e-6);
  // Image 1: patch means [0.25, 0.125, 0.125, 0.125, 0.375, 0], total 1, inside 0.25.
  assert.ok(Math.abs(lam[1] - 0.75) < 1e-6);
  const targets = values(M.transmixTargets(tensor([2, 5], { dtype: 'int64' }), 6, M.transmixLam(attn, box, [4, 6], grid), 0));
  assert.ok(Math.abs(targets[2] - lam[0]) < 1e-6 && Math.abs(targets[5] - (1 - lam[0])) < 1e-6);
  assert.throws(() => M.transmixLam(attn, box, [4, 6], [3, 3]), /expected 1 \+ 3·3 = 10/);
});

test('augment ops reject bad input with typed errors', () => {
  assert.throws(() => A.hflip(tensor([1, 2, 3])), /hflip: expected a uint8/);
  assert.throws(() => A.posterize(image, 9), /posterize: bits must be an integer in \[0, 8\], got 9/);
  assert.throws(() => A.crop(image, { top: 15, left: 0, height: 10, width: 4 }), /does not fit an image of 20×24/);
  assert.throws(() => A.randomResizedCrop([8, 8], { scale: [1, 0.5] }), /scale must be \[min, max\]/);
  assert.throws(() => A.affineTransform(image, [1, 0, 0], 'nearest', [0, 0, 0]), /matrix must be 6 finite numbers/);
  assert.throws(() => A.randomErasing({ mode: 'x' as 'pixel' }), /mode must be/);
  assert.throws(() => A.affineTransform(image, [1, 0, 0, 0, 1, 0], 'lanczos' as 'nearest', [0, 0, 0]), /resample must be 'nearest', 'bilinear' or 'bicubic', got 'lanczos'/);
  assert.throws(() => A.affineTransform(image, [1, 0, 0, 0, 1, 0], 'bilinear', [0, 0]), /fill must have 3 values, got 2/);
  assert.throws(() => A.adjustHue(image, 0.6), /adjustHue: hueFactor must be in \[-0.5, 0.5\], got 0.6/);
  assert.throws(() => A.adjustHue(fromTypedArray(new Uint8Array(16), [2, 2, 4]), 0.1), (e: unknown) => e instanceof ShapeError && /expected an RGB or L image, got 4 channels/.test((e as Error).message));
  assert.throws(() => A.colorJitter({ hue: 0.7 }), /colorJitter: hue must be in \[0, 0.5\], got 0.7/);
  assert.throws(() => A.colorJitter({ hue: [-0.6, 0.1] }), /hue range must lie in \[-0.5, 0.5\], got \[-0.6, 0.1\]/);
  assert.throws(() => A.colorJitter({ brightness: -1 }), /brightness must be ≥ 0, got -1/);
  assert.throws(() => A.applyColorJitter(image, { order: [0, 4], factors: [1, null, null, null] }), /params need 4 factors and an order of op indices 0..3/);
});

test('nearest affine ops stay exact on a larger image (fixed-point tables) and leave the input untouched', () => {
  // On a 300×300 image the 16.16 walk exceeds float32's exact integers; the quarter-turn matrix
  // through the fixed-point path must still equal the transpose PIL uses for rotate(90).
  const n = 300;
  const data = Uint8Array.from({ length: n * n * 3 }, (_, i) => (i * 7919) % 251);
  const img = fromTypedArray(data, [n, n, 3]);
  const viaAffine = A.affineTransform(img, [0, -1, n, 1, 0, 0], 'nearest', [0, 0, 0]);
  const viaRotate = A.rotate(img, 90, 'nearest', [0, 0, 0]);
  assert.deepEqual(diff(viaAffine, viaRotate), { count: 0, max: 0 });
  const before = values(image);
  for (const name of A.RAND_INCREASING_TRANSFORMS) A.applyAugmentOp(image, name, A.levelToArg(name, 7, true), 'bicubic', [1, 2, 3]);
  assert.deepEqual(values(image), before);
});

test('createMixup gives a seeded batch function with smoothed targets', () => {
  const fn = M.createMixup({ mixupAlpha: 0, cutmixAlpha: 1, numClasses: 10, labelSmoothing: 0.1 });
  const x = refs['mix/x'];
  const y = refs['mix/y'];
  const batch = { images: x, labels: y, indices: [0, 1, 2, 3] };
  const a = fn(batch, new Generator(21));
  assert.deepEqual(values(a.images), values(fn(batch, new Generator(21)).images));
  assert.deepEqual(a.indices, [0, 1, 2, 3]);
  const t = values(a.labels);
  assert.ok(t.every((v) => v >= 0.01 - 1e-6 && v <= 0.91 + 1e-6));
  // Cutmix only pastes: every output value is the image's own or its mirror's.
  const xs = values(x);
  const per = xs.length / 4;
  values(a.images).forEach((v, k) => {
    const i = Math.floor(k / per);
    const own = xs[k];
    const mirror = xs[(3 - i) * per + (k % per)];
    assert.ok(v === own || v === mirror);
  });
});

test('data/augment.ts is the factory and still exports every piece of the split modules', () => {
  for (const [name, mod] of Object.entries({ Ops, Tr, AA, RE })) {
    for (const [key, value] of Object.entries(mod)) assert.equal((A as Record<string, unknown>)[key], value, `${name}.${key} is not re-exported by augment.ts`);
  }
  for (const key of ['uniform', 'randInt', 'gauss', 'betaSample'] as const) assert.equal(A[key], D[key]);
  // The shared argument checks stay internal to src/data.
  assert.equal('checkRange' in A, false);
  assert.equal(typeof A.createTrainTransform, 'function');
});
