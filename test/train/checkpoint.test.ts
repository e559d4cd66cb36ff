/**
 * Checkpoints: complete-or-absent saves (a directory without state.json is ignored, stale temp
 * directories are cleaned), pruning after the new save, best.json, validation on load, damaged
 * files (skipped or named, never a raw SyntaxError); and the classification metrics the trainer logs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Linear, Sequential } from '../../src/nn/index.ts';
import { tensor } from '../../src/tensor/index.ts';
import {
  AdamW,
  CheckpointError,
  ConfusionMatrix,
  RunningAverage,
  bestCheckpoint,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  loadModelWeights,
  markBest,
  saveCheckpoint,
  topkAccuracy,
  type CheckpointContents,
} from '../../src/train/index.ts';

function contents(step: number, model = new Sequential(new Linear(3, 2))): CheckpointContents {
  const opt = new AdamW(model.parameters(), { lr: 0.1 });
  model.forward(tensor([[1, 2, 3]])).sum().backward();
  opt.step();
  return {
    model: model.stateDict(),
    optimizer: opt.stateDict(),
    state: { model: 'tiny', epoch: 1, step, bestMetric: null, scheduler: null, loader: { epoch: 1, position: 0, seed: 3 }, rng: { default: { seed: 1, offset: 10 } }, args: { lr: 0.1 }, extra: {} },
  };
}

const tmp = () => mkdtempSync(path.join(tmpdir(), 'tsv-ckpt-'));

test('save writes a complete directory, load restores tensors and state', () => {
  const dir = tmp();
  const c = contents(5);
  const p = saveCheckpoint(dir, c);
  assert.equal(path.basename(p), 'checkpoint-5');
  assert.deepEqual(readdirSync(p).sort(), ['model.safetensors', 'optimizer.safetensors', 'state.json']);
  const loaded = loadCheckpoint(dir);
  assert.equal(loaded.path, p);
  assert.equal(loaded.state.step, 5);
  assert.deepEqual(loaded.state.loader, { epoch: 1, position: 0, seed: 3 });
  assert.deepEqual(loaded.state.rng, { default: { seed: 1, offset: 10 } });
  assert.deepEqual(loaded.model.get('0.weight')!.tolist(), c.model.get('0.weight')!.tolist());
  assert.equal(loaded.optimizer!.meta.optimizer, c.optimizer!.meta.optimizer);
  assert.deepEqual([...loaded.optimizer!.tensors.keys()].sort(), [...c.optimizer!.tensors.keys()].sort());
  rmSync(dir, { recursive: true });
});

test('an incomplete checkpoint (no state.json) and stray temp directories are ignored, then cleaned', () => {
  const dir = tmp();
  saveCheckpoint(dir, contents(1));
  // What a kill during a save leaves: a temp dir, and (had rename been non-atomic) a dir without state.json.
  mkdirSync(path.join(dir, '.checkpoint-2.tmp-999'));
  writeFileSync(path.join(dir, '.checkpoint-2.tmp-999', 'model.safetensors'), 'partial');
  mkdirSync(path.join(dir, 'checkpoint-3'));
  assert.deepEqual(listCheckpoints(dir).map((c) => c.step), [1]);
  assert.equal(path.basename(latestCheckpoint(dir)!), 'checkpoint-1');
  assert.equal(loadCheckpoint(dir).state.step, 1);
  assert.throws(() => loadCheckpoint(path.join(dir, 'checkpoint-3')), CheckpointError);
  saveCheckpoint(dir, contents(4));
  assert.ok(!existsSync(path.join(dir, '.checkpoint-2.tmp-999')));
  rmSync(dir, { recursive: true });
});

test('old checkpoints are pruned after the new one, keeping the best; re-saving a step replaces it', () => {
  const dir = tmp();
  const first = saveCheckpoint(dir, contents(1));
  markBest(dir, first, 0.9);
  saveCheckpoint(dir, contents(2));
  saveCheckpoint(dir, contents(3));
  assert.deepEqual(listCheckpoints(dir).map((c) => c.step), [1, 3]);
  assert.deepEqual(bestCheckpoint(dir), { path: first, metric: 0.9 });
  saveCheckpoint(dir, contents(3), { keep: 2 });
  assert.deepEqual(listCheckpoints(dir).map((c) => c.step), [1, 3]);
  assert.deepEqual(readdirSync(dir).sort(), ['best.json', 'checkpoint-1', 'checkpoint-3']);
  rmSync(dir, { recursive: true });
});

test('loading into a different architecture fails with the first mismatched keys named', () => {
  const dir = tmp();
  saveCheckpoint(dir, contents(1));
  const ckpt = loadCheckpoint(dir);
  assert.throws(
    () => loadModelWeights(new Sequential(new Linear(3, 4)), ckpt.model, ckpt.path),
    (e: unknown) => e instanceof CheckpointError && /0\.weight \[2, 3\] vs model \[4, 3\]/.test(e.message) && /checkpoint-1/.test(e.message),
  );
  assert.throws(() => loadModelWeights(new Sequential(new Linear(3, 2), new Linear(2, 2)), ckpt.model, ckpt.path), (e: unknown) => e instanceof CheckpointError && /missing 1\.weight/.test(e.message));
  assert.throws(() => loadCheckpoint(tmp()), CheckpointError);
  rmSync(dir, { recursive: true });
});

test('top-k accuracy, confusion matrix and running average', () => {
  const logits = tensor([
    [0.1, 0.9, 0.0],
    [0.8, 0.15, 0.05],
    [0.2, 0.3, 0.5],
    [0.5, 0.4, 0.1],
  ]);
  const labels = tensor([1, 2, 2, 1], { dtype: 'int64' });
  assert.deepEqual(topkAccuracy(logits, labels, [1, 2, 3]), [0.5, 0.75, 1]);
  const cm = new ConfusionMatrix(3);
  cm.update(logits, labels);
  assert.deepEqual(cm.rows(), [
    [0, 0, 0],
    [1, 1, 0],
    [1, 0, 1],
  ]);
  assert.deepEqual(cm.recall().slice(1), [0.5, 0.5]);
  assert.match(cm.format(['a', 'b', 'c']), /^true\\pred/);
  const avg = new RunningAverage();
  avg.update(2, 1);
  avg.update(5, 3);
  assert.equal(avg.average, 17 / 4);
  assert.equal(avg.last, 5);
});

test('SIGKILL during saves never leaves an incomplete checkpoint: the newest complete one loads (3 trials)', async () => {
  const { spawn } = await import('node:child_process');
  const { full } = await import('../../src/tensor/index.ts');
  const dir = tmp();
  const script = path.join(dir, 'saver.ts');
  const src = (p: string) => JSON.stringify(new URL(p, import.meta.url).pathname);
  writeFileSync(
    script,
    `import { saveCheckpoint } from ${src('../../src/train/checkpoint.ts')};
import { full } from ${src('../../src/tensor/index.ts')};
const out = process.argv[2];
for (let step = Number(process.argv[3]); ; step++) {
  const model = new Map([['w', full([512, 1024], step)]]);
  saveCheckpoint(out, { model, optimizer: null, state: { model: 'm', epoch: 0, step, bestMetric: null, scheduler: null, loader: null, rng: {}, args: {}, extra: {} } });
  if (step % 4 === 0) process.stdout.write('.');
}
`,
  );
  const out = path.join(dir, 'out');
  let start = 1;
  for (let trial = 0; trial < 3; trial++) {
    const child = spawn(process.execPath, ['--import', 'tsx', script, out, String(start)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 40));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const ckpts = listCheckpoints(out);
    assert.ok(ckpts.length >= 1 && ckpts.length <= 2, `trial ${trial}: ${ckpts.length} checkpoints`);
    for (const c of ckpts) {
      const loaded = loadCheckpoint(c.path);
      assert.deepEqual(loaded.model.get('w')!.toArray().subarray(0, 2), new Float32Array([c.step, c.step]));
    }
    const visible = readdirSync(out).filter((n) => !n.startsWith('.'));
    assert.deepEqual(visible.sort(), ckpts.map((c) => path.basename(c.path)).sort(), `trial ${trial}: stray ${visible}`);
    start = ckpts.at(-1)!.step + 1;
  }
  saveCheckpoint(out, { model: new Map([['w', full([1], 0)]]), optimizer: null, state: { model: 'm', epoch: 0, step: start, bestMetric: null, scheduler: null, loader: null, rng: {}, args: {}, extra: {} } });
  assert.ok(readdirSync(out).every((n) => !n.startsWith('.')));
  rmSync(dir, { recursive: true });
});

test('a failed save (unwritable place, bad tensor) is a CheckpointError, cleans its temp dir and keeps the old checkpoints', () => {
  const dir = tmp();
  const first = saveCheckpoint(dir, contents(1));
  const bad = contents(2);
  const t = [...bad.model.values()][0];
  t.dispose();
  assert.throws(() => saveCheckpoint(dir, bad), (e: unknown) => e instanceof CheckpointError && /checkpoint-2 .*previous checkpoints are kept/.test(e.message));
  assert.deepEqual(readdirSync(dir), ['checkpoint-1']);
  assert.equal(loadCheckpoint(dir).path, first);
  const file = path.join(dir, 'plain-file');
  writeFileSync(file, 'x');
  assert.throws(() => saveCheckpoint(path.join(file, 'out'), contents(3)), (e: unknown) => e instanceof CheckpointError && /ENOTDIR|EEXIST/.test(e.message));
  rmSync(dir, { recursive: true });
});

/** Cuts a file to `keep` of its bytes, as a crash or a full disk outside our atomic writes would. */
function truncate(file: string, keep = 0.5): void {
  truncateSync(file, Math.floor(statSync(file).size * keep));
}

test('an unreadable newest checkpoint is skipped with its reason; a named one, or none readable, is a CheckpointError naming the file', () => {
  const dir = tmp();
  saveCheckpoint(dir, contents(1), { keep: 3 });
  saveCheckpoint(dir, contents(2), { keep: 3 });
  const third = saveCheckpoint(dir, contents(3), { keep: 3 });
  truncate(path.join(third, 'model.safetensors'));
  const second = path.join(dir, 'checkpoint-2');
  truncate(path.join(second, 'state.json'));
  const loaded = loadCheckpoint(dir);
  assert.equal(loaded.state.step, 1);
  assert.deepEqual(loaded.skipped.map((s) => s.path), [third, second]);
  assert.match(loaded.skipped[0].reason, /checkpoint-3\/model\.safetensors: .*\bbyte/);
  assert.match(loaded.skipped[1].reason, /checkpoint-2\/state\.json is not valid JSON/);
  assert.throws(() => loadCheckpoint(third), (e: unknown) => e instanceof CheckpointError && /checkpoint-3\/model\.safetensors/.test(e.message));
  assert.throws(() => loadCheckpoint(second), (e: unknown) => e instanceof CheckpointError && /checkpoint-2\/state\.json is not valid JSON/.test(e.message));
  writeFileSync(path.join(dir, 'checkpoint-1', 'state.json'), '{"format": "tsvision.checkpoint/1", "step": 1}');
  assert.throws(
    () => loadCheckpoint(dir),
    (e: unknown) => e instanceof CheckpointError && /no checkpoint under .* can be read: checkpoint-3: .*; checkpoint-2: .*; checkpoint-1: .*state\.json lacks a field/.test(e.message),
  );
  assert.deepEqual(listCheckpoints(dir).map((c) => c.step), [1, 2, 3], 'reading deletes nothing');
  rmSync(dir, { recursive: true });
});

test('a corrupt best.json is a CheckpointError naming it; a save still succeeds, says why it pruned nothing, and markBest repairs it', () => {
  const dir = tmp();
  const first = saveCheckpoint(dir, contents(1));
  markBest(dir, first, 0.5);
  truncate(path.join(dir, 'best.json'));
  assert.throws(() => bestCheckpoint(dir), (e: unknown) => e instanceof CheckpointError && /best\.json is not valid JSON/.test(e.message));
  const warnings: string[] = [];
  const second = saveCheckpoint(dir, contents(2), { warn: (m) => warnings.push(m) });
  assert.equal(loadCheckpoint(second).state.step, 2, 'the checkpoint was written');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /saved .*checkpoint-2, but kept every older checkpoint: .*best\.json is not valid JSON/);
  assert.deepEqual(listCheckpoints(dir).map((c) => c.step), [1, 2], 'nothing pruned while the best one is unknown');
  markBest(dir, second, 0.7);
  assert.deepEqual(bestCheckpoint(dir), { path: second, metric: 0.7 });
  writeFileSync(path.join(dir, 'best.json'), '{"checkpoint": 3}');
  assert.throws(() => bestCheckpoint(dir), (e: unknown) => e instanceof CheckpointError && /best\.json: expected \{"checkpoint"/.test(e.message));
  rmSync(dir, { recursive: true });
});
