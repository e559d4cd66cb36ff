/**
 * Gradient clipping against torch.nn.utils.clip_grad_norm_/clip_grad_value_ (fixture from
 * tools/reference/optim_parity.py; f32 tolerance 1e-4 * max(1, max|ref|)), and the weight EMA
 * against a hand computation of timm's ModelEmaV3 rule.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { Module, Sequential, Linear, GELU, LayerNorm, BatchNorm1d } from '../../src/nn/index.ts';
import { Tensor, tensor, noGrad } from '../../src/tensor/index.ts';
import { clipGradNorm_, clipGradValue_, ModelEma } from '../../src/train/index.ts';
import { ArgumentError } from '../../src/errors.ts';
import { fixturesDir } from '../helpers/opcheck.ts';

const fixture = readSafetensors(path.join(fixturesDir, 'train', 'optim.safetensors'));
const T = fixture.tensors;
const get = (k: string): Tensor => T.get(k) as Tensor;
const clips = JSON.parse(fixture.metadata.clips) as { index: number; maxNorm: number; normType: number | 'inf' }[];

function modelWithGrads(): Module {
  const m = new Sequential(new Linear(20, 24), new GELU(), new LayerNorm(24), new Linear(24, 5));
  m.loadStateDict(new Map([...T].filter(([k]) => k.startsWith('init.')).map(([k, t]) => [k.slice(5), t])));
  const d = m.forward(get('x')).sub(get('y'));
  d.mul(d).mean().backward();
  return m;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  let scale = 1;
  let err = 0;
  for (let i = 0; i < expected.length; ++i) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; ++i) err = Math.max(err, Math.abs(actual[i] - expected[i]));
  assert.equal(actual.length, expected.length, `${what}: length`);
  assert.ok(err <= 1e-4 * scale, `${what}: max abs error ${err} > ${1e-4 * scale}`);
}

for (const c of clips) {
  test(`clipGradNorm_ matches torch: maxNorm ${c.maxNorm}, normType ${c.normType}`, () => {
    const m = modelWithGrads();
    const total = clipGradNorm_(m.parameters(), c.maxNorm, c.normType === 'inf' ? Infinity : c.normType);
    assertClose([total], get(`clip${c.index}.total`).toArray() as Float32Array, 'total norm');
    for (const [n, p] of m.namedParameters()) {
      assertClose(p.grad?.toArray() as Float32Array, get(`clip${c.index}.grad.${n}`).toArray() as Float32Array, `grad ${n}`);
    }
  });
}

test('clipGradValue_ matches torch', () => {
  const m = modelWithGrads();
  clipGradValue_(m.parameters(), 0.01);
  for (const [n, p] of m.namedParameters()) {
    assertClose(p.grad?.toArray() as Float32Array, get(`clipvalue.grad.${n}`).toArray() as Float32Array, `grad ${n}`);
  }
});

test('clipGradNorm_: non-finite norms, bad arguments, parameters without grads', () => {
  const m = modelWithGrads();
  const [w] = m.parameters();
  noGrad(() => w.grad?.fill_(Number.NaN));
  assert.throws(() => clipGradNorm_(m.parameters(), 1, 2, { errorIfNonfinite: true }), /total 2-norm of the gradients is NaN, expected a finite value/);
  assert.ok(Number.isNaN(clipGradNorm_(m.parameters(), 1)));
  assert.throws(() => clipGradNorm_(m.parameters(), 1, 0), /normType must be > 0/);
  assert.throws(() => clipGradValue_(m.parameters(), -1), /clipValue must be >= 0, got -1/);
  const fresh = new Linear(2, 2);
  assert.equal(clipGradNorm_(fresh.parameters(), 1), 0);
});

class Tiny extends Module {
  fc = this.registerModule('fc', new Linear(2, 2));
  bn = this.registerModule('bn', new BatchNorm1d(2));
  forward(x: Tensor): Tensor {
    return this.bn.forward(this.fc.forward(x));
  }
}

function setAll(m: Tiny, value: number): void {
  noGrad(() => {
    for (const p of m.parameters()) p.fill_(value);
    m.bn.runningMean?.fill_(value);
  });
}

test('ModelEma: decay, warmup and buffers follow timm ModelEmaV3, checked by hand', () => {
  const model = new Tiny();
  setAll(model, 1);
  const ema = new ModelEma(model, { decay: 0.9, useWarmup: true, warmupGamma: 1, warmupPower: 1, minDecay: 0.1 });
  assert.equal(ema.getDecay(1), 0);
  assert.equal(ema.getDecay(2), 0.5 > 0.9 ? 0.9 : Math.max(1 - (1 + 1) ** -1, 0.1));
  assert.equal(ema.getDecay(100), 0.9);
  assert.equal(ema.getDecay(), 0.9);

  setAll(model, 3);
  ema.update(model, 1); // decay 0: a copy
  assert.deepEqual([...(ema.stateDict().get('fc.weight')?.toArray() ?? [])], [3, 3, 3, 3]);
  setAll(model, 5);
  ema.update(model, 2); // decay 0.5: 3 + 0.5 * (5 - 3)
  assert.deepEqual([...(ema.stateDict().get('fc.bias')?.toArray() ?? [])], [4, 4]);
  assert.deepEqual([...(ema.stateDict().get('bn.running_mean')?.toArray() ?? [])], [4, 4]);
  setAll(model, 14);
  ema.update(model); // decay 0.9: 4 + 0.1 * (14 - 4)
  assertClose(ema.stateDict().get('bn.weight')?.toArray() as Float32Array, [5, 5], 'bn.weight');

  model.train();
  model.forward(tensor([[1, 2], [3, 5]]));
  ema.update(model);
  assert.equal(ema.stateDict().get('bn.num_batches_tracked')?.item(), 1);
});

test('ModelEma: a twin module holds the average; excludeBuffers copies buffers', () => {
  const model = new Tiny();
  setAll(model, 2);
  const twin = new Tiny();
  const ema = new ModelEma(model, { decay: 0.75, excludeBuffers: true, module: twin });
  assert.equal(twin.training, false);
  assert.deepEqual([...twin.fc.weight.toArray()], [2, 2, 2, 2]);
  setAll(model, 6);
  ema.update(model);
  assert.deepEqual([...twin.fc.weight.toArray()], [3, 3, 3, 3]);
  assert.deepEqual([...twin.bn.runningMean?.toArray() ?? []], [6, 6]);
  ema.set(model);
  assert.deepEqual([...twin.bn.weight?.toArray() ?? []], [6, 6]);
  assert.throws(() => new ModelEma(model, { decay: 2 }), /decay must be in \[0, 1\], got 2/);
});

test('ModelEma.loadStateDict restores a saved average and rejects one that does not fit', () => {
  const model = new Tiny();
  setAll(model, 2);
  const ema = new ModelEma(model, { decay: 0.5, module: new Tiny() });
  const saved = new Map([...ema.stateDict()].map(([k, v]) => [k, v.clone()]));
  setAll(model, 4);
  ema.update(model);
  assert.notDeepEqual([...ema.stateDict().get('fc.weight')!.toArray()], [2, 2, 2, 2]);
  ema.loadStateDict(saved);
  assert.deepEqual([...(ema.module as Tiny).fc.weight.toArray()], [2, 2, 2, 2]);
  const wrong = new Map(saved);
  wrong.delete('fc.bias');
  wrong.set('fc.extra', tensor([1]));
  wrong.set('fc.weight', tensor([1, 2]));
  assert.throws(() => ema.loadStateDict(wrong), (e: unknown) => e instanceof ArgumentError && /ModelEma\.loadStateDict: .*missing fc\.bias; unexpected fc\.extra; mis-shaped fc\.weight/.test(e.message));
});
