/**
 * HF transformers' CLIPModel state dict → OpenAI's names (the native CLIP layout), as
 * transformers' `convert_clip_original_pytorch_to_hf.py` maps them, in reverse. Names follow
 * `modeling_clip.py`: `vision_model.embeddings.{patch_embedding, class_embedding,
 * position_embedding}`, `vision_model.pre_layrnorm` (sic), `{vision,text}_model.encoder.layers.{i}.
 * {layer_norm1, self_attn.{q,k,v,out}_proj, layer_norm2, mlp.fc1, mlp.fc2}`,
 * `vision_model.post_layernorm`, `text_model.embeddings.{token_embedding, position_embedding}`,
 * `text_model.final_layer_norm`, `visual_projection`, `text_projection`, `logit_scale`. The separate
 * q/k/v projections are stacked into nn.MultiheadAttention's in_proj (rows q, k, v); the two
 * projection Linears [E, W] become OpenAI's matrices [W, E]; `position_ids` buffers (in older
 * exports) are dropped. Keys it does not know pass through unchanged, so a checkpoint already in
 * OpenAI's layout loads through it too.
 */
import { StateDictError } from '../errors.ts';
import type { StateDict } from '../nn/module.ts';
import { cat, contiguous, transpose } from '../tensor/ops/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';

const RENAMES: [RegExp, string][] = [
  [/^vision_model\.embeddings\.patch_embedding\./, 'visual.conv1.'],
  [/^vision_model\.embeddings\.class_embedding$/, 'visual.class_embedding'],
  [/^vision_model\.embeddings\.position_embedding\.weight$/, 'visual.positional_embedding'],
  [/^vision_model\.pre_layrnorm\./, 'visual.ln_pre.'],
  [/^vision_model\.post_layernorm\./, 'visual.ln_post.'],
  [/^vision_model\.encoder\.layers\./, 'visual.transformer.resblocks.'],
  [/^text_model\.embeddings\.token_embedding\./, 'token_embedding.'],
  [/^text_model\.embeddings\.position_embedding\.weight$/, 'positional_embedding'],
  [/^text_model\.final_layer_norm\./, 'ln_final.'],
  [/^text_model\.encoder\.layers\./, 'transformer.resblocks.'],
];

// Inside one encoder layer (after the prefix rename).
const LAYER_RENAMES: [RegExp, string][] = [
  [/\.layer_norm1\./, '.ln_1.'],
  [/\.layer_norm2\./, '.ln_2.'],
  [/\.self_attn\.out_proj\./, '.attn.out_proj.'],
  [/\.mlp\.fc1\./, '.mlp.c_fc.'],
  [/\.mlp\.fc2\./, '.mlp.c_proj.'],
];

const TRANSPOSED: Record<string, string> = { 'visual_projection.weight': 'visual.proj', 'text_projection.weight': 'text_projection' };
const QKV = /^(.*)\.self_attn\.([qkv])_proj\.(weight|bias)$/;

function rename(key: string): string {
  const rule = RENAMES.find(([re]) => re.test(key));
  if (!rule) return key;
  let out = key.replace(rule[0], rule[1]);
  for (const [re, to] of LAYER_RENAMES) out = out.replace(re, to);
  return out;
}

/** A CLIPModel state dict in HF transformers' layout → OpenAI / open_clip names. Pure: the input is not changed. */
export function hfClipToOpenAI(sd: StateDict): StateDict {
  const out: StateDict = new Map();
  const qkv = new Map<string, Partial<Record<'q' | 'k' | 'v', Tensor>>>();
  for (const [key, value] of sd) {
    if (/(^|\.)embeddings\.position_ids$/.test(key)) continue;
    if (key in TRANSPOSED) {
      out.set(TRANSPOSED[key], contiguous(transpose(value, 0, 1)));
      continue;
    }
    const m = QKV.exec(key);
    if (m && (m[1].startsWith('vision_model.') || m[1].startsWith('text_model.'))) {
      const target = `${rename(`${m[1]}.`).slice(0, -1)}.attn.in_proj_${m[3]}`;
      const parts = qkv.get(target) ?? {};
      parts[m[2] as 'q' | 'k' | 'v'] = value;
      qkv.set(target, parts);
      continue;
    }
    out.set(rename(key), value);
  }
  for (const [target, { q, k, v }] of qkv) {
    if (!q || !k || !v) {
      const missing = (['q', 'k', 'v'] as const).filter((p) => !{ q, k, v }[p]).map((p) => `${p}_proj`);
      throw new StateDictError(`hfClipToOpenAI: ${target} is stacked from q_proj, k_proj and v_proj, but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing`, { missingKeys: missing, unexpectedKeys: [], mismatchedKeys: [] });
    }
    out.set(target, cat([q, k, v], 0));
  }
  return out;
}
