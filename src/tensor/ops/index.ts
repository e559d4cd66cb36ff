/**
 * Indexing ops: index_select, gather, scatter/index add, masked_fill, embedding
 * (native/src/index.cc). index_select and embedding are gathers with an index expanded
 * over the other dims; index_add is a scatter-add with an expanded index. Indices are
 * bounds-checked before anything is written, and negative indices are out of range, as in torch.
 */
import { ArgumentError, DTypeError, formatShape, IndexError, ShapeError } from '../../errors.ts';
import { record } from '../autograd.ts';
import type { DType } from '../dtype.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';
import { broadcastShapes, expand, fillInto, normalizeDim, pad, reshape, select, shapeEquals } from './shape.ts';

function checkIndexDType(op: string, index: Tensor): void {
  if (index.dtype !== 'int32' && index.dtype !== 'int64') {
    throw new DTypeError(`${op}: index has dtype ${index.dtype}, expected int32 or int64`);
  }
}

function outOfRange(op: string, bad: bigint, dim: number, size: number): IndexError {
  const range = size > 0 ? `expected 0..${size - 1}` : 'it is empty';
  const where = op === 'embedding' ? `a weight of ${size} rows` : `dim ${dim} of size ${size}`;
  return new IndexError(`${op}: index ${bad} is out of range for ${where} (${range})`);
}

function alive(op: string, ...tensors: Tensor[]): void {
  for (const t of tensors) t.assertAlive(op);
}

// index (0-D or 1-D) reshaped to size k at `dim` and 1 elsewhere, then expanded to `shape`.
function expandAlong(index: Tensor, dim: number, shape: readonly number[]): Tensor {
  const lined = reshape(index.detach(), shape.map((_, i) => (i === dim ? index.numel : 1)));
  return expand(lined, shape);
}

function runGather(op: string, x: Tensor, dim: number, index: Tensor, out: Tensor): void {
  const bad = native.gather(x.detach(), dim, index, out);
  if (bad !== null) throw outOfRange(op, bad, dim, x.shape[dim]);
}

// Adds src at index along dim into out (fresh and contiguous) in place; index and src share a shape.
function scatterInto(op: string, out: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  const bad = native.scatterAdd(out, dim, index, src.detach());
  if (bad !== null) throw outOfRange(op, bad, dim, out.shape[dim]);
  return out;
}

function copyOf(x: Tensor): Tensor {
  const out = Tensor.empty(x.shape, x.dtype);
  native.copy(x.detach(), out);
  return out;
}

// Backward rules scatter straight into zeroed memory rather than into a copy of zeros.
const zeroed = (shape: readonly number[], dtype: DType) => Tensor.empty(shape, dtype);

function checkVectorIndex(op: string, index: Tensor): void {
  checkIndexDType(op, index);
  if (index.ndim > 1) throw new ShapeError(`${op}: index must be 0-D or 1-D, got shape ${formatShape(index.shape)}`);
}

/** Picks entries of `index` (int32/int64, 1-D) along dim (torch.index_select). */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  alive('indexSelect', x, index);
  checkVectorIndex('indexSelect', index);
  if (x.ndim === 0) {
    if (index.numel !== 1) throw new ShapeError(`indexSelect: a 0-D input takes exactly one index, got ${index.numel}`);
    normalizeDim('indexSelect', dim, 0);
    return reshape(indexSelect(reshape(x, [1]), 0, index), []);
  }
  const d = normalizeDim('indexSelect', dim, x.ndim);
  const shape = [...x.shape];
  shape[d] = index.numel;
  const out = Tensor.empty(shape, x.dtype);
  runGather('indexSelect', x, d, expandAlong(index, d, shape), out);
  return record(out, 'indexSelect', [x], (g) => [scatterInto('indexSelect', zeroed(x.shape, g.dtype), d, expandAlong(index, d, g.shape), g)]);
}

/** out[i][j] = x[index[i][j]][j] for dim 0 (torch.gather); index has x's rank and fits in x outside dim. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  alive('gather', x, index);
  checkIndexDType('gather', index);
  if (index.ndim !== x.ndim) {
    throw new ShapeError(`gather: index has rank ${index.ndim} (shape ${formatShape(index.shape)}), expected the input's rank ${x.ndim}`);
  }
  if (x.ndim === 0) {
    normalizeDim('gather', dim, 0);
    return reshape(gather(reshape(x, [1]), 0, reshape(index, [1])), []);
  }
  const d = normalizeDim('gather', dim, x.ndim);
  for (let i = 0; i < x.ndim; ++i) {
    if (i !== d && index.shape[i] > x.shape[i]) {
      throw new ShapeError(`gather: index shape ${formatShape(index.shape)} exceeds input shape ${formatShape(x.shape)} in dim ${i} (expected at most ${x.shape[i]}, got ${index.shape[i]})`);
    }
  }
  const out = Tensor.empty(index.shape, x.dtype);
  runGather('gather', x, d, index, out);
  return record(out, 'gather', [x], (g) => [scatterInto('gather', zeroed(x.shape, g.dtype), d, index, g)]);
}

/** A copy of x with src added at `index` along dim (torch.scatter_add); src may be larger than index. */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  alive('scatterAdd', x, index, src);
  checkIndexDType('scatterAdd', index);
  if (src.dtype !== x.dtype) throw new DTypeError(`scatterAdd: src has dtype ${src.dtype}, expected the input's dtype ${x.dtype}`);
  if (index.ndim !== x.ndim || src.ndim !== x.ndim) {
    throw new ShapeError(`scatterAdd: index ${formatShape(index.shape)} and src ${formatShape(src.shape)} must have the input's rank ${x.ndim}`);
  }
  if (x.ndim === 0) {
    normalizeDim('scatterAdd', dim, 0);
    return reshape(scatterAdd(reshape(x, [1]), 0, reshape(index, [1]), reshape(src, [1])), []);
  }
  const d = normalizeDim('scatterAdd', dim, x.ndim);
  for (let i = 0; i < x.ndim; ++i) {
    if (index.shape[i] > src.shape[i] || (i !== d && index.shape[i] > x.shape[i])) {
      throw new ShapeError(
        `scatterAdd: index shape ${formatShape(index.shape)} exceeds src shape ${formatShape(src.shape)} or input shape ${formatShape(x.shape)} in dim ${i}`,
      );
    }
  }
  // Only the leading index-sized block of src takes part.
  const used = new Tensor(src.storage, [...index.shape], src.strides, src.offset, src.dtype);
  const out = scatterInto('scatterAdd', copyOf(x), d, index, used);
  return record(out, 'scatterAdd', [x, src], (g) => {
    const gs = gather(g, d, index);
    if (shapeEquals(gs.shape, src.shape)) return [g, gs];
    const padding = [...src.shape].reverse().flatMap((s, k) => [0, s - index.shape[src.ndim - 1 - k]]);
    return [g, pad(gs, padding)];
  });
}

/** A copy of x with slices of src added at the 1-D `index` along dim (torch.index_add). */
export function indexAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  alive('indexAdd', x, index, src);
  checkVectorIndex('indexAdd', index);
  if (src.dtype !== x.dtype) throw new DTypeError(`indexAdd: src has dtype ${src.dtype}, expected the input's dtype ${x.dtype}`);
  if (x.ndim === 0) {
    normalizeDim('indexAdd', dim, 0);
    if (src.numel !== 1 || index.numel !== 1) {
      throw new ShapeError(`indexAdd: a 0-D input takes one index and one src value, got ${index.numel} and ${src.numel}`);
    }
    return reshape(indexAdd(reshape(x, [1]), 0, reshape(index, [1]), reshape(src, [1])), []);
  }
  const d = normalizeDim('indexAdd', dim, x.ndim);
  const expected = [...x.shape];
  expected[d] = index.numel;
  if (!shapeEquals(src.shape, expected)) {
    throw new ShapeError(`indexAdd: src has shape ${formatShape(src.shape)}, expected ${formatShape(expected)} (the input's shape with dim ${d} of the index's length)`);
  }
  const out = scatterInto('indexAdd', copyOf(x), d, expandAlong(index, d, expected), src);
  return record(out, 'indexAdd', [x, src], (g) => [g, indexSelect(g, d, index)]);
}

// Largest magnitudes torch accepts when converting a fill value (unsigned types also take -max..-1).
const INT_LIMITS: Partial<Record<DType, [number, number]>> = {
  uint8: [-255, 255],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [-(2 ** 63), 2 ** 63 - 1],
};

/** x with `value` where mask (bool) is true; x and mask broadcast together (torch.masked_fill). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  alive('maskedFill', x, mask);
  if (mask.dtype !== 'bool') throw new DTypeError(`maskedFill: mask has dtype ${mask.dtype}, expected bool`);
  if (typeof value !== 'number') throw new ArgumentError(`maskedFill: value must be a number, got ${typeof value}`);
  const limits = INT_LIMITS[x.dtype];
  if (limits && !(value >= limits[0] && value <= limits[1])) {
    throw new ArgumentError(`maskedFill: value ${value} cannot be converted to ${x.dtype} without overflow`);
  }
  const shape = broadcastShapes('maskedFill', x.shape, mask.shape);
  const out = Tensor.empty(shape, x.dtype);
  native.maskedFill(expand(x.detach(), shape), expand(mask, shape), value, out);
  return record(out, 'maskedFill', [x], (g) => [maskedFill(g, mask, 0)]);
}

/** Options of embedding. */
export interface EmbeddingOptions {
  /** A row whose weight gets no gradient (torch's padding_idx); negative counts from the end. */
  paddingIdx?: number | null;
}

/** Rows of weight [num, dim] for integer ids of any shape → [...ids.shape, dim] (torch.nn.functional.embedding). */
export function embedding(ids: Tensor, weight: Tensor, options: EmbeddingOptions = {}): Tensor {
  alive('embedding', ids, weight);
  checkIndexDType('embedding', ids);
  if (weight.ndim !== 2) throw new ShapeError(`embedding: weight has shape ${formatShape(weight.shape)}, expected rank 2 [num, dim]`);
  const [num, width] = weight.shape;
  let padding: number | null = null;
  if (options.paddingIdx !== undefined && options.paddingIdx !== null) {
    const p = options.paddingIdx;
    if (!Number.isInteger(p) || p < -num || p >= num) {
      throw new IndexError(`embedding: paddingIdx ${p} is out of range for ${num} rows (expected ${-num}..${num - 1})`);
    }
    padding = p < 0 ? p + num : p;
  }
  const flat = reshape(ids.detach(), [ids.numel]);
  const out = Tensor.empty([...ids.shape, width], weight.dtype);
  const rows = new Tensor(out.storage, [ids.numel, width], [width, 1], 0, out.dtype);
  runGather('embedding', weight, 0, expandAlong(flat, 0, rows.shape), rows);
  return record(out, 'embedding', [weight], (g) => {
    const gw = scatterInto('embedding', zeroed(weight.shape, g.dtype), 0, expandAlong(flat, 0, rows.shape), reshape(g, rows.shape));
    if (padding !== null) fillInto(select(gw, 0, padding), 0);
    return [gw];
  });
}
