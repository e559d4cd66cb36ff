/**
 * Optimizer parity with PyTorch 1.13 / timm (fixture from tools/reference/optim_parity.py): 20
 * steps on Linear(20,24) -> GELU -> LayerNorm(24) -> Linear(24,5) with an MSE loss. Tolerance
 * (f32): max abs error <= 1e-4 * max(1, max|ref|) on every per-step loss and final parameter.
 * Every optimizer is made by createOptimizer. Also: exact resume through a safetensors + JSON state
 * dict, bf16 master copies, and timm's parameter-group rules on resnet18.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.ts';
import { Module, Parameter, Sequential, Linear, GELU, LayerNorm } from '../../src/nn/index.ts';
import { Tensor, zeros, tensor } from '../../src/tensor/index.ts';
import { buildModel } from '../../src/models/index.ts';
import {
  SGD, Adam, AdamW, Adafactor, Lamb, OPTIMIZER_NAMES, createOptimizer, paramGroupsWeightDecay, type Optimizer, type OptimizerOptionsByName, type OptimizerStateDict,
} from '../../src/train/index.ts';
import { ArgumentError } from '../../src/errors.ts';
import { fixturesDir } from '../helpers/opcheck.ts';

const fixture = readSafetensors(path.join(fixturesDir, 'train', 'optim.safetensors'));
const T = fixture.tensors;
const get = (k: string): Tensor => {
  const t = T.get(k);
  assert.ok(t, `fixture lacks ${k}`);
  return t;
};
interface Case { name: string; optimizer: string; options: Record<string, unknown> }
const cases = JSON.parse(fixture.metadata.cases) as Case[];
const STEPS = Number(fixture.metadata.steps);

function smallModel(): Module {
  const m = new Sequential(new Linear(20, 24), new GELU(), new LayerNorm(24), new Linear(24, 5));
  const init = new Map([...T].filter(([k]) => k.startsWith('init.')).map(([k, t]) => [k.slice(5), t]));
  m.loadStateDict(init);
  return m;
}

function lossOf(model: Module): Tensor {
  const out = (model as Sequential).forward(get('x'));
  const d = out.sub(get('y'));
  return d.mul(d).mean();
}

// The fixture's options are torch's, renamed; createOptimizer types them per name from here on.
function makeOptimizer(kind: string, model: Module, options: Record<string, unknown>): Optimizer<any> {
  const name = OPTIMIZER_NAMES.find((n) => n === kind);
  assert.ok(name, `unknown optimizer ${kind}`);
  const groups = paramGroupsWeightDecay(model, (options.weightDecay as number | undefined) ?? 0);
  return createOptimizer(name, groups, options as OptimizerOptionsByName[typeof name]);
}

function trainSteps(model: Module, opt: Optimizer<any>, steps: number): number[] {
  const losses: number[] = [];
  for (let i = 0; i < steps; ++i) {
    opt.zeroGrad();
    const loss = lossOf(model);
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  return losses;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1;
  for (let i = 0; i < expected.length; ++i) scale = Math.max(scale, Math.abs(expected[i]));
  let err = 0;
  for (let i = 0; i < expected.length; ++i) err = Math.max(err, Math.abs(actual[i] - expected[i]));
  assert.ok(err <= 1e-4 * scale, `${what}: max abs error ${err} > ${1e-4 * scale}`);
}

for (const c of cases) {
  test(`optim parity: ${c.name} (${c.optimizer}) matches torch over ${STEPS} steps`, () => {
    const model = smallModel();
    const opt = makeOptimizer(c.optimizer, model, c.options);
    const losses = trainSteps(model, opt, STEPS);
    assertClose(losses, get(`${c.name}.losses`).toArray() as Float32Array, `${c.name} losses`);
    // Adafactor's warmup moves the weights by ~1e-4 in 20 steps, below the f32 tolerance, so the
    // total change (final - init) is also compared, relative to its own size (1e-2).
    let moved = 0;
    let deltaErr = 0;
    for (const [n, p] of model.namedParameters()) {
      const ref = get(`${c.name}.final.${n}`).toArray() as Float32Array;
      const actual = p.toArray() as Float32Array;
      assertClose(actual, ref, `${c.name} ${n}`);
      const init = get(`init.${n}`).toArray() as Float32Array;
      for (let i = 0; i < ref.length; ++i) {
        moved = Math.max(moved, Math.abs(ref[i] - init[i]));
        deltaErr = Math.max(deltaErr, Math.abs((actual[i] - init[i]) - (ref[i] - init[i])));
      }
    }
    assert.ok(moved > 0, `${c.name}: the reference did not move`);
    assert.ok(deltaErr <= 1e-2 * moved, `${c.name}: change from init differs by ${deltaErr}, > 1e-2 * ${moved}`);
  });
}

function roundTripThroughFile(sd: OptimizerStateDict): OptimizerStateDict {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optim-'));
  try {
    const file = path.join(dir, 'optimizer.safetensors');
    writeSafetensors(file, sd.tensors, { optimizer: JSON.stringify(sd.meta) });
    const back = readSafetensors(file);
    return { tensors: back.tensors, meta: JSON.parse(back.metadata.optimizer) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (const kind of ['sgd', 'adam', 'adamw', 'adafactor', 'lamb']) {
  test(`optim state dict: ${kind} saved after 10 steps and resumed equals 20 straight steps, bitwise`, () => {
    const c = cases.find((x) => x.optimizer === kind) as Case;
    const straight = smallModel();
    trainSteps(straight, makeOptimizer(kind, straight, c.options), 20);

    const first = smallModel();
    const opt1 = makeOptimizer(kind, first, c.options);
    trainSteps(first, opt1, 10);
    const saved = roundTripThroughFile(opt1.stateDict());
    const weights = new Map([...first.stateDict()].map(([k, t]) => [k, t.clone()]));

    const resumed = smallModel();
    resumed.loadStateDict(weights);
    const opt2 = makeOptimizer(kind, resumed, c.options);
    opt2.loadStateDict(saved);
    trainSteps(resumed, opt2, 10);
    const reference = straight.stateDict();
    for (const [n, p] of resumed.namedParameters()) assert.deepEqual(p.toArray(), reference.get(n)?.toArray(), `${kind} ${n}`);
    assert.deepEqual(opt2.stateDict().meta, makeOptimizerAfter(kind, c.options, 20), `${kind} meta`);
  });
}

function makeOptimizerAfter(kind: string, options: Record<string, unknown>, steps: number) {
  const m = smallModel();
  const opt = makeOptimizer(kind, m, options);
  trainSteps(m, opt, steps);
  return opt.stateDict().meta;
}

test('optim state dict: loading checks the optimizer name and the group layout', () => {
  const model = smallModel();
  const sgd = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  const adam = new Adam(model.parameters());
  assert.throws(() => adam.loadStateDict(sgd.stateDict()), /state is for sgd, expected adam/);
  const twoGroups = new SGD(paramGroupsWeightDecay(model, 0.1), { lr: 0.1 });
  assert.throws(() => sgd.loadStateDict(twoGroups.stateDict()), /2 parameter groups, expected 1/);
});

test('optim: bf16 parameters are updated through an f32 master copy', () => {
  const w = new Parameter(tensor([1, 2, 3]).to('bfloat16'));
  const opt = new SGD([w], { lr: 1e-4 });
  for (let i = 0; i < 3; ++i) {
    w.grad = tensor([1, 1, 1]).to('bfloat16');
    opt.step();
  }
  const sd = opt.stateDict();
  const master = sd.tensors.get('state.0.master') as Tensor;
  assert.equal(master.dtype, 'float32');
  assertClose(master.toArray() as Float32Array, [1 - 3e-4, 2 - 3e-4, 3 - 3e-4], 'master');
  assert.equal(w.dtype, 'bfloat16');
  assert.deepEqual(w.to('float32').toArray(), master.to('bfloat16').to('float32').toArray());
});

test('optim: lr is settable per group and zeroGrad clears grads', () => {
  const model = smallModel();
  const opt = new AdamW(paramGroupsWeightDecay(model, 0.05), { lr: 1e-3 });
  opt.setLr(0.5, 1);
  assert.deepEqual(opt.paramGroups.map((g) => g.lr), [1e-3, 0.5]);
  lossOf(model).backward();
  opt.zeroGrad({ setToNone: false });
  assert.ok(model.parameters().every((p) => p.grad !== null && (p.grad.abs().amax().item() === 0)));
  opt.zeroGrad();
  assert.ok(model.parameters().every((p) => p.grad === null));
  assert.throws(() => new SGD([], { lr: 0.1 }), /empty parameter list/);
  assert.throws(() => new SGD(model.parameters(), { lr: 0.1, nesterov: true }), /nesterov needs momentum > 0/);
  assert.throws(() => new Adam(model.parameters(), { betas: [1, 0.9] }), /invalid betas/);
  assert.throws(() => new Adafactor(model.parameters(), { lr: 0.1, warmupInit: true }), /warmupInit requires a relative step/);
});

test('param groups: resnet18 decays conv and fc weights only; head split uses the classifier name', () => {
  const model = buildModel('resnet18');
  const all = model.namedParameters().map(([n]) => n);
  const [noDecay, decay] = paramGroupsWeightDecay(model, 0.05);
  assert.equal(noDecay.weightDecay, 0);
  assert.equal(decay.weightDecay, 0.05);
  const expectedDecay = all.filter((n) => n === 'conv1.weight' || n === 'fc.weight' || /\.conv\d\.weight$|downsample\.0\.weight$/.test(n));
  assert.deepEqual(decay.names, expectedDecay);
  assert.deepEqual(noDecay.names, all.filter((n) => !expectedDecay.includes(n)));
  assert.ok(noDecay.names.includes('bn1.weight') && noDecay.names.includes('fc.bias') && noDecay.names.includes('layer1.0.bn1.bias'));

  const split = paramGroupsWeightDecay(model, 0.05, { headLr: 0.1, headWeightDecay: 0.2, noWeightDecayList: ['layer4.*'] });
  assert.equal(split.length, 4);
  const [nd, d, headNd, headD] = split;
  assert.deepEqual(headNd.names, ['fc.bias']);
  assert.deepEqual(headD.names, ['fc.weight']);
  assert.equal(headD.weightDecay, 0.2);
  assert.equal(headD.lr, 0.1);
  assert.equal(headNd.lr, 0.1);
  assert.equal(d.lr, undefined);
  assert.ok(d.names.every((n) => !n.startsWith('layer4.') && !n.startsWith('fc.')));
  assert.ok(nd.names.includes('layer4.1.conv2.weight'));
  assert.equal(paramGroupsWeightDecay(model, 0).length, 1);
});

test('param groups: a model\'s noWeightDecay() names are not decayed', () => {
  class WithTokens extends Module {
    posEmbed = this.registerParameter('pos_embed', zeros([1, 4, 8]));
    clsToken = this.registerParameter('cls_token', zeros([1, 1, 8]));
    proj = this.registerModule('proj', new Linear(8, 8));
    forward(x: Tensor): Tensor {
      return this.proj.forward(x.add(this.posEmbed).add(this.clsToken));
    }
    noWeightDecay(): string[] {
      return ['pos_embed', 'cls_token'];
    }
  }
  const [nd, d] = paramGroupsWeightDecay(new WithTokens(), 0.1);
  assert.deepEqual(new Set(nd.names), new Set(['pos_embed', 'cls_token', 'proj.bias']));
  assert.deepEqual(d.names, ['proj.weight']);
});

test('createOptimizer: each timm name gives its optimizer with the options applied; an unknown name is an ArgumentError', () => {
  const params = () => [new Parameter(zeros([2, 2]))];
  const classes = { adamw: AdamW, adam: Adam, sgd: SGD, lamb: Lamb, adafactor: Adafactor };
  for (const name of OPTIMIZER_NAMES) {
    const opt = createOptimizer(name, params(), { lr: 0.5, weightDecay: 0.25 });
    assert.ok(opt instanceof classes[name], name);
    assert.equal(opt.name, name);
    assert.deepEqual([opt.paramGroups[0].lr, opt.paramGroups[0].weightDecay], [0.5, 0.25], name);
  }
  assert.deepEqual([...OPTIMIZER_NAMES].sort(), Object.keys(classes).sort());
  const sgd = createOptimizer('sgd', params(), { lr: 0.1, momentum: 0.9, nesterov: true });
  assert.deepEqual([sgd.defaults.momentum, sgd.defaults.nesterov], [0.9, true]);
  const adafactor = createOptimizer('adafactor', params(), { lr: 0.01 });
  assert.equal(adafactor.defaults.relativeStep, false, 'a given lr is used as is');
  // @ts-expect-error: 'rmsprop' is not an OptimizerName; a JS caller gets a typed error.
  assert.throws(() => createOptimizer('rmsprop', params(), { lr: 1 }), (e: unknown) => e instanceof ArgumentError && /expected one of adamw, adam, sgd, lamb, adafactor, got 'rmsprop'/.test(e.message));
});
