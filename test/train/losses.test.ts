/**
 * Losses against torch 1.13 / timm / DeiT / CLIP references (tools/reference/sched_loss_parity.py):
 * values and input grads, then the Module wrappers and typed errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError, DTypeError, IndexError, ShapeError } from '../../src/errors.ts';
import { cast, matmul, randn, tensor, type Tensor } from '../../src/tensor/index.ts';
import {
  BCEWithLogitsLoss,
  BinaryCrossEntropy,
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  ClipLoss,
  clipLoss,
  crossEntropy,
  CrossEntropyLoss,
  DistillationLoss,
  distillationLoss,
  LabelSmoothingCrossEntropy,
  labelSmoothingCrossEntropy,
  SoftTargetCrossEntropy,
  softTargetCrossEntropy,
} from '../../src/train/losses.ts';
import { assertClose, checkOpFixture, F32_TOL } from '../helpers/opcheck.ts';

checkOpFixture('../train/sched_loss.safetensors', {
  crossEntropy: ([x, y, w], kw) => crossEntropy(x, y, { ...kw, weight: w }),
  labelSmoothingCrossEntropy: ([x, y], kw) => labelSmoothingCrossEntropy(x, y, kw.smoothing),
  softTargetCrossEntropy: ([x, y]) => softTargetCrossEntropy(x, y),
  bceWithLogits: ([x, y, w, pw], kw) => binaryCrossEntropyWithLogits(x, y, { ...kw, weight: w, posWeight: pw }),
  timmBinaryCrossEntropy: ([x, y, pw], kw) => binaryCrossEntropy(x, y, { ...kw, posWeight: pw }),
  distillation: ([cls, dist, teacher, labels], kw) => distillationLoss([cls, dist], teacher, labels, kw as any),
  clip: ([img, txt, scale]) => clipLoss(img, txt, scale),
});

const logits = () => randn([4, 3]);
const labels = () => tensor([0, 2, 1, 2], { dtype: 'int64' });

test('loss modules equal their functions', () => {
  const x = logits();
  const y = labels();
  const w = tensor([0.5, 1, 2]);
  const probs = tensor([[0.2, 0.3, 0.5], [1, 0, 0], [0, 1, 0], [0.1, 0.1, 0.8]]);
  assertClose(new CrossEntropyLoss({ weight: w, labelSmoothing: 0.1 }).forward(x, y), crossEntropy(x, y, { weight: w, labelSmoothing: 0.1 }), F32_TOL, 'CrossEntropyLoss');
  assertClose(new LabelSmoothingCrossEntropy(0.3).forward(x, y), labelSmoothingCrossEntropy(x, y, 0.3), F32_TOL, 'LabelSmoothingCrossEntropy');
  assertClose(new SoftTargetCrossEntropy().forward(x, probs), softTargetCrossEntropy(x, probs), F32_TOL, 'SoftTargetCrossEntropy');
  assertClose(new BCEWithLogitsLoss({ posWeight: w, reduction: 'sum' }).forward(x, probs), binaryCrossEntropyWithLogits(x, probs, { posWeight: w, reduction: 'sum' }), F32_TOL, 'BCEWithLogitsLoss');
  assertClose(new BinaryCrossEntropy({ smoothing: 0.2 }).forward(x, y), binaryCrossEntropy(x, y, { smoothing: 0.2 }), F32_TOL, 'BinaryCrossEntropy');
  const img = randn([4, 6]);
  const txt = randn([4, 6]);
  assertClose(new ClipLoss().forward(img, txt, 10), clipLoss(img, txt, 10), F32_TOL, 'ClipLoss');
  assert.deepEqual([...new CrossEntropyLoss({ weight: w }).stateDict().keys()], ['weight']);
});

test('DistillationLoss runs the teacher without grad and mixes with the base loss', () => {
  const inputs = randn([4, 5]);
  const teacherWeight = randn([5, 3]).requiresGrad_(true);
  let calls = 0;
  const teacher = (t: Tensor) => {
    calls += 1;
    return matmul(t, teacherWeight);
  };
  const cls = logits().requiresGrad_(true);
  const dist = logits().requiresGrad_(true);
  const loss = new DistillationLoss(teacher, { type: 'soft', alpha: 0.4, tau: 2 });
  const got = loss.forward(inputs, [cls, dist], labels());
  assert.equal(calls, 1);
  got.backward();
  assert.ok(cls.grad && dist.grad, 'student outputs get grads');
  assert.equal(teacherWeight.grad, null, 'teacher gets no grad');
  const none = new DistillationLoss(teacher, { type: 'none' }).forward(inputs, cls, labels());
  assert.equal(calls, 1, 'type none does not run the teacher');
  assertClose(none, crossEntropy(cls, labels()), F32_TOL, 'type none is the base loss');
});

test('bfloat16 logits give a bfloat16 loss close to float32', () => {
  const x = logits();
  const y = labels();
  const low = crossEntropy(cast(x, 'bfloat16'), y, { labelSmoothing: 0.1 });
  assert.equal(low.dtype, 'bfloat16');
  assertClose(cast(low, 'float32'), crossEntropy(cast(cast(x, 'bfloat16'), 'float32'), y, { labelSmoothing: 0.1 }), 2e-2, 'bf16 crossEntropy');
});

test('all targets ignored gives NaN under mean, as torch', () => {
  const v = crossEntropy(logits(), tensor([-100, -100, -100, -100], { dtype: 'int64' })).item();
  assert.ok(Number.isNaN(v));
});

const is = (cls: new (...a: any[]) => Error, ...patterns: RegExp[]) => (e: unknown) => {
  assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
  for (const p of patterns) assert.match((e as Error).message, p);
  return true;
};

test('loss errors are typed and name the loss and the shapes', () => {
  const x = logits();
  assert.throws(() => crossEntropy(x, tensor([0, 1, 2], { dtype: 'int64' })), is(ShapeError, /^crossEntropy:/, /\[3\]/, /\[N\] = \[4\]/));
  assert.throws(() => crossEntropy(x, tensor([0, 1, 2, 3], { dtype: 'int64' })), is(IndexError, /^crossEntropy:/, /class 3 is out of range \[0, 3\)/));
  assert.throws(() => crossEntropy(x, tensor([0, -1, 2, 1], { dtype: 'int64' })), is(IndexError, /class -1/));
  assert.throws(() => crossEntropy(x, tensor([0, 1, 2, 1], { dtype: 'uint8' })), is(DTypeError, /^crossEntropy:/, /uint8/));
  assert.throws(() => crossEntropy(x, randn([4, 2])), is(ShapeError, /probability target has shape \[4, 2\]/, /\[4, 3\]/));
  assert.throws(() => crossEntropy(randn([4]), labels()), is(ShapeError, /logits have shape \[4\], expected rank 2/));
  assert.throws(() => crossEntropy(tensor([[1, 2]], { dtype: 'int64' }), labels()), is(DTypeError, /logits has dtype int64/));
  assert.throws(() => crossEntropy(x, labels(), { weight: tensor([1, 2]) }), is(ShapeError, /weight has shape \[2\], expected \[C\] = \[3\]/));
  assert.throws(() => crossEntropy(x, labels(), { reduction: 'avg' as any }), is(ArgumentError, /reduction/));
  assert.throws(() => crossEntropy(x, labels(), { labelSmoothing: 1.5 }), is(ArgumentError, /labelSmoothing must be in \[0, 1\], got 1.5/));
  assert.throws(() => labelSmoothingCrossEntropy(x, tensor([0, 1], { dtype: 'int64' })), is(ShapeError, /^labelSmoothingCrossEntropy:/, /\[2\]/));
  assert.throws(() => softTargetCrossEntropy(x, randn([5, 3])), is(ShapeError, /^softTargetCrossEntropy: target has shape \[5, 3\]/));
  assert.throws(() => binaryCrossEntropyWithLogits(x, randn([4, 1])), is(ShapeError, /^binaryCrossEntropyWithLogits: target has shape \[4, 1\], expected the input's shape \[4, 3\]/));
  assert.throws(() => binaryCrossEntropyWithLogits(x, randn([4, 3]), { posWeight: randn([2]) }), is(ShapeError, /posWeight has shape \[2\]/));
  assert.throws(() => binaryCrossEntropy(x, tensor([0, 1], { dtype: 'int64' })), is(ShapeError, /^binaryCrossEntropy:/, /batch size 4/));
  assert.throws(() => binaryCrossEntropy(x, tensor([0, 1, 7, 1], { dtype: 'int64' })), is(IndexError, /class 7/));
  assert.throws(() => distillationLoss(x, randn([4, 3]), labels(), { type: 'soft' }), is(ArgumentError, /^distillationLoss:/, /\(cls, dist\)/));
  assert.throws(() => distillationLoss([x, x], randn([2, 3]), labels(), { type: 'hard' }), is(ShapeError, /teacherOutputs have shape \[2, 3\], expected the student's dist shape \[4, 3\]/));
  assert.throws(() => distillationLoss([x, x], randn([4, 3]), labels(), { type: 'warm' as any }), is(ArgumentError, /type must be/));
  assert.throws(() => clipLoss(randn([4, 6]), randn([3, 6]), 10), is(ShapeError, /^clipLoss:/, /\[4, 6\]/, /\[3, 6\]/));
});
