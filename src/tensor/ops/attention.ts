/**
 * Scaled dot-product attention composed from matmul, where and softmax. It is the
 * reference ("composed twin") that any fused attention kernel is tested against, so it
 * follows torch.nn.functional.scaled_dot_product_attention's math definition literally.
 */
import { ArgumentError, DTypeError, formatShape, ShapeError } from '../../errors.ts';
import { isFloating, promoteTypes } from '../dtype.ts';
import type { Generator } from '../random.ts';
import type { Tensor } from '../tensor.ts';
import { arange } from '../creation.ts';
import { dropout, softmax } from './activation.ts';
import { add, cast, ge } from './elementwise.ts';
import { matmul, scaledMatmul } from './linalg.ts';
import { broadcastShapes, reshape, shapeEquals, transpose } from './shape.ts';
import { where } from './unary.ts';

/** Options of scaledDotProductAttention. */
export interface AttentionOptions {
  /** Additive float mask, or a bool mask where true means "may attend"; broadcasts to [..., L, S]. */
  attnMask?: Tensor | null;
  /** Lets query i attend to keys 0..i only (a lower-triangular [L, S] mask); excludes attnMask. */
  isCausal?: boolean;
  /** Defaults to 1/sqrt(head dim). */
  scale?: number;
  /** Dropout on the attention weights (always applied when > 0, as in torch). */
  dropoutP?: number;
  generator?: Generator;
}

const OP = 'scaledDotProductAttention';

/** softmax(q·kᵀ·scale + mask)·v for q [..., L, E], k [..., S, E], v [..., S, Ev]; batch dims broadcast. */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  const { attnMask = null, isCausal = false, dropoutP = 0, generator } = options;
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    t.assertAlive(OP);
    if (t.ndim < 2) throw new ShapeError(`${OP}: ${name} has shape ${formatShape(t.shape)}, expected rank >= 2`);
    if (!isFloating(t.dtype)) throw new DTypeError(`${OP}: ${name} has dtype ${t.dtype}, expected float32 or bfloat16`);
  }
  const [L, E] = q.shape.slice(-2);
  const [S, Ek] = k.shape.slice(-2);
  if (Ek !== E) throw new ShapeError(`${OP}: q has head dim ${E} (shape ${formatShape(q.shape)}) but k has ${Ek} (shape ${formatShape(k.shape)})`);
  if (v.shape[v.ndim - 2] !== S) {
    throw new ShapeError(`${OP}: k has length ${S} (shape ${formatShape(k.shape)}) but v has ${v.shape[v.ndim - 2]} (shape ${formatShape(v.shape)})`);
  }
  const batch = broadcastShapes(OP, q.shape.slice(0, -2), k.shape.slice(0, -2), v.shape.slice(0, -2));
  if (attnMask && isCausal) throw new ArgumentError(`${OP}: pass either attnMask or isCausal, not both`);
  if (typeof dropoutP !== 'number' || !(dropoutP >= 0 && dropoutP <= 1)) throw new ArgumentError(`${OP}: dropoutP must be in [0, 1], got ${dropoutP}`);
  const scale = options.scale ?? 1 / Math.sqrt(E);
  if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new ArgumentError(`${OP}: scale must be a finite number, got ${scale}`);

  const dtype = promoteTypes(promoteTypes(q.dtype, k.dtype), v.dtype);
  const scoresShape = [...batch, L, S];
  let scores = scaledMatmul(cast(q, dtype), transpose(cast(k, dtype), -2, -1), scale); // (..., L, S)
  let mask = attnMask;
  if (isCausal) mask = ge(reshape(arange(L), [L, 1]), reshape(arange(S), [1, S]));
  if (mask) {
    mask.assertAlive(OP);
    if (mask.dtype !== 'bool' && !isFloating(mask.dtype)) throw new DTypeError(`${OP}: attnMask has dtype ${mask.dtype}, expected bool or a float dtype`);
    let fits: boolean;
    try {
      fits = shapeEquals(broadcastShapes(OP, mask.shape, scoresShape), scoresShape);
    } catch {
      fits = false;
    }
    if (!fits) throw new ShapeError(`${OP}: attnMask has shape ${formatShape(mask.shape)}, which does not broadcast to the scores' shape ${formatShape(scoresShape)}`);
    scores = mask.dtype === 'bool' ? where(mask, scores, -Infinity) : add(scores, cast(mask, dtype));
  }
  let weights = softmax(scores, -1);
  if (dropoutP > 0) weights = dropout(weights, dropoutP, true, generator);
  return matmul(weights, cast(v, dtype));
}
