/**
 * Interpolation (torch.nn.functional.interpolate) as separable resampling: for each
 * spatial axis a small tap table (per output index: K input indices and weights) is built
 * here with torch 1.13's index arithmetic, and native/src/resample.cc applies it along
 * that axis (forward) or scatters the grad back through it (backward). resampleAlong is
 * the general building block, also for antialiased image resizing with wider kernels.
 */
import { ArgumentError, DTypeError, formatShape, ShapeError } from '../../errors.ts';
import { record } from '../autograd.ts';
import { isFloating } from '../dtype.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';
import { cast } from './elementwise.ts';
import { clone, contiguous, normalizeDim } from './shape.ts';

/** Interpolation modes. */
export type InterpolateMode = 'nearest' | 'linear' | 'bilinear' | 'bicubic' | 'trilinear';

/** Options of interpolate: exactly one of size and scaleFactor. */
export interface InterpolateOptions {
  size?: number | readonly number[];
  scaleFactor?: number | readonly number[];
  /** Default 'nearest'. */
  mode?: InterpolateMode;
  /** Linear modes only: map corner pixel centres onto each other instead of half-pixel centres. */
  alignCorners?: boolean;
}

/**
 * A resampling kernel along one axis: output index j reads input indices
 * index[j·taps .. j·taps + taps) with the matching weights.
 */
export interface ResampleTaps {
  /** Output length along the axis. */
  readonly size: number;
  /** Taps per output index (K). */
  readonly taps: number;
  readonly index: Int32Array;
  readonly weight: Float32Array;
}

/** Resamples x along dim with a tap table: out[.., j, ..] = Σ_k weight[j·K+k] · x[.., index[j·K+k], ..]. Differentiable. */
export function resampleAlong(x: Tensor, dim: number, taps: ResampleTaps): Tensor {
  const op = 'resampleAlong';
  x.assertAlive(op);
  if (!isFloating(x.dtype)) throw new DTypeError(`${op}: input has dtype ${x.dtype}, expected float32 or bfloat16`);
  const d = normalizeDim(op, dim, x.ndim);
  if (!Number.isInteger(taps.size) || taps.size < 0 || !Number.isInteger(taps.taps) || taps.taps < 1) {
    throw new ArgumentError(`${op}: taps needs an integer size >= 0 and taps >= 1, got size ${taps.size}, taps ${taps.taps}`);
  }
  const shape = [...x.shape];
  shape[d] = taps.size;
  const out = Tensor.empty(shape, x.dtype);
  const src = contiguous(x.detach());
  native.resample(src, d, taps.index, taps.weight, taps.taps, out);
  releaseCopy(src, x);
  return record(out, op, [x], (g) => {
    const gradIn = Tensor.empty(x.shape, x.dtype);
    const gradOut = contiguous(cast(g, x.dtype));
    native.resampleBackward(gradOut, d, taps.index, taps.weight, taps.taps, gradIn);
    releaseCopy(gradOut, g);
    return [gradIn];
  });
}

// Frees a temporary copy now rather than at the next GC, so repeated calls reuse its memory;
// a view of `source` is left alone.
function releaseCopy(tmp: Tensor, source: Tensor): void {
  if (tmp.storage !== source.storage) tmp.storage.release();
}

function tapTable(size: number, taps: number, fill: (j: number, index: Int32Array, weight: Float32Array, at: number) => void): ResampleTaps {
  const index = new Int32Array(size * taps);
  const weight = new Float32Array(size * taps);
  for (let j = 0; j < size; ++j) fill(j, index, weight, j * taps);
  return { size, taps, index, weight };
}

// torch's area_pixel_compute_scale: source pixels per output pixel.
function sourceScale(inSize: number, outSize: number, alignCorners: boolean, scaleFactor: number | undefined): number {
  if (alignCorners) return outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  return scaleFactor !== undefined && scaleFactor > 0 ? 1 / scaleFactor : inSize / outSize;
}

// torch's area_pixel_compute_source_index: the real source coordinate of output index j.
function sourceIndex(scale: number, j: number, alignCorners: boolean, cubic: boolean): number {
  if (alignCorners) return scale * j;
  const src = scale * (j + 0.5) - 0.5;
  return !cubic && src < 0 ? 0 : src;
}

// Nearest: floor(j · scale) in float32 arithmetic, as torch's row-major kernel computes it for
// float32 input. (torch 1.13's channels-last kernel and its nearest backward instead copy when
// the size is kept and halve the index when it doubles, even under a scale factor that says
// otherwise; here the backward is always the adjoint of the forward.)
function nearestTaps(inSize: number, outSize: number, scaleFactor: number | undefined): ResampleTaps | null {
  if (outSize === inSize && scaleFactor === undefined) return null;
  const f = Math.fround;
  const scale = scaleFactor !== undefined && scaleFactor > 0 ? f(1 / scaleFactor) : f(f(inSize) / f(outSize));
  return tapTable(outSize, 1, (j, index, weight, at) => {
    index[at] = Math.min(Math.floor(f(f(j) * scale)), inSize - 1);
    weight[at] = 1;
  });
}

function linearTaps(inSize: number, outSize: number, alignCorners: boolean, scaleFactor: number | undefined): ResampleTaps | null {
  if (outSize === inSize) return null;
  const scale = sourceScale(inSize, outSize, alignCorners, scaleFactor);
  return tapTable(outSize, 2, (j, index, weight, at) => {
    const real = sourceIndex(scale, j, alignCorners, false);
    const i0 = Math.floor(real);
    const lambda = Math.min(Math.max(real - i0, 0), 1);
    index[at] = i0;
    index[at + 1] = i0 < inSize - 1 ? i0 + 1 : i0;
    weight[at] = 1 - lambda;
    weight[at + 1] = lambda;
  });
}

// Keys' cubic convolution kernel with A = -0.75, as torch's upsample_bicubic2d.
const CUBIC_A = -0.75;
const cubicNear = (t: number) => ((CUBIC_A + 2) * t - (CUBIC_A + 3)) * t * t + 1;
const cubicFar = (t: number) => ((CUBIC_A * t - 5 * CUBIC_A) * t + 8 * CUBIC_A) * t - 4 * CUBIC_A;

function cubicTaps(inSize: number, outSize: number, alignCorners: boolean, scaleFactor: number | undefined): ResampleTaps {
  const scale = sourceScale(inSize, outSize, alignCorners, scaleFactor);
  return tapTable(outSize, 4, (j, index, weight, at) => {
    const real = sourceIndex(scale, j, alignCorners, true);
    const i = Math.floor(real);
    const t = real - i;
    const coeffs = [cubicFar(t + 1), cubicNear(t), cubicNear(1 - t), cubicFar(2 - t)];
    for (let k = 0; k < 4; ++k) {
      index[at + k] = Math.min(Math.max(i - 1 + k, 0), inSize - 1);
      weight[at + k] = coeffs[k];
    }
  });
}

// The order of the per-axis passes with the least estimated work: each pass costs its output
// size times its taps, twice that along the innermost dim (gathers, no contiguous rows).
// Shrinking axes early and the innermost axis while the tensor is small both fall out of this.
function passOrder(shape: readonly number[], tables: (ResampleTaps | null)[]): number[] {
  const axes = tables.map((t, i) => (t ? i : -1)).filter((i) => i >= 0);
  const innermost = shape.length - 3;
  let best: number[] = [];
  let bestCost = Infinity;
  const visit = (order: number[], rest: number[]) => {
    if (rest.length > 0) {
      rest.forEach((a, k) => visit([...order, a], [...rest.slice(0, k), ...rest.slice(k + 1)]));
      return;
    }
    const sizes = shape.slice(2);
    let cost = 0;
    for (const a of order) {
      sizes[a] = tables[a]!.size;
      cost += sizes.reduce((p, q) => p * q, 1) * tables[a]!.taps * (a === innermost ? 2 : 1);
    }
    if (cost < bestCost) {
      bestCost = cost;
      best = order;
    }
  };
  visit([], axes);
  return best;
}

const MODE_RANK: Record<InterpolateMode, number | null> = { nearest: null, linear: 3, bilinear: 4, bicubic: 4, trilinear: 5 };

function perAxis(op: string, what: string, value: number | readonly number[], x: Tensor): number[] {
  const spatial = x.ndim - 2;
  const list = typeof value === 'number' ? new Array<number>(spatial).fill(value) : [...value];
  if (list.length !== spatial) {
    throw new ShapeError(`${op}: ${what} ${formatShape(list)} has ${list.length} entries, expected one per spatial dim of input ${formatShape(x.shape)} (${spatial})`);
  }
  return list;
}

/**
 * Resizes the spatial dims of x [N, C, ...spatial] with torch.nn.functional.interpolate
 * semantics (torch 1.13, recompute_scale_factor unset, no antialias): nearest for 3-D..5-D,
 * linear 3-D, bilinear and bicubic 4-D, trilinear 5-D.
 */
export function interpolate(x: Tensor, options: InterpolateOptions): Tensor {
  const op = 'interpolate';
  x.assertAlive(op);
  if (!isFloating(x.dtype)) throw new DTypeError(`${op}: input has dtype ${x.dtype}, expected float32 or bfloat16`);
  const mode = options.mode ?? 'nearest';
  if (!(mode in MODE_RANK)) throw new ArgumentError(`${op}: unknown mode '${mode}', expected one of ${Object.keys(MODE_RANK).join(', ')}`);
  if (x.ndim < 3 || x.ndim > 5) throw new ShapeError(`${op}: expected input of rank 3..5 [N, C, ...spatial], got shape ${formatShape(x.shape)}`);
  const rank = MODE_RANK[mode];
  if (rank !== null && x.ndim !== rank) {
    throw new ShapeError(`${op}: mode '${mode}' needs a ${rank}-D input, got a ${x.ndim}-D input of shape ${formatShape(x.shape)}`);
  }
  if (mode === 'nearest' && options.alignCorners != null) {
    throw new ArgumentError(`${op}: alignCorners can only be set with the interpolating modes linear, bilinear, bicubic, trilinear, got mode 'nearest'`);
  }
  const alignCorners = options.alignCorners ?? false;
  const size = options.size ?? undefined;
  const scaleFactor = options.scaleFactor ?? undefined;
  if ((size === undefined) === (scaleFactor === undefined)) {
    throw new ArgumentError(`${op}: expected exactly one of size and scaleFactor, got ${size === undefined ? 'neither' : 'both'}`);
  }
  const inSizes = x.shape.slice(2);
  let outSizes: number[];
  let scales: (number | undefined)[];
  if (size !== undefined) {
    outSizes = perAxis(op, 'size', size, x);
    if (outSizes.some((s) => !Number.isInteger(s))) throw new ArgumentError(`${op}: size ${formatShape(outSizes)} must hold integers`);
    scales = outSizes.map(() => undefined);
  } else {
    scales = perAxis(op, 'scaleFactor', scaleFactor!, x);
    if (scales.some((s) => !(s! > 0) || !Number.isFinite(s))) throw new ArgumentError(`${op}: scaleFactor ${formatShape(scales as number[])} must hold finite numbers > 0`);
    outSizes = inSizes.map((s, i) => Math.floor(s * scales[i]!));
  }
  if (inSizes.some((s) => s <= 0) || outSizes.some((s) => s <= 0)) {
    throw new ArgumentError(`${op}: input and output sizes must be > 0, got input ${formatShape(inSizes)} and output ${formatShape(outSizes)}`);
  }

  const tables = inSizes.map((inSize, i) => {
    const outSize = outSizes[i];
    if (mode === 'nearest') return nearestTaps(inSize, outSize, scales[i]);
    if (mode === 'bicubic') return cubicTaps(inSize, outSize, alignCorners, scales[i]);
    return linearTaps(inSize, outSize, alignCorners, scales[i]);
  });
  let y = x;
  for (const i of passOrder(x.shape, tables)) {
    const table = tables[i]!;
    const next = resampleAlong(y, i + 2, table);
    // An intermediate is read by nothing else (its backward needs only shapes): free it now.
    if (y !== x) y.storage.release();
    y = next;
  }
  return y === x ? clone(x) : y;
}
