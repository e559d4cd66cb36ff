/**
 * `shapes`: a procedural classification dataset of coloured geometric shapes (class = shape
 * kind) on textured backgrounds (gradients, stripes, noise), with random position, size,
 * rotation and colours. Sample i of a split is a pure function of (seed, split, i), rendered
 * with tensor ops over coordinate grids so the cost per image stays small at any resolution.
 * Labels cycle through the classes (i mod numClasses), so every split is exactly balanced.
 */
import { ArgumentError } from '../../errors.ts';
import { Generator, Tensor, add, cast, clamp, cos, fromTypedArray, gt, mul, sub, unsqueeze, where } from '../../tensor/index.ts';
import { SHAPE_KINDS, shapeMask, type ShapeKind } from './shape-masks.ts';
import { checkIndex, deriveSeed, uniforms, type Dataset, type Sample } from './types.ts';

export { SHAPE_KINDS, type ShapeKind } from './shape-masks.ts';

export type ShapesSplit = 'train' | 'val' | 'test';
const SPLIT_CODE: Record<ShapesSplit, number> = { train: 0, val: 1, test: 2 };

/** Default image side: 32 px, where one training image costs a resnet18 or vit_tiny about 3 ms on two cores. */
export const SHAPES_DEFAULT_SIDE = 32;

/**
 * Default split sizes: 12k training images render in ~3 s at 32×32, small next to a training epoch
 * of resnet18 or vit_tiny on two cores; ten epochs of them fit in 10 minutes.
 */
export const SHAPES_DEFAULT_SIZES: Record<ShapesSplit, number> = { train: 12000, val: 1000, test: 1000 };

export interface ShapesOptions {
  split?: ShapesSplit;
  /** Number of classes, 2..12 (N kinds of SHAPE_KINDS from firstClass on); default 10. */
  numClasses?: number;
  /** Index in SHAPE_KINDS of the first class (default 0): a disjoint class set for fine-tuning experiments. */
  firstClass?: number;
  /** Image side in pixels (square images), or [height, width]; default SHAPES_DEFAULT_SIDE. */
  size?: number | readonly [number, number];
  /** Samples in the split; defaults to SHAPES_DEFAULT_SIZES. */
  length?: number;
  seed?: number;
  /** Random position, size and rotation (default true); false centres every shape upright at 35% of the short side. */
  jitter?: boolean;
}

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

  constructor(options: ShapesOptions = {}) {
    const numClasses = options.numClasses ?? 10;
    if (!Number.isInteger(numClasses) || numClasses < 2 || numClasses > SHAPE_KINDS.length) {
      throw new ArgumentError(`shapes: numClasses must be an integer in [2, ${SHAPE_KINDS.length}], got ${numClasses}`);
    }
    const firstClass = options.firstClass ?? 0;
    if (!Number.isInteger(firstClass) || firstClass < 0 || firstClass + numClasses > SHAPE_KINDS.length) {
      throw new ArgumentError(`shapes: firstClass + numClasses must stay within the ${SHAPE_KINDS.length} kinds, got firstClass ${firstClass} with ${numClasses} classes`);
    }
    const split = options.split ?? 'train';
    if (!(split in SPLIT_CODE)) throw new ArgumentError(`shapes: split must be train, val or test, got '${split}'`);
    const size = options.size ?? SHAPES_DEFAULT_SIDE;
    const [h, w] = typeof size === 'number' ? [size, size] : size;
    for (const s of [h, w]) {
      if (!Number.isInteger(s) || s < 8 || s > 4096) throw new ArgumentError(`shapes: size must be integers in [8, 4096], got [${h}, ${w}]`);
    }
    const length = options.length ?? SHAPES_DEFAULT_SIZES[split];
    if (!Number.isSafeInteger(length) || length < 0) throw new ArgumentError(`shapes: length must be a non-negative integer, got ${length}`);
    const seed = options.seed ?? 0;
    if (!Number.isSafeInteger(seed) || seed < 0) throw new ArgumentError(`shapes: seed must be a non-negative safe integer, got ${seed}`);
    this.classes = SHAPE_KINDS.slice(firstClass, firstClass + numClasses);
    this.split = split;
    this.length = length;
    this.seed = seed;
    this.height = h;
    this.width = w;
    this.jitter = options.jitter ?? true;
  }

  /** Renders sample `index` as a uint8 [H, W, 3] image. */
  get(index: number): Sample {
    checkIndex('shapes.get', index, this.length);
    const label = index % this.classes.length;
    const rng = new Generator(deriveSeed(this.seed, SPLIT_CODE[this.split], index));
    const r = uniforms(rng, DRAWS);
    const { height: h, width: w } = this;
    const side = Math.min(h, w);

    // Geometry: radius 25-40% of the short side, centre within ±10% of the side from the image's
    // centre (objects roughly centred, as in ImageNet or MNIST), any rotation.
    const radius = side * (this.jitter ? 0.25 + 0.15 * r[0] : 0.35);
    const cx = w / 2 + (this.jitter ? side * 0.2 * (r[1] - 0.5) : 0);
    const cy = h / 2 + (this.jitter ? side * 0.2 * (r[2] - 0.5) : 0);
    const theta = this.jitter ? 2 * Math.PI * r[3] : 0;
    const mask = unsqueeze(shapeMask(this.classes[label] as ShapeKind, { cx, cy, radius, theta }, h, w), 2); // bool [H, W, 1]

    // Colours, in 0-255 units plus the 0.5 of rounding: a light shape (every channel in 0.55-1) on a
    // dark background (every channel in 0-0.4), so the shape is brighter in each channel. With
    // polarity that flips per channel and per image, no linear patch embedding sees a shape's
    // outline the same way twice, and a ViT trained from scratch stays near chance for thousands of steps.
    const fg = [0.55 + 0.45 * r[4], 0.55 + 0.45 * r[5], 0.55 + 0.45 * r[6]];
    const bgA = [0.4 * r[7], 0.4 * r[8], 0.4 * r[9]];
    const bgB = [0.4 * r[10], 0.4 * r[11], 0.4 * r[12]];
    const rgb = (col: number[]) => fromTypedArray(Float32Array.from(col, (x) => 255 * x + 0.5), [1, 1, 3]);
    const background = this.background(Math.floor(r[13] * 3), r[14], r[15], rgb(bgA), rgb(bgB), rng); // [H, W, 1 or 3]
    // Grey uniform pixel noise (std ≈ 0.03): normal draws at every channel cost more than the rest of the render.
    const noise = Tensor.empty([h, w, 1], 'float32');
    rng.fill(noise, 'uniform', -0.05 * 255, 0.05 * 255);
    const image = add(where(mask, rgb(fg), background), noise);
    return { image: cast(clamp(image, 0, 255), 'uint8'), label };
  }

  private row(f: (x: number) => number): Tensor {
    return fromTypedArray(Float32Array.from({ length: this.width }, (_, x) => f(x + 0.5)), [1, this.width]);
  }

  private column(f: (y: number) => number): Tensor {
    return fromTypedArray(Float32Array.from({ length: this.height }, (_, y) => f(y + 0.5)), [this.height, 1]);
  }

  // A gradient, stripes or noise between colours a and b.
  private background(kind: number, p: number, q: number, a: Tensor, b: Tensor, rng: Generator): Tensor {
    const { height: h, width: w } = this;
    const angle = 2 * Math.PI * p;
    const [ca, sa] = [Math.cos(angle), Math.sin(angle)];
    if (kind === 0) {
      const t = unsqueeze(clamp(add(this.row((x) => 0.7 * ca * (x / w) + 0.5), this.column((y) => 0.7 * sa * (y / h))), 0, 1), 2);
      return add(a, mul(t, sub(b, a)));
    }
    if (kind === 1) {
      const k = 2 * Math.PI * (3 + 5 * q); // 3-8 stripe periods across the image
      const phase = add(this.row((x) => k * ca * (x / w)), this.column((y) => k * sa * (y / h)));
      return where(unsqueeze(gt(cos(phase), 0), 2), b, a);
    }
    const noise = Tensor.empty([h, w, 1], 'float32');
    rng.fill(noise, 'uniform', -0.15 * q * 255, 0.15 * q * 255); // keeps the background darker than the shape on average
    return add(a, noise);
  }
}

/** The `shapes` dataset for a split (see ShapesOptions). */
export function shapes(options: ShapesOptions = {}): ShapesDataset {
  return new ShapesDataset(options);
}
