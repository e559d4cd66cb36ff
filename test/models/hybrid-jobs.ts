/**
 * Seeds and shapes of the hybrid's extra reference runs (tools/reference/hybrid-fixtures.ts
 * writes them; test/models/hybrid.test.ts regenerates the same weights and inputs).
 */
import { createVitHybrid, VIT_HYBRID_VARIANTS } from '../../src/models/vit-hybrid.ts';
import type { VisionTransformer } from '../../src/models/vit.ts';

/** The hybrid's ResNetV2 backbone alone: feature maps at small even and odd sizes (small inputs keep the 1024-channel maps small), one backward pass. */
export const HYBRID_BACKBONE_JOB = {
  layers: [3, 4, 9],
  seed: 3,
  inputs: {
    // 32 → 16 (stem conv) → 8 (pool) → 8 → 4 → 2
    x32: { shape: [1, 3, 32, 32], seed: 4 },
    // odd in every stage: 35×27 → 18×14 → 9×7 → 9×7 → 5×4 → 3×2
    x35x27: { shape: [1, 3, 35, 27], seed: 5 },
    xgrad: { shape: [1, 3, 32, 24], seed: 6 },
    backward_cot: { shape: [1, 1024, 2, 2], seed: 7 },
  },
  forward: ['x32', 'x35x27'],
  backward: 'xgrad',
} as const satisfies {
  layers: readonly number[];
  seed: number;
  inputs: Record<string, { shape: readonly number[]; seed: number }>;
  forward: readonly string[];
  backward: string;
};

/** The whole hybrid off its native size, on seeded weights: both ways timm allows. */
export interface HybridModelJob {
  id: string;
  name: string;
  /** Built for this image size (timm's img_size=); pos_embed has that grid. */
  imgSize?: number;
  /** Built at the native size, resampling pos_embed to each input's grid (timm's dynamic_img_size=True). */
  dynamicImgSize?: boolean;
  numClasses: number;
  seed: number;
  inputSeed: number;
  inputShape: [number, number, number, number];
}

export const HYBRID_MODEL_JOBS: HybridModelJob[] = [
  // 100 px → 50 → 25 → 25 → 13 → 7: a 7×7 grid, odd sizes in every stage
  { id: 'img100', name: 'vit_base_r50_s16_224', imgSize: 100, numClasses: 10, seed: 11, inputSeed: 12, inputShape: [2, 3, 100, 100] },
  // 80×112 → a 5×7 grid on the 14×14 pos_embed, resampled per forward
  { id: 'dynamic', name: 'vit_base_r50_s16_224', dynamicImgSize: true, numClasses: 10, seed: 13, inputSeed: 14, inputShape: [1, 3, 80, 112] },
];

/** The model a job runs, built as timm builds it for that job. */
export function buildHybridForJob(job: HybridModelJob): VisionTransformer {
  const config = VIT_HYBRID_VARIANTS[job.name as keyof typeof VIT_HYBRID_VARIANTS];
  return createVitHybrid(config, { numClasses: job.numClasses, imgSize: job.imgSize, dynamicImgSize: job.dynamicImgSize });
}
