/**
 * Seeds, configs and shapes of the MLP-Mixer and ConvMixer reference runs beyond the parity
 * cases (tools/reference/mixer-fixtures.ts writes them; test/models/mixer.test.ts and
 * convmixer.test.ts regenerate the same weights and inputs). Small configs keep the fixture
 * small and the checks fast; each one is built by timm from the same kwargs.
 */
import { ConvMixer, type ConvMixerConfig } from '../../src/models/convmixer.ts';
import { buildModel } from '../../src/models/index.ts';
import { MlpMixer, type MixerConfig } from '../../src/models/mlp-mixer.ts';
import type { Module } from '../../src/nn/module.ts';

/** A seeded input: shape and generator seed. */
export interface SeededShape {
  shape: [number, number, number, number];
  seed: number;
}

export const MIXER_EXTRA = {
  /** A small MlpMixer (timm MlpMixer(img_size=32, patch_size=8, num_blocks=3, embed_dim=32)): forward_intermediates' maps and tokens. */
  mixer: {
    config: { patchSize: 8, embedDim: 32, numBlocks: 3 } satisfies MixerConfig,
    imgSize: 32,
    numClasses: 10,
    seed: 21,
    input: { shape: [2, 3, 32, 32], seed: 22 } satisfies SeededShape,
  },
  /**
   * A small GELU ConvMixer at a size that is not a multiple of its patch (30 = 7·4 + 2,
   * 27 = 6·4 + 3): eval logits and every block's output.
   */
  convmixer: {
    config: { dim: 32, depth: 3, kernelSize: 5, patchSize: 4 } satisfies ConvMixerConfig,
    numClasses: 10,
    seed: 23,
    input: { shape: [2, 3, 30, 27], seed: 24 } satisfies SeededShape,
  },
  /**
   * A small ReLU ConvMixer in training mode (BatchNorm on batch statistics): logits, the running
   * statistics after that step, and the grads of sum(logits · cotangent).
   */
  convmixerTrain: {
    config: { dim: 24, depth: 2, kernelSize: 3, patchSize: 5, act: 'relu' } satisfies ConvMixerConfig,
    numClasses: 6,
    seed: 25,
    input: { shape: [3, 3, 23, 31], seed: 26 } satisfies SeededShape,
    cotangentSeed: 27,
    gradParams: ['stem.0.weight', 'stem.2.bias', 'blocks.0.0.fn.0.weight', 'blocks.0.0.fn.2.weight', 'blocks.1.1.weight', 'blocks.1.3.bias', 'head.weight'],
  },
  /** convmixer_768_32 itself (seeded as its parity case) at full size, not a multiple of 7: 230 → 32 rows, 221 → 31 columns. */
  full: { name: 'convmixer_768_32', numClasses: 1000, seed: 1, input: { shape: [1, 3, 230, 221], seed: 28 } satisfies SeededShape },
} as const;

/** The small MlpMixer of MIXER_EXTRA.mixer, unseeded. */
export function buildExtraMixer(): MlpMixer {
  const { config, imgSize, numClasses } = MIXER_EXTRA.mixer;
  return new MlpMixer(config, { imgSize, numClasses });
}

/** A small ConvMixer of MIXER_EXTRA, unseeded. */
export function buildExtraConvMixer(job: 'convmixer' | 'convmixerTrain'): ConvMixer {
  const { config, numClasses } = MIXER_EXTRA[job];
  return new ConvMixer(config, { numClasses });
}

/** The registry model of MIXER_EXTRA.full, unseeded. */
export function buildExtraFull(): Module {
  return buildModel(MIXER_EXTRA.full.name, { numClasses: MIXER_EXTRA.full.numClasses });
}
