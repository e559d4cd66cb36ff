/**
 * ConvMixer beyond the generic parity cases, against timm (fixture:
 * tools/reference/mixer-fixtures.ts): sizes that are not a multiple of the patch (timm's strided
 * stem drops the remainder, so does this one), block outputs as forwardIntermediates' levels,
 * training mode (BatchNorm on batch statistics, after the activation), the pretrained cfgs, and
 * a short training run. Tolerances as the parity test: f32 within 1e-4·max(1, max|ref|).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ShapeError } from '../../src/errors.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { ConvMixer, type ImageClassifier } from '../../src/models/index.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { tensor } from '../../src/tensor/creation.ts';
import { manualSeed } from '../../src/tensor/random.ts';
import { mul } from '../../src/tensor/ops/elementwise.ts';
import { sum } from '../../src/tensor/ops/reduce.ts';
import { narrow } from '../../src/tensor/ops/shape.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { AdamW, crossEntropy } from '../../src/train/index.ts';
import { F32_TOL, assertClose, fixturesDir } from '../helpers/opcheck.ts';
import { seedStateDict, seededInput } from '../helpers/seeded.ts';
import { MIXER_EXTRA, buildExtraConvMixer, buildExtraFull } from './mixer-cases.ts';
import { assertTimmCfgs, type TimmCfg } from '../helpers/timm-cfgs.ts';

const file = path.join(fixturesDir, 'models', 'mixer-extra.safetensors');
const extra = fs.existsSync(file) ? readSafetensors(file) : null;
const skip = extra ? false : 'no fixture (tools/reference/mixer-fixtures.ts)';
const ref = (key: string): Tensor => {
  const t = extra!.tensors.get(key);
  assert.ok(t, `fixture has ${key}`);
  return t;
};

function seeded(job: 'convmixer' | 'convmixerTrain'): ConvMixer {
  const model = buildExtraConvMixer(job);
  seedStateDict(model, MIXER_EXTRA[job].seed);
  return model;
}

test('pretrained cfgs equal timm\'s: one in1k tag each, hub ids, preprocessing, heads', { skip }, () => {
  const cfgs = JSON.parse(extra!.metadata.timm_cfgs) as Record<string, TimmCfg[]>;
  assertTimmCfgs((_, family) => family === 'convmixer', Object.fromEntries(Object.entries(cfgs).filter(([name]) => name.startsWith('convmixer_'))));
});

test('a size that is not a multiple of the patch: logits and every block\'s output (forwardIntermediates) match timm', { skip }, () => {
  const model = seeded('convmixer').eval();
  const { shape, seed } = MIXER_EXTRA.convmixer.input;
  const x = seededInput(shape, seed); // 30×27 with patch 4: a 7×6 grid, the last 2 rows and 3 columns unused
  noGrad(() => {
    assertClose(model.forward(x), ref('convmixer/logits'), F32_TOL, 'logits');
    const { features, intermediates } = model.forwardIntermediates(x);
    assert.equal(intermediates.length, 3);
    intermediates.forEach((t, i) => assertClose(t, ref(`convmixer/blocks/${i}`), F32_TOL, `block ${i}`));
    assertClose(features!, ref('convmixer/blocks/2'), F32_TOL, 'features: the last block');
    const early = model.forwardIntermediates(x, { indices: [0], stopEarly: true });
    assertClose(early.features!, ref('convmixer/blocks/0'), F32_TOL, 'stopped after block 0');
    assert.deepEqual(model.forwardIntermediates(x, { indices: 2, intermediatesOnly: true }).intermediates.map((t) => t.shape), [[2, 32, 7, 6], [2, 32, 7, 6]]);
  });
  assert.deepEqual(model.featureInfo.map((f) => [f.module, f.numChannels, f.reduction]), [['blocks.0', 32, 4], ['blocks.1', 32, 4], ['blocks.2', 32, 4]]);
});

test('training mode (BatchNorm on batch statistics after the activation): logits, updated running statistics and grads match timm', { skip }, () => {
  const job = MIXER_EXTRA.convmixerTrain;
  const model = seeded('convmixerTrain').train();
  const x = seededInput(job.input.shape, job.input.seed).requiresGrad_();
  const cotangent = seededInput([job.input.shape[0], job.numClasses], job.cotangentSeed);
  const logits = model.forward(x);
  sum(mul(logits, cotangent)).backward();
  assertClose(logits.detach(), ref('train/logits'), F32_TOL, 'logits');
  assertClose(x.grad!, ref('train/grad/input'), F32_TOL, 'grad input');
  const params = new Map(model.namedParameters());
  for (const name of job.gradParams) assertClose(params.get(name)!.grad!, ref(`train/grad/${name}`), F32_TOL, `grad ${name}`);
  const stats = model.namedBuffers().filter(([name]) => /running_(mean|var)$/.test(name));
  assert.equal(stats.length, 10);
  for (const [name, t] of stats) assertClose(t, ref(`train/buffer/${name}`), F32_TOL, name);
});

test('convmixer_768_32 at 230×221 (not a multiple of 7) matches timm, and equals its output on the 224×217 crop its stem reads', { skip }, () => {
  const model = buildExtraFull() as ConvMixer & ImageClassifier;
  seedStateDict(model, MIXER_EXTRA.full.seed);
  model.eval();
  const x = seededInput(MIXER_EXTRA.full.input.shape, MIXER_EXTRA.full.input.seed);
  noGrad(() => {
    const logits = model.forward(x);
    assertClose(logits, ref('full/logits'), F32_TOL, 'logits');
    assertClose(model.forward(narrow(narrow(x, 2, 0, 224), 3, 0, 217)), logits, F32_TOL, 'the crop of whole patches');
  });
});

test('an image smaller than one patch is a typed error naming the smallest size (timm refuses it too); any larger size is taken', { skip }, () => {
  assert.match(extra!.metadata.convmixer_small_input_error, /Kernel size can't be greater than actual input size/, 'timm refuses it');
  const model = seeded('convmixer').eval();
  const atLeast = (e: unknown) => e instanceof ShapeError && /at least 4×4/.test(e.message);
  assert.throws(() => model.forward(seededInput([1, 3, 3, 9], 1)), atLeast);
  assert.throws(() => model.forwardIntermediates(seededInput([1, 3, 9, 3], 1)), atLeast);
  assert.deepEqual([...noGrad(() => model.forward(seededInput([1, 3, 4, 5], 1))).shape], [1, 10], 'one patch');
  assert.deepEqual(model.inputShape, { inChans: 3, fixedSize: null });
});

test('training from PyTorch\'s default init: a few AdamW steps on one batch lower the loss and move the running statistics', () => {
  manualSeed(0); // the default init draws from the default generator: the same weights whatever ran before
  const model = new ConvMixer({ dim: 16, depth: 2, kernelSize: 3, patchSize: 4, act: 'relu' }, { numClasses: 3 });
  const x = seededInput([6, 3, 16, 16], 41);
  const y = tensor([0, 1, 2, 0, 1, 2], { dtype: 'int64' });
  const optimizer = new AdamW(model.parameters(), { lr: 1e-2 });
  const stemMean = () => Array.from(model.stem.bn.runningMean!.toArray() as Float32Array);
  const before = stemMean();
  model.train();
  const losses: number[] = [];
  for (let step = 0; step < 8; step++) {
    const loss = crossEntropy(model.forward(x), y);
    losses.push(loss.item());
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  }
  assert.ok(losses[losses.length - 1] < 0.6 * losses[0], `loss ${losses.map((l) => l.toFixed(3)).join(' → ')}`);
  assert.ok(stemMean().some((v, i) => v !== before[i]), 'running statistics updated');
});
