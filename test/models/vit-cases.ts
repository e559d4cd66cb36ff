/**
 * The ViT/DeiT checks beyond the generic parity cases (test/models/vit.test.ts), shared with
 * their fixture generator tools/reference/vit-fixtures.ts: which seeded models and inputs the
 * reference runs on, and torchvision-named checkpoints built in torchvision's own key layout.
 */
import { empty } from '../../src/tensor/creation.ts';
import type { StateDict } from '../../src/nn/module.ts';
import { TORCHVISION_VIT_VARIANTS, type VitConfig } from '../../src/models/vit.ts';
import { seedTensors } from '../helpers/seeded.ts';

/** Seeds and shapes of the extra fixture (test/fixtures/models/vit-extra.safetensors). */
export const VIT_EXTRA = {
  /** Weights seed of every seeded model here. */
  seed: 1,
  /** Head width of the models here (small logits keep the fixture small). */
  numClasses: 10,
  /** vit_tiny / deit_tiny input at the native size. */
  input: { shape: [2, 3, 224, 224], seed: 2 },
  /** Non-native, non-square size run with dynamicImgSize (grid 10×16). */
  dynamicInput: { shape: [2, 3, 160, 256], seed: 4 },
  /** A model built for 288 px loading the 224 px checkpoint (pos_embed resampled on load). */
  imgSize: 288,
  resizedInput: { shape: [1, 3, 288, 288], seed: 5 },
  /** Gradient check: vit_tiny on one image, fixed cotangent on the logits. */
  gradInput: { shape: [1, 3, 224, 224], seed: 2 },
  cotangent: { shape: [1, 10], seed: 3 },
  /** Parameters whose grads are compared with torch autograd (full tensors, or their first rows). */
  gradParams: [
    'cls_token', 'patch_embed.proj.bias', 'blocks.0.norm1.weight', 'blocks.0.attn.qkv.bias', 'blocks.5.mlp.fc1.bias',
    'blocks.11.attn.proj.bias', 'blocks.11.mlp.fc2.bias', 'norm.weight', 'norm.bias', 'head.bias',
  ],
  gradRows: { pos_embed: 3, 'head.weight': 2, 'blocks.3.attn.qkv.weight': 2, 'patch_embed.proj.weight': 1 } as Record<string, number>,
} as const;

/** A torchvision ViT checked against torchvision itself from a checkpoint in torchvision's names. */
export interface TorchvisionVitCase {
  name: keyof typeof TORCHVISION_VIT_VARIANTS;
  inputShape: [number, number, number, number];
  inputSeed: number;
  seed: number;
  full?: boolean;
}

export const TORCHVISION_VIT_CASES: TorchvisionVitCase[] = [
  { name: 'vit_b_16', inputShape: [1, 3, 224, 224], inputSeed: 2, seed: 1 },
  { name: 'vit_b_32', inputShape: [2, 3, 224, 224], inputSeed: 2, seed: 1 },
  { name: 'vit_l_16', inputShape: [1, 3, 224, 224], inputSeed: 2, seed: 1, full: true },
  { name: 'vit_l_32', inputShape: [1, 3, 224, 224], inputSeed: 2, seed: 1, full: true },
  // Input 7: its top two logits are 0.66 apart; input 2's were 0.0135 apart, inside bf16's error, so bf16 top-1 flipped.
  { name: 'vit_h_14', inputShape: [1, 3, 224, 224], inputSeed: 7, seed: 1, full: true },
];

/**
 * A seeded checkpoint with torchvision's key names and order (torchvision's VisionTransformer
 * state_dict), written without our model or remapper, so that loading it checks the remapper.
 */
export function torchvisionVitCheckpoint(config: VitConfig, numClasses: number, seed: number): StateDict {
  const D = config.embedDim;
  const hidden = D * (config.mlpRatio ?? 4);
  const p = config.patchSize;
  const tokens = (Math.floor((config.imgSize ?? 224) / p)) ** 2 + 1;
  const shapes: [string, number[]][] = [
    ['class_token', [1, 1, D]],
    ['conv_proj.weight', [D, 3, p, p]],
    ['conv_proj.bias', [D]],
    ['encoder.pos_embedding', [1, tokens, D]],
  ];
  for (let i = 0; i < config.depth; ++i) {
    const layer = `encoder.layers.encoder_layer_${i}`;
    shapes.push(
      [`${layer}.ln_1.weight`, [D]], [`${layer}.ln_1.bias`, [D]],
      [`${layer}.self_attention.in_proj_weight`, [3 * D, D]], [`${layer}.self_attention.in_proj_bias`, [3 * D]],
      [`${layer}.self_attention.out_proj.weight`, [D, D]], [`${layer}.self_attention.out_proj.bias`, [D]],
      [`${layer}.ln_2.weight`, [D]], [`${layer}.ln_2.bias`, [D]],
      [`${layer}.mlp.0.weight`, [hidden, D]], [`${layer}.mlp.0.bias`, [hidden]],
      [`${layer}.mlp.3.weight`, [D, hidden]], [`${layer}.mlp.3.bias`, [D]],
    );
  }
  shapes.push(['encoder.ln.weight', [D]], ['encoder.ln.bias', [D]], ['heads.head.weight', [numClasses, D]], ['heads.head.bias', [numClasses]]);
  const sd: StateDict = new Map(shapes.map(([name, shape]) => [name, empty(shape)]));
  seedTensors(sd, seed);
  return sd;
}
