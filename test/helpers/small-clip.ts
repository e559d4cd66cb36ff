/** A small seeded CLIP (ViT 32 px, 32-wide embeddings) as a registry-like Model, for task and CLI tests. */
import * as T from '../../src/index.ts';
import { seedStateDict } from './seeded.ts';

/** The small CLIP's architecture. */
export const SMALL_CLIP: T.ClipConfig = {
  embedDim: 32,
  vision: { type: 'vit', imageSize: 32, patchSize: 8, width: 64, layers: 2, heads: 2 },
  text: { width: 64, heads: 2, layers: 2 },
};

/** Its preprocessing: 32 px, bicubic, no crop margin. */
export const SMALL_CLIP_PREPROCESS = { inputSize: [3, 32, 32] as [number, number, number], cropPct: 1, interpolation: 'bicubic' as const, mean: [0.48, 0.46, 0.41], std: [0.27, 0.26, 0.28] };

/** The small CLIP with weights drawn from `seed`, named `small_clip.test`. */
export function smallClip(seed = 5): T.Model<T.CLIP> {
  const clip = new T.CLIP(SMALL_CLIP);
  seedStateDict(clip, seed);
  const pretrainedCfg = { numClasses: 0, preprocess: { image: SMALL_CLIP_PREPROCESS, text: { tokenizer: 'clip-bpe' as const, contextLength: 77 } } };
  return Object.assign(clip, { modelName: 'small_clip.test', pretrainedCfg, entry: null as never, spec: null as never }) as T.Model<T.CLIP>;
}
