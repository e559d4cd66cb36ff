/** Normalization on oneDNN: batch norm (train/eval), layer norm, group norm. */
import type { Tensor } from '../tensor.ts';
import { pending } from './pending.ts';

/** Options of batchNorm. */
export interface BatchNormOptions {
  /** Use batch statistics and update the running ones (in place, not recorded). */
  training?: boolean;
  momentum?: number;
  eps?: number;
}

/** x [N, C, ...]; running stats [C] may be null in training. */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, weight?: Tensor | null, bias?: Tensor | null, options?: BatchNormOptions): Tensor { return pending('batchNorm'); }
/** Normalizes over the trailing dims given by normalizedShape. */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor { return pending('layerNorm'); }
/** x [N, C, ...] normalized per sample over C/numGroups channels and all spatial positions. */
export function groupNorm(x: Tensor, numGroups: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor { return pending('groupNorm'); }
