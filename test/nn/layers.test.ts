/**
 * Parity of the nn layers with torch.nn; fixture from tools/reference/nn_layers.py.
 *
 * Per case, two tests:
 *  - layout: our stateDict has torch's keys in torch's order with the same shapes and dtypes,
 *    our parameter count equals torch's, and torch's state dict loads with strict checking;
 *  - forward: with torch's weights loaded, outputs, input grads and parameter grads (for the
 *    stored random cotangent) match torch's float64 results, and buffers updated in training
 *    (BatchNorm running stats) match too.
 *  - bf16 (eval-mode cases): the module converted with to('bfloat16') on bfloat16 inputs
 *    gives bfloat16 outputs that match torch's.
 * Tolerance rule (DESIGN.md): max |ours − ref| ≤ tol · max(1, max |ref|), tol = 1e-4 for
 * float32 and 2e-2 for bfloat16.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { readSafetensors } from '../../src/io/safetensors.ts';
import * as nn from '../../src/nn/index.ts';
import { Tensor, cast, cat, isFloating, mul, permute } from '../../src/tensor/index.ts';
import { BF16_TOL, F32_TOL, assertClose, fixturesDir } from '../helpers/opcheck.ts';

interface CaseSpec {
  name: string;
  kind: string;
  kwargs: Record<string, any>;
  fwd: Record<string, any>;
  train: boolean;
  keys: [string, number[], string][];
  numParams: number;
  inputs: { name: string; permute: number[] | null; grad: boolean }[];
  outputs: boolean[];
  paramGrads: string[];
}

type Inputs = Record<string, Tensor>;
type Output = Tensor | (Tensor | null)[];
interface Entry {
  build: (k: Record<string, any>) => nn.Module;
  run?: (m: any, x: Inputs, fwd: Record<string, any>) => Output;
}

const unary = (m: nn.Module & { forward(x: Tensor): Tensor }, x: Inputs) => m.forward(Object.values(x)[0]);

/** The fixture's Tower: ModuleList + ModuleDict + persistent and non-persistent buffers. */
class Tower extends nn.Module {
  blocks = this.module('blocks', new nn.ModuleList([new nn.Linear(4, 5), new nn.Linear(5, 4)]));
  scale = this.buffer('scale', nn.init.constant_(Tensor.empty([4]), 0.5));
  scratch = this.buffer('scratch', Tensor.empty([2], 'float32'), { persistent: false });
  heads = this.module('heads', new nn.ModuleDict({ b: new nn.Linear(4, 2), a: new nn.Linear(4, 3, { bias: false }) }));

  override forward(x: Tensor): Tensor {
    for (const b of this.blocks) x = b.forward(x);
    x = mul(x, this.scale);
    return cat([this.heads.get('b').forward(x), this.heads.get('a').forward(x)], -1);
  }
}

/** The fixture's Tied: b.weight is a.weight. */
class Tied extends nn.Module {
  a = this.module('a', new nn.Linear(4, 4));
  b = this.module('b', new nn.Linear(4, 4));
  constructor() {
    super();
    this.b.weight = this.b.registerParameter('weight', this.a.weight);
  }

  override forward(x: Tensor): Tensor {
    return this.b.forward(this.a.forward(x));
  }
}

const convOpts = (k: Record<string, any>) => ({
  stride: k.stride, padding: k.padding, dilation: k.dilation, groups: k.groups, bias: k.bias, paddingMode: k.padding_mode,
});
const convTOpts = (k: Record<string, any>) => ({
  stride: k.stride, padding: k.padding, outputPadding: k.output_padding, dilation: k.dilation, groups: k.groups, bias: k.bias,
});
const bnOpts = (k: Record<string, any>) => ({ eps: k.eps, momentum: k.momentum, affine: k.affine, trackRunningStats: k.track_running_stats });
const convT = { run: (m: nn.ConvTransposeNd, x: Inputs, fwd: Record<string, any>) => m.forward(x.x, fwd.output_size) };

const table: Record<string, Entry> = {
  Linear: { build: (k) => new nn.Linear(k.in, k.out, { bias: k.bias }) },
  Identity: { build: () => new nn.Identity() },
  SeqLinear: { build: () => new nn.Sequential(new nn.Linear(4, 6), new nn.Identity(), new nn.Sequential(new nn.Linear(6, 5), new nn.Linear(5, 2))) },
  Tower: { build: () => new Tower() },
  Tied: { build: () => new Tied() },
  Conv1d: { build: (k) => new nn.Conv1d(k.in, k.out, k.k, convOpts(k)) },
  Conv2d: { build: (k) => new nn.Conv2d(k.in, k.out, k.k, convOpts(k)) },
  Conv3d: { build: (k) => new nn.Conv3d(k.in, k.out, k.k, convOpts(k)) },
  ConvTranspose1d: { build: (k) => new nn.ConvTranspose1d(k.in, k.out, k.k, convTOpts(k)), ...convT },
  ConvTranspose2d: { build: (k) => new nn.ConvTranspose2d(k.in, k.out, k.k, convTOpts(k)), ...convT },
  ConvTranspose3d: { build: (k) => new nn.ConvTranspose3d(k.in, k.out, k.k, convTOpts(k)), ...convT },
  BatchNorm1d: { build: (k) => new nn.BatchNorm1d(k.num, bnOpts(k)) },
  BatchNorm2d: { build: (k) => new nn.BatchNorm2d(k.num, bnOpts(k)) },
  BatchNorm3d: { build: (k) => new nn.BatchNorm3d(k.num, bnOpts(k)) },
  LayerNorm: { build: (k) => new nn.LayerNorm(k.shape, { eps: k.eps, elementwiseAffine: k.elementwise_affine }) },
  GroupNorm: { build: (k) => new nn.GroupNorm(k.groups, k.channels, { affine: k.affine }) },
  Embedding: { build: (k) => new nn.Embedding(k.num, k.dim, { paddingIdx: k.padding_idx }) },
  Dropout: { build: (k) => new nn.Dropout(k.p) },
  ReLU: { build: () => new nn.ReLU() },
  LeakyReLU: { build: (k) => new nn.LeakyReLU(k.slope) },
  GELU: { build: (k) => new nn.GELU({ approximate: k.approximate }) },
  QuickGELU: { build: () => new nn.QuickGELU() },
  SiLU: { build: () => new nn.SiLU() },
  Sigmoid: { build: () => new nn.Sigmoid() },
  Tanh: { build: () => new nn.Tanh() },
  Softmax: { build: (k) => new nn.Softmax(k.dim) },
  Mlp: { build: () => new nn.Sequential(new nn.Linear(4, 8), new nn.GELU(), new nn.Sequential(new nn.Linear(8, 8), new nn.LayerNorm(8)), new nn.Linear(8, 3)) },
  MultiheadAttention: {
    build: (k) => new nn.MultiheadAttention(k.E, k.H, { bias: k.bias, kdim: k.kdim, vdim: k.vdim, batchFirst: k.batch_first }),
    run: (m: nn.MultiheadAttention, x, fwd) => {
      const [q, k, v] = fwd.self ? [x.x, x.x, x.x] : [x.q, x.k, x.v];
      return m.forward(q, k, v, {
        attnMask: x.attn_mask, keyPaddingMask: x.key_padding_mask,
        needWeights: fwd.need_weights, averageAttnWeights: fwd.average_attn_weights,
      });
    },
  },
};

const file = path.join(fixturesDir, 'nn', 'layers.safetensors');
const { tensors, metadata } = readSafetensors(file);
const cases = JSON.parse(metadata.cases) as CaseSpec[];

function get(key: string): Tensor {
  const t = tensors.get(key);
  assert.ok(t, `fixture lacks ${key}`);
  return t;
}

function fixtureStateDict(c: CaseSpec): Map<string, Tensor> {
  return new Map(c.keys.map(([k]) => [k, get(`${c.name}/sd/${k}`)]));
}

function inverse(p: number[]): number[] {
  const out = new Array<number>(p.length);
  p.forEach((v, i) => (out[v] = i));
  return out;
}

for (const c of cases) {
  const entry = table[c.kind];

  test(`${c.kind} layout: ${c.name}`, () => {
    assert.ok(entry, `no table entry for '${c.kind}'`);
    const m = entry.build(c.kwargs);
    const ours = [...m.stateDict()].map(([k, t]) => [k, [...t.shape], t.dtype]);
    assert.deepEqual(ours, c.keys.map(([k, shape, dtype]) => [k, shape, dtype]));
    assert.equal(m.numParameters(), c.numParams, 'parameter count');
    assert.deepEqual(m.namedParameters().map(([n]) => n), c.paramGrads, 'named parameter order');
    assert.deepEqual(m.loadStateDict(fixtureStateDict(c)), { missingKeys: [], unexpectedKeys: [] });
    for (const [k, t] of m.stateDict()) assertClose(t, get(`${c.name}/sd/${k}`), 0, `loaded ${k}`);
  });

  const run = (m: nn.Module, inputs: Inputs) => {
    const result = entry.run ? entry.run(m, inputs, c.fwd) : unary(m as nn.Module & { forward(x: Tensor): Tensor }, inputs);
    return result instanceof Tensor ? [result] : result;
  };

  test(`${c.kind} forward: ${c.name}`, () => {
    const m = entry.build(c.kwargs);
    m.loadStateDict(fixtureStateDict(c));
    m.train(c.train);
    const leaves: Inputs = {};
    const inputs: Inputs = {};
    for (const spec of c.inputs) {
      const base = get(`${c.name}/in/${spec.name}`).detach();
      if (spec.grad) base.requiresGrad_(true);
      leaves[spec.name] = base;
      inputs[spec.name] = spec.permute ? permute(base, spec.permute) : base;
    }
    const outs = run(m, inputs);
    assert.equal(outs.length, c.outputs.length, 'number of outputs');
    outs.forEach((o, k) => {
      assert.equal(o !== null, c.outputs[k], `output ${k} presence`);
      if (o) assertClose(o, get(`${c.name}/out${k}`), F32_TOL, `output ${k}`);
    });
    outs[0]!.backward(get(`${c.name}/cot`));
    for (const spec of c.inputs) {
      if (!spec.grad) continue;
      const g = leaves[spec.name].grad;
      assert.ok(g, `input ${spec.name} got no grad`);
      const ref = get(`${c.name}/grad/${spec.name}`);
      assertClose(g, spec.permute ? permute(ref, inverse(spec.permute)) : ref, F32_TOL, `grad of input ${spec.name}`);
    }
    for (const [name, p] of m.namedParameters()) {
      const ref = get(`${c.name}/pgrad/${name}`);
      assertClose(p.grad ?? Tensor.empty(p.shape, 'float32'), ref, F32_TOL, `grad of ${name}`);
    }
    if (c.train) {
      for (const [name, b] of m.namedBuffers()) assertClose(b, get(`${c.name}/after/${name}`), F32_TOL, `buffer ${name} after forward`);
    }
  });

  if (!c.train) {
    test(`${c.kind} bf16: ${c.name}`, () => {
      const m = entry.build(c.kwargs);
      m.loadStateDict(fixtureStateDict(c));
      m.eval().to('bfloat16');
      const inputs: Inputs = {};
      for (const spec of c.inputs) {
        const base = get(`${c.name}/in/${spec.name}`);
        const low = isFloating(base.dtype) ? cast(base, 'bfloat16') : base;
        inputs[spec.name] = spec.permute ? permute(low, spec.permute) : low;
      }
      run(m, inputs).forEach((o, k) => {
        if (!o) return;
        assert.equal(o.dtype, 'bfloat16', `output ${k} dtype`);
        assertClose(cast(o, 'float32'), get(`${c.name}/out${k}`), BF16_TOL, `bf16 output ${k}`);
      });
    });
  }
}
