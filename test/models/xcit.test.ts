/**
 * XCiT beyond the generic parity cases, against timm (fixtures: tools/reference/xcit-fixtures.ts):
 * the Fourier encoding and XCA on their own (gradients and F.normalize's eps included), other
 * image sizes, average pooling, training mode, forward_intermediates, official checkpoints
 * through the checkpoint filter, the pretrained cfgs, and the typed errors. Tolerances as the
 * parity test: f32 within 1e-4·max(1, max|ref|), bf16 within 2e-2.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ArgumentError, ShapeError } from '../../src/errors.ts';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.ts';
import { buildModel, listModels, resolveModel, Xcit, XCIT_VARIANTS, xcitCheckpointFilter } from '../../src/models/index.ts';
import { ClassAttentionBlock } from '../../src/nn/blocks/class-attention.ts';
import { fourierAxisFeatures, PositionalEncodingFourier } from '../../src/nn/blocks/fourier-pos-embed.ts';
import { XCA } from '../../src/nn/blocks/xca.ts';
import { createModel } from '../../src/tasks/pretrained.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { add, cast, mul } from '../../src/tensor/ops/elementwise.ts';
import { sum } from '../../src/tensor/ops/reduce.ts';
import { narrow, permute, reshape } from '../../src/tensor/ops/shape.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { BF16_TOL, F32_TOL, assertClose, fixturesDir } from '../helpers/opcheck.ts';
import { seedStateDict, seededInput } from '../helpers/seeded.ts';
import { assertTimmCfgs, type TimmCfg } from '../helpers/timm-cfgs.ts';
import { XCIT_EXTRA, officialXcitCheckpoint } from './xcit-cases.ts';

const extraFile = path.join(fixturesDir, 'models', 'xcit-extra.safetensors');
const extra = fs.existsSync(extraFile) ? readSafetensors(extraFile) : null;
const skip = extra ? false : 'no fixture (tools/reference/xcit-fixtures.ts)';
const ref = (key: string): Tensor => {
  const t = extra!.tensors.get(key);
  assert.ok(t, `fixture has ${key}`);
  return t;
};
const { numClasses, seed } = XCIT_EXTRA;
const input = (k: 'input' | 'otherSize') => seededInput(XCIT_EXTRA[k].shape, XCIT_EXTRA[k].seed);

function seededNano(name = 'xcit_nano_12_p16_224', options: { globalPool?: 'avg' } = {}): Xcit {
  const model = buildModel<Xcit>(name, { numClasses, ...options });
  seedStateDict(model, seed);
  return model.eval();
}

test('Fourier encoding: raw features and the projected encoding match timm PositionalEncodingFourier on square, thin and 1×1 grids', { skip }, () => {
  const raw = new PositionalEncodingFourier(64);
  const pos = new PositionalEncodingFourier(XCIT_EXTRA.fourier.dim);
  seedStateDict(pos, seed);
  for (const [h, w] of XCIT_EXTRA.fourier.grids) {
    assertClose(raw.features(h, w), ref(`fourier_raw/${h}x${w}`), F32_TOL, `features ${h}×${w}`);
    noGrad(() => assertClose(pos.forward(h, w), ref(`fourier/${h}x${w}`), F32_TOL, `encoding ${h}×${w}`));
  }
  // Channel 0 is sin of the first position's phase 2π/(n + 1e-6); channel 1 its cosine; the last position wraps to 2π.
  const axis = fourierAxisFeatures(4, 32, 10000);
  assert.ok(Math.abs(axis[0] - Math.sin(Math.PI / 2)) < 1e-6 && Math.abs(axis[4 + 3] - 1) < 1e-6);
  assert.throws(() => fourierAxisFeatures(0, 32, 10000), ArgumentError);
});

test('XCA: output and gradients (input, temperature, qkv, proj) match timm, also with an all-zero q channel (F.normalize eps); bf16 within 2e-2', { skip }, () => {
  for (const name of ['xca', 'xca_zero']) {
    const layer = new XCA(XCIT_EXTRA.xca.dim, XCIT_EXTRA.xca.heads, { qkvBias: true });
    seedStateDict(layer, seed);
    if (name === 'xca_zero') noGrad(() => {
      narrow(layer.qkv.weight, 0, 0, 1).zero_();
      narrow(layer.qkv.bias!, 0, 0, 1).zero_();
    });
    const x = seededInput(XCIT_EXTRA.xca.input.shape, XCIT_EXTRA.xca.input.seed).requiresGrad_();
    const out = layer.forward(x);
    assertClose(out.detach(), ref(`${name}/out`), F32_TOL, `${name} out`);
    sum(mul(out, seededInput(XCIT_EXTRA.xca.cotangent.shape, XCIT_EXTRA.xca.cotangent.seed))).backward();
    assertClose(x.grad!, ref(`${name}/grad/input`), F32_TOL, `${name} grad input`);
    for (const [pname, p] of layer.namedParameters()) assertClose(p.grad!, ref(`${name}/grad/${pname}`), F32_TOL, `${name} grad ${pname}`);
    layer.to('bfloat16');
    noGrad(() => assertClose(cast(layer.forward(cast(x.detach(), 'bfloat16')), 'float32'), ref(`${name}/out`), BF16_TOL, `${name} bf16 out`));
  }
});

test('any multiple of the patch: nano p16 (grid 10×16) and p8 (grid 20×32) at 160×256 match timm; other sizes are ShapeErrors naming the nearest multiples', { skip }, () => {
  const x = input('otherSize');
  noGrad(() => {
    assertClose(seededNano().forward(x), ref('other/logits'), F32_TOL, 'p16 logits');
    assertClose(seededNano('xcit_nano_12_p8_224').forward(x), ref('other_p8/logits'), F32_TOL, 'p8 logits');
  });
  const model = buildModel('xcit_nano_12_p16_224');
  assert.deepEqual(model.inputShape, { inChans: 3, fixedSize: null, multipleOf: 16 });
  assert.deepEqual(model.spec.multipleOf, { H: 16, W: 16 });
  const refuses = (shape: number[], pattern: RegExp) => assert.throws(() => noGrad(() => model.forward(seededInput(shape, 1))), (e: unknown) => e instanceof ShapeError && pattern.test(e.message));
  refuses([1, 3, 225, 224], /225×224 .*multiple of the patch size 16.*224 or 240 instead of 225/);
  refuses([1, 3, 224, 100], /96 or 112 instead of 100/);
  refuses([1, 3, 12, 32], /16 instead of 12/);
  refuses([3, 224, 224], /expected pixels \[B, C, H, W\], got shape \[3, 224, 224\]/);
  assert.throws(() => noGrad(() => buildModel('xcit_nano_12_p8_224').forward(seededInput([1, 3, 36, 32], 1))), (e: unknown) => e instanceof ShapeError && /32 or 40 instead of 36/.test(e.message));
});

test("globalPool 'avg' matches timm global_pool='avg' (logits and pre-logits); '' keeps every token", { skip }, () => {
  const model = seededNano('xcit_nano_12_p16_224', { globalPool: 'avg' });
  const x = input('input');
  noGrad(() => {
    const features = model.forwardFeatures(x);
    assertClose(model.forwardHead(features), ref('avg/logits'), F32_TOL, 'logits');
    assertClose(model.forwardHead(features, { preLogits: true }), ref('avg/pre_logits'), F32_TOL, 'pre-logits');
    model.resetClassifier(0, '');
    assert.deepEqual(model.pooledShape, [197, 128]);
    assert.deepEqual([...model.forward(x).shape], [2, 197, 128]);
  });
  assert.throws(() => model.resetClassifier(3, 'max' as never), (e: unknown) => e instanceof ArgumentError && /globalPool must be one of/.test(e.message));
});

test('training mode: BatchNorm batch statistics give timm\'s train-mode logits and running-stat updates', { skip }, () => {
  const model = seededNano().train();
  noGrad(() => assertClose(model.forward(input('input')), ref('train/logits'), F32_TOL, 'train logits'));
  const state = model.stateDict();
  for (const name of JSON.parse(extra!.metadata.train_buffers) as string[]) assertClose(state.get(name)!, ref(`train/${name}`), F32_TOL, name);
});

test('forwardIntermediates: normed block outputs as NCHW maps and the final features match timm forward_intermediates; NLC, stopEarly, featureInfo', { skip }, () => {
  const model = seededNano();
  const x = input('input');
  const indices = [...XCIT_EXTRA.intermediates];
  const channels = Number(extra!.metadata.inter_channels);
  const { features, intermediates } = noGrad(() => model.forwardIntermediates(x, { indices, norm: true }));
  intermediates.forEach((t, k) => {
    assert.deepEqual([...t.shape], [2, 128, 14, 14]);
    assertClose(narrow(t, 1, 0, channels), ref(`inter/${indices[k]}`), F32_TOL, `block ${indices[k]}`);
  });
  assertClose(narrow(features!, 1, 0, Number(extra!.metadata.inter_tokens)), ref('inter/features'), F32_TOL, 'features');
  assertClose(features!, noGrad(() => model.forwardFeatures(x)), 0, 'features equal forwardFeatures');
  const nlc = noGrad(() => model.forwardIntermediates(x, { indices: [5], norm: true, outputFmt: 'NLC', stopEarly: true }));
  assertClose(nlc.intermediates[0], reshape(permute(intermediates[1], [0, 2, 3, 1]), [2, 196, 128]), 0, 'NLC tokens');
  assert.deepEqual([...nlc.features!.shape], [2, 197, 128], 'stopEarly still ends with class attention and norm, as timm');
  assert.equal(noGrad(() => model.forwardIntermediates(x, { indices: 1, intermediatesOnly: true })).features, null);
  assert.deepEqual(model.featureInfo.map((f) => [f.module, f.numChannels, f.reduction]), Array.from({ length: 12 }, (_, i) => [`blocks.${i}`, 128, 16]));
});

test('official checkpoint layout (pos_embeder, fused class-attention qkv) loads through xcitCheckpointFilter and createModel as timm checkpoint_filter_fn', { skip }, async () => {
  const source = seededNano();
  const official = officialXcitCheckpoint(source.stateDict());
  assert.ok(official.has('pos_embeder.token_projection.weight') && official.has('cls_attn_blocks.1.attn.qkv.weight'));
  const keysBefore = [...official.keys()];
  const filtered = xcitCheckpointFilter(official);
  assert.deepEqual([...official.keys()], keysBefore, 'the filter leaves its input alone');
  assert.deepEqual([...filtered.keys()].sort(), [...source.stateDict().keys()].sort(), "timm's key set");
  const timmLayout = source.stateDict();
  assert.deepEqual([...xcitCheckpointFilter(timmLayout).keys()], [...timmLayout.keys()], "timm's layout passes unchanged");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvision-xcit-'));
  try {
    const file = path.join(dir, 'official.safetensors');
    writeSafetensors(file, official);
    const model = await createModel('xcit_nano_12_p16_224', { weights: file });
    assert.equal(model.numClasses, numClasses, 'head sized from the checkpoint');
    noGrad(() => assertClose(model.forward(input('input')), ref('official/logits'), F32_TOL, 'logits'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('pretrained cfgs: all 28 XCiT names, tags (default first), hub ids and preprocessing equal timm', { skip }, () => {
  const timm = JSON.parse(extra!.metadata.timm_cfgs) as Record<string, TimmCfg[]>;
  const names = listModels().filter((n) => resolveModel(n).entry.family === 'xcit');
  assert.equal(names.length, 28);
  assert.deepEqual(names.sort(), Object.keys(timm).sort());
  assert.deepEqual(Object.keys(XCIT_VARIANTS).sort(), names);
  assertTimmCfgs((_, family) => family === 'xcit', timm);
});

test('class-attention block: the class token alone is attended to; without tokensNorm the patch tokens are doubled plus γ1·norm1(x); eta null has no gammas', () => {
  const block = new ClassAttentionBlock(8, 2, { qkvBias: true, eta: null });
  assert.deepEqual(block.namedParameters().map(([n]) => n).filter((n) => n.startsWith('gamma')), []);
  seedStateDict(block, 3);
  block.eval();
  const x = seededInput([1, 5, 8], 4);
  const y = noGrad(() => block.forward(x));
  // Patch tokens: x + norm1(x) (no γ1), then doubled by the last residual (they skip norm2 and the MLP).
  const expected = noGrad(() => mul(add(narrow(x, 1, 1, 4), narrow(block.norm1.forward(x), 1, 1, 4)), 2));
  assertClose(narrow(y, 1, 1, 4), expected, 1e-6, 'patch tokens');
  assert.throws(() => block.forward(seededInput([1, 1, 8], 1)), (e: unknown) => e instanceof ShapeError && /N >= 1/.test(e.message));
});

test('typed errors and options: patch size, image size, heads; a constant drop-path rate in the XCA blocks only', () => {
  const nano = XCIT_VARIANTS.xcit_nano_12_p16_224;
  assert.throws(() => new Xcit({ ...nano, patchSize: 4 as never }), (e: unknown) => e instanceof ArgumentError && /patchSize must be 16 or 8, got 4/.test(e.message));
  assert.throws(() => new Xcit(nano, { imgSize: 200 }), (e: unknown) => e instanceof ArgumentError && /imgSize 200 must be a multiple of the patch size 16/.test(e.message));
  assert.throws(() => new Xcit({ ...nano, numHeads: 3 }), (e: unknown) => e instanceof ArgumentError && /dim 128 must be divisible by numHeads 3/.test(e.message));
  assert.throws(() => new Xcit({ ...nano, embedDim: 100, numHeads: 4 }), (e: unknown) => e instanceof ArgumentError && /embedDim 100 must be divisible by 8/.test(e.message));
  const model = new Xcit({ ...nano, depth: 2 }, { numClasses: 3, dropPathRate: 0.1, imgSize: 96 });
  assert.deepEqual([...model.blocks].map((b) => [b.dropPath1?.p, b.dropPath3?.p, b.dropPath2?.p]), [[0.1, 0.1, 0.1], [0.1, 0.1, 0.1]]);
  assert.ok([...model.clsAttnBlocks].every((b) => b.dropPath1 === null && b.dropPath2 === null));
  assert.deepEqual(model.pooledShape, [128]);
  const spec = buildModel('xcit_nano_12_p16_384').spec;
  assert.deepEqual([spec.inputs[0].shape, spec.sizes], [[3, 'H', 'W'], { H: 384, W: 384 }], 'any size, 384 by default');
});
