/**
 * Seeds and shapes of the hybrid's extra reference runs (tools/reference/hybrid-fixtures.ts
 * writes them; test/models/hybrid.test.ts regenerates the same weights and inputs).
 */

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

/** The whole hybrid built for a non-native image size (timm's img_size=): 100 → a 7×7 token grid. */
export const HYBRID_RESIZED_JOB = {
  name: 'vit_base_r50_s16_224',
  reference: 'vit_base_r50_s16_224',
  imgSize: 100,
  numClasses: 10,
  seed: 11,
  inputSeed: 12,
  inputShape: [1, 3, 100, 100] as [number, number, number, number],
};
