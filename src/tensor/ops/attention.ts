/** Scaled dot-product attention. */
import type { Tensor } from '../tensor.ts';
import type { Generator } from '../random.ts';
import { pending } from './pending.ts';

/** Options of scaledDotProductAttention. */
export interface AttentionOptions {
  /** Additive float mask, or a bool mask where true means "may attend"; broadcasts to [..., L, S]. */
  attnMask?: Tensor | null;
  isCausal?: boolean;
  /** Defaults to 1/sqrt(head dim). */
  scale?: number;
  dropoutP?: number;
  generator?: Generator;
}

/** softmax(q·kᵀ·scale + mask)·v for q [..., L, E], k [..., S, E], v [..., S, Ev]. */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options?: AttentionOptions): Tensor { return pending('scaledDotProductAttention'); }
