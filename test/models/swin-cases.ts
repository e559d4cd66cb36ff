/**
 * The Swin checks beyond the generic parity cases (test/models/swin.test.ts), shared with their
 * fixture generator tools/reference/swin-fixtures.ts: which seeded models, inputs, windows and
 * tables the reference runs on, and torchvision-named checkpoints built in torchvision's own key
 * layout.
 */
import { empty } from '../../src/tensor/creation.ts';
import { cast } from '../../src/tensor/ops/elementwise.ts';
import { reshape } from '../../src/tensor/ops/shape.ts';
import type { StateDict } from '../../src/nn/module.ts';
import { relativePositionIndex, relativePositionTableSize } from '../../src/nn/blocks/relative-position.ts';
import { TORCHVISION_SWIN_VARIANTS, type SwinConfig } from '../../src/models/swin.ts';
import { seedTensors } from '../helpers/seeded.ts';

/** Seeds, shapes and sizes of the extra fixture (test/fixtures/models/swin-extra.safetensors). */
export const SWIN_EXTRA = {
  /** Weights seed of swin_tiny here. */
  seed: 1,
  /** Head width of the models here (small logits keep the fixture small). */
  numClasses: 10,
  /** Relative position index: window sizes [h, w]. */
  indexWindows: [[7, 7], [4, 6], [3, 5], [1, 1]] as [number, number][],
  /** Shifted-window masks: a stage grid, the configured window and shift (timm clips both to the grid). */
  maskCases: [
    { name: 'w7_14', grid: [14, 14], window: 7, shift: 3 },
    { name: 'w7_padded_8', grid: [8, 8], window: 7, shift: 3 },
    { name: 'w7_clipped_rows', grid: [7, 14], window: 7, shift: 3 },
    { name: 'w6_12', grid: [12, 12], window: 6, shift: 3 },
    { name: 'w4_padded_10x13', grid: [10, 13], window: 4, shift: 2 },
  ] as { name: string; grid: [number, number]; window: number; shift: number }[],
  /** Shifted, padded window gathers checked against the references' own steps on a small grid. */
  gather: { shape: [2, 10, 13, 3] as [number, number, number, number], window: [4, 4] as [number, number], shift: [2, 2] as [number, number] },
  /** Table resampling: offset grid side of the source (2s − 1), new window, heads, extra rows. */
  resizeCases: [
    { name: 'w7_to_w12', src: 13, window: [12, 12], heads: 3, extra: 0 },
    { name: 'w12_to_w7', src: 23, window: [7, 7], heads: 2, extra: 0 },
    { name: 'w7_to_w6', src: 13, window: [6, 6], heads: 2, extra: 0 },
    { name: 'w7_to_7x12', src: 13, window: [7, 12], heads: 2, extra: 0 },
    { name: 'w7_to_w9_extra3', src: 13, window: [9, 9], heads: 2, extra: 3 },
  ] as { name: string; src: number; window: [number, number]; heads: number; extra: number }[],
  /** swin_tiny built for 256 px (grids 64, 32, 16, 8: every stage padded, the last one shifted too), with gradients. */
  padded: { imgSize: 256, input: { shape: [1, 3, 256, 256], seed: 4 }, cotangent: { shape: [1, 10], seed: 5 }, gradCrop: 32 },
  /** swin_tiny with window 12 at 224 px loading the window-7 checkpoint (tables resampled; the last stage clips to 7). */
  resized: { windowSize: 12, input: { shape: [1, 3, 224, 224], seed: 6 } },
  /** swin_tiny with strictImgSize false on a non-square size with odd stage grids (57×49 → 29×25 → 15×13 → 8×7). */
  dynamic: { input: { shape: [1, 3, 228, 196], seed: 7 } },
  /** swin_tiny at its size: globalPool '' and forward_intermediates (first `channels` channels of each level). */
  input: { shape: [1, 3, 224, 224], seed: 2 },
  intermediateChannels: 2,
  /** Channels of the unpooled pre-logits kept. */
  preLogitChannels: 8,
  /** Parameters whose gradients are compared in the padded case (full tensors, or their first rows). */
  gradParams: ['patch_embed.norm.weight', 'layers.0.blocks.1.attn.relative_position_bias_table', 'layers.3.blocks.1.attn.relative_position_bias_table', 'layers.2.blocks.5.norm2.bias', 'head.fc.bias'],
  gradRows: { 'layers.1.downsample.reduction.weight': 2, 'layers.3.blocks.1.attn.qkv.weight': 2 } as Record<string, number>,
} as const;

/** A torchvision Swin checked against torchvision itself from a checkpoint in torchvision's names. */
export interface TorchvisionSwinCase {
  /** Fixture id (test/fixtures/models/swin-torchvision-<id>.safetensors). */
  id: string;
  name: keyof typeof TORCHVISION_SWIN_VARIANTS;
  inputShape: [number, number, number, number];
  inputSeed: number;
  seed: number;
  /** Built with strictImgSize false (a size other than 224). */
  dynamic?: boolean;
  full?: boolean;
}

export const TORCHVISION_SWIN_CASES: TorchvisionSwinCase[] = [
  { id: 'swin_t', name: 'swin_t', inputShape: [1, 3, 224, 224], inputSeed: 2, seed: 1 },
  // 200×264: stage grids 50×66, 25×33, 13×17, 7×9, all padded, odd ones merged with padding, the last shifted along W only.
  { id: 'swin_t-200x264', name: 'swin_t', inputShape: [1, 3, 200, 264], inputSeed: 3, seed: 1, dynamic: true },
  { id: 'swin_s', name: 'swin_s', inputShape: [1, 3, 224, 224], inputSeed: 2, seed: 1, full: true },
  { id: 'swin_b', name: 'swin_b', inputShape: [1, 3, 224, 224], inputSeed: 2, seed: 1, full: true },
];

/**
 * A seeded checkpoint with torchvision's key names and order (torchvision's SwinTransformer
 * state_dict, its stored relative position indices included), written without our model or
 * remapper, so that loading it checks the remapper.
 */
export function torchvisionSwinCheckpoint(config: SwinConfig, numClasses: number, seed: number): StateDict {
  const C = config.embedDim;
  const p = config.patchSize;
  const window: [number, number] = [config.windowSize, config.windowSize];
  const n = window[0] * window[1];
  const shapes: [string, number[]][] = [['features.0.0.weight', [C, 3, p, p]], ['features.0.0.bias', [C]], ['features.0.2.weight', [C]], ['features.0.2.bias', [C]]];
  const indices: string[] = [];
  config.depths.forEach((depth, s) => {
    const dim = C * 2 ** s;
    const heads = config.numHeads[s];
    for (let j = 0; j < depth; ++j) {
      const block = `features.${2 * s + 1}.${j}`;
      shapes.push(
        [`${block}.norm1.weight`, [dim]], [`${block}.norm1.bias`, [dim]],
        [`${block}.attn.relative_position_bias_table`, [relativePositionTableSize(window), heads]], [`${block}.attn.relative_position_index`, [n * n]],
        [`${block}.attn.qkv.weight`, [3 * dim, dim]], [`${block}.attn.qkv.bias`, [3 * dim]],
        [`${block}.attn.proj.weight`, [dim, dim]], [`${block}.attn.proj.bias`, [dim]],
        [`${block}.norm2.weight`, [dim]], [`${block}.norm2.bias`, [dim]],
        [`${block}.mlp.0.weight`, [4 * dim, dim]], [`${block}.mlp.0.bias`, [4 * dim]],
        [`${block}.mlp.3.weight`, [dim, 4 * dim]], [`${block}.mlp.3.bias`, [dim]],
      );
      indices.push(`${block}.attn.relative_position_index`);
    }
    if (s < config.depths.length - 1) {
      const merge = `features.${2 * s + 2}`;
      shapes.push([`${merge}.reduction.weight`, [2 * dim, 4 * dim]], [`${merge}.norm.weight`, [4 * dim]], [`${merge}.norm.bias`, [4 * dim]]);
    }
  });
  const F = C * 2 ** (config.depths.length - 1);
  shapes.push(['norm.weight', [F]], ['norm.bias', [F]], ['head.weight', [numClasses, F]], ['head.bias', [numClasses]]);
  const index = cast(reshape(relativePositionIndex(window), [n * n]), 'int64');
  const sd: StateDict = new Map(shapes.map(([name, shape]) => [name, indices.includes(name) ? index : empty(shape)]));
  seedTensors(sd, seed);
  return sd;
}
