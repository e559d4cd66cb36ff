/**
 * The skip path of a residual block. A fused kernel that adds the skip (a conv's sum post-op)
 * may write its output over the skip tensor when nothing reads it afterwards, as inference
 * engines reuse a dead skip buffer. Whether that holds is decided here, never in model code:
 * a projection the block just made is its own, and the block's input is dead only when the
 * block runner says so (src/nn/run-blocks.ts).
 */
import type { Tensor } from '../../tensor/tensor.ts';
import type { Module } from '../module.ts';
import { isDeadInput } from '../run-blocks.ts';

/** A residual block's skip tensor and whether the kernel that adds it may overwrite it. */
export interface Skip {
  readonly tensor: Tensor;
  readonly overwritable: boolean;
}

/** The skip of a block's input x: x itself, or `projection(x)` when the block changes shape. */
export function residualSkip(x: Tensor, projection: (Module & { forward(x: Tensor): Tensor }) | null): Skip {
  if (projection) return { tensor: projection.forward(x), overwritable: true };
  return { tensor: x, overwritable: isDeadInput(x) };
}
