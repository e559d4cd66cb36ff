/**
 * CLIP against openai/CLIP on seeded weights (fixtures: tools/reference/clip-fixtures.ts):
 * image and text embeddings, both logits and gradients (pixels and named parameters) within
 * 1e-4·max(1, max|ref|), exact parameter counts; HF-layout loading; position tables resampled as
 * torch's F.interpolate; named-tensor inference with either input or both; bad inputs; init.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as T from '../../src/index.ts';
import { ClipMlp } from '../../src/nn/blocks/index.ts';
import { BF16_TOL, F32_TOL, assertClose, fixturesDir } from '../helpers/opcheck.ts';
import { seedStateDict, seededInput } from '../helpers/seeded.ts';
import {
  CLIP_COTANGENT_SEED_OFFSET, CLIP_GRAD_CROP, CLIP_GRAD_ELEMENTS, CLIP_IDS_SEED_OFFSET, CLIP_PARITY_CASES, RESAMPLE_CASE, clipTextIds,
  type ClipParityCase,
} from './clip-cases.ts';

const full = process.env.TSVISION_FULL === '1';
const fixture = (id: string) => path.join(fixturesDir, 'clip', `${id}.safetensors`);

// d/d(pixels, params) of sum(logits_per_image · cotangent), checked with the outputs of the same pass.
function checkCase(c: ClipParityCase, model: T.CLIP, ref: Map<string, T.Tensor>): void {
  const size = model.imageSize;
  const pixels = seededInput([c.images, 3, size, size], c.inputSeed).requiresGrad_();
  const ids = clipTextIds(c.textLengths, c.inputSeed + CLIP_IDS_SEED_OFFSET);
  assert.deepEqual(ids.tolist(), ref.get('input_ids')!.tolist(), 'the token ids the reference ran');
  const image = model.encodeImage(pixels);
  const text = model.encodeText(ids);
  const { logitsPerImage, logitsPerText } = model.similarity(image, text);
  assertClose(image.detach(), ref.get('image_embeds')!, F32_TOL, 'image_embeds');
  assertClose(text.detach(), ref.get('text_embeds')!, F32_TOL, 'text_embeds');
  assertClose(logitsPerImage.detach(), ref.get('logits_per_image')!, F32_TOL, 'logits_per_image');
  assertClose(logitsPerText.detach(), ref.get('logits_per_text')!, F32_TOL, 'logits_per_text');
  const cotangent = seededInput([c.images, c.textLengths.length], c.inputSeed + CLIP_COTANGENT_SEED_OFFSET);
  T.sum(T.mul(logitsPerImage, cotangent)).backward();
  const corner = T.narrow(T.narrow(pixels.grad!, 2, 0, CLIP_GRAD_CROP), 3, 0, CLIP_GRAD_CROP);
  assertClose(corner, ref.get('grad/pixels')!, F32_TOL, 'grad pixels');
  const params = new Map(model.namedParameters());
  for (const name of c.gradParams) {
    const grad = params.get(name)?.grad;
    assert.ok(grad, `${name} has a grad`);
    const flat = T.flatten(grad);
    assertClose(T.narrow(flat, 0, 0, Math.min(CLIP_GRAD_ELEMENTS, flat.numel)), ref.get(`grad/${name}`)!, F32_TOL, `grad ${name}`);
  }
}

for (const c of CLIP_PARITY_CASES) {
  test(`${c.id}: embeddings, logits, gradients and parameter count match openai/CLIP`, { skip: c.full && !full ? 'extended suite (npm run test:full)' : false }, () => {
    assert.ok(fs.existsSync(fixture(c.id)), `missing fixture ${fixture(c.id)}: run tools/reference/clip-fixtures.ts ${c.id}`);
    const { tensors, metadata } = T.readSafetensors(fixture(c.id));
    const model = T.buildModel<T.CLIP>(c.name);
    assert.equal(model.numParameters(), Number(metadata.param_count), 'parameter count of openai/CLIP');
    assert.equal(model.entry.paramCount, Number(metadata.param_count), 'declared parameter count');
    seedStateDict(model, c.seed);
    model.eval();
    checkCase(c, model, tensors);
  });
}

// Small configs for the tests below, registered under test names (not registry variants).
const TINY_TEXT = { width: 64, heads: 2, layers: 2 };
const TINY_VIT: T.ClipConfig = { embedDim: 32, vision: { type: 'vit', imageSize: 32, patchSize: 8, width: 64, layers: 2, heads: 2 }, text: TINY_TEXT };
const TINY_RESNET: T.ClipConfig = { embedDim: 32, vision: { type: 'resnet', imageSize: 64, width: 8, layers: [1, 1, 1, 1], heads: 4 }, text: TINY_TEXT };
const base = T.getModelEntry('clip_vit_base_patch32') as T.ModelEntry<T.CLIP>;
const tinyEntry = (name: string, config: T.ClipConfig): T.ModelEntry<T.CLIP> => ({
  ...base, name, paramCount: new T.CLIP(config).numParameters(), create: (o) => new T.CLIP(config, { imgSize: o.imgSize }),
  pretrained: { openai: { ...base.pretrained.openai, hubId: undefined, preprocess: { ...base.pretrained.openai.preprocess, image: { ...base.pretrained.openai.preprocess.image!, inputSize: [3, config.vision.imageSize, config.vision.imageSize] } } } },
});
T.registerModels([tinyEntry('clip_test_vit', TINY_VIT), tinyEntry('clip_test_resnet', TINY_RESNET)]);

const ids = (rows: number[][]) => T.tensor(rows.map((r) => [...r, ...new Array<number>(12 - r.length).fill(0)]), { dtype: 'int64' });
const TEXTS = ids([[49406, 320, 1125, 539, 320, 2368, 49407], [49406, 3306, 267, 1002, 256, 49407], [49406, 585, 568, 273, 271, 273, 275, 269, 49407]]);

function seededTiny(name: string, seed = 3): T.Model<T.CLIP> {
  const model = T.buildModel<T.CLIP>(name);
  seedStateDict(model, seed);
  return model.eval();
}

test('inferNamed runs CLIP on pixels only, token ids only, and both with different batch sizes', () => {
  for (const name of ['clip_test_vit', 'clip_test_resnet']) {
    const model = seededTiny(name);
    const s = model.imageSize;
    const pixels = seededInput([2, 3, s, s], 5);
    const image = T.inferNamed(model, new Map([['pixel_values', pixels]]));
    assert.deepEqual([...image.keys()], ['image_embeds'], `${name}: pixels only`);
    assert.deepEqual(image.get('image_embeds')!.shape, [2, 32]);
    const text = T.inferNamed(model, new Map([['input_ids', TEXTS]]));
    assert.deepEqual([...text.keys()], ['text_embeds'], `${name}: ids only`);
    assert.deepEqual(text.get('text_embeds')!.shape, [3, 32]);
    const both = T.inferNamed(model, new Map([['pixel_values', pixels], ['input_ids', T.cast(TEXTS, 'int32')], ['attention_mask', T.cast(T.ne(TEXTS, 0), 'int64')]]));
    assert.deepEqual([...both.keys()].sort(), ['image_embeds', 'logits_per_image', 'logits_per_text', 'text_embeds']);
    assert.deepEqual(both.get('logits_per_image')!.shape, [2, 3]);
    assert.deepEqual(both.get('logits_per_text')!.shape, [3, 2]);
    assertClose(both.get('image_embeds')!, image.get('image_embeds')!, 0, 'same image embeddings');
    assertClose(both.get('text_embeds')!, text.get('text_embeds')!, 1e-6, 'padding masks change nothing after EOT');
    const { logitsPerImage } = T.noGrad(() => model.similarity(image.get('image_embeds')!, text.get('text_embeds')!));
    assertClose(both.get('logits_per_image')!, logitsPerImage, 1e-6, 'logits from the embeddings');
    assertClose(both.get('logits_per_text')!, T.transpose(logitsPerImage, 0, 1), 1e-6, 'logits_per_text is the transpose');
    assertClose(T.noGrad(() => model.forward(pixels, TEXTS)).logitsPerImage, logitsPerImage, 1e-6, 'forward gives the same logits');
    assert.match(T.formatSpec(model.spec), /input_ids \[M, L\] int64 \(optional\)/);
  }
});

test('the text tower pools at the first EOT and is causal: tokens after it change nothing', () => {
  const model = seededTiny('clip_test_vit');
  const a = T.noGrad(() => model.encodeText(TEXTS));
  const changed = TEXTS.clone();
  changed.copy_(T.tensor((TEXTS.tolist() as number[][]).map((row) => row.map((v, i) => (i > 9 ? 7 + i : v))), { dtype: 'int64' }));
  const b = T.noGrad(() => model.encodeText(changed));
  assertClose(b, a, 1e-6, 'tokens after EOT');
  const shorter = T.noGrad(() => model.encodeText(T.narrow(TEXTS, 1, 0, 9)));
  assertClose(shorter, a, 1e-5, 'fewer positions, same pooled state');
  const twoEot = T.tensor([[49406, 320, 49407, 1125, 49407, 0]], { dtype: 'int64' });
  const first = T.noGrad(() => model.encodeText(T.narrow(twoEot, 1, 0, 3)));
  assertClose(T.noGrad(() => model.encodeText(twoEot)), first, 1e-5, 'the first of two EOTs');
});

test('bad inputs: wrong image size, ids out of range, texts longer than 77, no input', () => {
  const model = seededTiny('clip_test_vit');
  assert.throws(() => T.inferNamed(model, new Map([['pixel_values', T.randn([1, 3, 48, 48])]])), (e: unknown) => e instanceof T.InputSpecError && /pixel_values has shape \[1, 3, 48, 48\].*dim 2 must be 32/.test((e as Error).message));
  assert.throws(() => model.encodeImage(T.randn([1, 3, 48, 48])), (e: unknown) => e instanceof T.ShapeError && /\[B, 3, 32, 32\]/.test((e as Error).message));
  const resnet = seededTiny('clip_test_resnet');
  assert.throws(() => resnet.encodeImage(T.randn([1, 3, 32, 32])), (e: unknown) => e instanceof T.ShapeError && /\[B, 3, 64, 64\]/.test((e as Error).message));
  const high = T.full([1, 5], 49408, { dtype: 'int64' });
  assert.throws(() => T.inferNamed(model, new Map([['input_ids', high]])), (e: unknown) => e instanceof T.InputSpecError && /input_ids has values in \[49408, 49408\], expected \[0, 49408\)/.test((e as Error).message));
  assert.throws(() => T.inferNamed(model, new Map([['input_ids', T.full([1, 5], -1, { dtype: 'int64' })]])), T.InputSpecError);
  const long = T.full([2, 78], 5, { dtype: 'int64' });
  assert.throws(() => T.inferNamed(model, new Map([['input_ids', long]])), (e: unknown) => e instanceof T.ShapeError && /78 tokens per text, but the context length is 77/.test((e as Error).message));
  assert.throws(() => model.encodeText(T.randn([1, 5])), T.DTypeError);
  assert.throws(() => T.inferNamed(model, new Map()), (e: unknown) => e instanceof T.ArgumentError && /pixel_values, input_ids or both/.test((e as Error).message));
  assert.throws(() => T.inferNamed(model, new Map([['attention_mask', T.ones([1, 5], { dtype: 'int64' })]])), /attention_mask was given without input_ids/);
  assert.throws(() => T.buildModel('clip_rn50', { numClasses: 10 }), (e: unknown) => e instanceof T.ArgumentError && /no classifier head/.test((e as Error).message));
});

// OpenAI name → HF CLIPModel name, written from transformers' modeling_clip.py (the inverse of the remapper under test).
function toHf(sd: T.nn.StateDict): T.nn.StateDict {
  const out: T.nn.StateDict = new Map();
  const layer = (rest: string) => rest.replace('ln_1.', 'layer_norm1.').replace('ln_2.', 'layer_norm2.').replace('mlp.c_fc.', 'mlp.fc1.').replace('mlp.c_proj.', 'mlp.fc2.').replace('attn.out_proj.', 'self_attn.out_proj.');
  for (const [key, t] of sd) {
    const block = /^(visual\.)?transformer\.resblocks\.(\d+)\.(.*)$/.exec(key);
    if (block) {
      const prefix = `${block[1] ? 'vision_model' : 'text_model'}.encoder.layers.${block[2]}.`;
      const inProj = /^attn\.in_proj_(weight|bias)$/.exec(block[3]);
      if (inProj) T.chunk(t, 3, 0).forEach((part, i) => out.set(`${prefix}self_attn.${'qkv'[i]}_proj.${inProj[1]}`, T.contiguous(part)));
      else out.set(prefix + layer(block[3]), t);
      continue;
    }
    const direct: Record<string, string> = {
      'visual.conv1.weight': 'vision_model.embeddings.patch_embedding.weight', 'visual.class_embedding': 'vision_model.embeddings.class_embedding',
      'visual.positional_embedding': 'vision_model.embeddings.position_embedding.weight', 'visual.ln_pre.weight': 'vision_model.pre_layrnorm.weight',
      'visual.ln_pre.bias': 'vision_model.pre_layrnorm.bias', 'visual.ln_post.weight': 'vision_model.post_layernorm.weight', 'visual.ln_post.bias': 'vision_model.post_layernorm.bias',
      'token_embedding.weight': 'text_model.embeddings.token_embedding.weight', positional_embedding: 'text_model.embeddings.position_embedding.weight',
      'ln_final.weight': 'text_model.final_layer_norm.weight', 'ln_final.bias': 'text_model.final_layer_norm.bias', logit_scale: 'logit_scale',
    };
    if (key === 'visual.proj' || key === 'text_projection') out.set(key === 'visual.proj' ? 'visual_projection.weight' : 'text_projection.weight', T.contiguous(T.transpose(t, 0, 1)));
    else out.set(direct[key] ?? key, t);
  }
  out.set('text_model.embeddings.position_ids', T.reshape(T.arange(77, undefined, 1, { dtype: 'int64' }), [1, 77]));
  return out;
}

test('the HF CLIPModel layout loads through keyLayouts.hf, purely, with the same embeddings as the OpenAI layout', async () => {
  const model = seededTiny('clip_test_vit', 9);
  const native = model.stateDict();
  const hf = toHf(native);
  assert.ok(hf.has('vision_model.pre_layrnorm.weight') && hf.has('text_model.encoder.layers.1.self_attn.k_proj.bias'));
  const before = new Map(hf);
  const remapped = model.entry.keyLayouts!.hf(hf);
  assert.deepEqual([...hf.keys()], [...before.keys()], 'input keys untouched');
  for (const [k, t] of hf) assert.equal(t, before.get(k), `input tensor ${k} untouched`);
  assert.deepEqual([...remapped.keys()].sort(), [...native.keys()].sort(), 'OpenAI names, position_ids dropped');
  for (const [k, t] of native) assert.deepEqual(remapped.get(k)!.tolist(), t.tolist(), k);
  assert.equal(T.hfClipToOpenAI(native).size, native.size, 'OpenAI names pass through');
  const partial = new Map(hf);
  partial.delete('vision_model.encoder.layers.0.self_attn.k_proj.weight');
  assert.throws(() => T.hfClipToOpenAI(partial), (e: unknown) => e instanceof T.StateDictError && /k_proj is missing/.test((e as Error).message));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-clip-hf-'));
  try {
    T.writeSafetensors(path.join(dir, 'model.safetensors'), hf);
    const loaded = await T.createModel<T.CLIP>('clip_test_vit', { weights: dir });
    const pixels = seededInput([2, 3, 32, 32], 4);
    const want = T.noGrad(() => [model.encodeImage(pixels), model.encodeText(TEXTS)]);
    const got = T.noGrad(() => [loaded.encodeImage(pixels), loaded.encodeText(TEXTS)]);
    assert.deepEqual(got[0].tolist(), want[0].tolist(), 'image embeddings');
    assert.deepEqual(got[1].tolist(), want[1].tolist(), 'text embeddings');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const resampleFile = fixture(RESAMPLE_CASE.id);
test('position tables for other image sizes are resampled as torch F.interpolate (bicubic, align_corners false), class row kept', { skip: fs.existsSync(resampleFile) ? false : 'no fixture (tools/reference/clip-fixtures.ts)' }, async () => {
  const { tensors } = T.readSafetensors(resampleFile);
  const table = seededInput([RESAMPLE_CASE.rows, RESAMPLE_CASE.width], RESAMPLE_CASE.seed);
  assertClose(table, tensors.get('table')!, 0, 'the seeded table');
  const vit = new T.CLIP({ ...TINY_VIT, vision: { type: 'vit', imageSize: 36, patchSize: 4, width: 64, layers: 1, heads: 1 } });
  const up = T.filterClipCheckpoint(new Map([['visual.positional_embedding', table]]), vit).get('visual.positional_embedding')!;
  assertClose(up, tensors.get('grid9')!, F32_TOL, '7×7 → 9×9');
  const resnet = new T.CLIP({ ...TINY_RESNET, vision: { type: 'resnet', imageSize: 128, width: 2, layers: [1, 1, 1, 1], heads: 1 } });
  const down = T.filterClipCheckpoint(new Map([['visual.attnpool.positional_embedding', table]]), resnet).get('visual.attnpool.positional_embedding')!;
  assertClose(down, tensors.get('grid4')!, F32_TOL, '7×7 → 4×4 (attention pool)');
  const same: T.nn.StateDict = new Map([['visual.positional_embedding', vit.visual.stateDict().get('positional_embedding')!]]);
  assert.equal(T.filterClipCheckpoint(same, vit), same, 'a table of the right size passes through');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-clip-size-'));
  try {
    const file = path.join(dir, 'model.safetensors');
    T.writeSafetensors(file, seededTiny('clip_test_vit').stateDict());
    const bigger = await T.createModel<T.CLIP>('clip_test_vit', { weights: file, imgSize: 48 });
    assert.equal(bigger.imageSize, 48);
    assert.deepEqual(bigger.spec.inputs[0].shape, [3, 48, 48], 'the spec takes the built size');
    assert.deepEqual(T.noGrad(() => bigger.encodeImage(T.randn([1, 3, 48, 48]))).shape, [1, 32]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('initialisation follows openai/CLIP initialize_parameters', () => {
  const std = (t: T.Tensor) => Math.sqrt(T.mean(T.mul(t, t)).item());
  const near = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual / expected - 1) < 0.1, `${what}: std ${actual} vs ${expected}`);
  const vit = new T.CLIP(TINY_VIT);
  assert.ok(Math.abs(vit.logitScale.item() - Math.log(1 / 0.07)) < 1e-6, 'logit_scale = ln(1/0.07)');
  near(std(vit.tokenEmbedding.weight), 0.02, 'token_embedding');
  near(std(vit.positionalEmbedding), 0.01, 'positional_embedding');
  near(std(vit.transformer.resblocks.at(0).attn.inProjWeight!), 64 ** -0.5, 'text in_proj');
  near(std(vit.transformer.resblocks.at(1).mlp.cProj.weight), 64 ** -0.5 * 4 ** -0.5, 'text c_proj');
  near(std(vit.textProjection), 64 ** -0.5, 'text_projection');
  const resnet = new T.CLIP(TINY_RESNET);
  const visual = resnet.visual as T.ModifiedResNet;
  for (const [name, p] of visual.namedParameters()) if (name.endsWith('bn3.weight') && name.startsWith('layer')) assert.equal(T.amax(T.abs(p)).item(), 0, `${name} starts at zero`);
  near(std(visual.attnpool.qProj.weight), 256 ** -0.5, 'attnpool q_proj');
});

test("registry entries: OpenAI's nine and our small one, their hub ids, key layouts and preprocessing", () => {
  const names = T.listModels('clip_*').filter((n) => !n.startsWith('clip_test_'));
  assert.deepEqual(names, ['clip_rn101', 'clip_rn50', 'clip_rn50x16', 'clip_rn50x4', 'clip_rn50x64', 'clip_vit_base_patch16', 'clip_vit_base_patch32', 'clip_vit_large_patch14', 'clip_vit_large_patch14_336', 'clip_vit_tiny_patch8_48']);
  const tiny = T.resolveModel('clip_vit_tiny_patch8_48');
  assert.equal(tiny.tag, 'scratch');
  assert.equal(tiny.cfg.hubId, undefined);
  assert.equal(tiny.cfg.preprocess.text?.vocabHubId, 'openai/clip-vit-base-patch32');
  const l14 = T.resolveModel('clip_vit_large_patch14_336').cfg;
  assert.equal(l14.hubId, 'openai/clip-vit-large-patch14-336');
  assert.equal(l14.keyLayout, 'hf');
  assert.deepEqual(l14.preprocess.image?.inputSize, [3, 336, 336]);
  assert.deepEqual(l14.preprocess.text, { tokenizer: 'clip-bpe', contextLength: 77, lowercase: true });
  const rn = T.resolveModel('clip_rn50x16').cfg;
  assert.equal(rn.hubId, 'timm/resnet50x16_clip.openai');
  assert.equal(rn.keyLayout, undefined);
  assert.deepEqual(rn.preprocess.text, { tokenizer: 'clip-bpe', contextLength: 77, lowercase: true, vocabHubId: 'openai/clip-vit-base-patch32' });
  assert.deepEqual(rn.preprocess.image, { inputSize: [3, 384, 384], cropPct: 1.0, interpolation: 'bicubic', mean: T.CLIP_MEAN, std: T.CLIP_STD });
  assert.equal(T.getModelEntry('clip_vit_base_patch32').paramCount, 151_277_313);
});

test('bf16 weights give embeddings and logits within 2e-2 of float32; the exact-GELU MLP runs fused and unfused alike', () => {
  const model = seededTiny('clip_test_resnet');
  const pixels = seededInput([2, 3, 64, 64], 6);
  const inputs = new Map([['pixel_values', pixels], ['input_ids', TEXTS]]);
  const f32 = T.inferNamed(model, inputs);
  model.to('bfloat16');
  const bf16 = T.inferNamed(model, inputs);
  for (const [name, t] of f32) assertClose(bf16.get(name)!, t, BF16_TOL, `bf16 ${name}`);
  const mlp = new ClipMlp(16, 64, 'gelu');
  const x = T.randn([3, 16]);
  const skip = T.randn([3, 16]);
  const composed = T.add(mlp.cProj.forward(T.gelu(mlp.cFc.forward(x))), skip);
  assertClose(T.noGrad(() => mlp.forward(x, skip)), composed, F32_TOL, 'fused exact-GELU MLP');
  assertClose(mlp.forward(x), T.sub(composed, skip), F32_TOL, 'MLP without a skip, recorded');
});
