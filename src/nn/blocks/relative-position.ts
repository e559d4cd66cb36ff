/**
 * Relative position bias over a window of tokens (Swin; the same index serves BEiT-style and
 * multiscale models): a learned table with one row per relative offset (Δrow, Δcol) inside an
 * h×w window and one column per head, looked up through a pairwise index. timm
 * `layers/pos_embed_rel.py` (gen_relative_position_index, resize_rel_pos_bias_table) and
 * `models/swin_transformer.py` (get_relative_position_index).
 */
import { ArgumentError, formatShape, ShapeError } from '../../errors.ts';
import { fromTypedArray } from '../../tensor/creation.ts';
import { persistent } from '../../tensor/memory.ts';
import { cast } from '../../tensor/ops/elementwise.ts';
import { indexSelect } from '../../tensor/ops/index.ts';
import { resampleAlong, type ResampleTaps } from '../../tensor/ops/resample.ts';
import { cat, contiguous, narrow, permute, reshape, transpose } from '../../tensor/ops/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';

/** Rows of a relative position table for an h×w window: (2h − 1)·(2w − 1). */
export function relativePositionTableSize(windowSize: readonly [number, number]): number {
  return (2 * windowSize[0] - 1) * (2 * windowSize[1] - 1);
}

function checkWindow(op: string, windowSize: readonly [number, number]): void {
  if (windowSize.length !== 2 || !windowSize.every((s) => Number.isInteger(s) && s >= 1)) {
    throw new ArgumentError(`${op}: window size must be two integers >= 1, got [${windowSize.join(', ')}]`);
  }
}

const indexCache = new Map<string, Tensor>();

/**
 * Pairwise relative position index [N, N] (N = h·w, tokens row-major in the window): token i at
 * (rᵢ, cᵢ) and token j at (rⱼ, cⱼ) read table row (rᵢ − rⱼ + h − 1)·(2w − 1) + (cᵢ − cⱼ + w − 1),
 * as timm's get_relative_position_index. int32, built once per window size and shared.
 */
export function relativePositionIndex(windowSize: readonly [number, number]): Tensor {
  checkWindow('relativePositionIndex', windowSize);
  const [h, w] = windowSize;
  const key = `${h}x${w}`;
  let index = indexCache.get(key);
  if (!index) {
    const n = h * w;
    const data = new Int32Array(n * n);
    for (let i = 0; i < n; ++i) {
      for (let j = 0; j < n; ++j) {
        const dr = Math.floor(i / w) - Math.floor(j / w);
        const dc = (i % w) - (j % w);
        data[i * n + j] = (dr + h - 1) * (2 * w - 1) + (dc + w - 1);
      }
    }
    index = persistent(() => fromTypedArray(data, [n, n]));
    indexCache.set(key, index);
  }
  return index;
}

/**
 * The bias [heads, N, N] a table [(2h − 1)(2w − 1), heads] adds to an h×w window's attention
 * logits (timm WindowAttention._get_rel_pos_bias, without the leading 1). Differentiable in the table.
 */
export function relativePositionBias(table: Tensor, windowSize: readonly [number, number]): Tensor {
  const rows = relativePositionTableSize(windowSize);
  if (table.ndim !== 2 || table.shape[0] !== rows) {
    throw new ShapeError(`relativePositionBias: a ${windowSize.join('×')} window needs a table [${rows}, heads], got shape ${formatShape(table.shape)}`);
  }
  const index = relativePositionIndex(windowSize);
  const n = index.shape[0];
  const picked = indexSelect(table, 0, reshape(index, [n * n])); // (N·N, heads)
  return contiguous(permute(reshape(picked, [n, n, table.shape[1]]), [2, 0, 1])); // (heads, N, N)
}

// timm's _calc: source offsets spread as a geometric progression whose half-span reaches the
// destination's half-span (bisection on the ratio), so the table's centre keeps its resolution.
function progressionOffsets(src: number, dst: number): number[] {
  const half = Math.floor(src / 2);
  const target = Math.floor(dst / 2);
  let left = 1.01;
  let right = 1.5;
  let q = left;
  while (right - left > 1e-6) {
    q = (left + right) / 2;
    const sum = (1 - q ** half) / (1 - q);
    if (sum > target) right = q;
    else left = q;
  }
  const dis: number[] = [];
  let cur = 1;
  for (let i = 0; i < half; ++i) {
    dis.push(cur);
    cur += q ** (i + 1);
  }
  return [...dis.map((d) => -d).reverse(), 0, ...dis].map(Math.fround);
}

// timm's RegularGridInterpolator along one axis: linear between the two source offsets around each
// integer target offset, constant beyond the ends (its bucketize / clamp / both-zero rules).
function offsetTaps(src: number, dst: number): ResampleTaps {
  const points = progressionOffsets(src, dst);
  const n = points.length;
  const half = Math.floor(dst / 2);
  const index = new Int32Array(dst * 2);
  const weight = new Float32Array(dst * 2);
  for (let j = 0; j < dst; ++j) {
    const t = j - half;
    const right = Math.min(points.filter((p) => p < t).length, n - 1);
    const left = Math.max(right - 1, 0);
    let dl = Math.max(t - points[left], 0);
    let dr = Math.max(points[right] - t, 0);
    if (dl === 0 && dr === 0) dl = dr = 1;
    index.set([left, right], 2 * j);
    weight.set([dr / (dl + dr), dl / (dl + dr)], 2 * j);
  }
  return { size: dst, taps: 2, index, weight };
}

/** Options of resizeRelativePositionTable. */
export interface ResizeRelativePositionOptions {
  /** Rows after the grid rows that are not offsets (BEiT's class-token rows); kept as they are (default 0). */
  extraTokens?: number;
}

/**
 * A table [(2s − 1)² + extra, heads] learned for a square s×s window, resampled for a window of
 * newWindow as timm's resize_rel_pos_bias_table without scipy: source offsets on a geometric
 * progression, linear interpolation at the new integer offsets, computed in float32 and cast
 * back. Returns the table itself when the offset grids already agree.
 */
export function resizeRelativePositionTable(table: Tensor, newWindow: readonly [number, number], options: ResizeRelativePositionOptions = {}): Tensor {
  const op = 'resizeRelativePositionTable';
  checkWindow(op, newWindow);
  const extra = options.extraTokens ?? 0;
  if (!Number.isInteger(extra) || extra < 0) throw new ArgumentError(`${op}: extraTokens must be an integer >= 0, got ${extra}`);
  if (table.ndim !== 2 || table.shape[0] <= extra) throw new ShapeError(`${op}: expected a table [positions, heads] with more than ${extra} rows, got shape ${formatShape(table.shape)}`);
  const [rows, heads] = table.shape;
  const src = Math.floor(Math.sqrt(rows - extra));
  if (src * src !== rows - extra) throw new ShapeError(`${op}: ${rows - extra} offset rows (shape ${formatShape(table.shape)}, ${extra} extra) are not a square grid`);
  const dst: [number, number] = [2 * newWindow[0] - 1, 2 * newWindow[1] - 1];
  if (src === dst[0] && src === dst[1]) return table;
  let grid = reshape(transpose(cast(narrow(table, 0, 0, rows - extra), 'float32'), 0, 1), [heads, src, src]); // (heads, s, s)
  grid = resampleAlong(resampleAlong(grid, 1, offsetTaps(src, dst[0])), 2, offsetTaps(src, dst[1])); // (heads, dh, dw)
  const resized = cast(transpose(reshape(grid, [heads, dst[0] * dst[1]]), 0, 1), table.dtype); // (dh·dw, heads)
  return extra > 0 ? cat([resized, narrow(table, 0, rows - extra, extra)], 0) : contiguous(resized);
}
