import type { NativeTensor } from './core.d.ts';

export interface NativeImage {
  /**
   * Pillow-exact resize of a contiguous uint8 [H, W, C] image into dst [outH, outW, C]
   * from the source box [x0, y0, x1, y1]; filter codes are RESAMPLE_FILTER in src/io/image.ts.
   */
  resizeImage(src: NativeTensor, dst: NativeTensor, filter: number, box: readonly number[]): void;
  /**
   * Pillow-exact Image.transform(AFFINE) of a contiguous uint8 [H, W, C] image into dst [outH, outW, C]:
   * dst[y, x] samples src at matrix · (x + ½, y + ½) with filter 0 (nearest), 2 (bilinear) or 4 (bicubic);
   * pixels mapping outside src get `fill` (one value per channel).
   */
  affineImage(src: NativeTensor, dst: NativeTensor, filter: number, matrix: readonly number[], fill: readonly number[]): void;
  /** Pillow-exact RGB → HSV → RGB round trip of a contiguous uint8 [H, W, 3] image with the hue byte shifted by `shift` (0..255, mod 256). */
  adjustHueImage(src: NativeTensor, dst: NativeTensor, shift: number): void;
}
