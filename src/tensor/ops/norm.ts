/**
 * Normalization (native/src/norm.cc): batch norm (train/eval), layer norm, and group norm as
 * a layer norm over [N, G, rest] followed by the per-channel affine. Each op's backward is a
 * native kernel beside its forward: oneDNN's layer norm and channels-last batch norm, and our
 * own row-major batch norm (oneDNN's is several times slower there). bf16 data is normalized
 * with f32 statistics; on CPUs whose oneDNN has no bf16 kernels the addon computes it in f32 and
 * rounds back, as it does for every oneDNN-backed kernel.
 */
import { ArgumentError, DTypeError, formatShape, ShapeError } from '../../errors.ts';
import { needsGrad, noGrad, record } from '../autograd.ts';
import { DTYPE_SIZE, isFloating, type DType } from '../dtype.ts';
import { native } from '../native.ts';
import { contiguousStrides, numelOf, Storage, Tensor } from '../tensor.ts';
import { add, cast, mul } from './elementwise.ts';
import { contiguous, copyInto, reshape } from './shape.ts';

function checkFloat(op: string, what: string, t: Tensor): void {
  t.assertAlive(op);
  if (!isFloating(t.dtype)) throw new DTypeError(`${op}: ${what} has dtype ${t.dtype}, expected float32 or bfloat16`);
}

function checkParam(op: string, what: string, t: Tensor | null | undefined, shape: readonly number[], hint: string): void {
  if (!t) return;
  checkFloat(op, what, t);
  if (t.ndim !== shape.length || t.shape.some((s, i) => s !== shape[i])) {
    throw new ShapeError(`${op}: ${what} has shape ${formatShape(t.shape)}, expected ${formatShape(shape)} (${hint})`);
  }
}

function checkEps(op: string, eps: number): void {
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new ArgumentError(`${op}: eps must be a finite number >= 0, got ${eps}`);
}

// A contiguous f32 vector with the values of t (t itself when it already is one).
function f32Vector(t: Tensor): Tensor {
  const v = contiguous(cast(t.detach(), 'float32'));
  return new Tensor(v.storage, [v.numel], [1], v.offset, 'float32');
}

// Frees a temporary copy now rather than at the next GC, so repeated calls reuse its memory;
// a view of `source` is left alone.
function releaseCopy(tmp: Tensor, source: Tensor): void {
  if (tmp.storage !== source.storage) tmp.storage.release();
}

function emptyStrided(shape: readonly number[], strides: readonly number[], dtype: DType): Tensor {
  return new Tensor(new Storage(numelOf(shape) * DTYPE_SIZE[dtype], false), [...shape], [...strides], 0, dtype);
}

// Strides of the channels-last layout of a [N, C, ...spatial] shape (C innermost).
function channelsLastStrides(shape: readonly number[]): number[] {
  const order = [0, ...shape.map((_, i) => i).slice(2), 1];
  const inner = contiguousStrides(order.map((d) => shape[d]));
  const strides = new Array<number>(shape.length);
  order.forEach((d, k) => (strides[d] = inner[k]));
  return strides;
}

// Whether t addresses its elements exactly as `strides` would (strides of size-1 dims do not matter).
function hasLayout(t: Tensor, strides: readonly number[]): boolean {
  return t.shape.every((s, i) => s === 1 || t.strides[i] === strides[i]);
}

// x as the batch norm kernels take it: row-major or channels-last with canonical strides
// (a detached view when x already is one, else a row-major copy).
function batchNormLayout(x: Tensor): Tensor {
  const rowMajor = contiguousStrides(x.shape);
  if (hasLayout(x, rowMajor)) return new Tensor(x.storage, x.shape, rowMajor, x.offset, x.dtype);
  const channelsLast = channelsLastStrides(x.shape);
  if (hasLayout(x, channelsLast)) return new Tensor(x.storage, x.shape, channelsLast, x.offset, x.dtype);
  const c = contiguous(x.detach());
  return new Tensor(c.storage, c.shape, rowMajor, c.offset, c.dtype);
}

// t (cast to dtype) laid out with exactly `strides`: a view when it already is, else a copy.
function inLayout(t: Tensor, strides: readonly number[], dtype: DType): Tensor {
  const c = cast(t.detach(), dtype);
  if (hasLayout(c, strides)) return new Tensor(c.storage, c.shape, strides, c.offset, dtype);
  const out = emptyStrided(c.shape, strides, dtype);
  native.copy(c, out);
  return out;
}

/** Options of batchNorm. */
export interface BatchNormOptions {
  /** Use batch statistics and update the running ones (in place, not recorded). */
  training?: boolean;
  /** Weight of the new batch statistics in the running average (default 0.1). */
  momentum?: number;
  eps?: number;
}

/**
 * Batch norm over x [N, C, ...] with torch.nn.functional.batch_norm semantics: in
 * training it normalizes with the batch statistics and, when given, updates runningMean and
 * runningVar in place (the variance with Bessel's correction); in eval it uses the running ones.
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight?: Tensor | null,
  bias?: Tensor | null,
  options: BatchNormOptions = {},
): Tensor {
  const op = 'batchNorm';
  checkFloat(op, 'input', x);
  if (x.ndim < 2) throw new ShapeError(`${op}: expected input of rank >= 2 [N, C, ...], got shape ${formatShape(x.shape)}`);
  const C = x.shape[1];
  const hint = `one per channel of input ${formatShape(x.shape)}`;
  checkParam(op, 'runningMean', runningMean, [C], hint);
  checkParam(op, 'runningVar', runningVar, [C], hint);
  checkParam(op, 'weight', weight, [C], hint);
  checkParam(op, 'bias', bias, [C], hint);
  const training = options.training ?? false;
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  checkEps(op, eps);
  if (!Number.isFinite(momentum)) throw new ArgumentError(`${op}: momentum must be a finite number, got ${momentum}`);
  if (!runningMean !== !runningVar) {
    throw new ArgumentError(`${op}: runningMean and runningVar must be given together, got only ${runningMean ? 'runningMean' : 'runningVar'}`);
  }
  if (!training && !runningMean) throw new ArgumentError(`${op}: runningMean and runningVar are required in eval mode (training: false)`);
  const perChannel = C === 0 ? 0 : x.numel / C;
  if (training && perChannel === 1) {
    throw new ArgumentError(`${op}: expected more than 1 value per channel when training, got input of shape ${formatShape(x.shape)}`);
  }
  if (x.ndim > 5) {
    // oneDNN takes up to three spatial dims; batch norm only sees channels, so merge them.
    const merged = reshape(x, [x.shape[0], C, numelOf(x.shape.slice(2))]);
    return reshape(batchNorm(merged, runningMean, runningVar, weight, bias, options), x.shape);
  }

  const xk = batchNormLayout(x);
  const out = emptyStrided(xk.shape, xk.strides, x.dtype);
  const w = weight ? f32Vector(weight) : null;
  const b = bias ? f32Vector(bias) : null;
  let mean: Tensor;
  let variance: Tensor;
  if (training) {
    mean = Tensor.empty([C], 'float32');
    variance = Tensor.empty([C], 'float32');
    if (x.numel > 0) {
      native.batchNormForward({ x: xk, mean, variance, weight: w, bias: b, out, eps, training: true });
      if (runningMean && runningVar) updateRunningStats(runningMean, runningVar, mean, variance, momentum, perChannel);
    }
  } else {
    mean = f32Vector(runningMean!);
    variance = f32Vector(runningVar!);
    if (x.numel > 0) native.batchNormForward({ x: xk, mean, variance, weight: w, bias: b, out, eps, training: false });
  }
  if (!needsGrad(x, weight, bias)) {
    releaseCopy(xk, x);
    return out;
  }
  return record(out, op, [x, weight, bias], (g) => {
    const gk = inLayout(g, xk.strides, x.dtype);
    const gradIn = emptyStrided(xk.shape, xk.strides, x.dtype);
    const gw = weight?.requiresGrad ? Tensor.empty([C], 'float32') : null;
    const gb = bias?.requiresGrad ? Tensor.empty([C], 'float32') : null;
    if (x.numel > 0) {
      native.batchNormBackward({ x: xk, gradOut: gk, mean, variance, weight: w, bias: b, gradIn, gradWeight: gw, gradBias: gb, eps, globalStats: !training });
    }
    releaseCopy(gk, g);
    return [gradIn, gw, gb];
  });
}

// running = (1 − momentum)·running + momentum·batch, with the unbiased batch variance (torch's update).
function updateRunningStats(runningMean: Tensor, runningVar: Tensor, mean: Tensor, biasedVar: Tensor, momentum: number, n: number): void {
  noGrad(() => {
    const keep = 1 - momentum;
    const unbiased = mul(biasedVar, n / (n - 1));
    copyInto(runningMean, add(mul(mean, momentum), mul(cast(runningMean, 'float32'), keep)));
    copyInto(runningVar, add(mul(unbiased, momentum), mul(cast(runningVar, 'float32'), keep)));
  });
}

// t as a canonical row-major [rows, D] block (a view when t is contiguous, else a copy).
function rowsOf(t: Tensor, rows: number, D: number, dtype: DType): Tensor {
  const c = contiguous(cast(t.detach(), dtype));
  return new Tensor(c.storage, [rows, D], [D, 1], c.offset, dtype);
}

/** Layer norm over the trailing dims given by normalizedShape (torch.nn.functional.layer_norm). */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const op = 'layerNorm';
  checkFloat(op, 'input', x);
  const k = normalizedShape.length;
  if (k === 0) throw new ArgumentError(`${op}: normalizedShape must name at least one dim, got []`);
  if (normalizedShape.some((s) => !Number.isInteger(s) || s < 0)) throw new ArgumentError(`${op}: normalizedShape ${formatShape(normalizedShape)} has an invalid size`);
  const trailing = x.shape.slice(x.ndim - k);
  if (x.ndim < k || trailing.some((s, i) => s !== normalizedShape[i])) {
    throw new ShapeError(`${op}: normalizedShape ${formatShape(normalizedShape)} does not match the trailing dims of input of shape ${formatShape(x.shape)}`);
  }
  checkParam(op, 'weight', weight, normalizedShape, 'normalizedShape');
  checkParam(op, 'bias', bias, normalizedShape, 'normalizedShape');
  checkEps(op, eps);

  const D = numelOf(normalizedShape);
  const rows = numelOf(x.shape.slice(0, x.ndim - k));
  const x2 = rowsOf(x, rows, D, x.dtype);
  const w = weight ? f32Vector(weight) : null;
  const b = bias ? f32Vector(bias) : null;
  const out = Tensor.uninitialized([rows, D], x.dtype);
  const keepStats = needsGrad(x, weight, bias);
  const mean = keepStats ? Tensor.empty([rows], 'float32') : null;
  const variance = keepStats ? Tensor.empty([rows], 'float32') : null;
  native.layerNormForward({ x: x2, weight: w, bias: b, out, mean, variance, eps });
  if (!keepStats) {
    releaseCopy(x2, x);
    return reshape(out, x.shape);
  }
  return record(reshape(out, x.shape), op, [x, weight, bias], (g) => {
    const g2 = rowsOf(g, rows, D, x.dtype);
    const gradIn = Tensor.uninitialized([rows, D], x.dtype);
    const gw = weight?.requiresGrad ? Tensor.empty([D], 'float32') : null;
    const gb = bias?.requiresGrad ? Tensor.empty([D], 'float32') : null;
    native.layerNormBackward({ x: x2, gradOut: g2, mean: mean!, variance: variance!, weight: w, bias: b, gradIn, gradWeight: gw, gradBias: gb, eps });
    releaseCopy(g2, g);
    return [reshape(gradIn, x.shape), gw && reshape(gw, normalizedShape), gb && reshape(gb, normalizedShape)];
  });
}

/** Group norm of x [N, C, ...]: each sample's C/numGroups-channel groups normalized over channels and positions. */
export function groupNorm(x: Tensor, numGroups: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const op = 'groupNorm';
  checkFloat(op, 'input', x);
  if (x.ndim < 2) throw new ShapeError(`${op}: expected input of rank >= 2 [N, C, ...], got shape ${formatShape(x.shape)}`);
  const [N, C] = x.shape;
  if (!Number.isInteger(numGroups) || numGroups <= 0) throw new ArgumentError(`${op}: numGroups must be a positive integer, got ${numGroups}`);
  if (C % numGroups !== 0) {
    throw new ArgumentError(`${op}: expected the number of channels to be divisible by numGroups, got input of shape ${formatShape(x.shape)} and numGroups=${numGroups}`);
  }
  const hint = `one per channel of input ${formatShape(x.shape)}`;
  checkParam(op, 'weight', weight, [C], hint);
  checkParam(op, 'bias', bias, [C], hint);
  checkEps(op, eps);
  const groupSize = (C / numGroups) * numelOf(x.shape.slice(2));
  const normed = reshape(layerNorm(reshape(x, [N, numGroups, groupSize]), [groupSize], null, null, eps), x.shape);
  const channelShape = [C, ...x.shape.slice(2).map(() => 1)];
  let out = normed;
  if (weight) out = mul(out, reshape(cast(weight, x.dtype), channelShape));
  if (bias) out = add(out, reshape(cast(bias, x.dtype), channelShape));
  return out;
}
