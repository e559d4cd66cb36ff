/**
 * ViT/DeiT beyond the generic parity cases, against timm and torchvision (fixtures:
 * tools/reference/vit-fixtures.ts): position-embedding resampling, dynamic and resized image
 * sizes, the average-pool head, distilled training output, gradients against torch autograd,
 * the pretrained cfgs, and torchvision's ViTs loaded from checkpoints in torchvision's names.
 * Tolerances as the parity test: f32 within 1e-4·max(1, max|ref|), bf16 within 2e-2 with the
 * same top-1.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ArgumentError, StateDictError, ShapeError } from '../../src/errors.ts';
import { createModel } from '../../src/tasks/pretrained.ts';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.ts';
import {
  buildModel, resolveModel, resamplePosEmbedInStateDict, torchvisionToTimm,
  VisionTransformer, VisionTransformerDistilled, VIT_VARIANTS, TORCHVISION_VIT_VARIANTS,
} from '../../src/models/index.ts';
import { resampleAbsPosEmbed } from '../../src/nn/blocks/pos-embed.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { add, cast, mul } from '../../src/tensor/ops/elementwise.ts';
import { argmax } from '../../src/tensor/ops/reduce.ts';
import { narrow, select } from '../../src/tensor/ops/shape.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { BF16_TOL, F32_TOL, assertClose, fixturesDir } from '../helpers/opcheck.ts';
import { seedStateDict, seededInput } from '../helpers/seeded.ts';
import { assertTimmCfgs, closeNumbers, type TimmCfg } from '../helpers/timm-cfgs.ts';
import { TORCHVISION_VIT_CASES, VIT_EXTRA, torchvisionVitCheckpoint } from './vit-cases.ts';

const full = process.env.TSVISION_FULL === '1';
const extraFile = path.join(fixturesDir, 'models', 'vit-extra.safetensors');
const hasExtra = fs.existsSync(extraFile);
const extra = hasExtra ? readSafetensors(extraFile) : null;
const ref = (key: string): Tensor => {
  const t = extra!.tensors.get(key);
  assert.ok(t, `fixture has ${key}`);
  return t;
};
const input = (k: 'input' | 'dynamicInput' | 'resizedInput' | 'gradInput' | 'cotangent') => seededInput(VIT_EXTRA[k].shape, VIT_EXTRA[k].seed);
const skip = hasExtra ? false : 'no fixture (tools/reference/vit-fixtures.ts)';

const finiteValues = (t: Tensor) => Array.from(cast(t, 'float32').toArray() as Float32Array);

const { numClasses } = VIT_EXTRA;

function seeded<M extends VisionTransformer>(model: M): M {
  seedStateDict(model, VIT_EXTRA.seed);
  return model;
}

interface PosCase { name: string; numPrefixTokens: number; oldSize: [number, number] | null; newSize: [number, number]; interpolation: 'bicubic' | 'bilinear'; antialias: boolean }

test('resampleAbsPosEmbed matches timm resample_abs_pos_embed (antialiased and plain, prefix tokens, non-square grids)', { skip }, () => {
  const cases = JSON.parse(extra!.metadata.pos_cases) as PosCase[];
  assert.ok(cases.length >= 10, 'pos-embed cases in the fixture');
  for (const c of cases) {
    const x = ref(`pos/${c.name}/in`);
    const y = resampleAbsPosEmbed(x, c.newSize, {
      numPrefixTokens: c.numPrefixTokens, oldSize: c.oldSize ?? undefined, interpolation: c.interpolation, antialias: c.antialias,
    });
    assertClose(y, ref(`pos/${c.name}/out`), F32_TOL, c.name);
    if (c.name === 'same_square') assert.equal(y, x, 'same square grid: timm returns the embedding itself');
  }
});

test('resampleAbsPosEmbed: gradient reaches every grid entry and the prefix; bad grids are typed errors', () => {
  const pos = seededInput([1, 1 + 49, 4], 7).requiresGrad_();
  resampleAbsPosEmbed(pos, [10, 12]).backward(seededInput([1, 121, 4], 8));
  assert.deepEqual([...pos.grad!.shape], [1, 50, 4]);
  assert.ok(finiteValues(pos.grad!).every((v) => Number.isFinite(v) && v !== 0), 'every pos_embed entry gets a finite, non-zero grad');
  assert.throws(() => resampleAbsPosEmbed(seededInput([1, 1 + 48, 4], 1), [10, 10]), (e: unknown) => e instanceof ShapeError && /48 grid tokens/.test(e.message));
  assert.throws(() => resampleAbsPosEmbed(seededInput([2, 50, 4], 1), [5, 5]), ShapeError);
});

test('dynamicImgSize: vit_tiny at 160×256 matches timm dynamic_img_size; a fixed-size model rejects it', { skip }, () => {
  const model = seeded(new VisionTransformer(VIT_VARIANTS.vit_tiny_patch16_224, { numClasses, dynamicImgSize: true })).eval();
  const x = input('dynamicInput');
  noGrad(() => assertClose(model.forward(x), ref('dynamic/logits'), F32_TOL, 'dynamic logits'));
  const fixed = buildModel('vit_tiny_patch16_224');
  assert.throws(() => noGrad(() => fixed.forward(x)), (e: unknown) => e instanceof ShapeError && /160×256, expected 224×224, the size this model was built for/.test(e.message));
  assert.throws(() => noGrad(() => model.forward(seededInput([1, 3, 100, 224], 1))), (e: unknown) => e instanceof ShapeError && /divisible by the patch size/.test(e.message));
});

test('imgSize at creation: the 224 px checkpoint loads into a 288 px vit_tiny with pos_embed resampled as timm checkpoint_filter_fn', { skip }, () => {
  const source = seeded(buildModel('vit_tiny_patch16_224', { numClasses }) as unknown as VisionTransformer);
  const model = buildModel('vit_tiny_patch16_224', { numClasses, imgSize: VIT_EXTRA.imgSize }) as unknown as VisionTransformer;
  assert.deepEqual([...model.posEmbed.shape], [1, 1 + 18 * 18, 192]);
  assert.throws(() => model.loadStateDict(source.stateDict()), (e: unknown) => e instanceof StateDictError && /size mismatch for pos_embed/.test(e.message));
  model.loadStateDict(resamplePosEmbedInStateDict(source.stateDict(), model));
  model.eval();
  noGrad(() => assertClose(model.forward(input('resizedInput')), ref('resized/logits'), F32_TOL, 'logits at 288'));
});

test("globalPool 'avg': fc_norm after the mean of the patch tokens, as timm global_pool='avg'", { skip }, () => {
  const model = seeded(new VisionTransformer(VIT_VARIANTS.vit_tiny_patch16_224, { numClasses, globalPool: 'avg' })).eval();
  assert.equal(model.norm, null);
  assert.ok(model.fcNorm, 'fc_norm exists with average pooling');
  assert.equal(model.numParameters(), Number(extra!.metadata.avg_param_count));
  const x = input('input');
  noGrad(() => {
    const features = model.forwardFeatures(x);
    assertClose(model.forwardHead(features), ref('avg/logits'), F32_TOL, 'logits');
    assertClose(model.forwardHead(features, { preLogits: true }), ref('avg/pre_logits'), F32_TOL, 'pre-logits');
  });
  assert.throws(() => new VisionTransformer(VIT_VARIANTS.vit_tiny_patch16_224, { globalPool: 'max' as never }), /globalPool must be one of/);
});

test('distilled DeiT: in training with distilledTraining both heads match timm; forward averages them', { skip }, () => {
  const model = seeded(buildModel('deit_tiny_distilled_patch16_224', { numClasses }) as unknown as VisionTransformerDistilled);
  assert.ok(model instanceof VisionTransformerDistilled, 'the registry builds VisionTransformerDistilled');
  const x = input('input');
  model.train();
  model.setDistilledTraining(true);
  noGrad(() => {
    const out = model.forwardTrain(x);
    assert.ok(Array.isArray(out), 'training with distilledTraining returns two heads');
    assertClose(out[0], ref('distilled/head'), F32_TOL, 'head');
    assertClose(out[1], ref('distilled/head_dist'), F32_TOL, 'head_dist');
    const mean = mul(add(ref('distilled/head'), ref('distilled/head_dist')), 0.5);
    assertClose(model.forward(x), mean, F32_TOL, 'forward averages the heads');
    model.eval();
    const evalOut = model.forwardTrain(x);
    assert.ok(!Array.isArray(evalOut), 'eval returns one tensor');
    assertClose(evalOut, mean, F32_TOL, 'eval output');
  });
});

test('backward through vit_tiny: every parameter gets a finite grad; grads match torch autograd', { skip }, () => {
  const model = seeded(buildModel('vit_tiny_patch16_224', { numClasses }) as unknown as VisionTransformer).eval();
  const logits = model.forward(input('gradInput'));
  assertClose(logits.detach(), ref('grad/logits'), F32_TOL, 'logits');
  logits.backward(input('cotangent'));
  const params = new Map(model.namedParameters());
  for (const [name, p] of params) {
    assert.ok(p.grad, `${name} has a grad`);
    assert.deepEqual([...p.grad.shape], [...p.shape], `${name} grad shape`);
    assert.ok(finiteValues(p.grad).every(Number.isFinite), `${name} grad is finite`);
  }
  for (const name of VIT_EXTRA.gradParams) assertClose(params.get(name)!.grad!, ref(`grad/${name}`), F32_TOL, `grad ${name}`);
  for (const [name, rows] of Object.entries(VIT_EXTRA.gradRows)) {
    const g = params.get(name)!.grad!;
    assertClose(name === 'pos_embed' ? narrow(select(g, 0, 0), 0, 0, rows) : narrow(g, 0, 0, rows), ref(`grad/${name}`), F32_TOL, `grad ${name}`);
  }
});

interface TvCfg { weights: string; minSize: number[]; numParams: number; crop: number; resize: number; interpolation: string; mean: number[]; std: number[] }

test('pretrained cfgs: tags (default first), hub ids and preprocessing equal timm and torchvision', { skip }, () => {
  const timm = JSON.parse(extra!.metadata.timm_cfgs) as Record<string, TimmCfg[]>;
  assertTimmCfgs((n, family) => ['vit', 'deit'].includes(family) && !(n in TORCHVISION_VIT_VARIANTS), timm);
  const tv = JSON.parse(extra!.metadata.torchvision_cfgs) as Record<string, TvCfg[]>;
  const tags: Record<string, string> = { IMAGENET1K_V1: 'tv_in1k', IMAGENET1K_SWAG_LINEAR_V1: 'swag_lc_in1k', IMAGENET1K_SWAG_E2E_V1: 'swag_e2e_in1k' };
  for (const [name, weights] of Object.entries(tv)) {
    const { entry } = resolveModel(name);
    assert.deepEqual(Object.keys(entry.pretrained).sort(), weights.map((w) => tags[w.weights]).sort(), `${name} tags`);
    for (const w of weights) {
      const ours = entry.pretrained[tags[w.weights]];
      const image = ours.preprocess.image!;
      const label = `${name}.${tags[w.weights]}`;
      assert.equal(ours.keyLayout, 'torchvision', label);
      assert.deepEqual(image.inputSize, [3, ...w.minSize], label);
      assert.equal(image.inputSize[1], w.crop, label);
      assert.equal(Math.floor(w.crop / image.cropPct), w.resize, `${label} resize`);
      assert.equal(image.interpolation, w.interpolation, label);
      assert.ok(closeNumbers(image.mean, w.mean) && closeNumbers(image.std, w.std), `${label} mean/std`);
    }
  }
});

test('typed errors: bad configs and inputs name the layer, the expected and the actual values', () => {
  const tiny = VIT_VARIANTS.vit_tiny_patch16_224;
  assert.throws(() => new VisionTransformer({ ...tiny, numHeads: 5 }), (e: unknown) => e instanceof ArgumentError && /dim 192 must be divisible by numHeads 5/.test(e.message));
  assert.throws(() => new VisionTransformer({ ...tiny, depth: 0 }), (e: unknown) => e instanceof ArgumentError && /depth must be an integer >= 1, got 0/.test(e.message));
  assert.throws(() => new VisionTransformer({ ...tiny, classToken: false }), (e: unknown) => e instanceof ArgumentError && /'token' needs a class token/.test(e.message));
  assert.throws(() => new VisionTransformerDistilled(tiny, { globalPool: 'avg' }), (e: unknown) => e instanceof ArgumentError && /globalPool 'token'/.test(e.message));
  const model = new VisionTransformer({ ...tiny, depth: 1 }, { numClasses: 3 });
  assert.throws(() => model.forward(seededInput([3, 224, 224], 1)), (e: unknown) => e instanceof ShapeError && /expected pixels \[B, C, H, W\], got shape \[3, 224, 224\]/.test(e.message));
  assert.throws(() => model.forward(seededInput([1, 3, 224, 192], 1)), (e: unknown) => e instanceof ShapeError && /224×192, expected 224×224, the size this model was built for/.test(e.message));
});

test('resetClassifier: new head width, optional pooling change; distilled models reset both heads', () => {
  const model = new VisionTransformer({ ...VIT_VARIANTS.vit_tiny_patch16_224, depth: 1 }, { numClasses: 3 });
  model.resetClassifier(5, 'avg');
  assert.equal(model.globalPool, 'avg');
  const x = seededInput([1, 3, 224, 224], 1);
  assert.deepEqual([...noGrad(() => model.forward(x)).shape], [1, 5]);
  model.resetClassifier(0);
  assert.deepEqual([...noGrad(() => model.forward(x)).shape], [1, 192]);
  assert.ok(![...model.stateDict().keys()].some((k) => k.startsWith('head')), 'a removed head leaves no keys');
  const distilled = new VisionTransformerDistilled({ ...VIT_VARIANTS.vit_tiny_patch16_224, depth: 1 }, { numClasses: 3 });
  distilled.resetClassifier(7);
  assert.deepEqual(distilled.forwardHeads(noGrad(() => distilled.forwardFeatures(x))).map((t) => [...t.shape]), [[1, 7], [1, 7]]);
  assert.deepEqual([...distilled.stateDict().keys()].filter((k) => k.startsWith('head')), ['head.weight', 'head.bias', 'head_dist.weight', 'head_dist.bias']);
});

test("dropPathRate: timm's linear schedule over the blocks (none on block 0); dropout and drop path act only in training", () => {
  const model = new VisionTransformer({ ...VIT_VARIANTS.vit_tiny_patch16_224, depth: 3 }, { numClasses: 3, dropPathRate: 0.2, dropRate: 0.5 });
  assert.deepEqual([...model.blocks].map((b) => [b.dropPath1?.p ?? 0, b.dropPath2?.p ?? 0]), [[0, 0], [0.1, 0.1], [0.2, 0.2]]);
  assert.equal(model.blocks.at(0).dropPath1, null, 'block 0 has no DropPath (timm: Identity)');
  const x = seededInput([4, 3, 224, 224], 1);
  noGrad(() => {
    model.eval();
    assertClose(model.forward(x), model.forward(x), 0, 'eval is deterministic');
    model.train();
    const a = model.forward(x).toArray() as Float32Array;
    const b = model.forward(x).toArray() as Float32Array;
    assert.ok(a.some((v, i) => v !== b[i]), 'training draws new masks');
  });
});

test('torchvisionToTimm: a pure rename (input untouched, unknown keys kept, legacy mlp.linear_{1,2} accepted)', () => {
  const t = seededInput([2], 1);
  const sd = new Map([['encoder.layers.encoder_layer_3.mlp.linear_1.bias', t], ['encoder.layers.encoder_layer_3.mlp.3.weight', t], ['something.else', t]]);
  const before = [...sd.keys()];
  const out = torchvisionToTimm(sd);
  assert.deepEqual([...sd.keys()], before);
  assert.deepEqual([...out.keys()], ['blocks.3.mlp.fc1.bias', 'blocks.3.mlp.fc2.weight', 'something.else']);
  assert.equal(out.get('blocks.3.mlp.fc1.bias'), t);
});

for (const c of TORCHVISION_VIT_CASES) {
  const file = path.join(fixturesDir, 'models', `vit-torchvision-${c.name}.safetensors`);
  const why = (c.full && !full) || !fs.existsSync(file) ? 'extended suite / no fixture' : false;
  test(`${c.name}: a checkpoint in torchvision's names loads through createModel and gives torchvision's logits`, { skip: why }, async () => {
    const { tensors, metadata } = readSafetensors(file);
    const sd = torchvisionVitCheckpoint(TORCHVISION_VIT_VARIANTS[c.name], 1000, c.seed);
    assert.deepEqual([...sd].map(([k, v]) => [k, [...v.shape]]), JSON.parse(metadata.keys), "torchvision's keys and shapes, in order");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvision-vit-tv-'));
    try {
      const weights = path.join(dir, `${c.name}.safetensors`);
      writeSafetensors(weights, sd);
      const model = await createModel(c.name, { weights });
      assert.equal(model.numParameters(), Number(metadata.param_count), 'parameter count');
      assert.throws(() => model.loadStateDict(sd), (e: unknown) => e instanceof StateDictError && /class_token/.test(e.message), 'torchvision names load only through the remapper');
      sd.clear();
      const x = seededInput(c.inputShape, c.inputSeed);
      noGrad(() => {
        const features = model.forwardFeatures(x);
        assertClose(model.forwardHead(features), tensors.get('logits')!, F32_TOL, 'logits');
        assertClose(model.forwardHead(features, { preLogits: true }), tensors.get('pre_logits')!, F32_TOL, 'pre-logits');
        model.to('bfloat16');
        const low = model.forward(cast(x, 'bfloat16'));
        assertClose(cast(low, 'float32'), tensors.get('logits')!, BF16_TOL, 'bf16 logits');
        assert.deepEqual(argmax(low, -1).tolist(), argmax(tensors.get('logits')!, -1).tolist(), 'bf16 top-1');
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
