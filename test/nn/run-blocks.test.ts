/** runBlocks and residualSkip: which skip tensors a fused residual kernel may overwrite. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/index.ts';
import { nn } from '../../src/index.ts';

/** conv → BN → ReLU → conv → BN → + skip → ReLU, the skip being the block's input (ResNet's basic block); `single` drops the first conv. */
class IdentityBlock extends nn.Module {
  readonly conv1 = this.module('conv1', new nn.Conv2d(4, 4, 3, { padding: 1, bias: false }));
  readonly bn1 = this.module('bn1', new nn.BatchNorm2d(4));
  readonly conv = this.module('conv', new nn.Conv2d(4, 4, 3, { padding: 1, bias: false }));
  readonly bn = this.module('bn', new nn.BatchNorm2d(4));
  readonly seen: { input: T.Tensor; output: T.Tensor }[] = [];

  constructor(readonly single = false) {
    super();
  }

  branch(x: T.Tensor): T.Tensor {
    return this.single ? x : nn.convBnAct(this.conv1, this.bn1, x, { relu: true });
  }

  forward(x: T.Tensor): T.Tensor {
    const y = nn.convBnAct(this.conv, this.bn, this.branch(x), { skip: nn.residualSkip(x, null), relu: true });
    this.seen.push({ input: x, output: y });
    return y;
  }
}

function chain(single = false): IdentityBlock[] {
  T.manualSeed(0);
  return [new IdentityBlock(single), new IdentityBlock(single), new IdentityBlock(single)].map((b) => b.eval() as IdentityBlock);
}

const reference = (blocks: IdentityBlock[], x: T.Tensor) =>
  T.noGrad(() => blocks.reduce((t, b) => T.relu(T.add(b.bn.forward(b.conv.forward(b.single ? t : T.relu(b.bn1.forward(b.conv1.forward(t))))), t)), x));

function maxAbs(a: T.Tensor, b: T.Tensor): number {
  return T.amax(T.abs(T.sub(T.contiguous(a), T.contiguous(b)))).item();
}

test('runBlocks: a block whose input is dead writes its output over it; the chain\'s own input is never overwritten', () => {
  const blocks = chain();
  const x = T.toChannelsLast(T.randn([2, 4, 6, 6], { generator: new T.Generator(1) }));
  const before = x.clone();
  const expected = reference(blocks, x);
  const y = T.noGrad(() => nn.runBlocks(x, blocks));
  const shares = blocks.map((b) => b.seen[0].output.storage === b.seen[0].input.storage);
  assert.deepEqual(shares, [false, true, true], 'which blocks reused their input');
  assert.equal(maxAbs(x, before), 0, 'the input is untouched');
  assert.ok(maxAbs(y, expected) < 1e-5, `values: max abs error ${maxAbs(y, expected)}`);
});

test('a conv whose input is the skip itself never writes over it', () => {
  const blocks = chain(true);
  const x = T.toChannelsLast(T.randn([2, 4, 6, 6], { generator: new T.Generator(2) }));
  const expected = reference(blocks, x);
  const y = T.noGrad(() => nn.runBlocks(x, blocks));
  assert.ok(blocks.every((b) => b.seen[0].output.storage !== b.seen[0].input.storage));
  assert.ok(maxAbs(y, expected) < 1e-5, `values: max abs error ${maxAbs(y, expected)}`);
});

test('runBlocks: with autograd on, no skip is overwritten; outside a runner neither', () => {
  const blocks = chain();
  const x = T.toChannelsLast(T.randn([1, 4, 5, 5])).requiresGrad_(true);
  nn.runBlocks(x, blocks);
  assert.ok(blocks.every((b) => b.seen[0].output.storage !== b.seen[0].input.storage));
  const loose = chain()[0];
  const z = T.toChannelsLast(T.randn([1, 4, 5, 5]));
  T.noGrad(() => loose.forward(z));
  assert.notEqual(loose.seen[0].output.storage, z.storage);
});
