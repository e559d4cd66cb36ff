/** Module, Parameter and containers: registration, naming, state dicts, modes, bulk updates. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ArgumentError, DTypeError, IndexError, StateDictError, TsvisionError } from '../../src/errors.ts';
import * as nn from '../../src/nn/index.ts';
import { Generator, Tensor, ones, randn, scalarTensor, sum, tensor, zeros } from '../../src/tensor/index.ts';

/** A module registering members out of alphabetical order, with a child. */
class Block extends nn.Module {
  zeta = this.param('zeta', ones([2]));
  alpha = this.param('alpha', zeros([3]));
  stat = this.buffer('stat', ones([2]));
  cache = this.buffer('cache', zeros([4]), { persistent: false });
  inner = this.module('inner', new nn.Linear(2, 2));

  override forward(x: Tensor): Tensor {
    return this.inner.forward(x);
  }
}

const keys = (m: nn.Module) => [...m.stateDict().keys()];
const shapes = (m: nn.Module) => [...m.stateDict()].map(([k, t]) => `${k}:${t.shape.join('x')}`);

describe('registration', () => {
  test('registration order is key order: own parameters, own buffers, then children', () => {
    assert.deepEqual(keys(new Block()), ['zeta', 'alpha', 'stat', 'inner.weight', 'inner.bias']);
    assert.deepEqual(new Block().namedParameters().map(([n]) => n), ['zeta', 'alpha', 'inner.weight', 'inner.bias']);
    assert.deepEqual(new Block().namedBuffers().map(([n]) => n), ['stat', 'cache']);
  });

  test('param() wraps a tensor in a Parameter that requires grad and shares its storage', () => {
    const t = ones([2]);
    const m = new Block();
    const p = m.registerParameter('extra', t);
    assert.ok(p instanceof nn.Parameter && p instanceof Tensor);
    assert.equal(p.requiresGrad, true);
    assert.equal(p.storage, t.storage);
    assert.equal(t.requiresGrad, false);
    assert.equal(new nn.Parameter(t, false).requiresGrad, false);
    assert.equal(m.registerParameter('same', p), p, 'a Parameter is registered as is');
  });

  test('names are validated', () => {
    const m = new Block();
    const t = ones([1]);
    assert.throws(() => m.registerParameter('', t), (e: unknown) => e instanceof ArgumentError && /non-empty/.test(e.message));
    assert.throws(() => m.registerBuffer('a.b', t), (e: unknown) => e instanceof ArgumentError && /'a\.b' must not contain '\.'/.test(e.message));
    assert.throws(() => m.registerModule('x.y', new nn.Identity()), ArgumentError);
    assert.throws(() => m.registerBuffer('zeta', t), (e: unknown) => e instanceof ArgumentError && /'zeta' is already registered as a parameter of Block/.test(e.message));
    assert.throws(() => m.registerParameter('inner', t), (e: unknown) => e instanceof ArgumentError && /'inner' is already registered as a submodule/.test(e.message));
    assert.throws(() => m.registerModule('stat', new nn.Identity()), (e: unknown) => e instanceof ArgumentError && /as a buffer/.test(e.message));
    assert.throws(() => m.registerModule('m', {} as nn.Module), (e: unknown) => e instanceof ArgumentError && /is not a Module/.test(e.message));
  });

  test('registering a name again with the same kind replaces it in place', () => {
    const m = new Block();
    m.inner = m.registerModule('inner', new nn.Linear(2, 5, { bias: false }));
    m.alpha = m.registerParameter('alpha', ones([7]));
    assert.deepEqual(shapes(m), ['zeta:2', 'alpha:7', 'stat:2', 'inner.weight:5x2']);
  });
});

describe('traversal and naming', () => {
  const model = () =>
    new nn.Sequential(
      new nn.Linear(3, 4),
      new nn.Sequential(new nn.Identity(), new nn.Linear(4, 4, { bias: false })),
      nn.Sequential.named({ head: new nn.Linear(4, 2) }),
    );

  test('nested Sequential / ModuleList / ModuleDict give dotted torch names', () => {
    assert.deepEqual(keys(model()), ['0.weight', '0.bias', '1.1.weight', '2.head.weight', '2.head.bias']);
    const list = new nn.ModuleList([new nn.Linear(1, 1), new nn.ModuleDict({ b: new nn.Linear(1, 1, { bias: false }), a: new nn.Identity() })]);
    assert.deepEqual(keys(list), ['0.weight', '0.bias', '1.b.weight']);
    assert.deepEqual(list.namedModules().map(([n]) => n), ['', '0', '1', '1.b', '1.a']);
    assert.deepEqual(model().namedChildren().map(([n]) => n), ['0', '1', '2']);
    assert.equal(model().modules().length, 7);
  });

  test('children, getSubmodule, toString', () => {
    const m = model();
    assert.equal(m.getSubmodule('2.head'), (m.at(2) as nn.Sequential).at(0));
    assert.equal(m.getSubmodule(''), m);
    assert.throws(() => m.getSubmodule('1.9'), (e: unknown) => e instanceof ArgumentError && /no submodule '9'/.test(e.message));
    assert.equal(
      m.toString(),
      [
        'Sequential(',
        '  (0): Linear(in_features=3, out_features=4, bias=True)',
        '  (1): Sequential(',
        '    (0): Identity()',
        '    (1): Linear(in_features=4, out_features=4, bias=False)',
        '  )',
        '  (2): Sequential(',
        '    (head): Linear(in_features=4, out_features=2, bias=True)',
        '  )',
        ')',
      ].join('\n'),
    );
  });

  test('a shared parameter is listed once by namedParameters and numParameters, under every key by stateDict', () => {
    const a = new nn.Linear(3, 3);
    const b = new nn.Linear(3, 3);
    b.weight = b.registerParameter('weight', a.weight);
    const m = new nn.Sequential(a, b);
    assert.deepEqual(m.namedParameters().map(([n]) => n), ['0.weight', '0.bias', '1.bias']);
    assert.deepEqual(keys(m), ['0.weight', '0.bias', '1.weight', '1.bias']);
    assert.equal(m.numParameters(), 9 + 3 + 3);
  });

  test('a module used twice appears once in modules() and parameters(), twice in stateDict', () => {
    const shared = new nn.Linear(2, 2);
    const m = new nn.Sequential(shared, new nn.Identity(), shared);
    assert.equal(m.modules().length, 3);
    assert.deepEqual(m.namedParameters().map(([n]) => n), ['0.weight', '0.bias']);
    assert.deepEqual(keys(m), ['0.weight', '0.bias', '2.weight', '2.bias']);
    assert.equal(m.children().length, 2);
    assert.equal(m.numParameters(), 6);
  });

  test('recurse: false lists only own members', () => {
    const m = new Block();
    assert.deepEqual(m.namedParameters({ recurse: false }).map(([n]) => n), ['zeta', 'alpha']);
    assert.deepEqual(m.buffers({ recurse: false }).length, 2);
  });

  test('numParameters counts unique parameters, optionally only trainable ones', () => {
    const m = new nn.Sequential(new nn.Linear(10, 5), new nn.LayerNorm(5), new nn.Embedding(7, 5));
    assert.equal(m.numParameters(), 55 + 10 + 35);
    (m.at(0) as nn.Linear).weight.requiresGrad_(false);
    assert.equal(m.numParameters({ trainableOnly: true }), 5 + 10 + 35);
    m.requiresGrad_(false);
    assert.equal(m.numParameters({ trainableOnly: true }), 0);
  });
});

describe('buffers', () => {
  test('persistent buffers are in the state dict, non-persistent ones are not', () => {
    const m = new Block();
    assert.ok(m.stateDict().has('stat'));
    assert.ok(!m.stateDict().has('cache'));
    assert.deepEqual(m.buffers().map((b) => b.numel), [2, 4]);
    const sd = m.stateDict();
    assert.deepEqual(m.loadStateDict(sd), { missingKeys: [], unexpectedKeys: [] });
    sd.set('cache', zeros([4]));
    assert.throws(() => m.loadStateDict(sd), (e: unknown) => e instanceof StateDictError && e.unexpectedKeys.includes('cache'));
  });

  test('BatchNorm registers int64 num_batches_tracked and accepts checkpoints without it', () => {
    const bn = new nn.BatchNorm2d(3);
    assert.deepEqual(shapes(bn), ['weight:3', 'bias:3', 'running_mean:3', 'running_var:3', 'num_batches_tracked:']);
    assert.equal(bn.stateDict().get('num_batches_tracked')!.dtype, 'int64');
    bn.numBatchesTracked!.fill_(5);
    const sd = bn.stateDict();
    sd.delete('num_batches_tracked');
    assert.deepEqual(bn.loadStateDict(sd), { missingKeys: [], unexpectedKeys: [] });
    assert.equal(bn.numBatchesTracked!.item(), 0);
    assert.deepEqual(keys(new nn.BatchNorm1d(2, { trackRunningStats: false, affine: false })), []);
  });
});

describe('stateDict / loadStateDict', () => {
  const gen = (seed: number) => new Generator(seed);

  test('round trip copies values in place (no aliasing) and reproduces outputs', () => {
    const a = new nn.Sequential(new nn.Linear(4, 3, { generator: gen(1) }), new nn.Linear(3, 2, { generator: gen(2) }));
    const b = new nn.Sequential(new nn.Linear(4, 3, { generator: gen(3) }), new nn.Linear(3, 2, { generator: gen(4) }));
    const x = randn([5, 4], { generator: gen(9) });
    assert.notDeepEqual(b.forward(x).tolist(), a.forward(x).tolist());
    const weightBefore = (b.at(0) as nn.Linear).weight;
    b.loadStateDict(a.stateDict());
    assert.equal((b.at(0) as nn.Linear).weight, weightBefore, 'same Parameter object');
    assert.deepEqual(b.forward(x).tolist(), a.forward(x).tolist());
    (a.at(0) as nn.Linear).weight.fill_(0);
    assert.notDeepEqual((b.at(0) as nn.Linear).weight.tolist(), (a.at(0) as nn.Linear).weight.tolist());
  });

  test('stateDict values are detached views sharing storage', () => {
    const m = new nn.Linear(2, 2);
    const w = m.stateDict().get('weight')!;
    assert.equal(w.requiresGrad, false);
    assert.ok(!(w instanceof nn.Parameter));
    assert.equal(w.storage, m.weight.storage);
  });

  test('loading casts dtypes and accepts plain records', () => {
    const m = new nn.Linear(2, 2, { dtype: 'bfloat16' });
    m.loadStateDict({ weight: tensor([[1, 2], [3, 4]]), bias: tensor([0.5, -1]) });
    assert.equal(m.weight.dtype, 'bfloat16');
    assert.deepEqual(m.weight.tolist(), [[1, 2], [3, 4]]);
    const bn = new nn.BatchNorm1d(2);
    const sd = bn.stateDict();
    sd.set('num_batches_tracked', scalarTensor(7, 'float32'));
    bn.loadStateDict(sd);
    assert.equal(bn.numBatchesTracked!.dtype, 'int64');
    assert.equal(bn.numBatchesTracked!.item(), 7);
  });

  test('strict: one StateDictError lists missing, unexpected and mis-shaped keys with both shapes; nothing is copied', () => {
    const m = new nn.Sequential(new nn.Linear(4, 3), nn.Sequential.named({ fc: new nn.Linear(3, 2) }));
    const before = (m.at(0) as nn.Linear).bias!.tolist();
    const sd = new Map<string, Tensor>([
      ['0.weight', zeros([3, 5])],
      ['0.bias', ones([3])],
      ['1.fc.weight', zeros([2, 3])],
      ['1.fc.extra', zeros([1])],
      ['head.weight', zeros([1])],
    ]);
    let err: unknown;
    try {
      m.loadStateDict(sd);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof StateDictError && err instanceof TsvisionError);
    assert.equal(err.code, 'E_STATE_DICT');
    assert.deepEqual(err.missingKeys, ['1.fc.bias']);
    assert.deepEqual(err.unexpectedKeys, ['1.fc.extra', 'head.weight']);
    assert.deepEqual(err.mismatchedKeys, [{ key: '0.weight', checkpointShape: [3, 5], modelShape: [3, 4] }]);
    assert.equal(
      err.message,
      [
        'Error(s) in loading state_dict for Sequential:',
        '\tMissing key(s) in state_dict: "1.fc.bias".',
        '\tUnexpected key(s) in state_dict: "1.fc.extra", "head.weight".',
        '\tsize mismatch for 0.weight: copying a param with shape [3, 5] from checkpoint, the shape in current model is [3, 4].',
      ].join('\n'),
    );
    assert.deepEqual((m.at(0) as nn.Linear).bias!.tolist(), before, 'nothing copied after a failed check');
  });

  test('strict false returns missing and unexpected keys, loads the rest, still throws on shape mismatches', () => {
    const m = new nn.Linear(2, 2);
    const result = m.loadStateDict({ weight: ones([2, 2]), other: zeros([1]) }, { strict: false });
    assert.deepEqual(result, { missingKeys: ['bias'], unexpectedKeys: ['other'] });
    assert.deepEqual(m.weight.tolist(), [[1, 1], [1, 1]]);
    assert.throws(
      () => m.loadStateDict({ weight: ones([3, 2]) }, { strict: false }),
      (e: unknown) =>
        e instanceof StateDictError &&
        /size mismatch for weight: copying a param with shape \[3, 2\] from checkpoint, the shape in current model is \[2, 2\]/.test(e.message) &&
        !/Missing/.test(e.message),
    );
  });
});

describe('modes and bulk updates', () => {
  test('train / eval propagate to every descendant', () => {
    const m = new nn.Sequential(new nn.Dropout(0.1), new nn.Sequential(new nn.BatchNorm1d(2), new nn.DropPath(0.1)));
    assert.ok(m.modules().every((x) => x.training));
    assert.equal(m.eval(), m);
    assert.ok(m.modules().every((x) => !x.training));
    m.train();
    assert.ok(m.modules().every((x) => x.training));
    m.train(false);
    assert.ok(m.modules().every((x) => !x.training));
  });

  test('apply visits children first, then the module itself', () => {
    const m = new nn.Sequential(new nn.Linear(1, 1), new nn.Sequential(new nn.Identity()));
    const seen: string[] = [];
    m.apply((x) => seen.push(x.constructor.name));
    assert.deepEqual(seen, ['Linear', 'Identity', 'Sequential', 'Sequential']);
    m.apply((x) => {
      if (x instanceof nn.Linear) nn.init.constant_(x.weight, 0.25);
    });
    assert.deepEqual((m.at(0) as nn.Linear).weight.tolist(), [[0.25]]);
  });

  test('zeroGrad sets grads to null, or zeroes them in place', () => {
    const m = new nn.Linear(3, 2);
    sum(m.forward(ones([4, 3]))).backward();
    assert.ok(m.weight.grad && m.bias!.grad);
    m.zeroGrad({ setToNone: false });
    assert.deepEqual(m.bias!.grad!.tolist(), [0, 0]);
    assert.deepEqual(m.weight.grad!.shape, [2, 3]);
    m.zeroGrad();
    assert.equal(m.weight.grad, null);
    assert.equal(m.bias!.grad, null);
  });

  test('to(dtype) converts float parameters and buffers in place, keeps integer buffers', () => {
    const bn = new nn.BatchNorm1d(3);
    const lin = new nn.Linear(3, 2);
    const m = new nn.Sequential(lin, bn);
    sum(lin.forward(ones([1, 3]))).backward();
    const weight = lin.weight;
    const values = weight.tolist() as number[][];
    assert.equal(m.to('bfloat16'), m);
    assert.equal(lin.weight, weight, 'same Parameter object');
    assert.equal(weight.dtype, 'bfloat16');
    assert.equal(weight.requiresGrad, true);
    assert.equal(weight.grad!.dtype, 'bfloat16');
    assert.equal(bn.runningMean!.dtype, 'bfloat16');
    assert.equal(bn.numBatchesTracked!.dtype, 'int64');
    (weight.tolist() as number[][]).flat().forEach((v, i) => assert.ok(Math.abs(v - values.flat()[i]) < 1e-2));
    assert.equal(m.stateDict().get('0.weight')!.dtype, 'bfloat16');
    m.to('float32');
    assert.equal(lin.weight.dtype, 'float32');
    assert.throws(() => m.to('int64'), (e: unknown) => e instanceof DTypeError && /expected a float dtype/.test(e.message));
  });
});

describe('containers', () => {
  test('Sequential runs its modules in order and indexes like a list', () => {
    const a = new nn.Linear(3, 4);
    const b = new nn.Linear(4, 2);
    const seq = new nn.Sequential(a, new nn.Identity()).append(b);
    const x = randn([2, 3]);
    assert.deepEqual(seq.forward(x).tolist(), b.forward(a.forward(x)).tolist());
    assert.equal(seq.length, 3);
    assert.equal(seq.at(-1), b);
    assert.deepEqual([...seq].length, 3);
    assert.throws(() => seq.at(3), IndexError);
    assert.deepEqual(keys(nn.Sequential.named([['conv', new nn.Linear(1, 1, { bias: false })], ['act', new nn.Identity()]])), ['conv.weight']);
  });

  test('ModuleList and ModuleDict hold modules, have no forward', () => {
    const list = new nn.ModuleList<nn.Linear>().extend([new nn.Linear(1, 2), new nn.Linear(2, 3)]);
    assert.equal(list.length, 2);
    assert.equal(list.at(-1).outFeatures, 3);
    assert.throws(() => list.forward(), (e: unknown) => e instanceof ArgumentError && /ModuleList: has no forward/.test(e.message));
    const dict = new nn.ModuleDict<nn.Linear>([['b', new nn.Linear(1, 1)]]).set('a', new nn.Linear(2, 2));
    assert.deepEqual(dict.keys(), ['b', 'a']);
    assert.equal(dict.get('a').inFeatures, 2);
    assert.ok(dict.has('b') && !dict.has('c'));
    assert.throws(() => dict.get('c'), (e: unknown) => e instanceof ArgumentError && /no module named 'c'/.test(e.message));
    assert.throws(() => dict.set('x.y', new nn.Linear(1, 1)), ArgumentError);
  });
});

describe('DropPath', () => {
  test('identity in eval and for p = 0', () => {
    const x = randn([4, 3]);
    const dp = new nn.DropPath(0.5).eval();
    assert.equal(dp.forward(x), x);
    assert.equal(new nn.DropPath(0).forward(x), x);
    assert.equal(new nn.Dropout(0.5).eval().forward(x), x);
  });

  test('drops whole samples and scales kept ones by 1/(1-p); seeded', () => {
    const x = ones([64, 3, 2]);
    const run = (seed: number, scaleByKeep = true) => new nn.DropPath(0.25, { generator: new Generator(seed), scaleByKeep }).forward(x);
    const y = run(5).toArray() as Float32Array;
    let kept = 0;
    for (let i = 0; i < 64; ++i) {
      const sample = y.slice(i * 6, i * 6 + 6);
      assert.ok(sample.every((v) => v === sample[0]), 'one decision per sample');
      assert.ok(sample[0] === 0 || Math.abs(sample[0] - 1 / 0.75) < 1e-6);
      if (sample[0] !== 0) kept++;
    }
    assert.ok(kept > 32 && kept < 64, `kept ${kept} of 64`);
    assert.deepEqual(run(5).tolist(), run(5).tolist());
    assert.notDeepEqual(run(5).tolist(), run(6).tolist());
    assert.ok((run(5, false).toArray() as Float32Array).every((v) => v === 0 || v === 1));
    assert.ok((new nn.DropPath(1).forward(x).toArray() as Float32Array).every((v) => v === 0));
  });

  test('gradients flow through kept samples only', () => {
    const x = ones([8, 2]).requiresGrad_();
    const y = nn.dropPath(x, 0.5, true, { generator: new Generator(3) });
    sum(y).backward();
    assert.deepEqual(x.grad!.tolist(), y.detach().tolist());
  });

  test('invalid probabilities are rejected', () => {
    assert.throws(() => new nn.DropPath(1.5), (e: unknown) => e instanceof ArgumentError && /probability must be in \[0, 1\], got 1.5/.test(e.message));
    assert.throws(() => new nn.Dropout(-0.1), ArgumentError);
  });
});

describe('layer arguments', () => {
  test('constructors reject bad sizes and options with typed errors', () => {
    assert.throws(() => new nn.Linear(2.5, 1), (e: unknown) => e instanceof ArgumentError && /Linear: inFeatures must be an integer >= 0, got 2.5/.test(e.message));
    assert.throws(() => new nn.Conv2d(3, 4, 3, { groups: 2 }), (e: unknown) => e instanceof ArgumentError && /inChannels 3 must be divisible by groups 2/.test(e.message));
    assert.throws(() => new nn.Conv2d(2, 2, [3, 3, 3]), (e: unknown) => e instanceof ArgumentError && /kernelSize must be one number or 2 numbers/.test(e.message));
    assert.throws(() => new nn.Conv1d(2, 2, 3, { padding: 'same', stride: 2 }), (e: unknown) => e instanceof ArgumentError && /padding='same' is not supported for strided/.test(e.message));
    assert.throws(() => new nn.ConvTranspose2d(2, 2, 3, { stride: 2, outputPadding: 2 }), (e: unknown) => e instanceof ArgumentError && /outputPadding 2 must be smaller/.test(e.message));
    assert.throws(() => new nn.GroupNorm(4, 6), (e: unknown) => e instanceof ArgumentError && /numChannels 6 must be divisible by numGroups 4/.test(e.message));
    assert.throws(() => new nn.MultiheadAttention(10, 3), (e: unknown) => e instanceof ArgumentError && /embedDim 10 must be divisible by numHeads 3/.test(e.message));
    assert.throws(() => new nn.Embedding(4, 2, { paddingIdx: 4 }), (e: unknown) => e instanceof ArgumentError && /paddingIdx 4 must be within \[-4, 4\)/.test(e.message));
    assert.throws(() => new nn.BatchNorm2d(3, { momentum: 2 }), ArgumentError);
    assert.throws(() => new nn.Linear(2, 2, { dtype: 'int32' as 'float32' }), DTypeError);
    assert.throws(() => new nn.GELU({ approximate: 'fast' as 'tanh' }), ArgumentError);
  });

  test('layers reject inputs of the wrong rank before computing', () => {
    assert.throws(() => new nn.Conv2d(2, 2, 3).forward(ones([2, 2])), (e: unknown) => e instanceof TsvisionError && /Conv2d: expected input of rank 3 \(unbatched\) or 4 \(batched\), got shape \[2, 2\]/.test(e.message));
    assert.throws(() => new nn.BatchNorm2d(2).forward(ones([2, 2])), (e: unknown) => e instanceof TsvisionError && /BatchNorm2d: expected input of rank 4, got shape \[2, 2\]/.test(e.message));
    const mha = new nn.MultiheadAttention(4, 2);
    assert.throws(() => mha.forward(ones([2, 1, 3]), ones([2, 1, 4]), ones([2, 1, 4])), /query has 3 features, expected embedDim 4/);
    assert.throws(() => mha.forward(ones([2, 1, 4]), ones([3, 1, 4]), ones([3, 1, 4]), { attnMask: ones([2, 2]) }), /attnMask has shape \[2, 2\], expected \[2, 3\] or \[2, 2, 3\]/);
  });

  test('Embedding.fromPretrained shares the given weights, frozen by default', () => {
    const w = randn([5, 3]);
    const e = nn.Embedding.fromPretrained(w);
    assert.equal(e.weight.storage, w.storage);
    assert.equal(e.weight.requiresGrad, false);
    assert.equal(nn.Embedding.fromPretrained(w, { freeze: false }).weight.requiresGrad, true);
    const padded = new nn.Embedding(4, 2, { paddingIdx: -1, generator: new Generator(0) });
    assert.equal(padded.paddingIdx, 3);
    assert.deepEqual((padded.weight.tolist() as number[][])[3], [0, 0]);
  });
});
