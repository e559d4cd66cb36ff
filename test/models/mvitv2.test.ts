/**
 * MViTv2 beyond the generic parity cases, against timm (fixtures: tools/reference/mvitv2-fixtures.ts):
 * the decomposed relative positions on their own (timm's cal_rel_pos_type, forward and autograd, with
 * tables resampled as timm's checkpoint_filter_fn), other input and build sizes, forward_intermediates,
 * pretrained cfgs, init and typed errors. Tolerance as the parity test: f32 within 1e-4·max(1, max|ref|).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ArgumentError, IndexError, ShapeError, StateDictError } from '../../src/errors.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { filterMvitCheckpoint, MultiScaleVit, MVITV2_VARIANTS } from '../../src/models/index.ts';
import { addDecomposedRelPos, decomposedRelPosScores, relPosDistances, relPosMaxIndex, relPosRows, resizeRelPosTable } from '../../src/nn/blocks/decomposed-rel-pos.ts';
import { MultiScaleAttention } from '../../src/nn/blocks/pooling-attention.ts';
import { Linear } from '../../src/nn/layers/linear.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { matmul } from '../../src/tensor/ops/linalg.ts';
import { amax, sum } from '../../src/tensor/ops/reduce.ts';
import { abs, mul, sub } from '../../src/tensor/ops/elementwise.ts';
import { permute, reshape, transpose } from '../../src/tensor/ops/shape.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { F32_TOL, assertClose, fixturesDir } from '../helpers/opcheck.ts';
import { seedStateDict, seededInput } from '../helpers/seeded.ts';
import { assertTimmCfgs, type TimmCfg } from '../helpers/timm-cfgs.ts';
import { MVIT_EXTRA } from './mvitv2-cases.ts';

const file = path.join(fixturesDir, 'models', 'mvitv2-extra.safetensors');
const fixture = fs.existsSync(file) ? readSafetensors(file) : null;
const skip = fixture ? false : 'no fixture (tools/reference/mvitv2-fixtures.ts)';
const ref = (key: string): Tensor => {
  const t = fixture!.tensors.get(key);
  assert.ok(t, `fixture has ${key}`);
  return t;
};
const meta = <T>(key: string): T => JSON.parse(fixture!.metadata[key]) as T;
const { numClasses } = MVIT_EXTRA;
const tiny = MVITV2_VARIANTS.mvitv2_tiny;

// Building mvitv2_tiny is slow (timm's ±2σ truncated-normal init over 24M weights), so the tests share one.
let sharedTiny: MultiScaleVit | null = null;
function seededTiny(): MultiScaleVit {
  if (!sharedTiny) {
    sharedTiny = new MultiScaleVit(tiny, { numClasses });
    seedStateDict(sharedTiny, MVIT_EXTRA.seed);
  }
  return sharedTiny.eval();
}

// Which sizes a model takes depends on its strides and depths only; blocks after the second of a stage
// repeat its geometry, so this narrow model takes exactly the sizes mvitv2_tiny takes, and builds fast.
const narrow = (options: { imgSize?: number; dropPathRate?: number } = {}) => (
  new MultiScaleVit({ depths: [1, 2, 2, 2], embedDim: 16, numHeads: 1, expandAttn: true }, { numClasses, ...options })
);

interface RelPosCase { name: string; qSize: [number, number]; kSize: [number, number]; resized: number | null }

test('decomposed relative positions match timm cal_rel_pos_type (strides, equal grids, non-integer ratios, resampled tables), forward and autograd', { skip }, () => {
  const cases = meta<RelPosCase[]>('rel_pos_cases');
  assert.ok(cases.length >= 9, 'rel-pos cases in the fixture');
  for (const c of cases) {
    const p = `relpos/${c.name}`;
    let h = ref(`${p}/h`);
    let w = ref(`${p}/w`);
    if (c.resized) {
      h = resizeRelPosTable(h, c.resized);
      w = resizeRelPosTable(w, c.resized);
      assertClose(h, ref(`${p}/resized/h`), F32_TOL, `${c.name} resampled rel_pos_h`);
      assertClose(w, ref(`${p}/resized/w`), F32_TOL, `${c.name} resampled rel_pos_w`);
    }
    const q = ref(`${p}/q`).clone().requiresGrad_();
    const attn = ref(`${p}/attn`).clone().requiresGrad_();
    h = h.clone().requiresGrad_();
    w = w.clone().requiresGrad_();
    const out = addDecomposedRelPos(attn, q, c.qSize, c.kSize, h, w);
    assertClose(out.detach(), ref(`${p}/out`), F32_TOL, `${c.name} logits`);
    sum(mul(out, ref(`${p}/cot`))).backward();
    for (const [name, t] of [['q', q], ['h', h], ['w', w], ['attn', attn]] as const) assertClose(t.grad!, ref(`${p}/grad/${name}`), F32_TOL, `${c.name} grad ${name}`);
  }
});

test('decomposedRelPosScores (rel-pos folded into the q·kᵀ matmul) equals scale·q·kᵀ + its composed twin, forward and autograd', { skip }, () => {
  for (const c of meta<RelPosCase[]>('rel_pos_cases')) {
    const p = `relpos/${c.name}`;
    const [B, H, , d] = ref(`${p}/q`).shape;
    const leaves = () => {
      const h = ref(`${p}/h`);
      const w = ref(`${p}/w`);
      return {
        q: ref(`${p}/q`).clone().requiresGrad_(),
        k: seededInput([B, H, c.kSize[0] * c.kSize[1], d], 5).requiresGrad_(),
        h: (c.resized ? resizeRelPosTable(h, c.resized) : h).clone().requiresGrad_(),
        w: (c.resized ? resizeRelPosTable(w, c.resized) : w).clone().requiresGrad_(),
      };
    };
    const fused = leaves();
    const twin = leaves();
    const scale = d ** -0.5;
    const a = decomposedRelPosScores(fused.q, fused.k, scale, c.qSize, c.kSize, fused.h, fused.w);
    const b = addDecomposedRelPos(matmul(mul(twin.q, scale), transpose(twin.k, -1, -2)), twin.q, c.qSize, c.kSize, twin.h, twin.w);
    assertClose(a.detach(), b.detach(), F32_TOL, `${c.name} logits`);
    sum(mul(a, ref(`${p}/cot`))).backward();
    sum(mul(b, ref(`${p}/cot`))).backward();
    for (const name of ['q', 'k', 'h', 'w'] as const) assertClose(fused[name].grad!, twin[name].grad!, F32_TOL, `${c.name} grad ${name}`);
  }
});

test('relative distances: cached per grid pair, their maximum is what a table must hold, a short table is an IndexError', () => {
  const index = relPosDistances(56, 14);
  assert.equal(relPosDistances(56, 14), index, 'one index tensor per grid pair');
  const values = Array.from(index.toArray() as Int32Array);
  assert.equal(Math.max(...values), relPosMaxIndex(56, 14));
  assert.equal(relPosMaxIndex(56, 14), 55 + 13 * 4, 'q 56, k 14: i − 4k + 52');
  assert.equal(Math.min(...values), 0);
  assert.equal(relPosMaxIndex(14, 28), 13 * 2 + 27, 'queries pooled by 2 against 28 keys: 2i − k + 27');
  const table = seededInput([110, 4], 1);
  assert.throws(() => relPosRows(seededInput([100, 4], 1), 56, 14), (e: unknown) => e instanceof IndexError && /56-query × 14-key grid reads table row 107, but the table has 100 rows/.test(e.message));
  assert.deepEqual([...relPosRows(table, 56, 14).shape], [56, 14, 4]);
});

test('filterCheckpoint resamples the 224 px rel-pos tables for a 256 px build as timm checkpoint_filter_fn; that model matches timm at 256 px', { skip }, () => {
  const source = seededTiny();
  const model = new MultiScaleVit(tiny, { numClasses, imgSize: MVIT_EXTRA.resized.imgSize });
  assert.throws(() => model.loadStateDict(source.stateDict()), (e: unknown) => e instanceof StateDictError && /rel_pos_h/.test(e.message));
  const sd = source.stateDict();
  const filtered = filterMvitCheckpoint(sd, model);
  for (const key of MVIT_EXTRA.filterKeys) assertClose(filtered.get(key)!, ref(`filter/${key}`), F32_TOL, key);
  assert.equal(filtered.get('norm.weight'), sd.get('norm.weight'), 'other entries pass through');
  model.loadStateDict(filtered);
  model.eval();
  const r = MVIT_EXTRA.resized;
  noGrad(() => assertClose(model.forward(seededInput(r.shape, r.seed)), ref('resized/logits'), F32_TOL, 'logits at 256 px'));
});

test('inputs smaller than the built size, non-square and with non-integer grid ratios match timm', { skip }, () => {
  const model = seededTiny();
  for (const s of MVIT_EXTRA.sizes) noGrad(() => assertClose(model.forward(seededInput(s.shape, s.seed)), ref(`sizes/${s.name}/logits`), F32_TOL, s.name));
});

test('input sides: the model takes those timm takes; others are a ShapeError naming the sides allowed', { skip }, () => {
  const model = narrow();
  for (const [side, runs] of Object.entries(meta<Record<string, boolean>>('sides'))) assert.equal(model.fitsSide(Number(side)), runs, `side ${side}`);
  for (let side = 1; side <= 224; side += 13) assert.ok(model.fitsSide(side), `side ${side} fits`);
  assert.ok(model.fitsSide(224) && !model.fitsSide(225) && !model.fitsSide(448));
  const tooBig = (e: unknown) => e instanceof ShapeError && /input 232×224 is too large for the relative-position tables of a model built for 224×224: each side must be 1–224 px/.test(e.message);
  assert.throws(() => noGrad(() => model.forward(seededInput([1, 3, 232, 224], 1))), tooBig);
  assert.throws(() => model.forwardIntermediates(seededInput([1, 3, 224, 225], 1)), (e: unknown) => e instanceof ShapeError && /224×225/.test(e.message));
  assert.throws(() => model.forward(seededInput([3, 224, 224], 1)), (e: unknown) => e instanceof ShapeError && /expected pixels \[B, C, H, W\], got shape \[3, 224, 224\]/.test(e.message));
});

test('build sizes: those timm runs at their own size build; the others are an ArgumentError naming the nearest that work', { skip }, () => {
  for (const [size, runs] of Object.entries(meta<Record<string, boolean>>('builds'))) {
    const build = () => narrow({ imgSize: Number(size) });
    if (runs) assert.equal(build().imgSize, Number(size));
    else assert.throws(build, (e: unknown) => e instanceof ArgumentError && new RegExp(`imgSize ${size} builds relative-position tables too short.*nearest sizes that work: 192 and 224`).test(e.message));
  }
  assert.throws(() => narrow({ imgSize: 20 }), (e: unknown) => e instanceof ArgumentError && /imgSize 20 .*nearest sizes that work: 32$/.test(e.message));
  assert.throws(() => narrow({ imgSize: 0 }), (e: unknown) => e instanceof ArgumentError && /imgSize must be an integer >= 1, got 0/.test(e.message));
  assert.throws(() => new MultiScaleVit({ ...tiny, depths: [1, 0, 1, 1] }), (e: unknown) => e instanceof ArgumentError && /depths entry must be an integer >= 1, got 0/.test(e.message));
});

test('forwardIntermediates: the four stage maps, final features and the normed last map match timm forward_intermediates; featureInfo matches feature_info', { skip }, () => {
  const model = seededTiny();
  const x = seededInput(MVIT_EXTRA.intermediates.shape, MVIT_EXTRA.intermediates.seed);
  const info = meta<{ num_chs: number; reduction: number }[]>('feature_info');
  assert.deepEqual(model.featureInfo.map((f) => [f.numChannels, f.reduction]), info.map((f) => [f.num_chs, f.reduction]));
  assert.deepEqual(model.featureInfo.map((f) => f.module), ['stages.0', 'stages.1', 'stages.2', 'stages.3']);
  noGrad(() => {
    const { features, intermediates } = model.forwardIntermediates(x);
    intermediates.forEach((t, i) => assertClose(t, ref(`inter/${i}`), F32_TOL, `stage ${i}`));
    assertClose(features!, ref('inter/features'), F32_TOL, 'features');
    assertClose(features!, model.forwardFeatures(x), 0, 'features = forwardFeatures');
    const normed = model.forwardIntermediates(x, { indices: [3], norm: true, intermediatesOnly: true });
    assert.equal(normed.features, null);
    assertClose(normed.intermediates[0], ref('inter/normed'), F32_TOL, 'normed last stage');
    const early = model.forwardIntermediates(x, { indices: [1], stopEarly: true, outputFmt: 'NLC' });
    assert.deepEqual([...early.intermediates[0].shape], [1, 64, 192]);
    assertClose(early.features!, early.intermediates[0], 0, 'stopped after stage 1: features are its tokens');
    assertClose(reshape(permute(ref('inter/1'), [0, 2, 3, 1]), [1, 64, 192]), early.intermediates[0], F32_TOL, 'NLC tokens');
  });
});

type MvitTimmCfg = TimmCfg & { fixedInputSize: boolean };

test('pretrained cfgs: tags, hub ids and preprocessing equal timm; the input shape is fixed as timm\'s fixed_input_size', { skip }, () => {
  const timm = meta<Record<string, MvitTimmCfg[]>>('timm_cfgs');
  assertTimmCfgs((_, family) => family === 'mvitv2', timm);
  assert.ok(Object.values(timm).flat().every((c) => c.fixedInputSize), 'timm\'s cfgs say fixed_input_size');
  assert.deepEqual(narrow().inputShape.fixedSize, [224, 224]);
});

test('init as timm: Linear weights trunc_normal_tf_(0.02) within ±2σ, zero biases, rel-pos tables within ±0.04', () => {
  const model = narrow();
  const maxAbs = (t: Tensor) => amax(abs(t)).item();
  for (const [name, m] of model.namedModules()) {
    if (!(m instanceof Linear)) continue;
    assert.ok(maxAbs(m.weight) <= 0.04 && maxAbs(m.weight) > 0.02, `${name}.weight within ±0.04`);
    assert.equal(maxAbs(m.bias!), 0, `${name}.bias is zero`);
  }
  const attn = model.stages.at(0).blocks.at(0).attn;
  assert.ok(maxAbs(attn.relPosH) <= 0.04 && maxAbs(attn.relPosH) > 0.02);
  assert.deepEqual([...attn.relPosH.shape], [111, 16], 'stage 0 tables: queries 56, keys 14');
});

test('stochastic depth: drop_path modules in training, an identity in eval', () => {
  const base = narrow();
  const dropped = narrow({ dropPathRate: 0.9 });
  dropped.loadStateDict(base.stateDict());
  assert.ok(dropped.namedModules().some(([n]) => n === 'stages.3.blocks.0.drop_path1'));
  assert.ok(!dropped.namedModules().some(([n]) => n === 'stages.0.blocks.0.drop_path1'), 'rate 0 at the first block');
  const x = seededInput([2, 3, 64, 64], 3);
  base.eval();
  dropped.eval();
  noGrad(() => assertClose(dropped.forward(x), base.forward(x), 0, 'eval'));
  dropped.train();
  const y = dropped.forward(x);
  sum(y).backward();
  assert.ok(dropped.parameters().every((p) => p.grad), 'every parameter gets a grad in training');
  assert.ok(amax(abs(sub(y.detach(), noGrad(() => base.forward(x))))).item() > 0, 'training drops paths');
});

test('typed errors: attention widths, tokens that do not fill the grid, rel-pos operands that do not match their grids', () => {
  assert.throws(() => new MultiScaleAttention(96, 100, { numHeads: 3, featSize: 8 }), (e: unknown) => e instanceof ArgumentError && /dimOut 100 must be divisible by numHeads 3/.test(e.message));
  const attn = new MultiScaleAttention(8, 8, { numHeads: 2, featSize: 4, strideQ: 2, strideKv: 2 });
  assert.throws(() => attn.forward(seededInput([1, 15, 8], 1), [4, 4]), (e: unknown) => e instanceof ShapeError && /\[B, 4·4, 8\], got shape \[1, 15, 8\]/.test(e.message));
  const out = noGrad(() => attn.forward(seededInput([1, 16, 8], 1), [4, 4]));
  assert.deepEqual([[...out.x.shape], out.grid], [[1, 4, 8], [2, 2]]);
  const [q, table] = [seededInput([1, 2, 12, 4], 1), seededInput([9, 4], 2)];
  assert.throws(() => decomposedRelPosScores(q, seededInput([1, 2, 6, 4], 3), 1, [3, 4], [2, 2], table, table), (e: unknown) => e instanceof ShapeError && /k \[1, 2, 6, 4\] does not hold a 2×2 key grid/.test(e.message));
  assert.throws(() => addDecomposedRelPos(seededInput([1, 2, 12, 5], 3), q, [3, 4], [2, 2], table, table), (e: unknown) => e instanceof ShapeError && /attn \[1, 2, 12, 5\] does not pair 3×4 queries with 2×2 keys/.test(e.message));
  assert.throws(() => addDecomposedRelPos(seededInput([1, 2, 12, 4], 3), q, [4, 4], [2, 2], table, table), (e: unknown) => e instanceof ShapeError && /q \[1, 2, 12, 4\] does not hold a 4×4 query grid/.test(e.message));
  assert.throws(() => resizeRelPosTable(seededInput([9], 1), 5), ShapeError);
});
