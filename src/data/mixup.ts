/**
 * Batch mixing with timm's Mixup semantics (mixup, cutmix, switch, 'batch'/'pair'/'elem' modes,
 * label smoothing, lam correction for clipped boxes) and TransMix's attention-guided label
 * weights. Batch functions take float [N, C, H, W] images and int64 [N] labels and return the
 * mixed images with [N, numClasses] float targets; each image is mixed with its mirror in the
 * batch (index N − 1 − i), as timm does.
 */
import type { BatchTransform } from './loader.ts';
import { ArgumentError, DTypeError, formatShape, ShapeError } from '../errors.ts';
import { arange, fromTypedArray, zeros } from '../tensor/creation.ts';
import { add, cast, div, mul, sub } from '../tensor/ops/elementwise.ts';
import { indexSelect, scatterAdd } from '../tensor/ops/index.ts';
import { mean, sum } from '../tensor/ops/reduce.ts';
import { clone, copyInto, expand, narrow, reshape, select } from '../tensor/ops/shape.ts';
import type { Generator } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { betaSample, randInt, uniform } from './draws.ts';

/** A cutmix box in pixels: rows [yl, yh), columns [xl, xh). */
export interface MixBox {
  yl: number;
  yh: number;
  xl: number;
  xh: number;
}

/** The result of a batch mix. */
export interface MixResult {
  images: Tensor;
  targets: Tensor;
}

/** timm's one_hot with smoothing folded in, mixed with the flipped batch: lam·y + (1 − lam)·y.flip(0). */
export function mixupTarget(labels: Tensor, numClasses: number, lam: number | readonly number[], smoothing = 0): Tensor {
  if (labels.ndim !== 1 || (labels.dtype !== 'int64' && labels.dtype !== 'int32')) {
    throw new ShapeError(`mixupTarget: expected int64 labels of shape [N], got ${labels.dtype} ${formatShape(labels.shape)}`);
  }
  const n = labels.shape[0];
  const off = smoothing / numClasses;
  const on = 1 - smoothing + off;
  const oneHot = (y: Tensor) => {
    const hot = scatterAdd(zeros([n, numClasses]), 1, reshape(cast(y, 'int64'), [n, 1]), expand(fromTypedArray(Float32Array.of(on - off), [1, 1]), [n, 1]));
    return add(hot, off);
  };
  const y1 = oneHot(labels);
  const y2 = oneHot(indexSelect(labels, 0, arange(n - 1, -1, -1, { dtype: 'int64' })));
  const lamT = typeof lam === 'number' ? fromTypedArray(Float32Array.of(lam), [1, 1]) : fromTypedArray(Float32Array.from(lam), [n, 1]);
  return add(mul(y1, lamT), mul(y2, sub(1, lamT)));
}

/** timm's rand_bbox given the drawn center (cy, cx): a box of side √(1 − lam)·size, clipped. */
export function cutmixBox(height: number, width: number, lam: number, cy: number, cx: number): MixBox {
  const ratio = Math.sqrt(1 - lam);
  const cutH = Math.trunc(height * ratio);
  const cutW = Math.trunc(width * ratio);
  const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  return {
    yl: clip(cy - Math.floor(cutH / 2), height), yh: clip(cy + Math.floor(cutH / 2), height),
    xl: clip(cx - Math.floor(cutW / 2), width), xh: clip(cx + Math.floor(cutW / 2), width),
  };
}

/** Draws timm's cutmix box (rand_bbox, or rand_bbox_minmax when minmax is set). */
export function drawCutmixBox(height: number, width: number, lam: number, rng: Generator, minmax?: readonly [number, number] | null): MixBox {
  if (minmax) {
    const cutH = randInt(rng, Math.trunc(height * minmax[0]), Math.trunc(height * minmax[1]));
    const cutW = randInt(rng, Math.trunc(width * minmax[0]), Math.trunc(width * minmax[1]));
    const yl = randInt(rng, 0, height - cutH);
    const xl = randInt(rng, 0, width - cutW);
    return { yl, yh: yl + cutH, xl, xh: xl + cutW };
  }
  return cutmixBox(height, width, lam, randInt(rng, 0, height), randInt(rng, 0, width));
}

/** timm's lam correction: 1 − box area / image area (used when correctLam or minmax is set). */
export function boxLam(box: MixBox, height: number, width: number): number {
  return 1 - ((box.yh - box.yl) * (box.xh - box.xl)) / (height * width);
}

/** Options of the Mixup batch function (timm's Mixup). */
export interface MixupOptions {
  mixupAlpha?: number;
  cutmixAlpha?: number;
  cutmixMinmax?: readonly [number, number] | null;
  prob?: number;
  switchProb?: number;
  mode?: 'batch' | 'pair' | 'elem';
  correctLam?: boolean;
  labelSmoothing?: number;
  numClasses: number;
}

/** The draws of one 'batch'-mode mix, injectable for tests. */
export interface BatchMixParams {
  lam: number;
  useCutmix: boolean;
  /** The cutmix box (drawn when absent). */
  box?: MixBox;
}

function checkBatch(op: string, images: Tensor, labels: Tensor): void {
  if (images.ndim !== 4) throw new ShapeError(`${op}: expected images [N, C, H, W], got ${formatShape(images.shape)}`);
  if (images.dtype !== 'float32' && images.dtype !== 'bfloat16') throw new DTypeError(`${op}: expected float images, got ${images.dtype}`);
  if (labels.ndim !== 1 || labels.shape[0] !== images.shape[0]) {
    throw new ShapeError(`${op}: expected labels [${images.shape[0]}], got ${formatShape(labels.shape)}`);
  }
  if (images.shape[0] % 2 !== 0) throw new ShapeError(`${op}: batch size must be even, got ${images.shape[0]}`);
}

function flipBatch(x: Tensor): Tensor {
  return indexSelect(x, 0, arange(x.shape[0] - 1, -1, -1, { dtype: 'int64' }));
}

/** Pastes `src`'s box region into `dst` (same shapes [..., H, W]) in place. */
function pasteBox(dst: Tensor, src: Tensor, box: MixBox): void {
  const h = box.yh - box.yl;
  const w = box.xh - box.xl;
  if (h <= 0 || w <= 0) return;
  const d = dst.ndim;
  const region = (t: Tensor) => narrow(narrow(t, d - 2, box.yl, h), d - 1, box.xl, w);
  copyInto(region(dst), region(src));
}

/** timm's Mixup/CutMix as a batch function, plus `mixBatch` for injected draws. */
export class Mixup {
  readonly mixupAlpha: number;
  readonly cutmixAlpha: number;
  readonly cutmixMinmax: readonly [number, number] | null;
  readonly prob: number;
  readonly switchProb: number;
  readonly mode: 'batch' | 'pair' | 'elem';
  readonly correctLam: boolean;
  readonly labelSmoothing: number;
  readonly numClasses: number;
  /** The last batch's cutmix box ('batch' mode), for TransMix. */
  lastBox: MixBox | null = null;

  constructor(options: MixupOptions) {
    this.mixupAlpha = options.mixupAlpha ?? 1;
    this.cutmixAlpha = options.cutmixAlpha ?? 0;
    this.cutmixMinmax = options.cutmixMinmax ?? null;
    if (this.cutmixMinmax) {
      if (this.cutmixMinmax.length !== 2 || !(this.cutmixMinmax[0] < this.cutmixMinmax[1])) {
        throw new ArgumentError(`Mixup: cutmixMinmax must be [min, max] with min < max, got [${this.cutmixMinmax.join(', ')}]`);
      }
      this.cutmixAlpha = 1;
    }
    this.prob = options.prob ?? 1;
    this.switchProb = options.switchProb ?? 0.5;
    this.mode = options.mode ?? 'batch';
    this.correctLam = options.correctLam ?? true;
    this.labelSmoothing = options.labelSmoothing ?? 0.1;
    this.numClasses = options.numClasses;
    if (!Number.isInteger(this.numClasses) || this.numClasses < 1) throw new ArgumentError(`Mixup: numClasses must be a positive integer, got ${this.numClasses}`);
    if (!['batch', 'pair', 'elem'].includes(this.mode)) throw new ArgumentError(`Mixup: mode must be 'batch', 'pair' or 'elem', got '${this.mode}'`);
    if (this.mixupAlpha < 0 || this.cutmixAlpha < 0) throw new ArgumentError(`Mixup: alphas must be ≥ 0, got ${this.mixupAlpha}, ${this.cutmixAlpha}`);
  }

  private get enabled(): boolean {
    return this.mixupAlpha > 0 || this.cutmixAlpha > 0;
  }

  /** Draws one (lam, useCutmix) as timm's _params_per_batch. */
  drawParams(rng: Generator): BatchMixParams {
    if (!this.enabled || uniform(rng) >= this.prob) return { lam: 1, useCutmix: false };
    if (this.mixupAlpha > 0 && this.cutmixAlpha > 0) {
      const useCutmix = uniform(rng) < this.switchProb;
      return { lam: betaSample(rng, useCutmix ? this.cutmixAlpha : this.mixupAlpha, useCutmix ? this.cutmixAlpha : this.mixupAlpha), useCutmix };
    }
    if (this.mixupAlpha > 0) return { lam: betaSample(rng, this.mixupAlpha, this.mixupAlpha), useCutmix: false };
    return { lam: betaSample(rng, this.cutmixAlpha, this.cutmixAlpha), useCutmix: true };
  }

  /** 'batch' mode with given draws: returns the mixed images, the targets and the effective lam. */
  mixBatch(images: Tensor, labels: Tensor, params: BatchMixParams, rng?: Generator): MixResult & { lam: number; box: MixBox | null } {
    checkBatch('Mixup', images, labels);
    let lam = params.lam;
    let box: MixBox | null = null;
    let out = images;
    if (lam !== 1) {
      const [, , h, w] = images.shape;
      if (params.useCutmix) {
        if (!params.box && !rng) throw new ArgumentError('Mixup: a cutmix mix needs a box or a generator');
        box = params.box ?? drawCutmixBox(h, w, lam, rng as Generator, this.cutmixMinmax);
        if (this.correctLam || this.cutmixMinmax) lam = boxLam(box, h, w);
        out = clone(images);
        pasteBox(out, flipBatch(images), box);
      } else {
        out = add(mul(images, lam), mul(flipBatch(images), 1 - lam));
      }
    }
    this.lastBox = box;
    return { images: out, targets: mixupTarget(labels, this.numClasses, lam, this.labelSmoothing), lam, box };
  }

  private drawElemParams(n: number, rng: Generator): BatchMixParams[] {
    return Array.from({ length: n }, () => {
      // timm draws vectors; per element the same distribution: cutmix switch, lam, then the prob gate.
      if (!this.enabled) return { lam: 1, useCutmix: false };
      let useCutmix = false;
      let lam: number;
      if (this.mixupAlpha > 0 && this.cutmixAlpha > 0) {
        useCutmix = uniform(rng) < this.switchProb;
        lam = useCutmix ? betaSample(rng, this.cutmixAlpha, this.cutmixAlpha) : betaSample(rng, this.mixupAlpha, this.mixupAlpha);
      } else if (this.mixupAlpha > 0) {
        lam = betaSample(rng, this.mixupAlpha, this.mixupAlpha);
      } else {
        useCutmix = true;
        lam = betaSample(rng, this.cutmixAlpha, this.cutmixAlpha);
      }
      return uniform(rng) < this.prob ? { lam: Math.fround(lam), useCutmix } : { lam: 1, useCutmix };
    });
  }

  /** 'elem'/'pair' modes with given per-element draws (n of them for 'elem', n/2 for 'pair'). */
  mixElements(images: Tensor, labels: Tensor, params: readonly BatchMixParams[], rng?: Generator): MixResult & { lam: number[] } {
    checkBatch('Mixup', images, labels);
    const n = images.shape[0];
    const [, , h, w] = images.shape;
    const pair = this.mode === 'pair';
    const count = pair ? n / 2 : n;
    if (params.length !== count) throw new ArgumentError(`Mixup: expected ${count} element draws for mode '${this.mode}', got ${params.length}`);
    const orig = images;
    const out = clone(images);
    // timm keeps per-element lams in a float32 array.
    const lams = params.map((p) => Math.fround(p.lam));
    params.forEach((p, i) => {
      const j = n - i - 1;
      const lam = lams[i];
      if (lam === 1) return;
      if (p.useCutmix) {
        if (!p.box && !rng) throw new ArgumentError('Mixup: a cutmix mix needs a box or a generator');
        const box = p.box ?? drawCutmixBox(h, w, lam, rng as Generator, this.cutmixMinmax);
        if (this.correctLam || this.cutmixMinmax) lams[i] = Math.fround(boxLam(box, h, w));
        pasteBox(select(out, 0, i), select(orig, 0, j), box);
        if (pair) pasteBox(select(out, 0, j), select(orig, 0, i), box);
      } else {
        copyInto(select(out, 0, i), add(mul(select(orig, 0, i), lam), mul(select(orig, 0, j), 1 - lam)));
        if (pair) copyInto(select(out, 0, j), add(mul(select(orig, 0, j), lam), mul(select(orig, 0, i), 1 - lam)));
      }
    });
    const full = pair ? [...lams, ...[...lams].reverse()] : lams;
    return { images: out, targets: mixupTarget(labels, this.numClasses, full, this.labelSmoothing), lam: full };
  }

  /** Mixes a batch with draws from rng (timm's Mixup.__call__). */
  apply(images: Tensor, labels: Tensor, rng: Generator): MixResult {
    if (this.mode === 'batch') return this.mixBatch(images, labels, this.drawParams(rng), rng);
    const count = this.mode === 'pair' ? images.shape[0] / 2 : images.shape[0];
    return this.mixElements(images, labels, this.drawElemParams(count, rng), rng);
  }
}

/**
 * TransMix (Chen et al. 2022): the label weight of each image is the share of its last-block
 * CLS attention that falls outside the pasted box. `attention` is [N, heads, 1 + L] (CLS to
 * all tokens) on an [gh, gw] patch grid; the pixel box is mapped to the grid by nearest
 * downsampling (patch (i, j) is inside when its top-left pixel (i·H/gh, j·W/gw) floors into the box).
 * Returns lam per image (weight of the image's own label).
 */
export function transmixLam(attention: Tensor, box: MixBox, imageSize: readonly [number, number], grid: readonly [number, number]): Tensor {
  if (attention.ndim !== 3) throw new ShapeError(`transmixLam: expected attention [N, heads, 1 + L], got ${formatShape(attention.shape)}`);
  const [gh, gw] = grid;
  const [n, , tokens] = attention.shape;
  if (tokens !== 1 + gh * gw) throw new ShapeError(`transmixLam: attention has ${tokens} tokens, expected 1 + ${gh}·${gw} = ${1 + gh * gw}`);
  const [h, w] = imageSize;
  const inside = new Float32Array(gh * gw);
  for (let i = 0; i < gh; i++) {
    const y = Math.floor((i * h) / gh);
    for (let j = 0; j < gw; j++) {
      const x = Math.floor((j * w) / gw);
      inside[i * gw + j] = y >= box.yl && y < box.yh && x >= box.xl && x < box.xh ? 1 : 0;
    }
  }
  const patches = mean(narrow(cast(attention, 'float32'), 2, 1, gh * gw), 1);
  const mask = fromTypedArray(inside, [1, gh * gw]);
  const inBox = sum(mul(patches, mask), 1);
  const total = sum(patches, 1);
  return reshape(sub(1, div(inBox, total)), [n]);
}

/** TransMix targets: lam_i·y_i + (1 − lam_i)·y_{N−1−i} with lam from transmixLam. */
export function transmixTargets(labels: Tensor, numClasses: number, lam: Tensor, smoothing = 0.1): Tensor {
  const values = Array.from(cast(lam, 'float32').toArray() as Float32Array);
  return mixupTarget(labels, numClasses, values, smoothing);
}

/** timm's Mixup(…) as a DataLoader batch transform: images mixed, labels replaced by soft targets [N, numClasses]. */
export function createMixup(options: MixupOptions): BatchTransform {
  const mixup = new Mixup(options);
  return (batch, rng) => {
    const { images, targets } = mixup.apply(batch.images, batch.labels, rng);
    return { images, labels: targets, indices: batch.indices };
  };
}
