/**
 * `tsvision train` and `tsvision eval` end to end on resnet18 with 16-pixel shapes (a couple of
 * updates each), and the task glue: resume, fine-tuning with a replaced head, linear probe,
 * few-shot subsets and data-spec errors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { shapes } from '../../src/data/datasets/index.ts';
import { fewShot, openData, runEvaluation, runTraining } from '../../src/tasks/train.ts';
import { listCheckpoints } from '../../src/train/index.ts';
import { ArgumentError } from '../../src/errors.ts';

const bin = fileURLToPath(new URL('../../bin/tsvision.js', import.meta.url));
const DATA = 'shapes:classes=2,size=16,train=32,val=16';
const quiet = { log: () => undefined, progressStream: null };

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('train then eval through the CLI; --resume continues to more epochs', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'tsv-cli-train-'));
  const r = cli('train', '--model', 'resnet18', '--data', DATA, '--output', out, '--epochs', '1', '--batch-size', '16', '--warmup-epochs', '0');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^done: 2 updates, train loss \d+\.\d+, top-1 \d+\.\d+%, top-5 100\.00%/);
  assert.match(r.stderr, /epoch 1\/1 .*img\/s/);
  for (const f of ['metrics.jsonl', 'metrics.csv', 'curves.png', 'best.json']) assert.ok(existsSync(path.join(out, f)), f);
  const e = cli('eval', '--model', 'resnet18', '--weights', out, '--data', DATA, '--batch-size', '8');
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stdout, /^images 16 {2}loss \d+\.\d+ {2}top-1 \d+\.\d+% {2}top-5 100\.00%/);
  assert.match(e.stdout, /true\\pred/);
  const again = cli('train', '--model', 'resnet18', '--data', DATA, '--output', out, '--epochs', '2', '--batch-size', '16', '--warmup-epochs', '0', '--resume');
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /resumed from .*checkpoint-2 \(epoch 1, step 2\)/);
  assert.match(again.stdout, /^done: 4 updates/);
  assert.equal(readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 2);
  rmSync(out, { recursive: true });
});

test('bad train usage exits 2 naming the flag', () => {
  const r = cli('train', '--model', 'resnet18', '--data', DATA);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--output is required/);
  const o = cli('train', '--model', 'resnet18', '--data', DATA, '--output', '/tmp/x', '--opt', 'rmsprop');
  assert.equal(o.code, 2);
  assert.match(o.stderr, /--opt expects one of adamw, adam, sgd, lamb, got 'rmsprop'/);
});

test('fine-tuning replaces the head when the class count differs; linear probe trains only the head', async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'tsv-ft-'));
  await runTraining({ model: 'resnet18', data: DATA, output: out, epochs: 1, batchSize: 16, maxSteps: 1, ...quiet });
  const lines: string[] = [];
  const ft = path.join(out, 'ft');
  const r = await runTraining({ model: 'resnet18', data: 'shapes:classes=3,size=16,train=24,val=8', output: ft, pretrained: out, epochs: 1, batchSize: 12, linearProbe: true, fewShot: 4, log: (l) => lines.push(l), progressStream: null });
  assert.ok(lines.some((l) => /classifier was replaced for 3 classes/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /12 images, 3 classes/.test(l)), lines.join('\n'));
  assert.equal(r.history.length, 1);
  const { readSafetensors } = await import('../../src/io/safetensors.ts');
  const before = readSafetensors(path.join(listCheckpoints(out)[0].path, 'model.safetensors')).tensors;
  const after = readSafetensors(path.join(listCheckpoints(ft).at(-1)!.path, 'model.safetensors')).tensors;
  for (const k of ['conv1.weight', 'bn1.running_mean', 'layer4.1.bn2.running_var']) assert.deepEqual(after.get(k)!.tolist(), before.get(k)!.tolist(), k);
  assert.deepEqual(after.get('fc.weight')!.shape, [3, 512]);
  const ev = await runEvaluation({ model: 'resnet18', weights: ft, data: 'shapes:classes=3,size=16,train=24,val=8' });
  assert.equal(ev.count, 8);
  await assert.rejects(runEvaluation({ model: 'resnet18', weights: ft, data: DATA }), /does not fit the model.*fc\.weight \[3,512\] vs model \[2,512\]/);
  rmSync(out, { recursive: true });
});

test('few-shot picks k per class; data specs are validated', async () => {
  const ds = shapes({ numClasses: 3, size: 8, length: 30 });
  const sub = await fewShot(ds, 3, 2, 0);
  assert.equal(sub.length, 6);
  const labels = await Promise.all(Array.from({ length: 6 }, async (_, i) => (await sub.get(i))!.label));
  assert.deepEqual([0, 1, 2].map((c) => labels.filter((l) => l === c).length), [2, 2, 2]);
  assert.equal(openData('shapes:4').classes.length, 4);
  assert.throws(() => openData('shapes:colour=3'), ArgumentError);
  assert.throws(() => openData('/no/such/dir'), /expected 'shapes'/);
});

test('Ctrl-C (a real SIGINT) saves a checkpoint after the current update and exits 1 saying how to resume', async () => {
  const { spawn } = await import('node:child_process');
  const out = mkdtempSync(path.join(tmpdir(), 'tsv-sigint-'));
  const child = spawn(process.execPath, [bin, 'train', '--model', 'resnet18', '--data', 'shapes:classes=2,size=16,train=4000,val=16', '--batch-size', '8', '--output', out]);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  await new Promise<void>((resolve) =>
    child.stderr.on('data', (s: string) => {
      stderr += s;
      if (/^training /m.test(stderr)) resolve();
    }),
  );
  await new Promise((r) => setTimeout(r, 500));
  child.kill('SIGINT');
  const code = await new Promise((r) => child.once('exit', r));
  assert.equal(code, 1, stderr);
  assert.match(stderr, /interrupted; saved .*checkpoint-(\d+); continue with --resume/);
  const steps = listCheckpoints(out).map((c) => c.step);
  assert.equal(steps.length, 1);
  assert.ok(steps[0] >= 1 && steps[0] < 50, String(steps));
  rmSync(out, { recursive: true });
});
