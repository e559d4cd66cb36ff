/**
 * The XCiT checks beyond the generic parity cases (test/models/xcit.test.ts), shared with their
 * fixture generator tools/reference/xcit-fixtures.ts: which seeded layers, models and inputs
 * the reference runs on, and the official checkpoint layout built from our own state dict.
 */
import type { StateDict } from '../../src/nn/module.ts';
import { cat } from '../../src/tensor/ops/shape.ts';

/** Seeds and shapes of the extra fixture (test/fixtures/models/xcit-extra.safetensors). */
export const XCIT_EXTRA = {
  /** Weights seed of every seeded layer and model here. */
  seed: 1,
  /** Head width of the models here (small logits keep the fixture small). */
  numClasses: 10,
  /** Fourier encodings: the raw features (hidden 32, identity projection) and a seeded projection to `dim`, per grid. */
  fourier: { dim: 16, grids: [[14, 14], [5, 9], [1, 1], [3, 48]] as [number, number][] },
  /** XCA(dim, heads) on tokens [B, N, dim]; `zeroChannel` also zeroes q's channel 0 of head 0 (F.normalize's eps). */
  xca: { dim: 32, heads: 4, input: { shape: [2, 10, 32], seed: 2 }, cotangent: { shape: [2, 10, 32], seed: 3 } },
  /** xcit_nano_12_p16_224 at its own size (avg pooling, train mode, intermediates, official checkpoint). */
  input: { shape: [2, 3, 224, 224], seed: 2 },
  /** Another size, non-square (grids 10×16 at p16 and 20×32 at p8): XCiT takes any multiple of its patch. */
  otherSize: { shape: [2, 3, 160, 256], seed: 4 },
  /** Block indices asked of forwardIntermediates (normed, NCHW). */
  intermediates: [0, 5, 11],
} as const;

/**
 * A state dict in the official facebookresearch/xcit layout, made from one in timm's: the
 * encoding named `pos_embeder.*` and each class-attention q, k, v fused into `attn.qkv` (rows
 * q, then k, then v), in timm's key order otherwise.
 */
export function officialXcitCheckpoint(sd: StateDict): StateDict {
  const out: StateDict = new Map();
  for (const [key, value] of sd) {
    const split = /^(cls_attn_blocks\.\d+\.attn)\.([qkv])\.(weight|bias)$/.exec(key);
    if (!split) {
      out.set(key.replace(/^pos_embed\./, 'pos_embeder.'), value);
      continue;
    }
    const [, prefix, which, kind] = split;
    if (which !== 'q') continue;
    out.set(`${prefix}.qkv.${kind}`, cat(['q', 'k', 'v'].map((p) => sd.get(`${prefix}.${p}.${kind}`)!), 0));
  }
  return out;
}
