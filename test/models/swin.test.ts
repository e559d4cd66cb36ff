/**
 * Swin beyond the generic parity cases, against timm and torchvision (fixtures:
 * tools/reference/swin-fixtures.ts): the relative position index, the shifted-window masks and
 * gathers, window partition/reverse, table resampling, padded / resized-window / dynamic sizes,
 * the unpooled head, intermediates, gradients against torch autograd, the pretrained cfgs, and
 * torchvision's Swins loaded from checkpoints in torchvision's names. Tolerances as the parity
 * test: f32 within 1e-4·max(1, max|ref|), bf16 within 2e-2 with the same top-1.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ArgumentError, ShapeError, StateDictError } from '../../src/errors.ts';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.ts';
import {
  buildModel, filterSwinCheckpoint, resolveModel, SwinTransformer, SwinTransformerBlock, SWIN_VARIANTS,
  TORCHVISION_SWIN_VARIANTS, torchvisionSwinToTimm, type SwinOptions,
} from '../../src/models/index.ts';
import { relativePositionBias, relativePositionIndex, resizeRelativePositionTable } from '../../src/nn/blocks/relative-position.ts';
import { partitionWindows, reverseWindows, windowLayout, windowPartition, windowReverse } from '../../src/nn/blocks/window.ts';
import { PatchMerging } from '../../src/nn/blocks/patch-merging.ts';
import { WindowAttention } from '../../src/nn/blocks/window-attention.ts';
import { createModel } from '../../src/tasks/pretrained.ts';
import { paramGroupsWeightDecay } from '../../src/train/optim/param-groups.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { add, cast, mul, ne } from '../../src/tensor/ops/elementwise.ts';
import { argmax } from '../../src/tensor/ops/reduce.ts';
import { clone, narrow, permute, unsqueeze } from '../../src/tensor/ops/shape.ts';
import type { StateDict } from '../../src/nn/module.ts';
import { onesLike } from '../../src/tensor/creation.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { BF16_TOL, F32_TOL, assertClose, fixturesDir } from '../helpers/opcheck.ts';
import { seedStateDict, seededInput } from '../helpers/seeded.ts';
import { assertTimmCfgs, closeNumbers, type TimmCfg } from '../helpers/timm-cfgs.ts';
import { SWIN_EXTRA, TORCHVISION_SWIN_CASES, torchvisionSwinCheckpoint } from './swin-cases.ts';

const full = process.env.TSVISION_FULL === '1';
const extraFile = path.join(fixturesDir, 'models', 'swin-extra.safetensors');
const extra = fs.existsSync(extraFile) ? readSafetensors(extraFile) : null;
const skip = extra ? false : 'no fixture (tools/reference/swin-fixtures.ts)';
const ref = (key: string): Tensor => {
  const t = extra!.tensors.get(key);
  assert.ok(t, `fixture has ${key}`);
  return t;
};
const { numClasses } = SWIN_EXTRA;
const input = (s: { shape: readonly number[]; seed: number }) => seededInput(s.shape, s.seed);
const TINY = SWIN_VARIANTS.swin_tiny_patch4_window7_224;

// The fixture's swin_tiny weights, seeded once; every model here of the same shapes loads a copy.
let tinyWeights: StateDict | null = null;
function seededTiny(options: SwinOptions = {}): SwinTransformer {
  const model = new SwinTransformer(TINY, { numClasses, ...options });
  if (tinyWeights) {
    model.loadStateDict(tinyWeights);
  } else {
    seedStateDict(model, SWIN_EXTRA.seed);
    tinyWeights = new Map([...model.stateDict()].map(([k, v]) => [k, clone(v)]));
  }
  return model.eval();
}

test('relativePositionIndex equals timm get_relative_position_index; relativePositionBias reads table[index[i, j], h]', { skip }, () => {
  for (const [h, w] of SWIN_EXTRA.indexWindows) {
    const index = relativePositionIndex([h, w]);
    assertClose(index, ref(`index/${h}x${w}`), 0, `index ${h}x${w}`);
    assert.equal(relativePositionIndex([h, w]), index, 'built once per window size');
  }
  const table = seededInput([5 * 9, 2], 1);
  const bias = relativePositionBias(table, [3, 5]); // (2, 15, 15)
  assert.deepEqual([...bias.shape], [2, 15, 15]);
  const index = relativePositionIndex([3, 5]).toArray() as Int32Array;
  const t = table.toArray() as Float32Array;
  const b = bias.toArray() as Float32Array;
  for (const [h, i, j] of [[0, 0, 0], [1, 14, 0], [0, 7, 13], [1, 3, 11]]) assert.equal(b[h * 225 + i * 15 + j], t[index[i * 15 + j] * 2 + h], `bias[${h}, ${i}, ${j}]`);
  assert.throws(() => relativePositionBias(seededInput([44, 2], 1), [3, 5]), (e: unknown) => e instanceof ShapeError && /needs a table \[45, heads\], got shape \[44, 2\]/.test(e.message));
  assert.throws(() => relativePositionIndex([0, 3]), (e: unknown) => e instanceof ArgumentError && /two integers >= 1, got \[0, 3\]/.test(e.message));
});

test("shifted-window masks equal timm get_attn_mask, with the window and shift a block clips to its grid", { skip }, () => {
  for (const c of SWIN_EXTRA.maskCases) {
    const block = new SwinTransformerBlock(4, 1, {
      inputResolution: c.grid, windowSize: c.window, shifted: true, windowing: 'timm', mlpRatio: 1, qkvBias: true, attnDrop: 0, projDrop: 0, dropPath: 0,
    });
    const layout = block.layoutFor(c.grid[0], c.grid[1]);
    assert.ok(layout.mask, `${c.name} has a mask`);
    assertClose(ne(layout.mask, 0), ref(`mask/${c.name}`), 0, c.name);
    assert.ok((layout.mask.toArray() as Float32Array).every((v) => v === 0 || v === -100), `${c.name}: 0 or −100`);
  }
  const unshifted = new SwinTransformerBlock(4, 1, {
    inputResolution: [14, 14], windowSize: 7, shifted: false, windowing: 'timm', mlpRatio: 1, qkvBias: true, attnDrop: 0, projDrop: 0, dropPath: 0,
  });
  assert.equal(unshifted.layoutFor(14, 14).mask, null, 'no shift, no mask');
});

test('shifted, padded window gathers equal timm (shift, then pad) and torchvision (pad, then shift), both ways', { skip }, () => {
  const { window, shift } = SWIN_EXTRA.gather;
  const x = ref('gather/x');
  const [, H, W] = x.shape;
  for (const [order, name] of [['shift-then-pad', 'timm'], ['pad-then-shift', 'torchvision']] as const) {
    const layout = windowLayout([H, W], window, shift, order);
    assert.equal(windowLayout([H, W], window, shift, order), layout, 'cached');
    assertClose(partitionWindows(x, layout), ref(`gather/${name}`), 0, `${name} partition`);
    assertClose(reverseWindows(ref('reverse/windows'), layout), ref(`reverse/${name}`), 0, `${name} reverse`);
  }
  const plain = windowLayout([8, 12], [4, 4]);
  assert.equal(plain.mask, null);
  assert.deepEqual(plain.paddedSize, [8, 12]);
  const single = windowLayout([4, 4], [4, 4]);
  assert.ok(single.partition === null && single.reverse === null, 'one unshifted window is the grid itself: no gather');
  const tall = windowLayout([8, 7], [7, 7]);
  assert.deepEqual([tall.partition, tall.numWindows], [null, 2], 'whole windows of the padded grid in row-major order');
  assert.deepEqual([...reverseWindows(seededInput([1, 2, 49, 3], 1), tall).shape], [1, 56, 3], 'the padded rows are dropped on the way back');
  assert.throws(() => windowLayout([8, 8], [4, 4], [4, 0]), (e: unknown) => e instanceof ArgumentError && /shift in \[0, window\)/.test(e.message));
  assert.throws(() => partitionWindows(seededInput([1, 8, 9, 2], 1), plain), (e: unknown) => e instanceof ShapeError && /expected a grid \[B, 8, 12, C\], got shape \[1, 8, 9, 2\]/.test(e.message));
});

test('partition and reverse gathers pass gradients back to the grid positions they read', () => {
  const layout = windowLayout([5, 7], [3, 3], [1, 1], 'shift-then-pad');
  const x = seededInput([2, 5, 7, 3], 1).requiresGrad_();
  const windows = partitionWindows(x, layout); // padded slots read zeros, so every real token is read once
  windows.backward(onesLike(windows));
  assertClose(x.grad!, onesLike(x), 0, 'each token read once');
  const w = seededInput([2, layout.numWindows, 9, 3], 2).requiresGrad_();
  reverseWindows(w, layout).sum().backward();
  const g = w.grad!.toArray() as Float32Array;
  assert.equal(g.reduce((p, q) => p + q, 0), 2 * 35 * 3, 'only the 35 real positions of each image come back');
});

test('windowPartition and windowReverse equal timm window_partition / window_reverse', { skip }, () => {
  const { window } = SWIN_EXTRA.gather;
  const x = ref('partition/x');
  const windows = windowPartition(x, window);
  assertClose(windows, ref('partition/out'), 0, 'partition');
  assertClose(windowReverse(mul(windows, 2), window, x.shape[1], x.shape[2]), ref('window_reverse/out'), 0, 'reverse');
  assert.throws(() => windowPartition(seededInput([1, 5, 8, 2], 1), window), (e: unknown) => e instanceof ShapeError && /5×8 grid is not a whole number of 4×4 windows/.test(e.message));
});

test('WindowAttention.attentionMask: the bias plus the shift mask in the table dtype, kept at inference until the table changes', () => {
  const attn = new WindowAttention(8, 2, [3, 3]);
  const layout = windowLayout([6, 6], [3, 3], [1, 1]);
  const table = attn.relativePositionBiasTable;
  const mask = noGrad(() => attn.attentionMask(layout.mask));
  assert.deepEqual([...mask.shape], [4, 2, 9, 9]);
  assertClose(mask, add(relativePositionBias(table.detach(), [3, 3]), unsqueeze(layout.mask!, 1)), 0, 'bias + shift mask');
  assert.equal(noGrad(() => attn.attentionMask(layout.mask)), mask, 'kept between calls');
  assert.deepEqual([...noGrad(() => attn.attentionMask()).shape], [2, 9, 9], 'no shift: the bias alone');
  noGrad(() => table.copy_(seededInput([25, 2], 3)));
  assertClose(noGrad(() => attn.attentionMask()), relativePositionBias(table.detach(), [3, 3]), 0, 'rebuilt after the table is written');
  attn.attentionMask(layout.mask).sum().backward();
  assert.ok(table.grad && (table.grad.toArray() as Float32Array).some((v) => v !== 0), 'differentiable in the table when recording');
  attn.to('bfloat16');
  assert.equal(noGrad(() => attn.attentionMask(layout.mask)).dtype, 'bfloat16');
});

test('PatchMerging: odd sides are padded to [B, ⌈H/2⌉, ⌈W/2⌉, outDim]; a grid of another width is a typed error', () => {
  const merge = new PatchMerging(4, { outDim: 6 });
  assert.deepEqual([...noGrad(() => merge.forward(seededInput([2, 5, 7, 4], 1))).shape], [2, 3, 4, 6]);
  assert.deepEqual([...merge.reduction.weight.shape], [6, 16]);
  assert.equal(merge.reduction.bias, null, 'no bias, as timm and torchvision');
  assert.throws(() => merge.forward(seededInput([2, 4, 4, 3], 1)), (e: unknown) => e instanceof ShapeError && /expected a grid \[B, H, W, 4\], got shape \[2, 4, 4, 3\]/.test(e.message));
});

test('resizeRelativePositionTable equals timm resize_rel_pos_bias_table (up, down, non-square, extra rows)', { skip }, () => {
  for (const c of SWIN_EXTRA.resizeCases) {
    const table = ref(`resize/${c.name}/in`);
    const out = resizeRelativePositionTable(table, c.window, { extraTokens: c.extra });
    assertClose(out, ref(`resize/${c.name}/out`), F32_TOL, c.name);
  }
  const same = seededInput([169, 2], 1);
  assert.equal(resizeRelativePositionTable(same, [7, 7]), same, 'same offset grid: the table itself');
  assert.throws(() => resizeRelativePositionTable(seededInput([170, 2], 1), [5, 5]), (e: unknown) => e instanceof ShapeError && /170 offset rows/.test(e.message));
  const grad = seededInput([169, 2], 2).requiresGrad_();
  resizeRelativePositionTable(grad, [12, 12]).sum().backward();
  assert.ok((grad.grad!.toArray() as Float32Array).every((v) => Number.isFinite(v) && v > 0), 'every source row feeds the resized table');
});

test('imgSize 256 (every stage padded to whole windows): logits and gradients equal timm', { skip }, () => {
  const model = seededTiny({ imgSize: SWIN_EXTRA.padded.imgSize });
  const x = input(SWIN_EXTRA.padded.input).requiresGrad_();
  const logits = model.forward(x);
  assertClose(logits.detach(), ref('padded/logits'), F32_TOL, 'logits');
  logits.backward(input(SWIN_EXTRA.padded.cotangent));
  const crop = SWIN_EXTRA.padded.gradCrop;
  assertClose(narrow(narrow(x.grad!, 2, 0, crop), 3, 0, crop), ref('padded/grad/input'), F32_TOL, 'grad input');
  const params = new Map(model.namedParameters());
  for (const name of SWIN_EXTRA.gradParams) assertClose(params.get(name)!.grad!, ref(`padded/grad/${name}`), F32_TOL, `grad ${name}`);
  for (const [name, rows] of Object.entries(SWIN_EXTRA.gradRows)) assertClose(narrow(params.get(name)!.grad!, 0, 0, rows), ref(`padded/grad/${name}`), F32_TOL, `grad ${name}`);
  const missing = model.namedParameters().filter(([, p]) => !p.grad).map(([n]) => n);
  assert.deepEqual(missing, [], 'every parameter gets a grad');
});

test('windowSize 12: the window-7 checkpoint loads through filterSwinCheckpoint as timm checkpoint_filter_fn, logits equal timm', { skip }, () => {
  const source = seededTiny();
  const model = new SwinTransformer(TINY, { numClasses, windowSize: SWIN_EXTRA.resized.windowSize }).eval();
  const block = (s: number, j: number) => model.layers.at(s).blocks.at(j) as SwinTransformerBlock;
  assert.deepEqual([block(0, 1).windowSize, block(0, 1).shiftSize], [[12, 12], [6, 6]]);
  assert.deepEqual([block(3, 1).windowSize, block(3, 1).shiftSize], [[7, 7], [0, 0]], 'the 7×7 last stage clips the window to 7, unshifted');
  const sd = source.stateDict();
  assert.throws(() => model.loadStateDict(sd), (e: unknown) => e instanceof StateDictError && /relative_position_bias_table/.test(e.message));
  const withBuffers = new Map([...sd, ['layers.0.blocks.1.attn_mask', seededInput([1], 1)], ['layers.0.blocks.0.attn.relative_position_index', seededInput([1], 1)]]);
  const filtered = filterSwinCheckpoint(withBuffers, model);
  assert.equal(withBuffers.size, sd.size + 2, 'the input is not changed');
  assert.ok(![...filtered.keys()].some((k) => k.includes('attn_mask') || k.includes('relative_position_index')), 'derived buffers dropped');
  assert.equal(filtered.get('layers.3.blocks.1.attn.relative_position_bias_table'), sd.get('layers.3.blocks.1.attn.relative_position_bias_table'), 'tables of the same size pass through');
  model.loadStateDict(filtered);
  assertClose(block(2, 1).attn.relativePositionBiasTable, ref('resized/table/layers.2.blocks.1'), F32_TOL, 'resampled table');
  noGrad(() => assertClose(model.forward(input(SWIN_EXTRA.resized.input)), ref('resized/logits'), F32_TOL, 'logits'));
});

test('strictImgSize false: a non-square size with odd stage grids equals timm strict_img_size=False; sizes a model cannot take are typed errors', { skip }, () => {
  const model = seededTiny({ strictImgSize: false });
  assert.deepEqual(model.inputShape, { inChans: 3, fixedSize: null, multipleOf: 4 });
  const x = input(SWIN_EXTRA.dynamic.input);
  noGrad(() => assertClose(model.forward(x), ref('dynamic/logits'), F32_TOL, 'logits'));
  const fixed = buildModel('swin_tiny_patch4_window7_224');
  assert.deepEqual(fixed.inputShape, { inChans: 3, fixedSize: [224, 224] });
  assert.throws(() => noGrad(() => fixed.forward(x)), (e: unknown) => e instanceof ShapeError && /input is 228×196, expected 224×224, the size this model was built for/.test(e.message));
  assert.throws(() => noGrad(() => model.forward(seededInput([1, 3, 226, 224], 1))), (e: unknown) => e instanceof ShapeError && /226×224 must have sides that are multiples of the patch size 4/.test(e.message));
  assert.throws(() => model.forward(seededInput([3, 224, 224], 1)), (e: unknown) => e instanceof ShapeError && /expected pixels \[B, C, H, W\], got shape \[3, 224, 224\]/.test(e.message));
});

test("globalPool '': the head runs on every position of the last grid, as timm global_pool=''", { skip }, () => {
  const model = seededTiny({ globalPool: '' });
  assert.deepEqual(model.pooledShape, [7, 7, 768]);
  const x = input(SWIN_EXTRA.input);
  noGrad(() => {
    const features = model.forwardFeatures(x);
    assertClose(model.forwardHead(features), ref('unpooled/logits'), F32_TOL, 'logits');
    assertClose(narrow(model.forwardHead(features, { preLogits: true }), 3, 0, SWIN_EXTRA.preLogitChannels), ref('unpooled/pre_logits'), F32_TOL, 'pre-logits');
  });
  assert.throws(() => new SwinTransformer(TINY, { globalPool: 'max' as never }), (e: unknown) => e instanceof ArgumentError && /'avg' or '', got 'max'/.test(e.message));
});

test('forwardIntermediates: the four stage outputs as NCHW maps equal timm forward_intermediates; norm applies to the last', { skip }, () => {
  const model = seededTiny();
  const x = input(SWIN_EXTRA.input);
  const c = SWIN_EXTRA.intermediateChannels;
  noGrad(() => {
    const { features, intermediates } = model.forwardIntermediates(x);
    assert.deepEqual(intermediates.map((t) => [...t.shape]), [[1, 96, 56, 56], [1, 192, 28, 28], [1, 384, 14, 14], [1, 768, 7, 7]]);
    intermediates.forEach((t, i) => assertClose(narrow(t, 1, 0, c), ref(`intermediates/${i}`), F32_TOL, `level ${i}`));
    assertClose(features!, model.forwardFeatures(x), 0, 'features are forwardFeatures');
    const normed = model.forwardIntermediates(x, { indices: [3], norm: true, intermediatesOnly: true });
    assert.equal(normed.features, null);
    assertClose(narrow(normed.intermediates[0], 1, 0, c), ref('intermediates/norm3'), F32_TOL, 'normed last level');
    const early = model.forwardIntermediates(x, { indices: [1], stopEarly: true });
    assertClose(early.features!, permute(intermediates[1], [0, 2, 3, 1]), 0, 'stopped after stage 1: its grid, unnormed');
  });
  assert.deepEqual(model.featureInfo, [
    { module: 'layers.0', numChannels: 96, reduction: 4 }, { module: 'layers.1', numChannels: 192, reduction: 8 },
    { module: 'layers.2', numChannels: 384, reduction: 16 }, { module: 'layers.3', numChannels: 768, reduction: 32 },
  ]);
  assert.throws(() => model.forwardIntermediates(x, { outputFmt: 'NLC' }), (e: unknown) => e instanceof ArgumentError && /NCHW maps only/.test(e.message));
});

interface TvCfg { weights: string; minSize: number[]; numParams: number; crop: number; resize: number; interpolation: string; mean: number[]; std: number[] }

test('pretrained cfgs: tags (default first), hub ids, classes and preprocessing equal timm and torchvision', { skip }, () => {
  const timm = JSON.parse(extra!.metadata.timm_cfgs) as Record<string, TimmCfg[]>;
  assertTimmCfgs((n, family) => family === 'swin' && !(n in TORCHVISION_SWIN_VARIANTS), timm);
  const tv = JSON.parse(extra!.metadata.torchvision_cfgs) as Record<string, TvCfg[]>;
  for (const [name, weights] of Object.entries(tv)) {
    const { entry } = resolveModel(name);
    assert.deepEqual(Object.keys(entry.pretrained), weights.map(() => 'tv_in1k'), `${name} tags`);
    for (const w of weights) {
      const ours = entry.pretrained.tv_in1k;
      const image = ours.preprocess.image!;
      assert.equal(ours.keyLayout, 'torchvision', name);
      assert.deepEqual(image.inputSize, [3, ...w.minSize], name);
      assert.equal(image.inputSize[1], w.crop, name);
      assert.equal(Math.floor(w.crop / image.cropPct), w.resize, `${name} resize`);
      assert.equal(image.interpolation, w.interpolation, name);
      assert.ok(closeNumbers(image.mean, w.mean) && closeNumbers(image.std, w.std), `${name} mean/std`);
      assert.equal(entry.paramCount, w.numParams, `${name} parameters`);
    }
  }
});

test('resetClassifier: a new width or none, optionally another pooling; a removed head leaves no keys', () => {
  const model = new SwinTransformer({ ...TINY, depths: [1, 1], numHeads: [3, 6] }, { numClasses: 3 }).eval();
  const x = seededInput([1, 3, 224, 224], 1);
  model.resetClassifier(5);
  assert.deepEqual([...noGrad(() => model.forward(x)).shape], [1, 5]);
  model.resetClassifier(0);
  assert.deepEqual([...noGrad(() => model.forward(x)).shape], [1, 192]);
  assert.ok(![...model.stateDict().keys()].some((k) => k.startsWith('head')), 'no head keys');
  model.resetClassifier(4, '');
  assert.deepEqual([...noGrad(() => model.forward(x)).shape], [1, 28, 28, 4]);
});

test("dropPathRate: timm's linear schedule over all blocks across stages (0.1 by default, torchvision's for swin_t/s/b); active only in training", () => {
  const rates = (m: SwinTransformer) => [...m.layers].flatMap((s) => [...s.blocks].map((b) => (b as SwinTransformerBlock).dropPath1?.p ?? 0));
  const small = { patchSize: 4, embedDim: 24, depths: [1, 2, 2], numHeads: [1, 2, 4], windowSize: 4, imgSize: 64 };
  const model = new SwinTransformer(small, { numClasses: 3, dropPathRate: 0.4 });
  assert.deepEqual(rates(model).map((r) => Math.round(r * 1e6) / 1e6), [0, 0.1, 0.2, 0.3, 0.4]);
  assert.ok(Math.abs(Math.max(...rates(new SwinTransformer(small))) - 0.1) < 1e-12, 'timm default 0.1');
  assert.deepEqual(Object.values(TORCHVISION_SWIN_VARIANTS).map((c) => c.dropPathRate), [0.2, 0.3, 0.5], "torchvision's stochastic_depth_prob");
  assert.ok(Math.abs(Math.max(...rates(new SwinTransformer({ ...small, dropPathRate: 0.3 }))) - 0.3) < 1e-12, "a config's rate is the default");
  const x = seededInput([4, 3, 64, 64], 1);
  noGrad(() => {
    model.eval();
    assertClose(model.forward(x), model.forward(x), 0, 'eval is deterministic');
    model.train();
    const a = model.forward(x).toArray() as Float32Array;
    const b = model.forward(x).toArray() as Float32Array;
    assert.ok(a.some((v, i) => v !== b[i]), 'training draws new masks');
  });
});

test('weight decay groups: the relative position tables join norms and biases in the no-decay group, as timm no_weight_decay', () => {
  const model = new SwinTransformer({ patchSize: 4, embedDim: 24, depths: [1, 2], numHeads: [1, 2], windowSize: 4, imgSize: 32 }, { numClasses: 3 });
  const groups = paramGroupsWeightDecay(model, 0.05);
  const noDecay = groups.find((g) => g.weightDecay === 0)!.names;
  const decay = groups.find((g) => g.weightDecay === 0.05)!.names;
  assert.deepEqual(noDecay.filter((n) => n.endsWith('relative_position_bias_table')), ['layers.0.blocks.0.attn.relative_position_bias_table', 'layers.1.blocks.0.attn.relative_position_bias_table', 'layers.1.blocks.1.attn.relative_position_bias_table']);
  assert.ok(decay.includes('layers.1.downsample.reduction.weight') && !decay.some((n) => n.includes('relative_position')));
});

test('typed errors: bad configs name what was expected and what came', () => {
  assert.throws(() => new SwinTransformer({ ...TINY, numHeads: [3, 6, 12] }), (e: unknown) => e instanceof ArgumentError && /one entry per stage, got 4 and 3/.test(e.message));
  assert.throws(() => new SwinTransformer({ ...TINY, numHeads: [5, 6, 12, 24] }), (e: unknown) => e instanceof ArgumentError && /dim 96 must be divisible by numHeads 5/.test(e.message));
  // timm fails in the forward pass at 28 (7 → 3 → 1 → 0 tokens per side); this refuses at build.
  assert.throws(() => new SwinTransformer(TINY, { imgSize: 28 }), (e: unknown) => e instanceof ArgumentError && /imgSize 28 gives a 7×7 patch grid.*imgSize >= 32/.test(e.message));
  assert.equal(new SwinTransformer(TINY, { imgSize: 32, numClasses: 2 }).layers.length, 4);
  assert.throws(() => new SwinTransformer(TINY, { windowSize: 0 }), (e: unknown) => e instanceof ArgumentError && /windowSize must be an integer >= 1, got 0/.test(e.message));
});

test('torchvisionSwinToTimm: a pure rename (input untouched, stored indices dropped, unknown keys kept)', () => {
  const t = seededInput([2], 1);
  const sd = new Map([
    ['features.0.0.weight', t], ['features.0.2.bias', t], ['features.5.3.mlp.0.weight', t], ['features.5.3.mlp.3.bias', t],
    ['features.6.reduction.weight', t], ['features.7.1.attn.relative_position_index', t], ['head.weight', t], ['norm.bias', t], ['something.else', t],
  ]);
  const before = [...sd.keys()];
  const out = torchvisionSwinToTimm(sd);
  assert.deepEqual([...sd.keys()], before);
  assert.deepEqual([...out.keys()], [
    'patch_embed.proj.weight', 'patch_embed.norm.bias', 'layers.2.blocks.3.mlp.fc1.weight', 'layers.2.blocks.3.mlp.fc2.bias',
    'layers.3.downsample.reduction.weight', 'head.fc.weight', 'norm.bias', 'something.else',
  ]);
  assert.equal(out.get('head.fc.weight'), t);
});

for (const c of TORCHVISION_SWIN_CASES) {
  const file = path.join(fixturesDir, 'models', `swin-torchvision-${c.id}.safetensors`);
  const why = (c.full && !full) || !fs.existsSync(file) ? 'extended suite / no fixture' : false;
  test(`${c.id}: a checkpoint in torchvision's names loads through the remapper and gives torchvision's logits`, { skip: why }, async () => {
    const { tensors, metadata } = readSafetensors(file);
    const sd = torchvisionSwinCheckpoint(TORCHVISION_SWIN_VARIANTS[c.name], 1000, c.seed);
    assert.deepEqual([...sd].map(([k, v]) => [k, [...v.shape]]), JSON.parse(metadata.keys), "torchvision's keys and shapes, in order");
    const x = seededInput(c.inputShape, c.inputSeed);
    let model: SwinTransformer;
    if (c.dynamic) {
      model = new SwinTransformer(TORCHVISION_SWIN_VARIANTS[c.name], { strictImgSize: false });
      model.loadStateDict(filterSwinCheckpoint(torchvisionSwinToTimm(sd), model));
      model.eval();
    } else {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvision-swin-tv-'));
      try {
        const weights = path.join(dir, `${c.name}.safetensors`);
        writeSafetensors(weights, sd);
        model = await createModel(c.name, { weights }) as unknown as SwinTransformer;
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      assert.throws(() => model.loadStateDict(sd), (e: unknown) => e instanceof StateDictError && /features\.0\.0\.weight/.test(e.message), 'torchvision names load only through the remapper');
    }
    assert.equal(model.numParameters(), Number(metadata.param_count), 'parameter count');
    noGrad(() => {
      const features = model.forwardFeatures(x);
      assertClose(model.forwardHead(features), tensors.get('logits')!, F32_TOL, 'logits');
      assertClose(model.forwardHead(features, { preLogits: true }), tensors.get('pre_logits')!, F32_TOL, 'pre-logits');
      if (c.dynamic) return;
      model.to('bfloat16');
      const low = model.forward(cast(x, 'bfloat16'));
      assertClose(cast(low, 'float32'), tensors.get('logits')!, BF16_TOL, 'bf16 logits');
      assert.deepEqual(argmax(low, -1).tolist(), argmax(tensors.get('logits')!, -1).tolist(), 'bf16 top-1');
    });
  });
}
