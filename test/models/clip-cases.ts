/**
 * CLIP parity cases: one per registry variant, on seeded weights, checked against openai/CLIP
 * (fixtures: tools/reference/clip-fixtures.ts → tools/reference/clip_model.py). Each case runs a
 * batch of images at the variant's own size and three texts of different lengths, tokenised as
 * clip.tokenize lays them out: SOT, random ids, EOT, zeros up to 77. Cases marked `full` run only
 * in the extended suite (npm run test:full).
 */
import { randint } from '../../src/tensor/creation.ts';
import { Generator } from '../../src/tensor/random.ts';
import { tensor } from '../../src/tensor/creation.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { CLIP_EOT_ID, CLIP_SOT_ID } from '../../src/models/clip.ts';

export interface ClipParityCase {
  /** Fixture id (file name under test/fixtures/clip). */
  id: string;
  /** Registry name. */
  name: string;
  seed: number;
  inputSeed: number;
  /** Images in the batch. */
  images: number;
  /** Tokens of each text, SOT and EOT included (at most 77). */
  textLengths: number[];
  /** Parameters whose gradient of sum(logits_per_image · cotangent) is checked (first CLIP_GRAD_ELEMENTS values). */
  gradParams: string[];
  /** Too slow for CI: extended suite only. */
  full?: boolean;
}

/** Side of the pixel-gradient corner kept in fixtures. */
export const CLIP_GRAD_CROP = 16;
/** Flattened parameter-gradient values kept in fixtures. */
export const CLIP_GRAD_ELEMENTS = 2048;
/** Seed offset of the cotangent [images, texts] from the case's input seed. */
export const CLIP_COTANGENT_SEED_OFFSET = 100;
/** Seed offset of the token ids from the case's input seed. */
export const CLIP_IDS_SEED_OFFSET = 200;
/** OpenAI's context length. */
export const CLIP_CONTEXT = 77;

const TEXT_LENGTHS = [6, 19, CLIP_CONTEXT];

// Gradients reach the image stem, an image-tower attention, a text block and the temperature.
const vit = (name: string, extra: Partial<ClipParityCase> = {}): ClipParityCase => ({
  id: name, name, seed: 11, inputSeed: 12, images: 2, textLengths: TEXT_LENGTHS, full: true,
  gradParams: ['visual.conv1.weight', 'visual.transformer.resblocks.0.attn.in_proj_weight', 'transformer.resblocks.0.mlp.c_fc.weight', 'logit_scale'],
  ...extra,
});
const resnet = (name: string, extra: Partial<ClipParityCase> = {}): ClipParityCase => ({
  id: name, name, seed: 11, inputSeed: 12, images: 2, textLengths: TEXT_LENGTHS, full: true,
  gradParams: ['visual.conv1.weight', 'visual.attnpool.q_proj.weight', 'transformer.resblocks.0.attn.in_proj_weight', 'logit_scale'],
  ...extra,
});

export const CLIP_PARITY_CASES: ClipParityCase[] = [
  vit('clip_vit_base_patch32', { full: false }),
  resnet('clip_rn50', { full: false }),
  vit('clip_vit_base_patch16'),
  vit('clip_vit_large_patch14'),
  vit('clip_vit_large_patch14_336', { images: 1 }),
  resnet('clip_rn101'),
  resnet('clip_rn50x4'),
  resnet('clip_rn50x16'),
  resnet('clip_rn50x64', { images: 1 }),
  vit('clip_vit_tiny_patch8_48', { full: false, images: 3 }),
];

/** Token id rows [texts, 77] as clip.tokenize pads them: SOT, random ids in [1, SOT), EOT, zeros. */
export function clipTextIds(lengths: readonly number[], seed: number): Tensor {
  const g = new Generator(seed);
  const rows = lengths.map((n) => {
    const inner = randint(1, CLIP_SOT_ID, [n - 2], { generator: g, dtype: 'int64' }).tolist() as number[];
    return [CLIP_SOT_ID, ...inner, CLIP_EOT_ID, ...new Array<number>(CLIP_CONTEXT - n).fill(0)];
  });
  return tensor(rows, { dtype: 'int64' });
}

/** The position-table resampling fixture: a seeded [50, 64] table (a 7×7 grid and a class row) resized to these grids. */
export const RESAMPLE_CASE = { id: 'pos-embed-resample', seed: 21, rows: 50, width: 64, grids: [9, 4] } as const;
