/**
 * tidy / tidySequence / persistent and the reuse pool behind them (src/tensor/memory.ts): what
 * is released and when, what survives (results, views of them, caches), that a released
 * buffer is handed to the next tensor of its size (cleared when asked), that a stale view of
 * released memory fails with DisposedError instead of reading someone else's data, and that
 * models give the same output on repeated inference passes (their caches are made under
 * `persistent` inside tidy scopes).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/index.ts';

const g = () => new T.Generator(7);

test('tidy without autograd releases what fn made and its result does not hold', () => {
  const x = T.randn([4, 8], { generator: g() });
  let inner: T.Tensor[] = [];
  const y = T.noGrad(() => T.tidy(() => {
    const a = T.mul(x, 2);
    const b = T.add(a, 1);
    inner = [a, b];
    return T.relu(b);
  }));
  assert.ok(inner.every((t) => t.disposed), 'intermediates released');
  assert.ok(!y.disposed && !x.disposed, 'result and input alive');
  assert.deepEqual(y.toArray(), T.relu(T.add(T.mul(x, 2), 1)).toArray());
});

test('tidy keeps tensors anywhere in the result (arrays, Maps, plain objects, views)', () => {
  const x = T.randn([2, 3], { generator: g() });
  const out = T.noGrad(() => T.tidy(() => {
    const a = T.mul(x, 3);
    const b = T.add(x, 1);
    const c = T.sub(x, 1);
    const d = T.exp(x);
    const dead = T.neg(x);
    return { list: [a], map: new Map([['b', b]]), nested: { c }, view: T.narrow(d, 1, 0, 2), dead: dead.shape };
  }));
  assert.ok(!out.list[0].disposed && !out.map.get('b')!.disposed && !out.nested.c.disposed && !out.view.disposed);
  assert.deepEqual(out.view.toArray(), T.narrow(T.exp(x), 1, 0, 2).toArray());
});

test('tidy with autograd recording releases nothing (backward needs the intermediates)', () => {
  const w = T.randn([3], { generator: g(), requiresGrad: true });
  let a!: T.Tensor;
  const y = T.tidy(() => {
    a = T.mul(w, w);
    return T.sum(T.exp(a));
  });
  assert.ok(!a.disposed);
  y.backward();
  assert.ok(w.grad !== null);
});

test('nested scopes: what an inner scope returns is released by the outer one unless returned again', () => {
  const x = T.randn([5], { generator: g() });
  let innerResult!: T.Tensor;
  const y = T.noGrad(() => T.tidy(() => {
    innerResult = T.tidy(() => T.mul(T.add(x, 1), 2));
    return T.add(innerResult, 1);
  }));
  assert.ok(innerResult.disposed);
  assert.ok(!y.disposed);
});

test('persistent: tensors made inside outlive the enclosing scopes (caches)', () => {
  const x = T.randn([5], { generator: g() });
  let cached!: T.Tensor;
  let temp!: T.Tensor;
  T.noGrad(() => T.tidy(() => {
    cached = T.persistent(() => T.mul(x, 2));
    temp = T.mul(x, 3);
    return null;
  }));
  assert.ok(!cached.disposed && temp.disposed);
});

test('a throwing fn releases what it made and rethrows; a Promise is refused', async () => {
  const x = T.randn([5], { generator: g() });
  let made!: T.Tensor;
  assert.throws(() => T.noGrad(() => T.tidy(() => {
    made = T.mul(x, 2);
    throw new RangeError('boom');
  })), RangeError);
  assert.ok(made.disposed);
  assert.throws(() => T.noGrad(() => T.tidy(async () => T.mul(x, 2))), (e: unknown) => e instanceof T.ArgumentError && /synchronous/.test((e as Error).message));
});

test('a released buffer is reused by the next tensor of its size; zeroed allocations read zeros', () => {
  T.releasePooledMemory();
  const n = 1 << 16;
  const a = T.full([n], 5);
  const buffer = a.buffer;
  a.dispose();
  assert.equal(T.memoryPoolStats().bytes, n * 4);
  const b = T.zeros([n]);
  assert.equal(b.buffer, buffer, 'the pooled buffer is handed out again');
  assert.equal(T.memoryPoolStats().bytes, 0);
  assert.equal(T.sum(T.abs(b)).item(), 0, 'a reused buffer is cleared for a zeroed tensor');
});

test('a stale view of released memory fails with DisposedError, not with the new owner\'s data', () => {
  const x = T.randn([64], { generator: g() });
  let stale!: T.Tensor;
  T.noGrad(() => T.tidy(() => {
    stale = T.narrow(T.mul(x, 2), 0, 0, 32);
    return null;
  }));
  const reuser = T.full([64], 1); // takes the released buffer
  assert.equal(stale.buffer.byteLength, 0);
  assert.throws(() => stale.toArray(), T.DisposedError);
  assert.throws(() => T.add(stale, 1), T.DisposedError);
  assert.equal(T.sum(reuser).item(), 64);
});

test('the pool limit: 0 keeps nothing; releasePooledMemory empties it; bad limits are refused', () => {
  const defaultLimit = T.memoryPoolStats().limitBytes;
  try {
    T.configure({ memoryPoolLimitBytes: 0 });
    T.full([1024], 1).dispose();
    assert.deepEqual({ ...T.memoryPoolStats(), limitBytes: 0 }, { bytes: 0, buffers: 0, limitBytes: 0 });
    T.configure({ memoryPoolLimitBytes: 1 << 20 });
    T.full([1024], 1).dispose();
    assert.equal(T.memoryPoolStats().buffers, 1);
    T.releasePooledMemory();
    assert.equal(T.memoryPoolStats().bytes, 0);
    assert.throws(() => T.configure({ memoryPoolLimitBytes: -1 }), /memoryPoolLimitBytes must be a non-negative integer number of bytes, got -1/);
    assert.throws(() => T.configure({ memoryPoolLimitBytes: 1.5 }), T.ArgumentError);
  } finally {
    T.configure({ memoryPoolLimitBytes: defaultLimit });
  }
});

test('over its limit the pool frees the buffers released longest ago first', () => {
  const defaultLimit = T.memoryPoolStats().limitBytes;
  T.releasePooledMemory();
  try {
    const bytes = 4096 * 4;
    T.configure({ memoryPoolLimitBytes: 3 * bytes });
    const tensors = [0, 1, 2, 3].map((i) => T.full([4096], i));
    const buffers = tensors.map((t) => t.buffer);
    for (const t of tensors) t.dispose();
    assert.deepEqual({ bytes: T.memoryPoolStats().bytes, buffers: T.memoryPoolStats().buffers }, { bytes: 3 * bytes, buffers: 3 });
    assert.equal(buffers[0].byteLength, 0, 'the first released was freed');
    assert.ok(buffers.slice(1).every((b) => b.byteLength === bytes), 'the later three are kept');
    assert.equal(T.zeros([4096]).buffer, buffers[3], 'the most recently released is reused first');
  } finally {
    T.releasePooledMemory();
    T.configure({ memoryPoolLimitBytes: defaultLimit });
  }
});

test('tidySequence releases each step\'s input once the next step returns, never the chain input', () => {
  const x = T.randn([6], { generator: g() });
  const seen: T.Tensor[] = [];
  const steps = [(t: T.Tensor) => T.mul(t, 2), (t: T.Tensor) => t, (t: T.Tensor) => T.add(t, 1), (t: T.Tensor) => T.relu(t)];
  const y = T.noGrad(() => T.tidySequence(x, steps, (step, t) => {
    seen.push(t);
    return step(t);
  }));
  // seen: x, 2x, 2x (the identity step returned its input), 2x + 1
  assert.ok(!seen[0].disposed, 'the chain input stays');
  assert.ok(seen[1].disposed && seen[2].disposed && seen[3].disposed);
  assert.ok(!y.disposed);
  assert.deepEqual(y.toArray(), T.relu(T.add(T.mul(x, 2), 1)).toArray());

  const w = T.randn([6], { generator: g(), requiresGrad: true });
  const kept: T.Tensor[] = [];
  const z = T.tidySequence(w, steps, (step, t) => {
    kept.push(t);
    return step(t);
  });
  assert.ok(kept.every((t) => !t.disposed), 'with autograd recording nothing is released');
  T.sum(z).backward();
  assert.ok(w.grad !== null);
});

for (const name of ['resnet18', 'vit_tiny_patch16_224', 'vit_base_r50_s16_224']) {
  test(`${name}: repeated inference passes agree (caches survive the scopes)`, { timeout: 120_000 }, () => {
    T.manualSeed(0);
    const model = T.buildModel(name, { numClasses: 10, ...(name.startsWith('vit') ? { imgSize: 64 } : {}) }).eval();
    const x = T.randn([2, 3, 64, 64], { generator: g() });
    const first = T.noGrad(() => model.forward(x)).toArray();
    const second = T.noGrad(() => model.forward(x)).toArray();
    const third = T.noGrad(() => model.forward(x)).toArray();
    assert.deepEqual(second, first);
    assert.deepEqual(third, first);
  });
}
