/**
 * Feature-extractor parity cases (timm's features_only): the registry model, the levels asked
 * for, and what the fixture keeps. Fixtures: tools/reference/features-fixtures.ts. A case whose
 * `part` is 'hybrid-stem' checks the R50+ViT hybrid's ResNetV2 backbone (patch_embed.backbone).
 */
export interface FeatureParityCase {
  /** Fixture id (test/fixtures/features/<id>.safetensors). */
  id: string;
  /** Registry name. */
  name: string;
  outIndices?: number[];
  part?: 'hybrid-stem';
  seed: number;
  inputSeed: number;
  inputShape: [number, number, number, number];
}

/** Channels of each level kept in fixtures: later levels mix every channel of earlier ones, so a slice still checks them all. */
export const FEATURE_CHANNELS_KEPT = 16;

export const FEATURE_PARITY_CASES: FeatureParityCase[] = [
  { id: 'resnet50-1-2-3', name: 'resnet50', outIndices: [1, 2, 3], seed: 1, inputSeed: 2, inputShape: [1, 3, 64, 80] },
  { id: 'resnet50-all', name: 'resnet50', seed: 1, inputSeed: 2, inputShape: [2, 3, 64, 64] },
  { id: 'vit_small-3-7-11', name: 'vit_small_patch16_224', outIndices: [3, 7, 11], seed: 1, inputSeed: 2, inputShape: [1, 3, 224, 224] },
  // timm's Swin features are NHWC; the fixture holds them permuted to NCHW, as tsvision returns every level.
  { id: 'swin_tiny-1-2-3', name: 'swin_tiny_patch4_window7_224', outIndices: [1, 2, 3], seed: 1, inputSeed: 2, inputShape: [1, 3, 224, 224] },
  { id: 'swin_tiny-all', name: 'swin_tiny_patch4_window7_224', seed: 1, inputSeed: 3, inputShape: [1, 3, 224, 224] },
  { id: 'mvitv2_tiny-1-2-3', name: 'mvitv2_tiny', outIndices: [1, 2, 3], seed: 1, inputSeed: 2, inputShape: [1, 3, 224, 224] },
  { id: 'mvitv2_tiny-all', name: 'mvitv2_tiny', seed: 1, inputSeed: 3, inputShape: [1, 3, 224, 224] },
  { id: 'hybrid-stem-all', name: 'vit_base_r50_s16_224', part: 'hybrid-stem', seed: 1, inputSeed: 2, inputShape: [1, 3, 64, 64] },
];
