/**
 * PatchMerging: the 2× downsampling between hierarchical transformer stages (Swin; timm
 * `models/swin_transformer.py` PatchMerging, torchvision `PatchMerging`, same names): each 2×2
 * neighbourhood of a channels-last grid is concatenated on channels — (even row, even col),
 * (odd row, even col), (even row, odd col), (odd row, odd col), the order both references
 * use — then `norm` LayerNorm(4·C) and `reduction` Linear(4·C → outDim, no bias).
 */
import { formatShape, ShapeError } from '../../errors.ts';
import { contiguous, pad, permute, reshape } from '../../tensor/ops/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { checkInt, type FactoryOptions } from '../layers/common.ts';
import type { UnaryModule } from '../layers/containers.ts';
import { Linear } from '../layers/linear.ts';
import { LayerNorm } from '../layers/norm.ts';
import { Module } from '../module.ts';

/** Options of PatchMerging. */
export interface PatchMergingOptions extends FactoryOptions {
  /** Output channels (default 2·dim). */
  outDim?: number;
  /** Builds the norm over 4·dim channels (default LayerNorm, eps 1e-5). */
  normLayer?: (dim: number) => UnaryModule;
}

/** Grid [B, H, W, C] → [B, ⌈H/2⌉, ⌈W/2⌉, outDim]; odd sides are zero padded at the end first. */
export class PatchMerging extends Module {
  readonly dim: number;
  readonly outDim: number;
  readonly norm: UnaryModule;
  readonly reduction: Linear;

  constructor(dim: number, options: PatchMergingOptions = {}) {
    super();
    checkInt('PatchMerging', 'dim', dim, 1);
    this.dim = dim;
    this.outDim = options.outDim ?? 2 * dim;
    checkInt('PatchMerging', 'outDim', this.outDim, 1);
    this.norm = this.module('norm', options.normLayer ? options.normLayer(4 * dim) : new LayerNorm(4 * dim, { dtype: options.dtype }));
    this.reduction = this.module('reduction', new Linear(4 * dim, this.outDim, { bias: false, dtype: options.dtype, generator: options.generator }));
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[3] !== this.dim) {
      throw new ShapeError(`PatchMerging: expected a grid [B, H, W, ${this.dim}], got shape ${formatShape(x.shape)}`);
    }
    const [B, H, W, C] = x.shape;
    if (H % 2 !== 0 || W % 2 !== 0) x = pad(x, [0, 0, 0, W % 2, 0, H % 2]); // (B, H', W', C), even
    const [h, w] = [Math.ceil(H / 2), Math.ceil(W / 2)];
    const split = reshape(x, [B, h, 2, w, 2, C]); // (B, h, rowOffset, w, colOffset, C)
    const merged = reshape(contiguous(permute(split, [0, 1, 3, 4, 2, 5])), [B, h, w, 4 * C]); // (B, h, w, [colOffset, rowOffset, C])
    return this.reduction.forward(this.norm.forward(merged));
  }
}
