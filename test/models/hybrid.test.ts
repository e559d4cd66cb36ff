/**
 * The R50+ViT hybrid's parts against timm (fixture: tools/reference/hybrid-fixtures.ts →
 * hybrid_extra.py): TF 'SAME' padding geometry, StdConv2d / StdConv2dSame / MaxPool2dSame
 * outputs and grads (torch float64 reference), the ResNetV2 backbone's feature maps at small
 * even and odd sizes and the grads of a backward pass, the whole hybrid built for a non-native
 * image size, and a training step's backward giving a finite grad to every parameter.
 * Tolerance rule (DESIGN.md): max |ours − ref| ≤ 1e-4 · max(1, max |ref|) in float32.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { buildModel, getModelEntry, listModels } from '../../src/models/index.ts';
import { ResNetV2 } from '../../src/models/resnetv2.ts';
import type { HybridEmbed } from '../../src/models/vit-hybrid.ts';
import type { VisionTransformer } from '../../src/models/vit.ts';
import { MaxPool2dSame } from '../../src/nn/layers/pool-same.ts';
import { isStaticSamePadding, samePadding } from '../../src/nn/layers/padding.ts';
import { StdConv2d, StdConv2dSame } from '../../src/nn/layers/std-conv.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { abs } from '../../src/tensor/ops/unary.ts';
import { sum } from '../../src/tensor/ops/reduce.ts';
import { ShapeError } from '../../src/errors.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { F32_TOL, assertClose, fixturesDir } from '../helpers/opcheck.ts';
import { seedStateDict, seededInput } from '../helpers/seeded.ts';
import { HYBRID_BACKBONE_JOB, HYBRID_MODEL_JOBS, buildHybridForJob, type HybridModelJob } from './hybrid-jobs.ts';

const { tensors, metadata } = readSafetensors(path.join(fixturesDir, 'models', 'hybrid-extra.safetensors'));
const ref = (name: string): Tensor => {
  const t = tensors.get(name);
  assert.ok(t, `fixture tensor ${name}`);
  return t;
};
// A fixture tensor as a fresh leaf that requires grad.
const leaf = (name: string): Tensor => ref(name).clone().requiresGrad_();

test('TF SAME padding matches timm for every size, kernel, stride and dilation', () => {
  const rows = ref('same_padding').tolist() as number[][];
  assert.ok(rows.length > 100);
  for (const [size, kernel, stride, dilation, before, after, isStatic] of rows) {
    assert.deepEqual(samePadding(size, kernel, stride, dilation), [before, after], `size ${size}, k ${kernel}, s ${stride}, d ${dilation}`);
    assert.equal(isStaticSamePadding(kernel, stride, dilation), isStatic === 1, `static for k ${kernel}, s ${stride}, d ${dilation}`);
  }
});

interface ConvSpec {
  name: string;
  cls: 'StdConv2d' | 'StdConv2dSame';
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride?: number;
  dilation?: number;
  padding?: number;
  groups?: number;
  bias?: boolean;
  eps?: number;
}

for (const spec of JSON.parse(metadata.conv_cases) as ConvSpec[]) {
  test(`${spec.cls} ${spec.name}: output and input/weight/bias grads match timm`, () => {
    const { name, cls, inChannels, outChannels, kernel, ...options } = spec;
    const conv = cls === 'StdConv2d' ? new StdConv2d(inChannels, outChannels, kernel, options) : new StdConv2dSame(inChannels, outChannels, kernel, options);
    const weights = new Map([['weight', ref(`conv/${name}/weight`)]]);
    if (spec.bias) weights.set('bias', ref(`conv/${name}/bias`));
    conv.loadStateDict(weights);
    const x = leaf(`conv/${name}/x`);
    const y = conv.forward(x);
    assertClose(y, ref(`conv/${name}/out`), F32_TOL, 'output');
    y.backward(ref(`conv/${name}/cot`));
    assertClose(x.grad!, ref(`conv/${name}/grad_x`), F32_TOL, 'input grad');
    assertClose(conv.weight.grad!, ref(`conv/${name}/grad_weight`), F32_TOL, 'weight grad');
    if (spec.bias) assertClose(conv.bias!.grad!, ref(`conv/${name}/grad_bias`), F32_TOL, 'bias grad');
  });
}

for (const spec of JSON.parse(metadata.pool_cases) as { name: string; kernel: number; stride: number }[]) {
  test(`MaxPool2dSame ${spec.name}: output and grad match timm`, () => {
    const x = leaf(`pool/${spec.name}/x`);
    const y = new MaxPool2dSame(spec.kernel, spec.stride).forward(x);
    assertClose(y, ref(`pool/${spec.name}/out`), F32_TOL, 'output');
    y.backward(ref(`pool/${spec.name}/cot`));
    assertClose(x.grad!, ref(`pool/${spec.name}/grad_x`), F32_TOL, 'input grad');
  });
}

test('StdConv2dSame pads per input size; static cases use symmetric conv padding', () => {
  assert.equal(new StdConv2dSame(3, 8, 7, { stride: 2 }).dynamicPadding, true);
  assert.equal(new StdConv2dSame(3, 8, 3).dynamicPadding, false);
  assert.deepEqual(new StdConv2dSame(3, 8, 3).padding, [1, 1]);
  assert.equal(new StdConv2dSame(3, 8, 4).dynamicPadding, true);
  assert.deepEqual(new StdConv2d(3, 8, 3, { stride: 2 }).padding, [1, 1]);
  // 224 → the 7×7/2 stem conv pads 2 before, 3 after (backbones.md §4.1)
  assert.deepEqual(samePadding(224, 7, 2), [2, 3]);
  assert.deepEqual(samePadding(112, 3, 2), [0, 1]);
});

test('StdConv2d at inference keeps its standardized kernel until the weight is written, then recomputes it', () => {
  for (const conv of [new StdConv2d(4, 6, 3), new StdConv2dSame(4, 6, 3, { stride: 2 })]) {
    const x = seededInput([1, 4, 9, 9], 3);
    const recorded = () => conv.forward(x.detach().requiresGrad_(true)).detach();
    assertClose(noGrad(() => conv.forward(x)), recorded(), F32_TOL, `${conv.constructor.name} first call`);
    assertClose(noGrad(() => conv.forward(x)), recorded(), F32_TOL, `${conv.constructor.name} cached kernel`);
    conv.weight.copy_(seededInput([...conv.weight.shape], 9));
    assertClose(noGrad(() => conv.forward(x)), recorded(), F32_TOL, `${conv.constructor.name} after the weight changed`);
  }
});

function seededBackbone(): ResNetV2 {
  const model = new ResNetV2({ layers: HYBRID_BACKBONE_JOB.layers });
  seedStateDict(model, HYBRID_BACKBONE_JOB.seed);
  return model;
}

const backboneInput = (name: keyof typeof HYBRID_BACKBONE_JOB.inputs): Tensor => {
  const { shape, seed } = HYBRID_BACKBONE_JOB.inputs[name];
  return seededInput(shape, seed);
};

test('ResNetV2 backbone: timm names, parameter count and feature maps at even and odd sizes', () => {
  const model = seededBackbone();
  assert.equal(model.numParameters(), Number(metadata.backbone_param_count));
  assert.equal(model.numFeatures, 1024);
  const keys = [...model.stateDict().keys()];
  assert.deepEqual(keys.slice(0, 6), [
    'stem.conv.weight', 'stem.norm.weight', 'stem.norm.bias',
    'stages.0.blocks.0.downsample.conv.weight', 'stages.0.blocks.0.downsample.norm.weight', 'stages.0.blocks.0.downsample.norm.bias',
  ]);
  assert.equal(keys.at(-1), 'stages.2.blocks.8.norm3.bias');
  model.eval();
  noGrad(() => {
    for (const name of HYBRID_BACKBONE_JOB.forward) assertClose(model.forward(backboneInput(name)), ref(`backbone/${name}`), F32_TOL, name);
  });
});

test('ResNetV2 backbone backward: input and norm weight grads match timm', () => {
  const model = seededBackbone();
  model.eval();
  const x = backboneInput(HYBRID_BACKBONE_JOB.backward).requiresGrad_();
  model.forward(x).backward(backboneInput('backward_cot'));
  assertClose(x.grad!, ref('backbone/grad_input'), F32_TOL, 'input grad');
  const params = new Map(model.namedParameters());
  assertClose(params.get('stem.norm.weight')!.grad!, ref('backbone/grad_stem_norm'), F32_TOL, 'stem.norm.weight grad');
  assertClose(params.get('stages.2.blocks.8.norm3.weight')!.grad!, ref('backbone/grad_last_norm3'), F32_TOL, 'last norm3 grad');
});

// Hybrids are slow to build (98M parameters); each job's model is built once and shared by the tests below.
const jobModels = new Map<string, VisionTransformer>();
function jobModel(job: HybridModelJob): VisionTransformer {
  let model = jobModels.get(job.id);
  if (!model) {
    model = buildHybridForJob(job);
    seedStateDict(model, job.seed);
    jobModels.set(job.id, model);
  }
  return model;
}

for (const job of HYBRID_MODEL_JOBS) {
  const how = job.dynamicImgSize ? 'with dynamicImgSize' : `built for ${job.imgSize} px`;
  test(`${job.name} ${how}: ${job.inputShape.slice(2).join('×')} input matches timm`, () => {
    const model = jobModel(job);
    assert.equal(model.numParameters(), Number(metadata[`hybrid_${job.id}_param_count`]), 'parameter count');
    model.eval();
    const x = seededInput(job.inputShape, job.inputSeed);
    noGrad(() => {
      const features = model.forwardFeatures(x);
      assertClose(model.forwardHead(features, { preLogits: true }), ref(`hybrid/${job.id}/pre_logits`), F32_TOL, 'pre-logits');
      assertClose(model.forwardHead(features), ref(`hybrid/${job.id}/logits`), F32_TOL, 'logits');
    });
  });
}

const resized = HYBRID_MODEL_JOBS.find((j) => j.imgSize === 100)!;

test('HybridEmbed accepts the inputs whose token grid equals the built one, as timm, and rejects others', () => {
  const model = jobModel(resized);
  model.eval();
  noGrad(() => {
    // 97 and 112 px also give the 7×7 grid of 100 px; 120 px gives 8×8.
    for (const size of [97, 112]) assert.deepEqual(model.forward(seededInput([1, 3, size, 100], 1)).shape, [1, 10]);
    assert.throws(() => model.forward(seededInput([1, 3, 120, 100], 1)), (e: Error) => e instanceof ShapeError && /120×100 input gives a 8×7 token grid, expected the model's 7×7/.test(e.message));
  });
});

test('a training step through the hybrid gives every parameter a finite, non-zero grad', () => {
  const model = jobModel(resized);
  model.train();
  const logits = model.forward(seededInput([2, 3, 100, 100], 22));
  logits.backward(seededInput(logits.shape, 23));
  const params = model.namedParameters();
  assert.equal(params.length, 308);
  for (const [name, p] of params) {
    assert.ok(p.grad, `${name} has no grad`);
    const size = sum(abs(p.grad)).item();
    assert.ok(Number.isFinite(size) && size > 0, `${name}: grad magnitude ${size}`);
  }
});

test('vit_base_r50_s16: parameter counts, token grid and pretrained cfgs as timm', () => {
  assert.deepEqual(listModels('vit_base_r50_*'), ['vit_base_r50_s16_224', 'vit_base_r50_s16_384']);
  // timm's defaults: the 224 weights (orig_in21k) have no head, the 384 ones a 1k head (its count is checked by the parity suite).
  const model = buildModel('vit_base_r50_s16_224');
  assert.equal(model.numClasses, 0);
  assert.equal(model.numParameters(), 97_890_112);
  model.resetClassifier(1000);
  assert.equal(model.numParameters(), 98_659_112);
  const embed = (model as unknown as VisionTransformer).patchEmbed as HybridEmbed;
  assert.deepEqual([embed.featureSize, embed.gridSize, embed.numPatches], [[14, 14], [14, 14], 196]);
  assert.deepEqual(embed.dynamicFeatSize([384, 384]), [24, 24]);
  const cfg224 = getModelEntry('vit_base_r50_s16_224').pretrained.orig_in21k;
  const image224 = { inputSize: [3, 224, 224], cropPct: 0.9, interpolation: 'bicubic', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
  assert.deepEqual(cfg224, {
    hubId: 'timm/vit_base_r50_s16_224.orig_in21k', numClasses: 0, firstConv: 'patch_embed.backbone.stem.conv', classifier: 'head',
    license: 'apache-2.0', labelSet: undefined, preprocess: { image: image224 },
  });
  const cfg384 = getModelEntry('vit_base_r50_s16_384').pretrained.orig_in21k_ft_in1k;
  assert.deepEqual(cfg384, {
    ...cfg224, hubId: 'timm/vit_base_r50_s16_384.orig_in21k_ft_in1k', numClasses: 1000, labelSet: 'imagenet-1k',
    preprocess: { image: { ...image224, inputSize: [3, 384, 384], cropPct: 1.0 } },
  });
});
