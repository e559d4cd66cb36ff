/**
 * Helpers shared by the spatial op families (conv, pool): per-dim option lists and the
 * memory layout of activations. An activation [N, C, ...spatial] is either row-major or
 * dense channels-last (C innermost); the kernels run both without copies and an op's
 * output keeps its input's layout, as torch's memory-format propagation does.
 */
import { ArgumentError, formatShape } from '../../errors.ts';
import type { DType } from '../dtype.ts';
import { record } from '../autograd.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';
import { permute } from './shape.ts';

/** A size per spatial dim, or one size for all. */
export type SpatialArg = number | readonly number[];

/** Expands a SpatialArg to `nd` integers >= `min`, or throws ArgumentError naming op and option. */
export function spatialList(op: string, name: string, arg: SpatialArg, nd: number, min: number): number[] {
  const list = typeof arg === 'number' || arg.length === 1 ? new Array<number>(nd).fill(typeof arg === 'number' ? arg : arg[0]) : [...arg];
  if (list.length !== nd) throw new ArgumentError(`${op}: ${name} ${formatShape(list)} must have 1 or ${nd} entries`);
  for (const v of list) {
    if (!Number.isInteger(v) || v < min) {
      throw new ArgumentError(`${op}: ${name} must be ${min > 0 ? 'positive' : 'non-negative'} integers, got ${formatShape(list)}`);
    }
  }
  return list;
}

// Dims of an [N, C, ...spatial] tensor from outermost to innermost in channels-last order.
function channelsLastOrder(ndim: number): number[] {
  return [0, ...Array.from({ length: ndim - 2 }, (_, i) => i + 2), 1];
}

/** True when t is dense channels-last and not also row-major (a tensor can be both when C or the spatial size is 1). */
export function isChannelsLast(t: Tensor): boolean {
  if (t.ndim < 3 || t.isContiguous()) return false;
  let expected = 1;
  const order = channelsLastOrder(t.ndim);
  for (let k = order.length - 1; k >= 0; --k) {
    const d = order[k];
    if (t.shape[d] !== 1 && t.strides[d] !== expected) return false;
    expected *= t.shape[d];
  }
  return true;
}

/** A new [N, C, ...spatial] tensor for a kernel to write entirely (not cleared), laid out channels-last when asked. */
export function emptyActivation(shape: readonly number[], dtype: DType, channelsLast: boolean): Tensor {
  if (!channelsLast) return Tensor.uninitialized(shape, dtype);
  const order = channelsLastOrder(shape.length);
  const inverse = new Array<number>(order.length);
  order.forEach((d, k) => (inverse[d] = k));
  return permute(Tensor.uninitialized(order.map((d) => shape[d]), dtype), inverse);
}

/** t itself when it already has the asked layout, else a copy in it (not recorded by autograd). */
export function withLayout(t: Tensor, channelsLast: boolean): Tensor {
  if (channelsLast ? isChannelsLast(t) : t.isContiguous()) return t;
  const out = emptyActivation(t.shape, t.dtype, channelsLast);
  native.copy(t, out);
  return out;
}

/**
 * x laid out channels-last ([N, C, ...spatial] with C innermost; torch's
 * `contiguous(memory_format=channels_last)`), recorded by autograd; x itself when it already is.
 * Convolutions, norms and pools keep the layout, and oneDNN runs it without reorders.
 */
export function toChannelsLast(x: Tensor): Tensor {
  x.assertAlive('toChannelsLast');
  if (x.ndim < 3) throw new ArgumentError(`toChannelsLast: expected an [N, C, ...spatial] tensor, got shape ${formatShape(x.shape)}`);
  if (isChannelsLast(x)) return x;
  return record(withLayout(x.detach(), true), 'toChannelsLast', [x], (grad) => [grad]);
}
