/**
 * Parity of the unary, activation, softmax and attention ops with torch (fixture from
 * tools/reference/ops_eltwise.py), plus what a fixture cannot hold: dropout's statistics and
 * mask replay, bf16 backward, the multi-threaded paths on large tensors, NaN propagation.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/tensor/index.ts';
import { assertClose, BF16_TOL, checkOpFixture, F32_TOL, type OpFn } from '../helpers/opcheck.ts';

const unary = (f: (x: T.Tensor) => T.Tensor): OpFn => ([x]) => f(x);

const table: Record<string, OpFn> = {
  neg: unary(T.neg),
  exp: unary(T.exp),
  log: unary(T.log),
  sqrt: unary(T.sqrt),
  rsqrt: unary(T.rsqrt),
  abs: unary(T.abs),
  sin: unary(T.sin),
  cos: unary(T.cos),
  erf: unary(T.erf),
  reciprocal: unary(T.reciprocal),
  clamp: ([x], k) => T.clamp(x, k.min, k.max),
  where: ([c, a, b]) => T.where(c, a, b),
  whereScalarA: ([c, b], k) => T.where(c, k.a, b),
  whereScalarB: ([c, a], k) => T.where(c, a, k.b),
  relu: unary(T.relu),
  leakyRelu: ([x], k) => T.leakyRelu(x, k.slope),
  gelu: ([x], k) => T.gelu(x, k.approximate),
  quickGelu: unary(T.quickGelu),
  silu: unary(T.silu),
  sigmoid: unary(T.sigmoid),
  tanh: unary(T.tanh),
  softmax: ([x], k) => T.softmax(x, k.dim),
  logSoftmax: ([x], k) => T.logSoftmax(x, k.dim),
  sdpa: ([q, k, v], kw) => T.scaledDotProductAttention(q, k, v, { isCausal: kw.isCausal, scale: kw.scale }),
  sdpaMask: ([q, k, v, m], kw) => T.scaledDotProductAttention(q, k, v, { attnMask: m, scale: kw.scale }),
};

checkOpFixture('eltwise.safetensors', table);

const values = (t: T.Tensor) => Array.from(t.toArray() as Float32Array);

test('dropout: keeps about 1-p of 100k elements, scales them by 1/(1-p), zeroes the rest', () => {
  const x = T.add(T.rand([100_000], { generator: new T.Generator(1) }), 0.5);
  for (const p of [0.1, 0.5, 0.8]) {
    const y = T.dropout(x, p, true, new T.Generator(42));
    const xs = values(x);
    const ys = values(y);
    let kept = 0;
    for (let i = 0; i < xs.length; ++i) {
      if (ys[i] === 0) continue;
      kept++;
      assert.ok(Math.abs(ys[i] - xs[i] / (1 - p)) <= 1e-6 * Math.abs(ys[i]), `p=${p}: element ${i} is ${ys[i]}, expected ${xs[i] / (1 - p)}`);
    }
    const frac = kept / xs.length;
    // 5 standard deviations of a binomial fraction over 100k draws.
    const sd = Math.sqrt(p * (1 - p) / xs.length);
    assert.ok(Math.abs(frac - (1 - p)) < 5 * sd, `p=${p}: kept fraction ${frac}, expected ${1 - p} ± ${5 * sd}`);
  }
});

test('dropout: the backward applies the forward mask and scale', () => {
  const x = T.randn([4000], { generator: new T.Generator(3) }).requiresGrad_();
  const y = T.dropout(x, 0.3, true, new T.Generator(9));
  const g = T.randn([4000], { generator: new T.Generator(4) });
  y.backward(g);
  const ys = values(y);
  const xs = values(x);
  const gs = values(g);
  const grad = values(x.grad!);
  for (let i = 0; i < ys.length; ++i) {
    const expected = ys[i] === 0 && xs[i] !== 0 ? 0 : gs[i] / 0.7;
    assert.ok(Math.abs(grad[i] - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `element ${i}: grad ${grad[i]}, expected ${expected}`);
  }
});

test('dropout: one generator state replays one mask; the stream advances between calls', () => {
  const x = T.ones([1000]);
  const gen = new T.Generator(123);
  const state = gen.getState();
  const a = values(T.dropout(x, 0.4, true, gen));
  const b = values(T.dropout(x, 0.4, true, gen));
  gen.setState(state);
  const c = values(T.dropout(x, 0.4, true, gen));
  assert.deepEqual(c, a);
  assert.notDeepEqual(b, a);
});

test('dropout: eval mode and p = 0 return the input; p = 1 gives zeros and zero grads', () => {
  const x = T.randn([7, 3]).requiresGrad_();
  assert.equal(T.dropout(x, 0.5, false), x);
  assert.equal(T.dropout(x, 0), x);
  const y = T.dropout(x, 1);
  assert.ok(values(y).every((v) => v === 0));
  y.sum().backward();
  assert.ok(values(x.grad!).every((v) => v === 0));
});

test('dropout: bfloat16 stays bfloat16 with kept values scaled', () => {
  const x = T.ones([5000], { dtype: 'bfloat16' });
  const y = T.dropout(x, 0.5, true, new T.Generator(5));
  assert.equal(y.dtype, 'bfloat16');
  const ys = values(y);
  assert.ok(ys.every((v) => v === 0 || v === 2));
});

test('scaledDotProductAttention: dropout draws the weights mask from the given generator', () => {
  const gen = () => new T.Generator(77);
  const q = T.randn([2, 5, 4], { generator: gen() });
  const k = T.randn([2, 6, 4], { generator: new T.Generator(78) });
  const v = T.randn([2, 6, 3], { generator: new T.Generator(79) });
  const out = T.scaledDotProductAttention(q, k, v, { dropoutP: 0.25, generator: gen() });
  const weights = T.softmax(T.mul(T.matmul(q, k.mT), 0.5), -1);
  const expected = T.matmul(T.dropout(weights, 0.25, true, gen()), v);
  assertClose(out, expected, F32_TOL, 'sdpa with dropout');
});

// Sizes above the kernels' OpenMP thresholds run the threaded paths; they must agree with slices.
test('large tensors (threaded kernels) agree with the same ops on small slices', () => {
  const n = 70_001;
  const x = T.mul(T.randn([n], { generator: new T.Generator(11) }), 2);
  const ops: [string, (t: T.Tensor) => T.Tensor][] = [
    ['relu', T.relu], ['exp', T.exp], ['erf', T.erf], ['gelu', T.gelu], ['sin', T.sin], ['tanh', T.tanh],
    ['clamp', (t) => T.clamp(t, -1, 0.5)], ['where', (t) => T.where(T.gt(t, 0), t, T.neg(t))],
  ];
  for (const [name, f] of ops) {
    for (const dtype of ['float32', 'bfloat16'] as const) {
      const xd = T.cast(x, dtype);
      const whole = f(xd);
      const part = f(T.slice(xd, 0, 60_000, 60_100));
      assertClose(T.cast(T.slice(whole, 0, 60_000, 60_100), 'float32'), T.cast(part, 'float32'), 0, `${name} ${dtype}`);
    }
  }
  const rows = T.randn([300, 300], { generator: new T.Generator(12) });
  assertClose(T.slice(T.softmax(rows, 0), 1, 5, 6), T.softmax(T.slice(rows, 1, 5, 6), 0), F32_TOL, 'softmax dim 0');
});

test('bfloat16 backward of activations and softmax is close to float32', () => {
  const x = T.randn([6, 33], { generator: new T.Generator(21) });
  const g = T.randn([6, 33], { generator: new T.Generator(22) });
  const ops: [string, (t: T.Tensor) => T.Tensor][] = [
    ['relu', T.relu], ['gelu', T.gelu], ['gelu tanh', (t) => T.gelu(t, 'tanh')], ['silu', T.silu], ['quickGelu', T.quickGelu],
    ['sigmoid', T.sigmoid], ['tanh', T.tanh], ['exp', T.exp], ['erf', T.erf], ['softmax', (t) => T.softmax(t, -1)],
    ['logSoftmax', (t) => T.logSoftmax(t, 0)], ['clamp', (t) => T.clamp(t, -0.5, 0.5)], ['leakyRelu', (t) => T.leakyRelu(t, 0.2)],
  ];
  for (const [name, f] of ops) {
    const x32 = x.detach().requiresGrad_();
    f(x32).backward(g);
    const x16 = T.cast(x, 'bfloat16').requiresGrad_();
    const y16 = f(x16);
    assert.equal(y16.dtype, 'bfloat16', `${name} output dtype`);
    y16.backward(T.cast(g, 'bfloat16'));
    assert.equal(x16.grad!.dtype, 'bfloat16', `${name} grad dtype`);
    assertClose(T.cast(x16.grad!, 'float32'), x32.grad!, BF16_TOL * 2, `${name} bf16 grad`);
  }
});

test('NaN propagates through the unary ops and activations, as in torch', () => {
  const x = T.tensor([NaN, 1]);
  const ops: [string, (t: T.Tensor) => T.Tensor][] = [
    ['neg', T.neg], ['exp', T.exp], ['log', T.log], ['sqrt', T.sqrt], ['rsqrt', T.rsqrt], ['abs', T.abs], ['sin', T.sin],
    ['erf', T.erf], ['reciprocal', T.reciprocal], ['clamp', (t) => T.clamp(t, 0, 0.5)], ['clamp max', (t) => T.clamp(t, null, 0.5)],
    ['relu', T.relu], ['leakyRelu', T.leakyRelu], ['gelu', T.gelu], ['silu', T.silu], ['sigmoid', T.sigmoid], ['tanh', T.tanh],
  ];
  for (const [name, f] of ops) assert.ok(Number.isNaN(values(f(x))[0]), `${name}(NaN) is ${values(f(x))[0]}`);
});

test('where and clamp keep integer dtypes; the float functions promote integers to float32', () => {
  const i = T.tensor([-3, 0, 4], { dtype: 'int32' });
  assert.equal(T.neg(i).dtype, 'int32');
  assert.equal(T.abs(i).dtype, 'int32');
  assert.equal(T.clamp(i, -1, 2).dtype, 'int32');
  assert.equal(T.relu(i).dtype, 'int32');
  assert.equal(T.sqrt(i).dtype, 'float32');
  assert.equal(T.sigmoid(i).dtype, 'float32');
  assert.deepEqual(T.where(T.tensor([true, false, true]), i, 9).tolist(), [-3, 9, 4]);
  assert.equal(T.where(T.tensor([true]), i, 0.5).dtype, 'float32');
  assert.equal(T.where(T.tensor([true]), 1, 2).dtype, 'int64');
  assert.equal(T.where(T.tensor([true]), T.ones([1], { dtype: 'bfloat16' }), 2).dtype, 'bfloat16');
});

test('where sends grads to both tensor branches, summed over broadcast dims', () => {
  const cond = T.tensor([[true, false, true]]);
  const a = T.tensor([1, 2, 3]).requiresGrad_();
  const b = T.tensor([[10], [20]]).requiresGrad_();
  T.where(cond, a, b).sum().backward();
  assert.deepEqual(a.grad!.tolist(), [2, 0, 2]);
  assert.deepEqual(b.grad!.tolist(), [[1], [1]]);
});
