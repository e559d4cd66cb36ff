import type { NativeTensor } from './core.d.ts';

export interface NativeImage {
  /**
   * Pillow-exact resize of a contiguous uint8 [H, W, C] image into dst [outH, outW, C]
   * from the source box [x0, y0, x1, y1]; filter codes are RESAMPLE_FILTER in src/io/image.ts.
   */
  resizeImage(src: NativeTensor, dst: NativeTensor, filter: number, box: readonly number[]): void;
}
