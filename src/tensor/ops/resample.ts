/** Interpolation (torch.nn.functional.interpolate). */
import type { Tensor } from '../tensor.ts';
import { pending } from './pending.ts';

/** Interpolation modes. */
export type InterpolateMode = 'nearest' | 'linear' | 'bilinear' | 'bicubic' | 'trilinear';

/** Options of interpolate: exactly one of size and scaleFactor. */
export interface InterpolateOptions {
  size?: number | readonly number[];
  scaleFactor?: number | readonly number[];
  mode?: InterpolateMode;
  alignCorners?: boolean;
}

/** Resizes the spatial dims of x [N, C, ...spatial]. */
export function interpolate(x: Tensor, options: InterpolateOptions): Tensor { return pending('interpolate'); }
