import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/index.ts';

const a = T.tensor([1, 2, 3]);
const b = T.tensor([4, 5, 6]);

test('profile counts each native call under its op name and returns the result', () => {
  const { result, report } = T.profile(() => {
    T.add(a, b);
    T.add(a, b);
    T.mul(a, b);
    return T.add(a, b);
  });
  assert.deepEqual(result.tolist(), [5, 7, 9]);
  assert.equal(report.get('binary.add')?.calls, 3);
  assert.equal(report.get('binary.mul')?.calls, 1);
  assert.equal(report.calls, 4);
  assert.deepEqual(report.ops.map((s) => s.op).sort(), ['binary.add', 'binary.mul']);
});

test('times are non-negative, sorted longest first, and native time fits in wall time', () => {
  const x = T.randn([64, 64]);
  const { report } = T.profile(() => {
    T.matmul(x, x);
    T.relu(x);
    T.sum(x);
  });
  assert.ok(report.ops.length >= 3);
  for (const s of report.ops) assert.ok(s.totalMs >= 0 && s.calls > 0, `${s.op}: ${s.totalMs} ms over ${s.calls} calls`);
  for (let i = 1; i < report.ops.length; ++i) assert.ok(report.ops[i - 1].totalMs >= report.ops[i].totalMs);
  assert.ok(report.nativeMs >= 0 && report.nativeMs <= report.wallMs, `${report.nativeMs} ms native in ${report.wallMs} ms wall`);
  const table = report.format();
  for (const s of report.ops) assert.match(table, new RegExp(`^${s.op.replace('.', '\\.')}\\s`, 'm'));
  assert.match(report.format({ top: 1 }), /more ops/);
  assert.throws(() => report.format({ top: -1 }), T.ArgumentError);
});

test('off by default: nothing is recorded outside a profile and the addon is called directly', () => {
  assert.equal(T.isProfiling(), false);
  const direct = T.native.binary;
  const p = T.startProfile();
  assert.equal(T.isProfiling(), true);
  assert.notEqual(T.native.binary, direct);
  T.add(a, b);
  const report = p.stop();
  assert.equal(T.isProfiling(), false);
  assert.equal(T.native.binary, direct);
  T.add(a, b);
  assert.equal(report.get('binary.add')?.calls, 1);
  assert.equal(p.stop(), report, 'stop() is idempotent');
  assert.equal(p.running, false);
});

test('nested profiles: the outer one sees the inner calls too, and either may stop first', () => {
  const outer = T.startProfile();
  T.add(a, b);
  const { report: inner } = T.profile(() => T.sub(a, b));
  const overlapping = T.startProfile();
  T.mul(a, b);
  const outerReport = outer.stop();
  assert.equal(T.isProfiling(), true, 'the overlapping profile still runs');
  T.div(a, b);
  const overlappingReport = overlapping.stop();
  assert.equal(T.isProfiling(), false);
  assert.deepEqual(inner.ops.map((s) => s.op), ['binary.sub']);
  assert.deepEqual(outerReport.ops.map((s) => s.op).sort(), ['binary.add', 'binary.mul', 'binary.sub']);
  assert.deepEqual(overlappingReport.ops.map((s) => s.op).sort(), ['binary.div', 'binary.mul']);
});

test('a failing call is still counted, and the profile stops when its function throws', () => {
  const ints = T.tensor([1, 2, 3], { dtype: 'int32' });
  const p = T.startProfile();
  assert.throws(() => T.profile(() => T.native.binary(0, a, ints, a)), T.NativeError);
  const report = p.stop();
  assert.equal(T.isProfiling(), false);
  assert.equal(report.get('binary.add')?.calls, 1);
});

test('byShape splits an op by the shapes and dtypes of its tensor arguments', () => {
  const c = T.randn([2, 3]).to('bfloat16');
  const { report } = T.profile(() => {
    T.add(a, b);
    T.add(c, c);
    T.add(c, c);
  }, { byShape: true });
  assert.equal(report.get('binary.add f32[3] f32[3] f32[3]')?.calls, 1);
  assert.equal(report.get('binary.add bf16[2,3] bf16[2,3] bf16[2,3]')?.calls, 2);
});
