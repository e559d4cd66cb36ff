/** Convolutions on oneDNN: conv1d/2d/3d and transposed conv1d/2d/3d, forward and backward. */
import type { Tensor } from '../tensor.ts';
import { pending } from './pending.ts';

/** A size per spatial dim, or one size for all. */
export type SpatialArg = number | readonly number[];

/** Options of convNd (torch.nn.functional.convNd). */
export interface ConvOptions {
  stride?: SpatialArg;
  /** Zero padding per side, or 'valid' (none) / 'same' (output size = input size, stride 1). */
  padding?: SpatialArg | 'valid' | 'same';
  dilation?: SpatialArg;
  groups?: number;
}

/** Options of convTransposeNd. */
export interface ConvTransposeOptions {
  stride?: SpatialArg;
  padding?: SpatialArg;
  outputPadding?: SpatialArg;
  dilation?: SpatialArg;
  groups?: number;
}

/** x [N, C, L], weight [O, C/groups, k]. */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvOptions): Tensor { return pending('conv1d'); }
/** x [N, C, H, W], weight [O, C/groups, kH, kW]. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvOptions): Tensor { return pending('conv2d'); }
/** x [N, C, D, H, W], weight [O, C/groups, kD, kH, kW]. */
export function conv3d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvOptions): Tensor { return pending('conv3d'); }
/** x [N, C, L], weight [C, O/groups, k]. */
export function convTranspose1d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvTransposeOptions): Tensor { return pending('convTranspose1d'); }
/** x [N, C, H, W], weight [C, O/groups, kH, kW]. */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvTransposeOptions): Tensor { return pending('convTranspose2d'); }
/** x [N, C, D, H, W], weight [C, O/groups, kD, kH, kW]. */
export function convTranspose3d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvTransposeOptions): Tensor { return pending('convTranspose3d'); }
