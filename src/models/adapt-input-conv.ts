/**
 * A pretrained first conv for another number of input channels, as timm's adapt_input_conv
 * (models/_manipulate.py) does when a model is built with in_chans != 3: one channel sums the
 * RGB filters (per group of three when the conv has more inputs), other counts tile the RGB
 * filters and scale them by 3 / inChans so the activation's scale stays the same.
 */
import { ArgumentError, formatShape, ShapeError } from '../errors.ts';
import { noGrad } from '../tensor/autograd.ts';
import { cast, mul } from '../tensor/ops/elementwise.ts';
import { sum } from '../tensor/ops/reduce.ts';
import { cat, contiguous, narrow, reshape } from '../tensor/ops/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** A conv weight [O, I, kh, kw] adapted to inChans inputs (timm's adapt_input_conv), computed in float32 and returned in the weight's dtype. */
export function adaptInputConv(inChans: number, weight: Tensor): Tensor {
  if (!Number.isInteger(inChans) || inChans < 1) throw new ArgumentError(`adaptInputConv: inChans must be a positive integer, got ${inChans}`);
  if (weight.ndim !== 4) throw new ShapeError(`adaptInputConv: expected a conv weight [O, I, kh, kw], got ${formatShape(weight.shape)}`);
  const [o, i, kh, kw] = weight.shape;
  return noGrad(() => {
    const w = cast(weight.detach(), 'float32');
    let adapted: Tensor;
    if (inChans === 1) {
      if (i > 3 && i % 3 !== 0) throw new ShapeError(`adaptInputConv: a first conv with ${i} inputs cannot be summed per RGB group for 1 channel (needs a multiple of 3)`);
      adapted = i > 3 ? sum(reshape(w, [o, i / 3, 3, kh, kw]), 2) : sum(w, 1, true);
    } else if (inChans !== 3) {
      if (i !== 3) throw new ShapeError(`adaptInputConv: only an RGB first conv (3 inputs) can be tiled to ${inChans} channels, this one has ${i}`);
      const tiles = Array.from({ length: Math.ceil(inChans / 3) }, () => w);
      adapted = mul(narrow(cat(tiles, 1), 1, 0, inChans), 3 / inChans);
    } else {
      adapted = w;
    }
    return contiguous(cast(adapted, weight.dtype));
  });
}
