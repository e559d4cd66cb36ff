/** Indexing ops: index_select, gather, scatter/index add, masked_fill, embedding. */
import type { Tensor } from '../tensor.ts';
import { pending } from './pending.ts';

/** Picks entries of `index` (int32/int64, 1-D) along dim. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor { return pending('indexSelect'); }
/** out[i][j] = x[index[i][j]][j] for dim 0 (torch.gather). */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor { return pending('gather'); }
/** A copy of x with src added at `index` along dim (torch.scatter_add). */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor { return pending('scatterAdd'); }
/** A copy of x with slices of src added at the 1-D `index` along dim (torch.index_add). */
export function indexAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor { return pending('indexAdd'); }
/** x with `value` where mask (bool, broadcast) is true. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor { return pending('maskedFill'); }
/** Rows of weight [num, dim] for integer ids of any shape → [...ids.shape, dim]. */
export function embedding(ids: Tensor, weight: Tensor): Tensor { return pending('embedding'); }
