/**
 * The geometry of the procedural shape datasets (`shapes`, `shapes-captions`): each shape kind
 * as a boolean mask over a rotated, scaled coordinate frame, built from broadcast tensor ops so
 * rendering costs little at any resolution.
 */
import { Tensor, abs, add, fromTypedArray, ge, gt, le, logicalAnd, logicalOr, maximum, mul } from '../../tensor/index.ts';

/** The shape kinds, in class order. */
export const SHAPE_KINDS = [
  'circle', 'square', 'triangle', 'star', 'cross', 'ring', 'ellipse', 'frame', 'semicircle', 'crescent', 'hexagon', 'bar',
] as const;

// Two-argument boolean helpers over [H, W] masks.
const and = (...ms: Tensor[]) => ms.reduce((a, b) => logicalAnd(a, b));
const or = (...ms: Tensor[]) => ms.reduce((a, b) => logicalOr(a, b));

/**
 * The shape's frame: coordinates (u, v) rotated into the shape and scaled so it fits in the unit
 * disc. Any linear form a·u + b·v + k is a row vector plus a column vector: one broadcast add.
 */
export interface Frame {
  u: Tensor;
  v: Tensor;
  linear(a: number, b: number, k?: number): Tensor;
}

/** Intersection of n half-planes u·cos(a) + v·sin(a) ≤ d at angles start + k·2π/n: a regular polygon. */
function polygon(f: Frame, n: number, d: number, start: number): Tensor {
  const planes: Tensor[] = [];
  for (let k = 0; k < n; k++) {
    const a = start + (2 * Math.PI * k) / n;
    planes.push(le(f.linear(Math.cos(a), Math.sin(a)), d));
  }
  return and(...planes);
}

/** One of SHAPE_KINDS. */
export type ShapeKind = (typeof SHAPE_KINDS)[number];
const radius2 = ({ u, v }: Frame) => add(mul(u, u), mul(v, v));

/** Each kind's mask: true inside the shape, for a frame in which the shape fits the unit disc. */
export const SHAPE_MASKS: Record<ShapeKind, (f: Frame) => Tensor> = {
  circle: (f) => le(radius2(f), 1),
  square: ({ u, v }) => le(maximum(abs(u), abs(v)), 0.72),
  triangle: (f) => polygon(f, 3, 0.5, Math.PI / 2),
  star: (f) => or(polygon(f, 3, 0.5, Math.PI / 2), polygon(f, 3, 0.5, -Math.PI / 2)),
  cross: ({ u, v }) => {
    const [au, av] = [abs(u), abs(v)];
    return or(and(le(au, 0.28), le(av, 1)), and(le(av, 0.28), le(au, 1)));
  },
  ring: (f) => {
    const r2 = radius2(f);
    return and(le(r2, 1), ge(r2, 0.36));
  },
  ellipse: ({ u, v }) => le(add(mul(u, u), mul(mul(v, v), 4)), 1),
  frame: ({ u, v }) => {
    const m = maximum(abs(u), abs(v));
    return and(le(m, 0.75), ge(m, 0.45));
  },
  semicircle: (f) => and(le(radius2(f), 1), le(f.v, 0.15)),
  crescent: (f) => {
    const du = f.linear(1, 0, -0.5);
    return and(le(radius2(f), 1), gt(add(mul(du, du), mul(f.v, f.v)), 0.56));
  },
  hexagon: (f) => polygon(f, 6, 0.87, 0),
  bar: ({ u, v }) => and(le(abs(u), 1), le(abs(v), 0.3)),
};

/** Where a shape sits: centre (pixels), radius of the disc it fits in (pixels), rotation (radians). */
export interface ShapePlacement {
  cx: number;
  cy: number;
  radius: number;
  theta: number;
}

/** A shape's mask on an H×W pixel grid (pixel centres at +0.5): bool [H, W]. */
export function shapeMask(kind: ShapeKind, at: ShapePlacement, height: number, width: number): Tensor {
  const c = Math.cos(at.theta) / at.radius;
  const s = Math.sin(at.theta) / at.radius;
  const row = (f: (x: number) => number) => fromTypedArray(Float32Array.from({ length: width }, (_, x) => f(x + 0.5)), [1, width]);
  const column = (f: (y: number) => number) => fromTypedArray(Float32Array.from({ length: height }, (_, y) => f(y + 0.5)), [height, 1]);
  // Rotated, scaled coordinates: u = dx·c + dy·s, v = dy·c − dx·s.
  const linear = (a: number, b: number, k = 0) => add(
    row((x) => (x - at.cx) * (a * c - b * s) + k),
    column((y) => (y - at.cy) * (a * s + b * c)),
  ); // [H, W]
  const frame: { u?: Tensor; v?: Tensor } = {};
  return SHAPE_MASKS[kind]({
    get u() { return (frame.u ??= linear(1, 0)); },
    get v() { return (frame.v ??= linear(0, 1)); },
    linear,
  });
}
