/**
 * The MViTv2 checks beyond the generic parity cases (test/models/mvitv2.test.ts), shared with their
 * fixture generator tools/reference/mvitv2-fixtures.ts: which seeded model and inputs the reference
 * runs on, and which sizes it is asked to take.
 */

/** Seeds, shapes and sizes of test/fixtures/models/mvitv2-extra.safetensors. */
export const MVIT_EXTRA = {
  /** Weights seed of the seeded mvitv2_tiny (built at 224 px). */
  seed: 1,
  /** Head width (small logits keep the fixture small). */
  numClasses: 10,
  /** Inputs below the built size, non-square, with grids whose query/key ratios are not integers. */
  sizes: [
    { name: '192x160', shape: [1, 3, 192, 160], seed: 21 },
    { name: '100x61', shape: [1, 3, 100, 61], seed: 22 },
  ],
  /** A model built at 256 px loading the 224 px checkpoint (rel-pos tables resampled on load). */
  resized: { imgSize: 256, shape: [1, 3, 256, 256], seed: 23 },
  /** forward_intermediates input (small maps keep the fixture small). */
  intermediates: { shape: [1, 3, 64, 64], seed: 24 },
  /** Input sides timm is run at on the 224 px build (square inputs): which it takes. */
  sides: [64, 223, 224, 225, 232],
  /** Image sizes timm builds mvitv2_tiny at and runs at that size: which work. */
  builds: [192, 200, 208, 256],
  /** Rel-pos tables compared after timm's checkpoint_filter_fn resamples them for the 256 px build. */
  filterKeys: ['stages.0.blocks.0.attn.rel_pos_h', 'stages.2.blocks.0.attn.rel_pos_w', 'stages.3.blocks.1.attn.rel_pos_h'],
} as const;
