/**
 * convBnAct: eval-mode batch norm, skip add and ReLU fused into the conv kernel give the same
 * values as the modules run one by one, in both layouts and dtypes, and the packed weights the
 * fused kernel keeps follow every in-place change of the conv weight.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as nn from '../../src/nn/index.ts';
import * as T from '../../src/tensor/index.ts';
import { BF16_TOL, F32_TOL, assertClose } from '../helpers/opcheck.ts';

function unit(seed: number) {
  const g = new T.Generator(seed);
  const conv = new nn.Conv2d(6, 8, 3, { padding: 1, bias: false });
  const bn = new nn.BatchNorm2d(8);
  for (const t of [conv.weight, bn.weight!, bn.bias!, bn.runningMean!]) t.copy_(T.randn(t.shape, { generator: g }).mul(0.3));
  bn.runningVar!.copy_(T.rand(bn.runningVar!.shape, { generator: g }).add(0.5));
  const x = T.randn([2, 6, 9, 7], { generator: g });
  const residual = T.randn([2, 8, 9, 7], { generator: g });
  return { conv, bn, x, residual };
}

const unfused = (conv: nn.Conv2d, bn: nn.BatchNorm2d, x: T.Tensor, residual: T.Tensor) => T.relu(T.add(bn.forward(conv.forward(x)), residual));

test('eval mode: the fused kernel equals conv → bn → add → relu, row-major and channels-last, f32 and bf16', () => {
  const { conv, bn, x, residual } = unit(1);
  conv.eval();
  bn.eval();
  const ref = T.noGrad(() => unfused(conv, bn, x, residual));
  for (const input of [x, T.toChannelsLast(x)]) {
    const y = T.noGrad(() => nn.convBnAct(conv, bn, input, { skip: { tensor: residual, overwritable: false }, relu: true }));
    assert.equal(T.isChannelsLast(y), T.isChannelsLast(input), 'output keeps the input layout');
    assertClose(y, ref, F32_TOL, 'fused');
  }
  conv.to('bfloat16');
  bn.to('bfloat16');
  const low = T.noGrad(() => nn.convBnAct(conv, bn, T.toChannelsLast(x.to('bfloat16')), { skip: { tensor: residual.to('bfloat16'), overwritable: false }, relu: true }));
  assert.equal(low.dtype, 'bfloat16');
  assertClose(low.float(), ref, BF16_TOL, 'bf16 fused');
});

test("eval mode folds a conv bias into the norm's shift, f32 and bf16", () => {
  const g = new T.Generator(11);
  const conv = new nn.Conv2d(4, 6, 3, { stride: 2, padding: 1 });
  const bn = new nn.BatchNorm2d(6);
  for (const t of [conv.weight, conv.bias!, bn.weight!, bn.bias!, bn.runningMean!]) t.copy_(T.randn(t.shape, { generator: g }));
  bn.runningVar!.copy_(T.rand(bn.runningVar!.shape, { generator: g }).add(0.5));
  conv.eval();
  bn.eval();
  const x = T.randn([2, 4, 8, 8], { generator: g });
  const ref = T.noGrad(() => T.relu(bn.forward(conv.forward(x))));
  assertClose(T.noGrad(() => nn.convBnAct(conv, bn, T.toChannelsLast(x), { relu: true })), ref, F32_TOL, 'f32');
  conv.to('bfloat16');
  bn.to('bfloat16');
  assertClose(T.noGrad(() => nn.convBnAct(conv, bn, x.to('bfloat16'), { relu: true })).float(), ref, BF16_TOL, 'bf16');
});

test('eval mode with gradients: the recorded path gives the grads of the unfused modules', () => {
  const { conv, bn, x, residual } = unit(2);
  bn.eval();
  const cot = T.randn([2, 8, 9, 7], { generator: new T.Generator(9) });
  const grads = (run: () => T.Tensor) => {
    conv.zeroGrad();
    bn.zeroGrad();
    run().backward(cot);
    return [conv.weight.grad!, bn.weight!.grad!, bn.bias!.grad!];
  };
  const xi = x.detach().requiresGrad_(true);
  const fused = grads(() => nn.convBnAct(conv, bn, xi, { skip: { tensor: residual, overwritable: false }, relu: true }));
  const ref = grads(() => unfused(conv, bn, xi, residual));
  fused.forEach((g, i) => assertClose(g, ref[i], F32_TOL, `grad ${i}`));
});

test('training mode normalizes with batch statistics and updates the running stats, as the modules do', () => {
  const a = unit(3);
  const b = unit(3);
  const y = nn.convBnAct(a.conv, a.bn, a.x, { relu: true });
  const ref = T.relu(b.bn.forward(b.conv.forward(b.x)));
  assertClose(y, ref, F32_TOL, 'train output');
  assertClose(a.bn.runningMean!, b.bn.runningMean!, F32_TOL, 'running mean');
  assert.equal(a.bn.evalAffine(), null, 'no fixed affine while training');
});

test('packed weights follow copy_, fill_, setData (load) and the running statistics', () => {
  const { conv, bn, x } = unit(4);
  conv.eval();
  bn.eval();
  const xl = T.toChannelsLast(x);
  const fused = () => T.noGrad(() => nn.convBnAct(conv, bn, xl, { relu: false }));
  const plain = () => T.noGrad(() => bn.forward(conv.forward(x)));
  assertClose(fused(), plain(), F32_TOL, 'first call');
  assertClose(fused(), plain(), F32_TOL, 'cached call');
  conv.weight.copy_(T.mul(conv.weight, -2));
  assertClose(fused(), plain(), F32_TOL, 'after copy_');
  conv.weight.fill_(0.01);
  assertClose(fused(), plain(), F32_TOL, 'after fill_');
  conv.loadStateDict(new Map([['weight', T.randn(conv.weight.shape, { generator: new T.Generator(5) })]]));
  assertClose(fused(), plain(), F32_TOL, 'after loadStateDict');
  bn.runningVar!.fill_(4);
  assertClose(fused(), plain(), F32_TOL, 'after a running-stat change');
});

test('toChannelsLast lays out [N, C, ...] with C innermost, passes grads through, and rejects rank < 3', () => {
  const x = T.randn([2, 3, 4, 5]).requiresGrad_(true);
  const y = T.toChannelsLast(x);
  assert.deepEqual(y.strides, [60, 1, 15, 3]);
  assert.equal(T.toChannelsLast(y), y);
  assertClose(y, x, 0, 'values');
  T.mul(y, 3).sum().backward();
  assertClose(x.grad!, T.full([2, 3, 4, 5], 3), 0, 'grad');
  assert.throws(() => T.toChannelsLast(T.ones([3, 4])), /toChannelsLast: expected an \[N, C, \.\.\.spatial\] tensor, got shape \[3, 4\]/);
});

test('an overwritable skip: the fused kernel writes over a channels-last residual; the recorded path leaves it alone', () => {
  const { conv, bn, x, residual } = unit(6);
  conv.eval();
  bn.eval();
  const ref = T.noGrad(() => unfused(conv, bn, x, residual));
  const dead = T.toChannelsLast(residual.clone());
  const y = T.noGrad(() => nn.convBnAct(conv, bn, T.toChannelsLast(x), { skip: { tensor: dead, overwritable: true }, relu: true }));
  assert.equal(y.storage, dead.storage, 'output reuses the residual storage');
  assertClose(y, ref, F32_TOL, 'values');
  const kept = T.toChannelsLast(residual.clone());
  const xg = T.toChannelsLast(x).detach().requiresGrad_(true);
  const yg = nn.convBnAct(conv, bn, xg, { skip: { tensor: kept, overwritable: true }, relu: true });
  assert.notEqual(yg.storage, kept.storage);
  assertClose(kept, residual, 0, 'residual untouched when recording');
  assertClose(yg, ref, F32_TOL, 'recorded values');
});
