/**
 * MLP-Mixer beyond the generic parity cases, against timm (fixture:
 * tools/reference/mixer-fixtures.ts): forwardIntermediates' maps and tokens, the image size it
 * takes, timm's init, the pretrained cfgs, the unpooled head, and a short training run.
 * Tolerances as the parity test: f32 within 1e-4·max(1, max|ref|).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ArgumentError, ShapeError } from '../../src/errors.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { buildModel, MlpMixer } from '../../src/models/index.ts';
import { Linear } from '../../src/nn/layers/linear.ts';
import { LayerNorm } from '../../src/nn/layers/norm.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { tensor } from '../../src/tensor/creation.ts';
import { Generator, manualSeed } from '../../src/tensor/random.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { AdamW, crossEntropy } from '../../src/train/index.ts';
import { F32_TOL, assertClose, fixturesDir } from '../helpers/opcheck.ts';
import { seedStateDict, seededInput } from '../helpers/seeded.ts';
import { MIXER_EXTRA, buildExtraMixer } from './mixer-cases.ts';
import { assertTimmCfgs, type TimmCfg } from '../helpers/timm-cfgs.ts';

const file = path.join(fixturesDir, 'models', 'mixer-extra.safetensors');
const extra = fs.existsSync(file) ? readSafetensors(file) : null;
const skip = extra ? false : 'no fixture (tools/reference/mixer-fixtures.ts)';
const ref = (key: string): Tensor => {
  const t = extra!.tensors.get(key);
  assert.ok(t, `fixture has ${key}`);
  return t;
};
const values = (t: Tensor) => Array.from(t.toArray() as Float32Array);

function seededMixer(): MlpMixer {
  const model = buildExtraMixer();
  seedStateDict(model, MIXER_EXTRA.mixer.seed);
  return model.eval();
}

test('pretrained cfgs equal timm\'s: tags in timm\'s order (untrained ones without a hub id), hub ids, preprocessing, heads', { skip }, () => {
  const cfgs = JSON.parse(extra!.metadata.timm_cfgs) as Record<string, TimmCfg[]>;
  assertTimmCfgs((_, family) => family === 'mlp-mixer', Object.fromEntries(Object.entries(cfgs).filter(([name]) => name.startsWith('mixer_'))));
});

test('forwardIntermediates matches timm forward_intermediates: every block as an NCHW map of the token grid, chosen ones normed as NLC tokens', { skip }, () => {
  const model = seededMixer();
  const x = seededInput(MIXER_EXTRA.mixer.input.shape, MIXER_EXTRA.mixer.input.seed);
  noGrad(() => {
    const all = model.forwardIntermediates(x);
    assert.equal(all.intermediates.length, 3);
    all.intermediates.forEach((t, i) => assertClose(t, ref(`mixer/all/${i}`), F32_TOL, `block ${i} map`));
    assertClose(all.features!, ref('mixer/features'), F32_TOL, 'features');
    assertClose(model.forwardFeatures(x), ref('mixer/features'), F32_TOL, 'forwardFeatures');
    const normed = model.forwardIntermediates(x, { indices: [0, -1], norm: true, outputFmt: 'NLC', intermediatesOnly: true });
    assert.equal(normed.features, null);
    normed.intermediates.forEach((t, i) => assertClose(t, ref(`mixer/normed/${i}`), F32_TOL, `normed tokens ${i}`));
    assertClose(model.forward(x), ref('mixer/logits'), F32_TOL, 'logits');
    const early = model.forwardIntermediates(x, { indices: [1], stopEarly: true });
    assertClose(early.intermediates[0], ref('mixer/all/1'), F32_TOL, 'stopped after block 1');
  });
  assert.deepEqual(model.featureInfo.map((f) => [f.module, f.numChannels, f.reduction]), [['blocks.0', 32, 8], ['blocks.1', 32, 8], ['blocks.2', 32, 8]]);
});

test('the token MLPs are sized by the grid: another image size is a typed error naming the one size taken (timm refuses it too)', { skip }, () => {
  assert.match(extra!.metadata.mixer_other_size_error, /doesn't match model/, 'timm refuses another size');
  const small = seededMixer();
  const x = seededInput([1, 3, 24, 24], 1);
  const named = (size: string) => (e: unknown) => e instanceof ShapeError && e.message.includes(size) && /token-mixing/.test(e.message);
  assert.throws(() => small.forward(x), named('32×32'));
  assert.throws(() => small.forwardIntermediates(x), named('32×32'));
  const model = buildModel('mixer_s32_224');
  assert.deepEqual(model.inputShape.fixedSize, [224, 224]);
  assert.deepEqual(model.spec.inputs[0].shape, [3, 224, 224], 'the spec names the one size');
  assert.throws(() => noGrad(() => model.forward(seededInput([1, 3, 256, 256], 1))), named('224×224'));
  assert.throws(() => noGrad(() => model.forward(seededInput([1, 3, 224, 192], 1))), named('224×224'));
  assert.throws(() => noGrad(() => model.forward(seededInput([3, 224, 224], 1))), named('224×224'), 'an unbatched image');
  assert.throws(() => new MlpMixer(MIXER_EXTRA.mixer.config, { imgSize: 4 }), ArgumentError, 'an image smaller than a patch');
});

test('init follows timm\'s _init_weights: zero head, Xavier-uniform MLP weights with N(0, 1e-6) biases, a LeCun-normal stem, unit norms', () => {
  const model = new MlpMixer({ patchSize: 8, embedDim: 64, numBlocks: 2 }, { imgSize: 64, numClasses: 10 });
  const std = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
  const maxAbs = (v: number[]) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  assert.ok(values(model.head!.weight).every((v) => v === 0) && values(model.head!.bias!).every((v) => v === 0), 'zero head');
  let linears = 0;
  for (const [name, m] of model.namedModules()) {
    if (m instanceof Linear && name !== 'head') {
      linears++;
      const [fanOut, fanIn] = m.weight.shape;
      const bound = Math.sqrt(6 / (fanIn + fanOut));
      const w = values(m.weight);
      assert.ok(maxAbs(w) <= bound, `${name}.weight within the Xavier bound`);
      assert.ok(Math.abs(std(w) / (bound / Math.sqrt(3)) - 1) < 0.1, `${name}.weight has the uniform's std`);
      const b = values(m.bias!);
      assert.ok(maxAbs(b) < 1e-5 && b.some((v) => v !== 0), `${name}.bias ~ N(0, 1e-6)`);
    }
    if (m instanceof LayerNorm) assert.ok(values(m.weight!).every((v) => v === 1) && values(m.bias!).every((v) => v === 0), `${name} is unit`);
  }
  assert.equal(linears, 8, 'token and channel MLPs of both blocks');
  assert.deepEqual(model.blocks.at(0).mlpTokens.fc1.weight.shape, [32, 64], 'token MLP: 64 tokens → 0.5·64');
  const stem = values(model.stem.proj.weight);
  const sigma = Math.sqrt(1 / (3 * 8 * 8));
  assert.ok(Math.abs(std(stem) / sigma - 1) < 0.1, 'stem std is √(1/fanIn)');
  assert.ok(maxAbs(stem) <= (2 * sigma) / 0.87962566103423978 + 1e-7, 'stem truncated at 2 of its stds');
  assert.ok(values(model.stem.proj.bias!).every((v) => v === 0), 'zero stem bias');
  const nlhb = new MlpMixer({ patchSize: 8, embedDim: 16, numBlocks: 1 }, { imgSize: 16, numClasses: 10, nlhb: true });
  assert.ok(values(nlhb.head!.bias!).every((v) => Math.abs(v + Math.log(10)) < 1e-6), 'nlhb head bias −log(classes)');
});

test('globalPool \'\' keeps every token: pre-logits [N, D] and a head per token', () => {
  const model = buildModel<MlpMixer>('mixer_s32_224');
  model.resetClassifier(5, '');
  assert.deepEqual(model.pooledShape, [49, 512]);
  assert.deepEqual(model.spec.outputs.find((o) => o.name === 'logits')?.shape, [49, 5]);
  const tokens = seededInput([2, 49, 512], 3);
  assert.deepEqual([...noGrad(() => model.forwardHead(tokens)).shape], [2, 49, 5]);
  assert.deepEqual([...noGrad(() => model.forwardHead(tokens, { preLogits: true })).shape], [2, 49, 512]);
  assert.throws(() => model.resetClassifier(5, 'token' as ''), ArgumentError);
});

test('training from timm\'s init: a few AdamW steps on one batch lower the loss (stochastic depth and MLP dropout on)', () => {
  manualSeed(0); // timm's init draws from the default generator: the same weights whatever ran before
  const model = new MlpMixer({ patchSize: 4, embedDim: 16, numBlocks: 2 }, { imgSize: 16, numClasses: 3, dropPathRate: 0.1, projDropRate: 0.1 });
  const x = seededInput([6, 3, 16, 16], 31);
  const y = tensor([0, 1, 2, 0, 1, 2], { dtype: 'int64' });
  const optimizer = new AdamW(model.parameters(), { lr: 1e-2 });
  const generator = new Generator(5);
  for (const m of model.modules()) if ('generator' in m) (m as { generator: Generator | undefined }).generator = generator;
  model.train();
  const losses: number[] = [];
  for (let step = 0; step < 12; step++) {
    const loss = crossEntropy(model.forward(x), y);
    losses.push(loss.item());
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  }
  model.eval();
  const final = noGrad(() => crossEntropy(model.forward(x), y)).item();
  assert.ok(Math.abs(losses[0] - Math.log(3)) < 1e-5, `the zero head starts at log(classes), got ${losses}`);
  assert.ok(final < 0.5 * losses[0], `loss ${losses[0].toFixed(3)} → ${final.toFixed(3)}`);
});
