/**
 * Padding geometry shared by conv and pool layers: PyTorch-style symmetric padding and
 * TensorFlow's 'SAME' padding (timm `layers/padding.py`), which depends on the input size and
 * puts the odd unit after the data. Ported checkpoints from TF/JAX (the R50+ViT hybrid, BiT,
 * EfficientNet-TF) need the exact TF geometry to reproduce their outputs.
 */
import { ArgumentError, formatShape } from '../../errors.ts';
import { pad } from '../../tensor/ops/shape.ts';
import type { Tensor } from '../../tensor/tensor.ts';

/** Symmetric per-side padding that keeps a stride-1 output the input's size (timm's get_padding). */
export function symmetricPadding(kernel: number, stride = 1, dilation = 1): number {
  return Math.floor((stride - 1 + dilation * (kernel - 1)) / 2);
}

/** Whether TF 'SAME' padding is the same for every input size (stride 1 and an even padded span). */
export function isStaticSamePadding(kernel: number, stride = 1, dilation = 1): boolean {
  return stride === 1 && (dilation * (kernel - 1)) % 2 === 0;
}

/**
 * TF 'SAME' padding of one dim of size `size`: the output has ceil(size / stride) positions and
 * the padding they need is split with the smaller half first. Returns [before, after].
 */
export function samePadding(size: number, kernel: number, stride = 1, dilation = 1): [number, number] {
  for (const [what, v, min] of [['size', size, 0], ['kernel', kernel, 1], ['stride', stride, 1], ['dilation', dilation, 1]] as const) {
    if (!Number.isInteger(v) || v < min) throw new ArgumentError(`samePadding: ${what} must be an integer >= ${min}, got ${v}`);
  }
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/**
 * Pads the last two dims of x [..., H, W] with `value` as TF 'SAME' needs for a 2-D window
 * (timm's pad_same); returns x itself when no padding is needed.
 */
export function padSame(x: Tensor, kernel: readonly number[], stride: readonly number[], dilation: readonly number[] = [1, 1], value = 0): Tensor {
  if (x.ndim < 2) throw new ArgumentError(`padSame: expected an input with at least 2 dims [..., H, W], got shape ${formatShape(x.shape)}`);
  const [top, bottom] = samePadding(x.shape[x.ndim - 2], kernel[0], stride[0], dilation[0]);
  const [left, right] = samePadding(x.shape[x.ndim - 1], kernel[1], stride[1], dilation[1]);
  if (top + bottom + left + right === 0) return x;
  return pad(x, [left, right, top, bottom], 'constant', value);
}
