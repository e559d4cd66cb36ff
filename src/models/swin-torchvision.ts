/**
 * torchvision's Swin checkpoint layout (`models/swin_transformer.py` swin_t/s/b) in timm's names.
 * torchvision keeps everything in one `features` Sequential: `features.0` is the patch embedding
 * (`.0` conv, `.2` LayerNorm), odd entries 2s+1 are stage s's blocks, even entries 2s (s ≥ 1)
 * the PatchMerging that ends stage s − 1 — which timm files as the downsample that starts stage
 * s; the same modules in the same order. Blocks differ only in the MLP's Sequential indices, the
 * head is `head` (timm `head.fc`), and torchvision stores each block's relative position index,
 * which timm derives (dropped here).
 */
import type { StateDict } from '../nn/module.ts';

const FEATURES = /^features\.(\d+)\.(.+)$/;
const BLOCK_RENAMES: [RegExp, string][] = [
  [/^(\d+)\.mlp\.0\./, '$1.mlp.fc1.'],
  [/^(\d+)\.mlp\.3\./, '$1.mlp.fc2.'],
];

// A key under features.{n} in timm's names.
function featureKey(n: number, rest: string): string {
  if (n === 0) return rest.replace(/^0\./, 'patch_embed.proj.').replace(/^2\./, 'patch_embed.norm.');
  if (n % 2 === 0) return `layers.${n / 2}.downsample.${rest}`;
  const rule = BLOCK_RENAMES.find(([re]) => re.test(rest));
  return `layers.${(n - 1) / 2}.blocks.${rule ? rest.replace(rule[0], rule[1]) : rest}`;
}

/** torchvision Swin state dict → timm names (same tensors); stored relative position indices are dropped, unknown keys pass through. */
export function torchvisionSwinToTimm(sd: StateDict): StateDict {
  const out: StateDict = new Map();
  for (const [key, value] of sd) {
    if (key.endsWith('.relative_position_index')) continue;
    const m = FEATURES.exec(key);
    const name = m ? featureKey(Number(m[1]), m[2]) : key.replace(/^head\./, 'head.fc.');
    out.set(name, value);
  }
  return out;
}
