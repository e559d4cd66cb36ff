/**
 * nn.init: fan and gain values against torch's (from tools/reference/nn_layers.py), and the
 * statistics of each initialiser over 200k draws. Statistical tolerances are several
 * standard errors wide (σ/√n ≈ 0.0022σ for the mean), so the seeded draws pass with margin.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ArgumentError, DTypeError } from '../../src/errors.ts';
import { readHeader } from '../../src/io/safetensors.ts';
import * as nn from '../../src/nn/index.ts';
import { Generator, Tensor, amax, amin, empty, manualSeed, mean, transpose, variance, zeros } from '../../src/tensor/index.ts';
import { fixturesDir } from '../helpers/opcheck.ts';

const { init } = nn;
const N = 200_000;
const stats = (t: Tensor) => ({ mean: mean(t).item(), std: Math.sqrt(variance(t).item()), min: amin(t).item(), max: amax(t).item() });
const near = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} is not within ${tol} of ${expected}`);

const initMeta = JSON.parse(readHeader(path.join(fixturesDir, 'nn', 'layers.safetensors')).metadata.init) as {
  fans: [number[], number, number][];
  gains: [nn.init.Nonlinearity, number | null, number][];
};

describe('fans and gains (torch values)', () => {
  test('calculateFanInAndFanOut matches torch for linear, conv and transposed-conv shapes', () => {
    for (const [shape, fanIn, fanOut] of initMeta.fans) {
      assert.deepEqual(init.calculateFanInAndFanOut(shape), [fanIn, fanOut], `shape [${shape}]`);
      assert.deepEqual(init.calculateFanInAndFanOut(empty(shape)), [fanIn, fanOut]);
    }
  });

  test('calculateGain matches torch', () => {
    for (const [nl, param, gain] of initMeta.gains) near(init.calculateGain(nl, param ?? undefined), gain, 1e-12, `${nl}(${param})`);
  });

  test('fans need rank >= 2; bad names and modes are rejected', () => {
    assert.throws(() => init.calculateFanInAndFanOut([5]), (e: unknown) => e instanceof ArgumentError && /rank >= 2, got shape \[5\]/.test(e.message));
    assert.throws(() => init.calculateGain('swish' as nn.init.Nonlinearity), (e: unknown) => e instanceof ArgumentError && /unsupported nonlinearity 'swish'/.test(e.message));
    assert.throws(() => init.kaimingUniform_(empty([2, 2]), { mode: 'fan_avg' as nn.init.FanMode }), ArgumentError);
  });
});

describe('distributions', () => {
  const gen = () => new Generator(1234);

  test('uniform_', () => {
    const s = stats(init.uniform_(empty([N]), -1, 3, gen()));
    near(s.mean, 1, 0.02, 'mean');
    near(s.std, 4 / Math.sqrt(12), 0.01, 'std');
    assert.ok(s.min >= -1 && s.max <= 3);
    assert.throws(() => init.uniform_(empty([2]), 1, 0), (e: unknown) => e instanceof ArgumentError && /a <= b, got a=1, b=0/.test(e.message));
  });

  test('normal_', () => {
    const s = stats(init.normal_(empty([N]), 0.5, 2, gen()));
    near(s.mean, 0.5, 0.02, 'mean');
    near(s.std, 2, 0.02, 'std');
    assert.throws(() => init.normal_(empty([2]), 0, -1), ArgumentError);
  });

  test('constant_, zeros_, ones_', () => {
    assert.deepEqual(init.constant_(empty([2, 2]), 1.5).tolist(), [[1.5, 1.5], [1.5, 1.5]]);
    assert.deepEqual(init.zeros_(empty([3])).tolist(), [0, 0, 0]);
    assert.deepEqual(init.ones_(empty([2], { dtype: 'int64' })).tolist(), [1, 1]);
  });

  test('kaimingUniform_ / kaimingNormal_ (modes, nonlinearities)', () => {
    // [out, in, k, k] = [400, 50, 2, 5]: fan_in 500, fan_out 4000.
    const shape = [400, 50, 2, 5];
    const gain = Math.sqrt(2 / (1 + 5));
    const bound = gain * Math.sqrt(3 / 500);
    const u = stats(init.kaimingUniform_(empty(shape), { a: Math.sqrt(5), generator: gen() }));
    assert.ok(u.min >= -bound && u.max <= bound && u.max > 0.99 * bound, `bound ${bound}, got [${u.min}, ${u.max}]`);
    near(u.std, bound / Math.sqrt(3), 0.01 * bound, 'uniform std');
    const out = stats(init.kaimingUniform_(empty(shape), { mode: 'fan_out', nonlinearity: 'relu', generator: gen() }));
    near(out.max, Math.SQRT2 * Math.sqrt(3 / 4000), 1e-3 * Math.SQRT2 * Math.sqrt(3 / 4000), 'fan_out relu bound');
    const n = stats(init.kaimingNormal_(empty(shape), { mode: 'fan_out', nonlinearity: 'relu', generator: gen() }));
    near(n.std, Math.SQRT2 / Math.sqrt(4000), 0.01 * Math.SQRT2 / Math.sqrt(4000), 'normal std');
    near(n.mean, 0, 0.005 * n.std, 'normal mean');
  });

  test('xavierUniform_ / xavierNormal_ with gain', () => {
    const shape = [500, 400];
    const a = 2 * Math.sqrt(6 / 900);
    const u = stats(init.xavierUniform_(empty(shape), 2, gen()));
    assert.ok(u.min >= -a && u.max <= a && u.max > 0.99 * a);
    near(u.std, a / Math.sqrt(3), 0.01 * a, 'uniform std');
    const n = stats(init.xavierNormal_(empty(shape), 0.5, gen()));
    near(n.std, 0.5 * Math.sqrt(2 / 900), 0.01 * 0.5 * Math.sqrt(2 / 900), 'normal std');
  });

  test('random inits need float tensors; empty tensors are a no-op', () => {
    assert.throws(() => init.normal_(empty([2], { dtype: 'int32' })), (e: unknown) => e instanceof DTypeError && /normal_: expected a float tensor, got int32/.test(e.message));
    assert.deepEqual(init.kaimingUniform_(empty([0, 3])).shape, [0, 3]);
    assert.deepEqual(init.truncNormal_(empty([0])).shape, [0]);
  });

  test('non-contiguous and bfloat16 tensors are filled in place', () => {
    const base = zeros([300, 200]);
    const view = transpose(base, 0, 1);
    assert.equal(init.uniform_(view, 2, 3, gen()), view);
    const s = stats(base);
    assert.ok(s.min >= 2 && s.max <= 3);
    const bf = init.normal_(empty([N], { dtype: 'bfloat16' }), 0, 1, gen());
    assert.equal(bf.dtype, 'bfloat16');
    near(stats(bf.float()).std, 1, 0.02, 'bf16 std');
  });
});

// Moments of N(mean, std²) truncated to [a, b].
function truncatedMoments(mu: number, sigma: number, a: number, b: number): { mean: number; std: number } {
  const phi = (x: number) => Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
  const cdf = (x: number) => {
    // Numerical integral of phi, ample for test expectations.
    const lo = -12;
    const steps = 20000;
    const h = (Math.min(x, 12) - lo) / steps;
    let s = 0;
    for (let i = 0; i < steps; ++i) s += phi(lo + (i + 0.5) * h) * h;
    return x > 12 ? 1 : s;
  };
  const al = (a - mu) / sigma;
  const be = (b - mu) / sigma;
  const z = cdf(be) - cdf(al);
  const d = (phi(al) - phi(be)) / z;
  const v = 1 + (al * phi(al) - be * phi(be)) / z - d * d;
  return { mean: mu + sigma * d, std: sigma * Math.sqrt(v) };
}

describe('truncNormal_', () => {
  const cases: [number, number, number, number][] = [
    [0, 1, -2, 2],
    [0, 0.02, -2, 2], // timm's usual call: bounds far outside, effectively N(0, 0.02²)
    [0.5, 2, 0, 1], // narrow window: nearly uniform
    [1, 1, 2, 3.5], // one-sided tail window
    [0, 1, -1, 0.5],
  ];
  for (const [mu, sigma, a, b] of cases) {
    test(`N(${mu}, ${sigma}²) truncated to [${a}, ${b}]`, () => {
      const s = stats(init.truncNormal_(empty([N]), mu, sigma, a, b, new Generator(7)));
      const ref = truncatedMoments(mu, sigma, a, b);
      assert.ok(s.min >= a && s.max <= b, `values in [${s.min}, ${s.max}]`);
      near(s.mean, ref.mean, 0.01 * ref.std, 'mean');
      near(s.std, ref.std, 0.01 * ref.std, 'std');
    });
  }

  test('bounds are checked', () => {
    assert.throws(() => init.truncNormal_(empty([2]), 0, 1, 1, -1), (e: unknown) => e instanceof ArgumentError && /a <= b, got a=1, b=-1/.test(e.message));
  });
});

describe('seeding', () => {
  test('the same generator seed gives the same values; another seed does not', () => {
    const draw = (seed: number) => init.kaimingUniform_(empty([4, 5]), { generator: new Generator(seed) }).tolist();
    assert.deepEqual(draw(3), draw(3));
    assert.notDeepEqual(draw(3), draw(4));
    manualSeed(11);
    const a = init.normal_(empty([6])).tolist();
    manualSeed(11);
    assert.deepEqual(init.normal_(empty([6])).tolist(), a);
  });

  test('layers built with equal generators have equal weights', () => {
    const build = (seed: number) => {
      const g = new Generator(seed);
      return new nn.ModuleList([new nn.Linear(6, 4, { generator: g }), new nn.Conv2d(2, 3, 3, { generator: g }), new nn.Embedding(5, 3, { generator: g }), new nn.MultiheadAttention(4, 2, { generator: g })]);
    };
    const sdA = build(21).stateDict();
    const sdB = build(21).stateDict();
    for (const [k, t] of sdA) assert.deepEqual(t.tolist(), sdB.get(k)!.tolist(), k);
    assert.notDeepEqual(build(22).stateDict().get('0.weight')!.tolist(), sdA.get('0.weight')!.tolist());
  });
});

describe('layer default init (torch rules)', () => {
  const g = () => new Generator(99);

  test('Linear and Conv: weight and bias in U(±1/√fanIn)', () => {
    const lin = new nn.Linear(400, 300, { generator: g() });
    const bound = 1 / Math.sqrt(400);
    const w = stats(lin.weight);
    assert.ok(w.max <= bound && w.min >= -bound && w.max > 0.99 * bound);
    near(w.std, bound / Math.sqrt(3), 0.01 * bound, 'Linear weight std');
    const b = stats(lin.bias!);
    assert.ok(b.max <= bound && b.min >= -bound);
    const conv = new nn.Conv2d(16, 64, 3, { generator: g() });
    const cb = 1 / Math.sqrt(16 * 9);
    const cw = stats(conv.weight);
    assert.ok(cw.max <= cb && cw.min >= -cb && cw.max > 0.99 * cb);
    // A transposed conv's fan_in is weight dim 1 (out/groups) times the kernel, as in torch.
    const convT = new nn.ConvTranspose2d(64, 8, 2, { generator: g() });
    const tb = 1 / Math.sqrt(8 * 4);
    const tw = stats(convT.weight);
    assert.ok(tw.max <= tb && tw.max > 0.99 * tb);
  });

  test('norms start at ones and zeros, Embedding at N(0, 1) with a zero padding row', () => {
    const bn = new nn.BatchNorm2d(4);
    assert.deepEqual(bn.weight!.tolist(), [1, 1, 1, 1]);
    assert.deepEqual(bn.bias!.tolist(), [0, 0, 0, 0]);
    assert.deepEqual(bn.runningVar!.tolist(), [1, 1, 1, 1]);
    assert.deepEqual(bn.runningMean!.tolist(), [0, 0, 0, 0]);
    assert.deepEqual(new nn.LayerNorm([2, 2]).weight!.tolist(), [[1, 1], [1, 1]]);
    assert.deepEqual(new nn.GroupNorm(1, 3).bias!.tolist(), [0, 0, 0]);
    const emb = new nn.Embedding(1000, 200, { paddingIdx: 2, generator: g() });
    const s = stats(emb.weight);
    near(s.mean, 0, 0.01, 'Embedding mean');
    near(s.std, 1, 0.01, 'Embedding std');
    assert.deepEqual((emb.weight.tolist() as number[][])[2].every((v) => v === 0), true);
  });

  test('MultiheadAttention: xavier in_proj_weight, zero biases', () => {
    const mha = new nn.MultiheadAttention(256, 4, { generator: g() });
    const a = Math.sqrt(6 / (256 + 768));
    const w = stats(mha.inProjWeight!);
    assert.ok(w.max <= a && w.max > 0.99 * a);
    assert.equal(stats(mha.inProjBias!).max, 0);
    assert.equal(stats(mha.outProj.bias!).min, 0);
    const sep = new nn.MultiheadAttention(8, 2, { kdim: 5, vdim: 3, bias: false });
    assert.deepEqual([...sep.stateDict().keys()], ['q_proj_weight', 'k_proj_weight', 'v_proj_weight', 'out_proj.weight']);
  });
});
