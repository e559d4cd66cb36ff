/**
 * `shapes`: a procedural classification dataset of coloured geometric shapes (class = shape
 * kind) on textured backgrounds (gradients, stripes, noise), with random position, size,
 * rotation and colours. Sample i of a split is a pure function of (seed, split, i), rendered
 * with tensor ops over coordinate grids so the cost per image stays small at any resolution.
 * Labels cycle through the classes (i mod numClasses), so every split is exactly balanced.
 */
import { ArgumentError } from '../../errors.ts';
import {
  Generator, Tensor, abs, add, arange, cast, clamp, cos, fromTypedArray, ge, gt, le, logicalAnd, logicalOr,
  maximum, mul, randn, reshape, sub, unsqueeze,
} from '../../tensor/index.ts';
import { checkIndex, deriveSeed, uniforms, type Dataset, type Sample } from './types.ts';

/** The shape kinds, in class order. */
export const SHAPE_KINDS = [
  'circle', 'square', 'triangle', 'star', 'cross', 'ring', 'ellipse', 'frame', 'semicircle', 'crescent', 'hexagon', 'bar',
] as const;

export type ShapesSplit = 'train' | 'val' | 'test';
const SPLIT_CODE: Record<ShapesSplit, number> = { train: 0, val: 1, test: 2 };

/** Default split sizes (see the report in the module README: sized for a 2-core training run). */
export const SHAPES_DEFAULT_SIZES: Record<ShapesSplit, number> = { train: 5000, val: 1000, test: 1000 };

export interface ShapesOptions {
  split?: ShapesSplit;
  /** Number of classes, 2..12 (the first N kinds of SHAPE_KINDS); default 10. */
  numClasses?: number;
  /** Image side in pixels (square images), or [height, width]; default 64. */
  size?: number | readonly [number, number];
  /** Samples in the split; defaults to SHAPES_DEFAULT_SIZES. */
  length?: number;
  seed?: number;
  /** Random position, size and rotation (default true); false centres every shape upright at 35% of the short side. */
  jitter?: boolean;
}

// Two-argument boolean helpers over [H, W] masks.
const and = (...ms: Tensor[]) => ms.reduce((a, b) => logicalAnd(a, b));
const or = (...ms: Tensor[]) => ms.reduce((a, b) => logicalOr(a, b));

/** Intersection of n half-planes u·cos(a) + v·sin(a) ≤ d at angles start + k·2π/n: a regular polygon. */
function polygon(u: Tensor, v: Tensor, n: number, d: number, start: number): Tensor {
  const planes: Tensor[] = [];
  for (let k = 0; k < n; k++) {
    const a = start + (2 * Math.PI * k) / n;
    planes.push(le(add(mul(u, Math.cos(a)), mul(v, Math.sin(a))), d));
  }
  return and(...planes);
}

// Each mask is over coordinates (u, v) rotated into the shape's frame and scaled so the shape fits in the unit disc.
const MASKS: Record<(typeof SHAPE_KINDS)[number], (u: Tensor, v: Tensor, r2: Tensor) => Tensor> = {
  circle: (_u, _v, r2) => le(r2, 1),
  square: (u, v) => le(maximum(abs(u), abs(v)), 0.72),
  triangle: (u, v) => polygon(u, v, 3, 0.5, Math.PI / 2),
  star: (u, v) => or(polygon(u, v, 3, 0.5, Math.PI / 2), polygon(u, v, 3, 0.5, -Math.PI / 2)),
  cross: (u, v) => or(and(le(abs(u), 0.28), le(abs(v), 1)), and(le(abs(v), 0.28), le(abs(u), 1))),
  ring: (_u, _v, r2) => and(le(r2, 1), ge(r2, 0.36)),
  ellipse: (u, v) => le(add(mul(u, u), mul(mul(v, v), 4)), 1),
  frame: (u, v) => {
    const m = maximum(abs(u), abs(v));
    return and(le(m, 0.75), ge(m, 0.45));
  },
  semicircle: (_u, v, r2) => and(le(r2, 1), le(v, 0.15)),
  crescent: (u, v, r2) => {
    const du = sub(u, 0.5);
    return and(le(r2, 1), gt(add(mul(du, du), mul(v, v)), 0.56));
  },
  hexagon: (u, v) => polygon(u, v, 6, 0.87, 0),
  bar: (u, v) => and(le(abs(u), 1), le(abs(v), 0.3)),
};

// Scalar draws per sample, in order (kept fixed so adding a use never shifts the others).
const DRAWS = 16;

/** Procedural dataset of coloured shapes on textured backgrounds; reproducible from a seed. */
export class ShapesDataset implements Dataset {
  readonly length: number;
  readonly classes: readonly string[];
  readonly split: ShapesSplit;
  readonly seed: number;
  readonly height: number;
  readonly width: number;
  readonly jitter: boolean;
  private readonly xs: Tensor; // [1, W] column coordinates, pixel centres
  private readonly ys: Tensor; // [H, 1]

  constructor(options: ShapesOptions = {}) {
    const numClasses = options.numClasses ?? 10;
    if (!Number.isInteger(numClasses) || numClasses < 2 || numClasses > SHAPE_KINDS.length) {
      throw new ArgumentError(`shapes: numClasses must be an integer in [2, ${SHAPE_KINDS.length}], got ${numClasses}`);
    }
    const split = options.split ?? 'train';
    if (!(split in SPLIT_CODE)) throw new ArgumentError(`shapes: split must be train, val or test, got '${split}'`);
    const size = options.size ?? 64;
    const [h, w] = typeof size === 'number' ? [size, size] : size;
    for (const s of [h, w]) {
      if (!Number.isInteger(s) || s < 8 || s > 4096) throw new ArgumentError(`shapes: size must be integers in [8, 4096], got [${h}, ${w}]`);
    }
    const length = options.length ?? SHAPES_DEFAULT_SIZES[split];
    if (!Number.isSafeInteger(length) || length < 0) throw new ArgumentError(`shapes: length must be a non-negative integer, got ${length}`);
    const seed = options.seed ?? 0;
    if (!Number.isSafeInteger(seed) || seed < 0) throw new ArgumentError(`shapes: seed must be a non-negative safe integer, got ${seed}`);
    this.classes = SHAPE_KINDS.slice(0, numClasses);
    this.split = split;
    this.length = length;
    this.seed = seed;
    this.height = h;
    this.width = w;
    this.jitter = options.jitter ?? true;
    this.xs = reshape(add(arange(w), 0.5), [1, w]);
    this.ys = reshape(add(arange(h), 0.5), [h, 1]);
  }

  /** Renders sample `index` as a uint8 [H, W, 3] image. */
  get(index: number): Sample {
    checkIndex('shapes.get', index, this.length);
    const label = index % this.classes.length;
    const rng = new Generator(deriveSeed(this.seed, SPLIT_CODE[this.split], index));
    const r = uniforms(rng, DRAWS);
    const { height: h, width: w, xs, ys } = this;
    const side = Math.min(h, w);

    // Geometry: radius 18-40% of the short side, centre keeping the shape inside the image.
    const jitter = this.jitter ? 1 : 0;
    const radius = side * (this.jitter ? 0.18 + 0.22 * r[0] : 0.35);
    const cx = radius + (w - 2 * radius) * (this.jitter ? r[1] : 0.5);
    const cy = radius + (h - 2 * radius) * (this.jitter ? r[2] : 0.5);
    const theta = 2 * Math.PI * r[3] * jitter;
    const dx = sub(xs, cx);
    const dy = sub(ys, cy);
    const c = Math.cos(theta) / radius;
    const s = Math.sin(theta) / radius;
    const u = add(mul(dx, c), mul(dy, s)); // [H, W]
    const v = sub(mul(dy, c), mul(dx, s));
    const mask = cast(MASKS[this.classes[label] as (typeof SHAPE_KINDS)[number]](u, v, add(mul(u, u), mul(v, v))), 'float32');

    // Colours: each background channel is offset from the shape's by 0.35-0.65 (mod 1), so the shape always contrasts.
    const fg = [r[4], r[5], r[6]];
    const bgA = fg.map((f, k) => (f + 0.35 + 0.3 * r[7 + k]) % 1);
    const bgB = fg.map((f, k) => (f + 0.35 + 0.3 * r[10 + k]) % 1);
    const rgb = (col: number[]) => fromTypedArray(Float32Array.from(col), [1, 1, 3]);
    const texture = this.texture(Math.floor(r[13] * 3), r[14], r[15], rng); // [H, W, 1] or [H, W, 3] in [0, 1]
    const background = add(rgb(bgA), mul(texture, sub(rgb(bgB), rgb(bgA))));
    const composed = add(background, mul(unsqueeze(mask, 2), sub(rgb(fg), background)));
    const noisy = add(composed, mul(randn([h, w, 3], { generator: rng }), 0.03));
    return { image: cast(clamp(add(mul(noisy, 255), 0.5), 0, 255), 'uint8'), label };
  }

  private texture(kind: number, a: number, b: number, rng: Generator): Tensor {
    const { height: h, width: w, xs, ys } = this;
    const angle = 2 * Math.PI * a;
    const along = add(mul(xs, Math.cos(angle) / w), mul(ys, Math.sin(angle) / h)); // [H, W] in about [-1, 1]
    if (kind === 0) return unsqueeze(clamp(add(mul(along, 0.7), 0.5), 0, 1), 2); // gradient
    if (kind === 1) {
      const period = 3 + 5 * b; // stripes of 3-8 periods across the image
      return unsqueeze(cast(gt(cos(mul(along, 2 * Math.PI * period)), 0), 'float32'), 2);
    }
    return mul(randn([h, w, 1], { generator: rng }).clamp(-2, 2), 0.25 * b); // noise around colour A
  }
}

/** The `shapes` dataset for a split (see ShapesOptions). */
export function shapes(options: ShapesOptions = {}): ShapesDataset {
  return new ShapesDataset(options);
}
