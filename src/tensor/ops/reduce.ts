/**
 * Reductions. Every reduction moves its reduced dims to one block and runs the native
 * [outer, R, inner] kernel (native/src/reduce.cc); var, std, logsumexp and norm are
 * composed from it and differentiate through their parts.
 */
import { ArgumentError, DTypeError, formatShape } from '../../errors.ts';
import { record } from '../autograd.ts';
import { isFloating, type DType } from '../dtype.ts';
import { native } from '../native.ts';
import { Tensor, numelOf } from '../tensor.ts';
import { add, cast, clamp, div, eq, mul, sub, exp, log, sqrt, abs, where } from './elementwise.ts';
import { contiguous, expand, normalizeDim, permute, reshape, shapeEquals } from './shape.ts';

/** Reduce op codes shared with native/src/reduce.cc. */
export const REDUCE_OP = { sum: 0, mean: 1, max: 2, min: 3, prod: 4, argmax: 5, argmin: 6 } as const;

type Dims = number | readonly number[] | null | undefined;

function reducedDims(op: string, x: Tensor, dim: Dims): number[] {
  if (dim === null || dim === undefined) return x.shape.map((_, i) => i);
  const list = typeof dim === 'number' ? [dim] : [...dim];
  const out = [...new Set(list.map((d) => normalizeDim(op, d, x.ndim)))].sort((a, b) => a - b);
  return x.ndim === 0 ? [] : out;
}

function keptShape(x: Tensor, dims: number[], keepdim: boolean): number[] {
  const out: number[] = [];
  x.shape.forEach((s, i) => {
    if (!dims.includes(i)) out.push(s);
    else if (keepdim) out.push(1);
  });
  return out;
}

// Runs the native kernel; returns values (and indices for max/min/argmax/argmin) with keepdim shape.
function runReduce(op: keyof typeof REDUCE_OP, x: Tensor, dims: number[], outDtype: DType, wantIndices: boolean): [Tensor, Tensor | null] {
  x.assertAlive(op);
  const keepShape = keptShape(x, dims, true);
  const R = dims.reduce((p, d) => p * x.shape[d], 1);
  let src: Tensor;
  let outer: number;
  let inner: number;
  const first = dims[0] ?? 0;
  const adjacent = dims.every((d, k) => d === first + k);
  if (adjacent && x.isContiguous()) {
    // Reduced dims already form one block: no copy.
    src = x;
    outer = numelOf(x.shape.slice(0, first));
    inner = numelOf(x.shape.slice(first + dims.length));
  } else {
    const kept = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
    src = contiguous(permute(x.detach(), [...kept, ...dims]));
    outer = numelOf(kept.map((i) => x.shape[i]));
    inner = 1;
  }
  const out = Tensor.empty(keepShape, op === 'argmax' || op === 'argmin' ? 'int64' : outDtype);
  const indices = wantIndices ? Tensor.empty(keepShape, 'int64') : null;
  if (R === 0 && op !== 'sum' && op !== 'mean' && op !== 'prod') {
    throw new ArgumentError(`${op}: cannot reduce over an empty dim (shape ${formatShape(x.shape)})`);
  }
  native.reduce({ op: REDUCE_OP[op], src, outer, reduced: R, inner, out, indices });
  return [out, indices];
}

function squeezeTo(t: Tensor, shape: number[]): Tensor {
  return shapeEquals(t.shape, shape) ? t : reshape(t, shape);
}

/** Sum over dims (all by default). Integer and bool inputs sum to int64, as in torch. */
export function sum(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  const dims = reducedDims('sum', x, dim);
  const outDtype: DType = isFloating(x.dtype) ? x.dtype : 'int64';
  const [out] = runReduce('sum', x, dims, outDtype, false);
  const result = squeezeTo(out, keptShape(x, dims, keepdim));
  return record(result, 'sum', [x], (g) => [expand(reshape(g, out.shape), x.shape)]);
}

/** Mean over dims (all by default); float inputs only. */
export function mean(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  if (!isFloating(x.dtype)) throw new DTypeError(`mean: expected a float tensor, got ${x.dtype}`);
  const dims = reducedDims('mean', x, dim);
  const [out] = runReduce('mean', x, dims, x.dtype, false);
  const n = dims.reduce((p, d) => p * x.shape[d], 1);
  const result = squeezeTo(out, keptShape(x, dims, keepdim));
  return record(result, 'mean', [x], (g) => [expand(reshape(div(g, n), out.shape), x.shape)]);
}

// amax/amin: the grad is split evenly among tied extremes (torch's rule).
function extreme(op: 'max' | 'min', x: Tensor, dim: Dims, keepdim: boolean): Tensor {
  const dims = reducedDims(op === 'max' ? 'amax' : 'amin', x, dim);
  const [out] = runReduce(op, x, dims, x.dtype, false);
  const result = squeezeTo(out, keptShape(x, dims, keepdim));
  return record(result, op === 'max' ? 'amax' : 'amin', [x], (g) => {
    const mask = cast(eq(x, out), x.dtype);
    const count = sum(mask, dims, true);
    return [mul(div(mask, count), reshape(g, out.shape))];
  });
}

/** Maximum over dims (all by default). */
export function amax(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  return extreme('max', x, dim, keepdim);
}

/** Minimum over dims (all by default). */
export function amin(x: Tensor, dim?: Dims, keepdim = false): Tensor {
  return extreme('min', x, dim, keepdim);
}

/** Values and first indices of the extreme along one dim. */
export interface ValuesIndices {
  values: Tensor;
  indices: Tensor;
}

function extremeAlong(op: 'max' | 'min', x: Tensor, dim: number, keepdim: boolean): ValuesIndices {
  const d = normalizeDim(op, dim, x.ndim);
  const [out, idx] = runReduce(op, x, x.ndim === 0 ? [] : [d], x.dtype, true);
  const shape = keptShape(x, x.ndim === 0 ? [] : [d], keepdim);
  const values = record(squeezeTo(out, shape), op, [x], (g) => {
    // One-hot of the chosen index along d; the grad goes only there (torch's rule).
    const positions = reshape(indexRange(x.shape[d]), x.shape.map((s, i) => (i === d ? s : 1)));
    const hot = cast(eq(positions, idx!), x.dtype);
    return [mul(hot, reshape(g, out.shape))];
  });
  return { values, indices: squeezeTo(idx!, shape) };
}

function indexRange(n: number): Tensor {
  const t = Tensor.empty([n], 'int64');
  const view = new BigInt64Array(t.buffer, 0, n);
  for (let i = 0; i < n; ++i) view[i] = BigInt(i);
  return t;
}

/** max(x): the overall maximum; max(x, dim): values and indices along dim. */
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function max(x: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  return dim === undefined ? amax(x) : extremeAlong('max', x, dim, keepdim);
}

/** min(x): the overall minimum; min(x, dim): values and indices along dim. */
export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, keepdim?: boolean): ValuesIndices;
export function min(x: Tensor, dim?: number, keepdim = false): Tensor | ValuesIndices {
  return dim === undefined ? amin(x) : extremeAlong('min', x, dim, keepdim);
}

function argExtreme(op: 'argmax' | 'argmin', x: Tensor, dim: number | null | undefined, keepdim: boolean): Tensor {
  if (dim === null || dim === undefined) {
    const [out] = runReduce(op, reshape(x, [x.numel]), [0], 'int64', false);
    return keepdim ? reshape(out, x.shape.map(() => 1)) : reshape(out, []);
  }
  const d = normalizeDim(op, dim, x.ndim);
  const dims = x.ndim === 0 ? [] : [d];
  const [out] = runReduce(op, x, dims, 'int64', false);
  return squeezeTo(out, keptShape(x, dims, keepdim));
}

/** Index of the first maximum (over the flattened tensor without dim). */
export function argmax(x: Tensor, dim?: number | null, keepdim = false): Tensor {
  return argExtreme('argmax', x, dim, keepdim);
}

/** Index of the first minimum (over the flattened tensor without dim). */
export function argmin(x: Tensor, dim?: number | null, keepdim = false): Tensor {
  return argExtreme('argmin', x, dim, keepdim);
}

/** Options of var/std. */
export interface VarOptions {
  /** Subtracted from the count in the divisor (1 = unbiased, the torch default). */
  correction?: number;
  keepdim?: boolean;
}

/** Variance over dims with Bessel's correction by default. */
export function variance(x: Tensor, dim?: Dims, options: VarOptions = {}): Tensor {
  const dims = reducedDims('var', x, dim);
  const n = dims.reduce((p, d) => p * x.shape[d], 1);
  const centered = sub(x, mean(x, dims, true));
  const ss = sum(mul(centered, centered), dims, options.keepdim ?? false);
  return div(ss, Math.max(0, n - (options.correction ?? 1)));
}

/** Standard deviation: sqrt(var). */
export function std(x: Tensor, dim?: Dims, options: VarOptions = {}): Tensor {
  return sqrt(variance(x, dim, options));
}

/** log(sum(exp(x))) over dims, computed stably. */
export function logsumexp(x: Tensor, dim: number | readonly number[], keepdim = false): Tensor {
  const dims = reducedDims('logsumexp', x, dim);
  const m = amax(x.detach(), dims, true);
  // An all -inf slice has max -inf; shift by 0 there so the result stays -inf, not NaN.
  const shift = where(eq(abs(m), Infinity), 0, m);
  const out = add(log(sum(exp(sub(x, shift)), dims, true)), shift);
  return keepdim ? out : reshape(out, keptShape(x, dims, false));
}

/** Vector p-norm over dims (all by default): p = 1, 2, Infinity, or any positive p. */
export function norm(x: Tensor, p = 2, dim?: Dims, keepdim = false): Tensor {
  if (!(p > 0)) throw new ArgumentError(`norm: p must be positive, got ${p}`);
  const dims = reducedDims('norm', x, dim);
  if (p === Infinity) return amax(abs(x), dims, keepdim);
  if (p === 1) return sum(abs(x), dims, keepdim);
  if (p === 2) return sqrt(sum(mul(x, x), dims, keepdim));
  return sum(abs(x).pow(p), dims, keepdim).pow(1 / p);
}

/** x divided by its L2 norm along `dim`, the norm floored at `eps` (torch.nn.functional.normalize with p = 2). */
export function l2Normalize(x: Tensor, dim = -1, eps = 1e-12): Tensor {
  return div(x, clamp(norm(x, 2, dim, true), eps));
}

/** Sums a broadcast grad back to `shape` (leading dims and size-1 dims). */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; ++i) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  const s = dims.length > 0 ? sum(g, dims, true) : g;
  return reshape(s, shape);
}
