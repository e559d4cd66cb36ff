/** Pooling on oneDNN: max/avg pool 1d/2d/3d and adaptive average pooling. */
import type { Tensor } from '../tensor.ts';
import type { SpatialArg } from './conv.ts';
import { pending } from './pending.ts';

/** Options of maxPoolNd. */
export interface MaxPoolOptions {
  kernelSize: SpatialArg;
  /** Defaults to kernelSize. */
  stride?: SpatialArg;
  padding?: SpatialArg;
  dilation?: SpatialArg;
  ceilMode?: boolean;
}

/** Options of avgPoolNd. */
export interface AvgPoolOptions {
  kernelSize: SpatialArg;
  stride?: SpatialArg;
  padding?: SpatialArg;
  ceilMode?: boolean;
  /** Count padded zeros in the divisor (torch default true). */
  countIncludePad?: boolean;
  divisorOverride?: number;
}

export function maxPool1d(x: Tensor, options: MaxPoolOptions): Tensor { return pending('maxPool1d'); }
export function maxPool2d(x: Tensor, options: MaxPoolOptions): Tensor { return pending('maxPool2d'); }
export function maxPool3d(x: Tensor, options: MaxPoolOptions): Tensor { return pending('maxPool3d'); }
export function avgPool1d(x: Tensor, options: AvgPoolOptions): Tensor { return pending('avgPool1d'); }
export function avgPool2d(x: Tensor, options: AvgPoolOptions): Tensor { return pending('avgPool2d'); }
export function avgPool3d(x: Tensor, options: AvgPoolOptions): Tensor { return pending('avgPool3d'); }
/** Average pooling to a fixed output size (torch's bin edges floor(i·L/out)..ceil((i+1)·L/out)). */
export function adaptiveAvgPool1d(x: Tensor, outputSize: SpatialArg): Tensor { return pending('adaptiveAvgPool1d'); }
export function adaptiveAvgPool2d(x: Tensor, outputSize: SpatialArg): Tensor { return pending('adaptiveAvgPool2d'); }
export function adaptiveAvgPool3d(x: Tensor, outputSize: SpatialArg): Tensor { return pending('adaptiveAvgPool3d'); }
