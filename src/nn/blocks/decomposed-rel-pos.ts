/**
 * MViTv2's decomposed relative positions ("MViTv2: Improved Multiscale Vision Transformers",
 * Li et al., CVPR 2022, §3.1; timm `models/mvitv2.py` cal_rel_pos_type and the rel_pos part of
 * checkpoint_filter_fn). A query at (i, j) and a key at (k, l) of grids qSize and kSize get
 * q·Rh[i, k] + q·Rw[j, l] added to their attention logit, where Rh, Rw are rows of the learned
 * tables rel_pos_h, rel_pos_w [T, d] picked by the scaled distance
 *   dist(i, k) = trunc(i·max(kh/qh, 1) − k·max(qh/kh, 1) + (kh − 1)·max(qh/kh, 1)),
 * computed in float32 as torch does (so non-integer grid ratios truncate the same way).
 * A table built for one grid holds distances up to 2·max(q, k) − 2; larger grids index past it,
 * which timm refuses with an IndexError and so does `relPosRows` (a typed one).
 */
import { IndexError, ShapeError, formatShape } from '../../errors.ts';
import { fromTypedArray } from '../../tensor/creation.ts';
import { persistent } from '../../tensor/memory.ts';
import { add, cast, mul } from '../../tensor/ops/elementwise.ts';
import { indexSelect } from '../../tensor/ops/index.ts';
import { matmul } from '../../tensor/ops/linalg.ts';
import { interpolate } from '../../tensor/ops/resample.ts';
import { cat, contiguous, expand, permute, reshape, transpose, unsqueeze } from '../../tensor/ops/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';

/** A query or key grid: [height, width]. */
export type Grid = readonly [number, number];

const f32 = Math.fround;

// torch evaluates arange(long) · ratio, the difference and the += in float32, then .long() truncates.
function scaledDistance(i: number, k: number, qRatio: number, kRatio: number, offset: number): number {
  return Math.trunc(f32(f32(f32(i * qRatio) - f32(k * kRatio)) + offset));
}

function ratios(qSize: number, kSize: number): { qRatio: number; kRatio: number; offset: number } {
  const kRatio = Math.max(qSize / kSize, 1);
  return { qRatio: f32(Math.max(kSize / qSize, 1)), kRatio: f32(kRatio), offset: f32((kSize - 1) * kRatio) };
}

/** The largest table row a (qSize, kSize) grid pair reads (at i = qSize − 1, k = 0); the table needs one more row. */
export function relPosMaxIndex(qSize: number, kSize: number): number {
  const { qRatio, kRatio, offset } = ratios(qSize, kSize);
  return scaledDistance(qSize - 1, 0, qRatio, kRatio, offset);
}

/** Table length timm builds for a query grid side and a key grid side: 2·max(q, k) − 1. */
export function relPosTableLength(qSize: number, kSize: number): number {
  return 2 * Math.max(qSize, kSize) - 1;
}

// Index tensors by grid pair: they depend on the sizes only, and every block of a stage shares them.
const distanceCache = new Map<string, Tensor>();

/** The table rows of every (query, key) pair along one axis, flattened: int32 [qSize·kSize], row-major (i, k). Cached per size pair. */
export function relPosDistances(qSize: number, kSize: number): Tensor {
  const key = `${qSize},${kSize}`;
  const hit = distanceCache.get(key);
  if (hit) return hit;
  const { qRatio, kRatio, offset } = ratios(qSize, kSize);
  const data = new Int32Array(qSize * kSize);
  for (let i = 0; i < qSize; ++i) for (let k = 0; k < kSize; ++k) data[i * kSize + k] = scaledDistance(i, k, qRatio, kRatio, offset);
  const index = persistent(() => fromTypedArray(data, [qSize * kSize], { dtype: 'int32' }));
  distanceCache.set(key, index);
  return index;
}

/** Rows of a table [T, d] for each (query, key) pair along one axis: [qSize, kSize, d] (timm's rel_pos[dist]). */
export function relPosRows(table: Tensor, qSize: number, kSize: number): Tensor {
  if (table.ndim !== 2) throw new ShapeError(`relPosRows: expected a table [T, d], got shape ${formatShape(table.shape)}`);
  const need = relPosMaxIndex(qSize, kSize) + 1;
  if (need > table.shape[0]) {
    throw new IndexError(`relPosRows: a ${qSize}-query × ${kSize}-key grid reads table row ${need - 1}, but the table has ${table.shape[0]} rows (built for smaller grids)`);
  }
  return reshape(indexSelect(table, 0, relPosDistances(qSize, kSize)), [qSize, kSize, table.shape[1]]); // (q, k, d)
}

// q·Rh[i, k] and q·Rw[j, l] for queries q [B, H, qh·qw, d] on a qh×qw grid against a kh×kw key grid:
// (B, H, qh, qw, kh) and (B, H, qh, qw, kw), each one small matmul per query row (column), batched.
function relPosTerms(q: Tensor, qSize: Grid, kSize: Grid, relPosH: Tensor, relPosW: Tensor): [Tensor, Tensor] {
  const [qh, qw] = qSize;
  const [kh, kw] = kSize;
  const [B, H, Lq, d] = q.shape;
  if (q.ndim !== 4 || Lq !== qh * qw) throw new ShapeError(`decomposed rel-pos: q ${formatShape(q.shape)} does not hold a ${qh}×${qw} query grid`);
  const rh = transpose(relPosRows(relPosH, qh, kh), 1, 2); // (qh, d, kh)
  const rw = transpose(relPosRows(relPosW, qw, kw), 1, 2); // (qw, d, kw)
  const grid = reshape(q, [B, H, qh, qw, d]);
  const relH = matmul(permute(grid, [2, 0, 1, 3, 4]), reshape(rh, [qh, 1, 1, d, kh])); // (qh, B, H, qw, kh)
  const relW = matmul(permute(grid, [3, 0, 1, 2, 4]), reshape(rw, [qw, 1, 1, d, kw])); // (qw, B, H, qh, kw)
  return [permute(relH, [1, 2, 0, 3, 4]), permute(relW, [1, 2, 3, 0, 4])]; // (B, H, qh, qw, kh), (B, H, qh, qw, kw)
}

/**
 * attn [B, H, Lq, Lk] plus the decomposed relative-position term of the (pooled, unscaled)
 * queries q [B, H, Lq, d], for a query grid qSize and key grid kSize (Lq = qh·qw, Lk = kh·kw, no
 * class token): timm's cal_rel_pos_type, literally — the composed twin of decomposedRelPosScores.
 */
export function addDecomposedRelPos(attn: Tensor, q: Tensor, qSize: Grid, kSize: Grid, relPosH: Tensor, relPosW: Tensor): Tensor {
  const [qh, qw] = qSize;
  const [kh, kw] = kSize;
  const [B, H, Lq] = q.shape;
  if (attn.ndim !== 4 || attn.shape[2] !== Lq || attn.shape[3] !== kh * kw) {
    throw new ShapeError(`addDecomposedRelPos: attn ${formatShape(attn.shape)} does not pair ${qh}×${qw} queries with ${kh}×${kw} keys`);
  }
  const [relH, relW] = relPosTerms(q, qSize, kSize, relPosH, relPosW);
  const logits = reshape(attn, [B, H, qh, qw, kh, kw]);
  return reshape(add(add(logits, unsqueeze(relH, -1)), unsqueeze(relW, -2)), [B, H, Lq, kh * kw]);
}

// Key-side columns of the rel-pos term [kh + kw, kh·kw]: key (k, l) has ones at rows k and kh + l. Cached per key grid.
const keyColumnCache = new Map<string, Tensor>();
function keyColumns(kh: number, kw: number): Tensor {
  const key = `${kh},${kw}`;
  const hit = keyColumnCache.get(key);
  if (hit) return hit;
  const Lk = kh * kw;
  const data = new Float32Array((kh + kw) * Lk);
  for (let k = 0; k < kh; ++k) {
    for (let l = 0; l < kw; ++l) {
      data[k * Lk + k * kw + l] = 1;
      data[(kh + l) * Lk + k * kw + l] = 1;
    }
  }
  const columns = persistent(() => fromTypedArray(data, [kh + kw, Lk]));
  keyColumnCache.set(key, columns);
  return columns;
}

/**
 * scale·q·kᵀ plus the decomposed relative-position term, for queries q [B, H, Lq, d] on a qSize grid
 * and keys k [B, H, Lk, d] on a kSize grid: the attention logits of MViTv2, as one matmul. The
 * per-query terms q·Rh[i, k] (kh of them) and q·Rw[j, l] (kw) become extra query features, met by
 * one-hot key features, so no logits-sized broadcast sum is formed; both operands are laid out for
 * the matmul kernel (keys transposed into [d + kh + kw, Lk]) whatever the strides of q and k.
 */
export function decomposedRelPosScores(q: Tensor, k: Tensor, scale: number, qSize: Grid, kSize: Grid, relPosH: Tensor, relPosW: Tensor): Tensor {
  const [qh, qw] = qSize;
  const [kh, kw] = kSize;
  const [B, H, Lq, d] = q.shape;
  if (k.ndim !== 4 || k.shape[0] !== B || k.shape[1] !== H || k.shape[2] !== kh * kw || k.shape[3] !== d) {
    throw new ShapeError(`decomposedRelPosScores: k ${formatShape(k.shape)} does not hold a ${kh}×${kw} key grid of q's heads ${formatShape(q.shape)}`);
  }
  const [relH, relW] = relPosTerms(q, qSize, kSize, relPosH, relPosW);
  const queries = reshape(cat([reshape(q, [B, H, qh, qw, d]), relH, relW], -1), [B, H, Lq, d + kh + kw]); // (B, H, Lq, d + kh + kw)
  const columns = expand(cast(keyColumns(kh, kw), k.dtype), [B, H, kh + kw, kh * kw]);
  const keys = cat([transpose(mul(k, scale), -1, -2), columns], -2); // (B, H, d + kh + kw, Lk)
  return matmul(queries, keys); // (B, H, Lq, Lk)
}

/**
 * A table [T, d] resampled to `length` rows by linear interpolation (half-pixel centres), as
 * timm's checkpoint_filter_fn adapts a checkpoint's rel_pos_h/w to a model built at another size.
 */
export function resizeRelPosTable(table: Tensor, length: number): Tensor {
  if (table.ndim !== 2) throw new ShapeError(`resizeRelPosTable: expected a table [T, d], got shape ${formatShape(table.shape)}`);
  if (table.shape[0] === length) return table;
  const [T, d] = table.shape;
  const resized = interpolate(reshape(transpose(table, 0, 1), [1, d, T]), { size: length, mode: 'linear' }); // (1, d, length)
  return contiguous(permute(reshape(resized, [d, length]), [1, 0])); // (length, d)
}
