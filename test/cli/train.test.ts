/**
 * `tsvision train` and `tsvision eval` end to end on resnet18 with 16-pixel shapes (a couple of
 * updates each), and the task glue: resume, fine-tuning with a replaced head, linear probe,
 * few-shot subsets, data-spec errors, corrupt images in a folder dataset and damaged checkpoints.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
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
  assert.match(o.stderr, /--opt expects one of adamw, adam, sgd, lamb, adafactor, got 'rmsprop'/);
});

test('fine-tuning replaces the head when the class count differs; linear probe trains only the head', async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'tsv-ft-'));
  await runTraining({ model: 'resnet18', data: DATA, output: out, epochs: 1, batchSize: 16, maxSteps: 1, ...quiet });
  const lines: string[] = [];
  const ft = path.join(out, 'ft');
  const r = await runTraining({ model: 'resnet18', data: 'shapes:classes=3,size=16,train=24,val=8', output: ft, pretrained: out, epochs: 1, batchSize: 12, linearProbe: true, fewShot: 4, log: (l) => lines.push(l), progressStream: null });
  assert.ok(lines.some((l) => /classifier was replaced for 3 classes/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /12 images, 3 classes/.test(l)), lines.join('\n'));
  const defaults: string[] = [];
  await runTraining({ model: 'resnet18', data: 'shapes:classes=2,train=4,val=2', output: path.join(out, 'defaults'), batchSize: 32, maxSteps: 0, log: (l) => defaults.push(l), progressStream: null });
  assert.ok(defaults.some((l) => /input 32x32, 10 epochs, batch 32, lr 0\.000125$/.test(l)), `defaults: shapes at 32 px, 10 epochs, lr 2.5e-4 x batch/64\n${defaults.join('\n')}`);
  assert.equal(r.history.length, 1);
  const { readSafetensors } = await import('../../src/io/safetensors.ts');
  const before = readSafetensors(path.join(listCheckpoints(out)[0].path, 'model.safetensors')).tensors;
  const after = readSafetensors(path.join(listCheckpoints(ft).at(-1)!.path, 'model.safetensors')).tensors;
  for (const k of ['conv1.weight', 'bn1.running_mean', 'layer4.1.bn2.running_var']) assert.deepEqual(after.get(k)!.tolist(), before.get(k)!.tolist(), k);
  assert.deepEqual(after.get('fc.weight')!.shape, [3, 512]);
  const ev = await runEvaluation({ model: 'resnet18', weights: ft, data: 'shapes:classes=3,size=16,train=24,val=8' });
  assert.equal(ev.count, 8);
  await assert.rejects(runEvaluation({ model: 'resnet18', weights: ft, data: DATA }), /eval: .*model\.safetensors has a 3-class head, but .* has 2 classes/);
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

/** The per-update losses a finished run recorded in its newest checkpoint. */
function recordedLosses(out: string): number[] {
  const state = JSON.parse(readFileSync(path.join(listCheckpoints(out).at(-1)!.path, 'state.json'), 'utf8')) as { extra: { stepLosses: number[] } };
  return state.extra.stepLosses;
}

const metrics = (out: string) => readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);

test('--workers 1 builds the very batches of --workers 0: identical losses and eval', async () => {
  const runs = ['0', '1'].map((workers) => {
    const out = mkdtempSync(path.join(tmpdir(), `tsv-workers${workers}-`));
    const r = cli('train', '--model', 'resnet18', '--data', DATA, '--output', out, '--epochs', '1', '--batch-size', '8', '--warmup-epochs', '0', '--workers', workers);
    assert.equal(r.code, 0, r.stderr);
    if (workers === '1') assert.match(r.stderr, /training .*, 1 loader worker\b/);
    const result = { losses: recordedLosses(out), metrics: metrics(out)[0] };
    rmSync(out, { recursive: true });
    return result;
  });
  assert.equal(runs[0].losses.length, 4);
  assert.deepEqual(runs[1].losses, runs[0].losses);
  for (const k of ['trainLoss', 'evalLoss', 'top1', 'top5']) assert.equal(runs[1].metrics[k], runs[0].metrics[k], k);
  // A few-shot subset reaches the workers by index.
  const fewShotLosses: number[][] = [];
  for (const workers of [0, 1]) {
    const out = mkdtempSync(path.join(tmpdir(), `tsv-fewshot-workers${workers}-`));
    const r = await runTraining({ model: 'resnet18', data: DATA, output: out, epochs: 1, batchSize: 4, fewShot: 4, workers, warmupEpochs: 0, ...quiet });
    rmSync(out, { recursive: true });
    fewShotLosses.push(r.stepLosses);
  }
  assert.equal(fewShotLosses[0].length, 2);
  assert.deepEqual(fewShotLosses[1], fewShotLosses[0]);
  const bad = cli('train', '--model', 'resnet18', '--data', DATA, '--output', '/tmp/x', '--workers=-1');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--workers expects an integer >= 0, got '-1'/);
});

test('--model-ema evaluates the EMA each epoch (emaTop1 in metrics.jsonl/csv), saves it and resumes it', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'tsv-ema-'));
  const args = ['train', '--model', 'resnet18', '--data', DATA, '--output', out, '--batch-size', '16', '--warmup-epochs', '0', '--model-ema'];
  // Decay 0: the average is a copy of the model after every update, so its evaluation is the model's.
  const r = cli(...args, '--epochs', '1', '--model-ema-decay', '0');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /EMA decay 0\b/);
  assert.match(r.stderr, /epoch 1\/1: .*top-1 [\d.]+%, top-5 [\d.]+%, EMA top-1 [\d.]+%/);
  const [first] = metrics(out);
  assert.equal(typeof first.emaTop1, 'number');
  assert.equal(first.emaTop1, first.top1);
  assert.equal(first.emaEvalLoss, first.evalLoss);
  assert.equal(first.emaTop5, first.top5);
  assert.match(readFileSync(path.join(out, 'metrics.csv'), 'utf8').split('\n')[0], /,emaEvalLoss,emaTop1,emaTop5$/);
  assert.ok(existsSync(path.join(listCheckpoints(out).at(-1)!.path, 'model_ema.safetensors')));
  const again = cli(...args, '--epochs', '2', '--model-ema-decay', '0.5', '--resume');
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /resumed from .*checkpoint-2/);
  const records = metrics(out);
  assert.equal(records.length, 2);
  assert.ok(records[1].emaTop1 >= 0 && records[1].emaTop1 <= 1, String(records[1].emaTop1));
  rmSync(out, { recursive: true });
  const plain = mkdtempSync(path.join(tmpdir(), 'tsv-noema-'));
  assert.equal(cli('train', '--model', 'resnet18', '--data', DATA, '--output', plain, '--epochs', '1', '--batch-size', '16', '--max-steps', '1').code, 0);
  assert.equal(listCheckpoints(plain).length, 1);
  assert.ok(!existsSync(path.join(listCheckpoints(plain)[0].path, 'model_ema.safetensors')));
  rmSync(plain, { recursive: true });
  const e1 = cli('train', '--model', 'resnet18', '--data', DATA, '--output', '/tmp/x', '--model-ema-decay', '0.9');
  assert.equal(e1.code, 2);
  assert.match(e1.stderr, /--model-ema-decay and --model-ema-warmup need --model-ema/);
  const e2 = cli('train', '--model', 'resnet18', '--data', DATA, '--output', '/tmp/x', '--model-ema', '--model-ema-decay', '1.5');
  assert.equal(e2.code, 2);
  assert.match(e2.stderr, /--model-ema-decay expects a number in \[0, 1\], got '1.5'/);
});

test('a corrupt image in an ImageFolder stops train naming the file; --skip-corrupt reports it and trains on the rest', async () => {
  const sharp = (await import('sharp')).default;
  const root = mkdtempSync(path.join(tmpdir(), 'tsv-corrupt-'));
  const ds = shapes({ numClasses: 2, size: 16, length: 8 });
  for (const split of ['train', 'val']) {
    for (let i = 0; i < ds.length; i++) {
      const { image, label } = ds.get(i);
      const dir = path.join(root, split, ds.classes[label]);
      mkdirSync(dir, { recursive: true });
      await sharp(Buffer.from((image.toArray() as Uint8Array).buffer), { raw: { width: 16, height: 16, channels: 3 } }).png().toFile(path.join(dir, `${i}.png`));
    }
  }
  const broken = path.join(root, 'train', ds.classes[0], 'broken.png');
  writeFileSync(broken, 'not a png at all');
  const args = ['train', '--model', 'resnet18', '--data', root, '--epochs', '1', '--batch-size', '4', '--img-size', '16'];
  const failing = cli(...args, '--output', path.join(root, 'out-fail'));
  assert.notEqual(failing.code, 0);
  assert.ok(failing.stderr.includes(broken), failing.stderr);
  const skipping = cli(...args, '--output', path.join(root, 'out-skip'), '--skip-corrupt');
  assert.equal(skipping.code, 0, skipping.stderr);
  assert.ok(skipping.stderr.includes(broken), `the skipped file is reported\n${skipping.stderr}`);
  assert.match(skipping.stdout, /^done: \d+ updates/);
  const e = cli('eval', '--model', 'resnet18', '--weights', path.join(root, 'out-skip'), '--data', root, '--img-size', '16');
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stdout, /^images 8 /);
  rmSync(root, { recursive: true });
});

test('--opt picks each optimizer (timm names); every one updates the weights', async () => {
  const { readSafetensors } = await import('../../src/io/safetensors.ts');
  const root = mkdtempSync(path.join(tmpdir(), 'tsv-opt-'));
  const initial = path.join(root, 'init');
  await runTraining({ model: 'resnet18', data: DATA, output: initial, epochs: 1, batchSize: 16, maxSteps: 1, lr: 0, ...quiet });
  const weightOf = (dir: string) => readSafetensors(path.join(listCheckpoints(dir).at(-1)!.path, 'model.safetensors')).tensors.get('fc.weight')!.toArray() as Float32Array;
  const before = weightOf(initial);
  for (const opt of ['sgd', 'adam', 'adamw', 'lamb', 'adafactor'] as const) {
    const out = path.join(root, opt);
    const r = await runTraining({ model: 'resnet18', data: DATA, output: out, epochs: 1, batchSize: 16, maxSteps: 2, lr: 1e-2, opt, ...quiet });
    assert.equal(r.stepLosses.length, 2, opt);
    assert.ok(r.stepLosses.every(Number.isFinite), `${opt}: ${r.stepLosses}`);
    const after = weightOf(out);
    assert.ok(after.some((v, i) => v !== before[i]), `${opt} changed fc.weight`);
    assert.equal(JSON.parse(readFileSync(path.join(listCheckpoints(out).at(-1)!.path, 'state.json'), 'utf8')).args.opt, opt, 'recorded in the checkpoint');
  }
  rmSync(root, { recursive: true });
});

test('--resume past damaged checkpoints: skips a truncated newest one naming it, survives a corrupt best.json, and stops with a typed error when none can be read', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'tsv-damaged-'));
  const cut = (file: string) => truncateSync(file, Math.floor(statSync(file).size / 2));
  const args = ['train', '--model', 'resnet18', '--data', DATA, '--output', out, '--batch-size', '16', '--warmup-epochs', '0', '--epochs', '2'];
  assert.equal(cli(...args, '--max-steps', '3').code, 0);
  assert.deepEqual(listCheckpoints(out).map((c) => c.step), [2, 3], 'the epoch-1 checkpoint is the best one, so it stays');
  cut(path.join(out, 'checkpoint-3', 'model.safetensors'));
  cut(path.join(out, 'best.json'));
  const r = cli(...args, '--resume');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /resume: skipped .*checkpoint-3, which cannot be read: .*checkpoint-3\/model\.safetensors: /);
  assert.match(r.stderr, /resumed from .*checkpoint-2 \(epoch 1, step 2\)/);
  assert.match(r.stderr, /kept the unreadable checkpoint-3 as .*checkpoint-3\.unreadable/);
  assert.match(r.stderr, /saved .*checkpoint-4, but kept every older checkpoint: .*best\.json is not valid JSON/);
  assert.match(r.stdout, /^done: 4 updates/);
  assert.equal(metrics(out).length, 2, "the epoch's metrics are written");
  assert.ok(existsSync(path.join(out, 'checkpoint-3.unreadable', 'optimizer.safetensors')), 'the damaged checkpoint is kept');
  const steps = listCheckpoints(out).map((c) => c.step);
  assert.deepEqual(steps, [2, 4]);
  for (const s of steps) cut(path.join(out, `checkpoint-${s}`, 'state.json'));
  const none = cli(...args, '--resume');
  assert.equal(none.code, 1, none.stderr);
  assert.match(none.stderr, /CheckpointError \(E_CHECKPOINT\): loadCheckpoint: no checkpoint under .* can be read: checkpoint-4: .*checkpoint-4\/state\.json is not valid JSON.*; checkpoint-2: /);
  assert.doesNotMatch(none.stderr, /SyntaxError|\n\s+at /, 'no stack trace');
  assert.doesNotMatch(none.stderr, /^training /m, 'it did not start over');
  assert.deepEqual(listCheckpoints(out).map((c) => c.step), [2, 4], 'nothing deleted');
  rmSync(out, { recursive: true });
});

test('--resume into an output directory without checkpoints says it starts from step 0', async () => {
  const out = mkdtempSync(path.join(tmpdir(), 'tsv-fresh-'));
  const lines: string[] = [];
  await runTraining({ model: 'resnet18', data: DATA, output: out, resume: true, maxSteps: 0, log: (l) => lines.push(l), progressStream: null });
  assert.ok(lines.some((l) => l === `--resume: no checkpoint in ${out} yet; training from step 0`), lines.join('\n'));
  rmSync(out, { recursive: true });
});
