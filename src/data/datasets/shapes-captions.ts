/**
 * `shapes-captions`: a procedural image–caption dataset for contrastive (CLIP) training with no
 * download. Each image holds one or two shapes of named colours and sizes on a dark background;
 * its caption says what is where ("a small red circle above a blue square"). Sample i of a split
 * is a pure function of (seed, split, i).
 *
 * Zero-shot evaluation (`shapesZeroShot`) shows single shapes whose class is a colour–shape pair
 * ("red circle"), to be written into prompt templates the captions never use. `heldOutPairs`
 * removes some colour–shape pairs from the captioned splits altogether, so the zero-shot set
 * can also ask for pairs the model never saw together.
 */
import { ArgumentError } from '../../errors.ts';
import { Generator, Tensor, add, cast, clamp, fromTypedArray, mul, sub, unsqueeze, where } from '../../tensor/index.ts';
import { shapeMask, type ShapeKind } from './shape-masks.ts';
import { checkIndex, deriveSeed, uniforms, type Dataset, type Sample } from './types.ts';

/** The colour names of the captions, with their RGB in [0, 1]. */
export const CAPTION_COLOURS = {
  red: [0.9, 0.12, 0.12],
  green: [0.15, 0.78, 0.2],
  blue: [0.2, 0.35, 0.98],
  yellow: [0.95, 0.9, 0.12],
  purple: [0.62, 0.2, 0.88],
  orange: [1.0, 0.55, 0.08],
  white: [0.95, 0.95, 0.95],
  cyan: [0.1, 0.85, 0.92],
} as const satisfies Record<string, readonly [number, number, number]>;

/** A colour name of CAPTION_COLOURS. */
export type CaptionColour = keyof typeof CAPTION_COLOURS;

/** Colour names in a fixed order (pair indices use it). */
export const COLOUR_NAMES = Object.keys(CAPTION_COLOURS) as CaptionColour[];

/** The shape kinds the captions name: the easily told apart ones of SHAPE_KINDS. */
export const CAPTION_SHAPES = ['circle', 'square', 'triangle', 'star', 'cross', 'ring', 'hexagon', 'bar'] as const satisfies readonly ShapeKind[];

/** A sample of an image–caption dataset: a uint8 [H, W, 3] image and its caption. */
export interface CaptionSample {
  image: Tensor;
  caption: string;
}

/** A map-style image–caption dataset. */
export interface CaptionDataset {
  readonly length: number;
  get(index: number): CaptionSample | null | Promise<CaptionSample | null>;
}

export type ShapesCaptionsSplit = 'train' | 'val' | 'test';
const SPLIT_CODE: Record<ShapesCaptionsSplit, number> = { train: 0, val: 1, test: 2 };
// A distinct seed stream from `shapes` and from the captioned splits.
const ZERO_SHOT_CODE = 7;

/** Default split sizes of shapes-captions. */
export const SHAPES_CAPTIONS_DEFAULT_SIZES: Record<ShapesCaptionsSplit, number> = { train: 20000, val: 1000, test: 1000 };

/** Options shared by the captioned splits and the zero-shot set. */
export interface ShapesSceneOptions {
  /** Image side in pixels (default 48: the small shapes of two-shape scenes still span ~12 px). */
  size?: number;
  seed?: number;
  /**
   * Colour–shape pairs left out of the captioned splits: k pairs (colour i, shape (i + 3) mod 8)
   * for i < k, so each left-out pair has its own colour and shape (default 0, max 8).
   */
  heldOutPairs?: number;
}

/** Options of ShapesCaptions. */
export interface ShapesCaptionsOptions extends ShapesSceneOptions {
  split?: ShapesCaptionsSplit;
  /** Samples in the split; defaults to SHAPES_CAPTIONS_DEFAULT_SIZES. */
  length?: number;
}

/** One shape of a scene. */
interface SceneObject {
  shape: (typeof CAPTION_SHAPES)[number];
  colour: CaptionColour;
  large: boolean;
  cx: number;
  cy: number;
  radius: number;
  theta: number;
}

/** The held-out colour–shape pairs for `heldOutPairs` = k, as [colour, shape] names. */
export function heldOutPairs(k: number): [CaptionColour, (typeof CAPTION_SHAPES)[number]][] {
  if (!Number.isInteger(k) || k < 0 || k > COLOUR_NAMES.length) throw new ArgumentError(`shapes-captions: heldOutPairs must be an integer in [0, ${COLOUR_NAMES.length}], got ${k}`);
  return Array.from({ length: k }, (_, i) => [COLOUR_NAMES[i], CAPTION_SHAPES[(i + 3) % CAPTION_SHAPES.length]]);
}

function checkScene(options: ShapesSceneOptions): { side: number; seed: number; excluded: Set<string> } {
  const side = options.size ?? 48;
  if (!Number.isInteger(side) || side < 16 || side > 4096) throw new ArgumentError(`shapes-captions: size must be an integer in [16, 4096], got ${side}`);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ArgumentError(`shapes-captions: seed must be a non-negative safe integer, got ${seed}`);
  return { side, seed, excluded: new Set(heldOutPairs(options.heldOutPairs ?? 0).map(([c, s]) => `${c} ${s}`)) };
}

// Draws a colour–shape pair outside the excluded set from two uniforms (rejection by rotating the shape).
function drawPair(a: number, b: number, excluded: Set<string>): [CaptionColour, (typeof CAPTION_SHAPES)[number]] {
  const colour = COLOUR_NAMES[Math.floor(a * COLOUR_NAMES.length)];
  let s = Math.floor(b * CAPTION_SHAPES.length);
  while (excluded.has(`${colour} ${CAPTION_SHAPES[s]}`)) s = (s + 1) % CAPTION_SHAPES.length;
  return [colour, CAPTION_SHAPES[s]];
}

// Renders objects over a dark gradient with a little grey noise: uint8 [side, side, 3].
function renderScene(objects: readonly SceneObject[], side: number, r: Float32Array, rng: Generator): Tensor {
  const rgb = (col: readonly number[]) => fromTypedArray(Float32Array.from(col, (x) => 255 * x + 0.5), [1, 1, 3]);
  const angle = 2 * Math.PI * r[0];
  const ramp = (n: number, f: (t: number) => number, shape: number[]) => fromTypedArray(Float32Array.from({ length: n }, (_, i) => f((i + 0.5) / n)), shape);
  const t = unsqueeze(clamp(add(ramp(side, (x) => 0.5 * Math.cos(angle) * x + 0.5, [1, side]), ramp(side, (y) => 0.5 * Math.sin(angle) * y, [side, 1])), 0, 1), 2); // [H, W, 1]
  const [a, b] = [[0.2 * r[1], 0.2 * r[2], 0.2 * r[3]], [0.2 * r[4], 0.2 * r[5], 0.2 * r[6]]];
  let image = add(rgb(a), mul(t, sub(rgb(b), rgb(a)))); // [H, W, 3]
  for (const o of objects) {
    // ±0.06 per channel keeps every colour its name's while no two reds are alike.
    const jitter = uniforms(rng, 3);
    const colour = CAPTION_COLOURS[o.colour].map((v, i) => Math.min(1, Math.max(0, v + 0.12 * (jitter[i] - 0.5))));
    image = where(unsqueeze(shapeMask(o.shape, o, side, side), 2), rgb(colour), image);
  }
  const noise = Tensor.empty([side, side, 1], 'float32');
  rng.fill(noise, 'uniform', -0.03 * 255, 0.03 * 255);
  return cast(clamp(add(image, noise), 0, 255), 'uint8');
}

const article = (o: SceneObject, withSize: boolean) => `a ${withSize ? (o.large ? 'large ' : 'small ') : ''}${o.colour} ${o.shape}`;

/** Procedural image–caption pairs of one or two coloured shapes; reproducible from a seed. */
export class ShapesCaptions implements CaptionDataset {
  readonly length: number;
  readonly split: ShapesCaptionsSplit;
  readonly side: number;
  readonly seed: number;
  readonly #excluded: Set<string>;

  constructor(options: ShapesCaptionsOptions = {}) {
    const split = options.split ?? 'train';
    if (!(split in SPLIT_CODE)) throw new ArgumentError(`shapes-captions: split must be train, val or test, got '${split}'`);
    const length = options.length ?? SHAPES_CAPTIONS_DEFAULT_SIZES[split];
    if (!Number.isSafeInteger(length) || length < 0) throw new ArgumentError(`shapes-captions: length must be a non-negative integer, got ${length}`);
    const { side, seed, excluded } = checkScene(options);
    this.split = split;
    this.length = length;
    this.side = side;
    this.seed = seed;
    this.#excluded = excluded;
  }

  /** Renders sample `index`: one shape for even indices, two for odd ones, and its caption. */
  get(index: number): CaptionSample {
    checkIndex('shapes-captions.get', index, this.length);
    const rng = new Generator(deriveSeed(this.seed, SPLIT_CODE[this.split], index));
    const r = uniforms(rng, 24);
    const side = this.side;
    const object = (k: number, cx: number, cy: number, scale: number): SceneObject => {
      const [colour, shape] = drawPair(r[8 + 5 * k], r[9 + 5 * k], this.#excluded);
      const large = r[10 + 5 * k] < 0.5;
      return { shape, colour, large, cx, cy, radius: side * scale * (large ? 1 : 0.6), theta: 2 * Math.PI * r[11 + 5 * k] };
    };
    const withSize = r[7] < 0.5;
    if (index % 2 === 0) {
      const jitter = (u: number) => side / 2 + side * 0.16 * (u - 0.5);
      const o = object(0, jitter(r[12]), jitter(r[22]), 0.34);
      return { image: renderScene([o], side, r, rng), caption: article(o, withSize) };
    }
    // Two shapes in opposite halves along a random axis; the caption names the first relative to the second.
    const vertical = r[18] < 0.5;
    const firstLow = r[19] < 0.5; // the first shape in the lower or right half
    const along = (low: boolean) => side * (low ? 0.72 : 0.28) + side * 0.06 * (r[20] - 0.5);
    const across = side / 2 + side * 0.12 * (r[21] - 0.5);
    const place = (low: boolean): [number, number] => (vertical ? [across, along(low)] : [along(low), across]);
    const a = object(0, ...place(firstLow), 0.2);
    const b = object(1, ...place(!firstLow), 0.2);
    const relation = vertical ? (firstLow ? 'below' : 'above') : (firstLow ? 'to the right of' : 'to the left of');
    return { image: renderScene([a, b], side, r, rng), caption: `${article(a, withSize)} ${relation} ${article(b, withSize)}` };
  }
}

/** The image–caption pairs of `shapes-captions` for a split (see ShapesCaptionsOptions). */
export function shapesCaptions(options: ShapesCaptionsOptions = {}): ShapesCaptions {
  return new ShapesCaptions(options);
}

/** Options of the zero-shot set. */
export interface ShapesZeroShotOptions extends ShapesSceneOptions {
  /** Which classes: every colour–shape pair, or only the held-out ones (default 'all'). */
  classes?: 'all' | 'held-out';
  /** Samples (default 1000); labels cycle through the classes. */
  length?: number;
}

/**
 * Single-shape images labelled with their colour–shape pair ("red circle"), for zero-shot
 * classification with prompts; drawn from a seed stream no captioned split uses.
 */
export class ShapesZeroShot implements Dataset {
  readonly length: number;
  readonly classes: readonly string[];
  readonly side: number;
  readonly seed: number;
  readonly #pairs: readonly [CaptionColour, (typeof CAPTION_SHAPES)[number]][];

  constructor(options: ShapesZeroShotOptions = {}) {
    const { side, seed } = checkScene(options);
    const which = options.classes ?? 'all';
    if (which !== 'all' && which !== 'held-out') throw new ArgumentError(`shapes zero-shot: classes must be 'all' or 'held-out', got '${which}'`);
    this.#pairs = which === 'all'
      ? COLOUR_NAMES.flatMap((c) => CAPTION_SHAPES.map((s) => [c, s] as [CaptionColour, (typeof CAPTION_SHAPES)[number]]))
      : heldOutPairs(options.heldOutPairs ?? 0);
    if (this.#pairs.length < 2) throw new ArgumentError(`shapes zero-shot: 'held-out' classes need heldOutPairs >= 2, got ${options.heldOutPairs ?? 0}`);
    this.length = options.length ?? 1000;
    if (!Number.isSafeInteger(this.length) || this.length < 0) throw new ArgumentError(`shapes zero-shot: length must be a non-negative integer, got ${this.length}`);
    this.classes = this.#pairs.map(([c, s]) => `${c} ${s}`);
    this.side = side;
    this.seed = seed;
  }

  /** Renders sample `index`: one shape of class index mod the class count. */
  get(index: number): Sample {
    checkIndex('shapes zero-shot.get', index, this.length);
    const label = index % this.#pairs.length;
    const [colour, shape] = this.#pairs[label];
    const rng = new Generator(deriveSeed(this.seed, ZERO_SHOT_CODE, index));
    const r = uniforms(rng, 12);
    const side = this.side;
    const large = r[8] < 0.5;
    const o: SceneObject = {
      shape, colour, large, cx: side / 2 + side * 0.16 * (r[9] - 0.5), cy: side / 2 + side * 0.16 * (r[10] - 0.5),
      radius: side * 0.34 * (large ? 1 : 0.6), theta: 2 * Math.PI * r[11],
    };
    return { image: renderScene([o], side, r, rng), label };
  }
}

/** The zero-shot set of shapes-captions (see ShapesZeroShotOptions). */
export function shapesZeroShot(options: ShapesZeroShotOptions = {}): ShapesZeroShot {
  return new ShapesZeroShot(options);
}
