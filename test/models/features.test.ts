/**
 * Backbones as feature extractors (timm's features_only): levels, shapes and values against timm
 * on seeded weights (fixtures: tools/reference/features-fixtures.ts; each level's first
 * FEATURE_CHANNELS_KEPT channels, within 1e-4·max(1, max|ref|)), the spec, loading, training.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import * as T from '../../src/index.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { F32_TOL, assertClose, fixturesDir } from '../helpers/opcheck.ts';
import { seedStateDict, seededInput } from '../helpers/seeded.ts';
import { inputsFromSpec } from '../helpers/spec-inputs.ts';
import { FEATURE_CHANNELS_KEPT, FEATURE_PARITY_CASES, type FeatureParityCase } from './features-cases.ts';

function extractor(c: FeatureParityCase): T.FeatureExtractor {
  if (c.part === 'hybrid-stem') {
    const hybrid = T.buildModel<T.VisionTransformer>(c.name);
    seedStateDict(hybrid, c.seed);
    return new T.FeatureExtractor((hybrid.patchEmbed as T.HybridEmbed).backbone, { outIndices: c.outIndices });
  }
  const model = T.buildModel(c.name);
  seedStateDict(model, c.seed);
  return T.asFeatureExtractor(model, { outIndices: c.outIndices });
}

for (const c of FEATURE_PARITY_CASES) {
  test(`${c.id}: feature levels match timm's features_only ${c.name}${c.outIndices ? ` out_indices ${c.outIndices.join(',')}` : ''}`, () => {
    const { tensors, metadata } = readSafetensors(path.join(fixturesDir, 'features', `${c.id}.safetensors`));
    const model = extractor(c);
    model.eval();
    const info = JSON.parse(metadata.feature_info) as [number, number][];
    assert.deepEqual(model.featureInfo.map((f) => [f.numChannels, f.reduction]), info, 'featureInfo (channels, reduction)');
    const levels = T.noGrad(() => model.forward(seededInput(c.inputShape, c.inputSeed)));
    assert.deepEqual(levels.map((t) => [...t.shape]), JSON.parse(metadata.shapes), 'level shapes');
    levels.forEach((t, k) => assertClose(T.narrow(t, 1, 0, FEATURE_CHANNELS_KEPT), tensors.get(`level_${k}`)!, F32_TOL, `level ${k}`));
  });
}

test('featuresOnly: no head, the image-features spec, forwardNamed and training grads on the levels used', () => {
  const model = T.buildModel<T.FeatureExtractor>('resnet18', { featuresOnly: true, outIndices: [-2, -1] });
  assert.ok(![...model.stateDict().keys()].some((k) => k.startsWith('fc.')), 'no classifier keys');
  assert.deepEqual([...model.stateDict().keys()], [...T.buildModel('resnet18', { numClasses: 0 }).stateDict().keys()], 'keys are the headless backbone\'s');
  assert.deepEqual(model.outIndices, [3, 4]);
  const spec = model.spec;
  assert.equal(spec.task, 'image-features');
  assert.deepEqual(spec.outputs.map((o) => [o.name, o.shape]), [['features_0', [256, 'H/16', 'W/16']], ['features_1', [512, 'H/32', 'W/32']]]);
  const outputs = T.FEATURE_EXTRACTION.forwardNamed(model, T.checkInputs(spec, model.modelName, inputsFromSpec(spec)));
  assert.deepEqual([...outputs.keys()], ['features_0', 'features_1']);
  assert.deepEqual([...outputs.get('features_1')!.shape], [1, 512, 7, 7]);
  model.train();
  T.sum(model.forward(T.randn([2, 3, 64, 64]))[1]).backward();
  const withoutGrad = model.namedParameters().filter(([, p]) => !p.grad).map(([n]) => n);
  assert.deepEqual(withoutGrad, [], 'every parameter up to the last level gets a grad');
  assert.ok(model.backbone.training, 'train() reaches the backbone');
  model.eval();
  assert.equal(model.backbone.training, false);
});

test('createModel featuresOnly loads a classification checkpoint into the backbone first; bad levels are typed errors', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-features-'));
  try {
    const source = T.buildModel('resnet18', { numClasses: 10 });
    source.eval();
    const file = path.join(dir, 'model.safetensors');
    T.writeSafetensors(file, source.stateDict());
    const model = await T.createModel<T.FeatureExtractor>('resnet18', { weights: file, featuresOnly: true, outIndices: [2] });
    model.eval();
    const x = T.randn([1, 3, 64, 64]);
    const expected = T.noGrad(() => source.forwardIntermediates(x, { indices: [2], intermediatesOnly: true }).intermediates[0]);
    assert.deepEqual(T.noGrad(() => model.forward(x))[0].toArray(), expected.toArray());
    assert.throws(() => T.buildModel('resnet18', { featuresOnly: true, outIndices: [5] }), (e: unknown) => e instanceof T.IndexError && /out of range \(0 to 4\)/.test((e as Error).message));
    assert.throws(() => T.buildModel('resnet18', { featuresOnly: true, outIndices: 6 }), (e: unknown) => e instanceof T.IndexError && /last-n 6/.test((e as Error).message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a ViT feature extractor keeps its dynamic size in the spec: levels at the patch stride', () => {
  const model = T.buildModel<T.FeatureExtractor>('vit_tiny_patch16_224', { featuresOnly: true, outIndices: 2 });
  assert.deepEqual(model.featureInfo.map((f) => f.module), ['blocks.10', 'blocks.11']);
  assert.deepEqual(model.spec.outputs.map((o) => o.shape), [[192, 14, 14], [192, 14, 14]]);
  const levels = T.noGrad(() => model.forward(T.randn([1, 3, 224, 224])));
  assert.deepEqual(levels.map((t) => [...t.shape]), [[1, 192, 14, 14], [1, 192, 14, 14]]);
});
