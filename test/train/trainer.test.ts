/**
 * The trainer on a tiny conv net and 16-pixel shapes (seconds in all): logs and plot, exact
 * resume (mid-epoch and across an epoch, bitwise-equal losses and weights), accumulation,
 * the non-finite guard, SIGINT, bf16 mixed precision, distillation, resume validation, damaged
 * checkpoints and best.json, and the callback hooks.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { DataLoader } from '../../src/data/loader.ts';
import { shapes } from '../../src/data/datasets/index.ts';
import { createMixup } from '../../src/data/mixup.ts';
import { Conv2d, Dropout, Linear, Module, ReLU } from '../../src/nn/index.ts';
import { Tensor, add, full, manualSeed, mean, mul, noGrad, sqrt, tensor } from '../../src/tensor/index.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { AdamW, CheckpointError, ModelEma, NonFiniteError, Trainer, createScheduler, listCheckpoints, loadCheckpoint, type TrainCallback, type TrainerOptions } from '../../src/train/index.ts';

class TinyNet extends Module {
  conv: Conv2d;
  act = new ReLU();
  drop: Dropout;
  head: Linear;
  /** Batches whose logits become NaN. */
  poisonBatches = 0;
  constructor(numClasses: number, width = 4, dropout = 0.2) {
    super();
    this.drop = new Dropout(dropout);
    this.conv = this.module('conv', new Conv2d(3, width, 3, { stride: 2, padding: 1 }));
    this.module('act', this.act);
    this.module('drop', this.drop);
    this.head = this.module('head', new Linear(width, numClasses));
  }
  forward(x: Tensor): Tensor {
    const logits = this.head.forward(this.drop.forward(mean(this.act.forward(this.conv.forward(x)), [2, 3])));
    if (this.poisonBatches === 0) return logits;
    this.poisonBatches--;
    return add(logits, full(logits.shape, NaN, { dtype: logits.dtype }));
  }
}

/** TinyNet plus 0·sqrt(z): the loss does not change, but z = 0 makes z's gradient NaN. */
class GradProbeNet extends TinyNet {
  z = this.param('z', full([1], 1));
  override forward(x: Tensor): Tensor {
    return add(super.forward(x), mul(sqrt(this.z), 0));
  }
}

const trainSet = shapes({ numClasses: 2, size: 16, length: 16, split: 'train' });
const valSet = shapes({ numClasses: 2, size: 16, length: 8, split: 'val' });
const tmp = () => mkdtempSync(path.join(tmpdir(), 'tsv-trainer-'));

function setup(overrides: Partial<TrainerOptions> & { mixup?: boolean; width?: number; dropout?: number; gradProbe?: boolean } = {}): Trainer {
  manualSeed(7);
  const model = new (overrides.gradProbe ? GradProbeNet : TinyNet)(2, overrides.width, overrides.dropout);
  const optimizer = new AdamW(model.parameters(), { lr: 0.01, weightDecay: 0.05 });
  const trainLoader = new DataLoader(trainSet, { batchSize: 4, shuffle: true, seed: 11, batchTransform: overrides.mixup ? createMixup({ mixupAlpha: 0.8, cutmixAlpha: 1, numClasses: 2, labelSmoothing: 0.1 }) : undefined });
  const { scheduler } = createScheduler('cosine', optimizer, { numEpochs: 2, warmupEpochs: 1, stepOnEpochs: false, updatesPerEpoch: 4 });
  return new Trainer({
    model,
    optimizer,
    scheduler,
    trainLoader,
    evalLoader: new DataLoader(valSet, { batchSize: 8 }),
    numClasses: 2,
    epochs: 2,
    log: () => undefined,
    progressStream: null,
    ...overrides,
  });
}

function weights(t: Trainer): number[][] {
  return [...t.options.model.stateDict().values()].map((v) => Array.from(v.toArray() as Float32Array));
}

test('fit trains, evaluates, and writes checkpoints, metrics.jsonl/csv and the curves PNG', async () => {
  const dir = tmp();
  const result = await setup({ outputDir: dir }).fit();
  assert.equal(result.history.length, 2);
  assert.equal(result.stepLosses.length, 8);
  const rec = result.history[1];
  assert.equal(rec.step, 8);
  assert.ok(rec.top1! >= 0 && rec.top1! <= 1 && rec.top5 === 1);
  assert.equal(readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 2);
  assert.match(readFileSync(path.join(dir, 'metrics.csv'), 'utf8'), /^epoch,step,trainLoss,lr,evalLoss,top1,top5/);
  assert.deepEqual([...readFileSync(path.join(dir, 'curves.png')).subarray(1, 4)], [...Buffer.from('PNG')]);
  assert.ok(listCheckpoints(dir).some((c) => c.step === 8));
  assert.ok(existsSync(path.join(dir, 'best.json')));
  rmSync(dir, { recursive: true });
});

for (const [k, what] of [
  [3, 'mid-epoch'],
  [4, 'at an epoch boundary'],
  [6, 'in the second epoch'],
] as const) {
  test(`resume ${what} (after update ${k}) repeats the straight run bitwise (dropout, mixup, cosine warm-up)`, async () => {
    const straight = setup({ mixup: true });
    const full = await straight.fit();
    const dir = tmp();
    await setup({ mixup: true, outputDir: dir, maxSteps: k }).fit();
    const resumed = setup({ mixup: true, outputDir: dir });
    resumed.resume(dir);
    const rest = await resumed.fit();
    assert.deepEqual(rest.stepLosses, full.stepLosses);
    assert.deepEqual(weights(resumed), weights(straight));
    assert.equal(resumed.options.optimizer.paramGroups[0].lr, straight.options.optimizer.paramGroups[0].lr);
    rmSync(dir, { recursive: true });
  });
}

test('gradient accumulation of 2 x 4 matches one batch of 8 (no batch-dependent layers)', async () => {
  const ra = await setup({ accumSteps: 2, epochs: 1, evalLoader: null, dropout: 0 }).fit();
  const rb = await setup({ epochs: 1, evalLoader: null, dropout: 0, trainLoader: new DataLoader(trainSet, { batchSize: 8, shuffle: true, seed: 11 }) }).fit();
  assert.equal(ra.stepLosses.length, 2);
  ra.stepLosses.forEach((l, i) => assert.ok(Math.abs(l - rb.stepLosses[i]) < 1e-5, `update ${i}: ${l} vs ${rb.stepLosses[i]}`));
});

test("a NaN loss stops with NonFiniteError and keeps the last good checkpoint; 'skip' skips the update", async () => {
  const dir = tmp();
  const t = setup({ outputDir: dir, checkpointEvery: 1, onStep: (s) => s.step === 2 && ((t.options.model as TinyNet).poisonBatches = 1) });
  await assert.rejects(t.fit(), (e: unknown) => e instanceof NonFiniteError && e.step === 3 && /loss is NaN/.test(e.message));
  assert.deepEqual(listCheckpoints(dir).map((c) => c.step), [2]);
  const ok = setup({ evalLoader: null });
  ok.resume(dir);
  assert.ok(weights(ok).flat().every(Number.isFinite));
  rmSync(dir, { recursive: true });

  const s = setup({ onNonFinite: 'skip', evalLoader: null, onStep: (i) => i.step === 2 && ((s.options.model as TinyNet).poisonBatches = 1) });
  const r = await s.fit();
  assert.equal(r.history.at(-1)!.skippedSteps, 1);
  assert.equal(r.stepLosses.length, 7);
  assert.ok(weights(s).flat().every(Number.isFinite));
});

test('SIGINT saves a checkpoint after the current update and stops', async () => {
  const dir = tmp();
  const t = setup({ outputDir: dir, onStep: (s) => s.step === 2 && process.emit('SIGINT') });
  const r = await t.fit();
  assert.equal(r.interrupted, true);
  assert.equal(r.stepLosses.length, 2);
  assert.deepEqual(listCheckpoints(dir).map((c) => c.step), [2]);
  rmSync(dir, { recursive: true });
});

test('bf16 mixed precision: bf16 parameters with f32 masters, losses close to f32', async () => {
  const f32 = await setup({ epochs: 1, evalLoader: null }).fit();
  const t = setup({ epochs: 1, evalLoader: null, amp: 'bf16' });
  const bf = await t.fit();
  assert.ok(t.options.model.parameters().every((p) => p.dtype === 'bfloat16'));
  const masters = [...t.options.optimizer.stateDict().tensors.keys()].filter((k) => k.endsWith('.master'));
  assert.equal(masters.length, t.options.model.parameters().length);
  bf.stepLosses.forEach((l, i) => assert.ok(Math.abs(l - f32.stepLosses[i]) < 0.05, `update ${i}: bf16 ${l} vs f32 ${f32.stepLosses[i]}`));
});

test('distillation from a teacher (hard and soft) trains with finite losses', async () => {
  for (const type of ['hard', 'soft'] as const) {
    const teacher = new TinyNet(2, 6);
    teacher.eval();
    const r = await setup({ epochs: 1, evalLoader: null, teacher: { model: teacher, type } }).fit();
    assert.ok(r.stepLosses.every(Number.isFinite));
  }
});

test('resuming into a different architecture fails before the first update', async () => {
  const dir = tmp();
  await setup({ outputDir: dir, epochs: 1, evalLoader: null }).fit();
  let steps = 0;
  const wide = setup({ width: 8, onStep: () => steps++ });
  assert.throws(() => wide.resume(dir), (e: unknown) => e instanceof CheckpointError && /conv\.weight \[4, 3, 3, 3\] vs model \[8, 3, 3, 3\]/.test(e.message));
  assert.equal(steps, 0);
  rmSync(dir, { recursive: true });
});

/** setup() plus an EMA (decay 0.7) held in a twin TinyNet. */
function setupWithEma(overrides: Parameters<typeof setup>[0] = {}): Trainer {
  const base = setup(overrides);
  return new Trainer({ ...base.options, modelEma: new ModelEma(base.options.model, { decay: 0.7, module: new TinyNet(2) }) });
}

const emaWeights = (t: Trainer) => [...t.options.modelEma!.stateDict().values()].map((v) => Array.from(v.toArray() as Float32Array));

test('EMA: evaluated each epoch (emaTop1), saved in checkpoints and restored on resume bitwise', async () => {
  const straight = setupWithEma();
  const full = await straight.fit();
  for (const r of full.history) for (const k of ['emaEvalLoss', 'emaTop1', 'emaTop5'] as const) assert.equal(typeof r[k], 'number', k);
  assert.notDeepEqual(emaWeights(straight), weights(straight));
  const dir = tmp();
  await setupWithEma({ outputDir: dir, maxSteps: 3 }).fit();
  assert.ok(existsSync(path.join(listCheckpoints(dir)[0].path, 'model_ema.safetensors')));
  const resumed = setupWithEma({ outputDir: dir });
  resumed.resume(dir);
  const rest = await resumed.fit();
  assert.deepEqual(rest.stepLosses, full.stepLosses);
  assert.deepEqual(emaWeights(resumed), emaWeights(straight));
  assert.deepEqual(rest.history.map((r) => r.emaTop1), full.history.map((r) => r.emaTop1));
  assert.match(readFileSync(path.join(dir, 'metrics.csv'), 'utf8'), /^epoch,.*,skippedSteps,emaEvalLoss,emaTop1,emaTop5\n/);
  rmSync(dir, { recursive: true });
});

test('bf16 resume mid-epoch repeats the straight bf16 run bitwise (f32 masters restored)', async () => {
  const straight = setup({ amp: 'bf16', evalLoader: null });
  const full = await straight.fit();
  const dir = tmp();
  await setup({ amp: 'bf16', evalLoader: null, outputDir: dir, maxSteps: 3 }).fit();
  const resumed = setup({ amp: 'bf16', evalLoader: null, outputDir: dir });
  resumed.resume(dir);
  const rest = await resumed.fit();
  assert.deepEqual(rest.stepLosses, full.stepLosses);
  assert.deepEqual(weights(resumed), weights(straight));
  rmSync(dir, { recursive: true });
});

test('progress: a redrawn bar with loss, lr, images/s and ETA on a TTY, plain lines otherwise', async () => {
  const capture = (isTTY: boolean) => {
    const chunks: string[] = [];
    return { chunks, stream: { isTTY, write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WriteStream };
  };
  const tty = capture(true);
  await setup({ epochs: 1, evalLoader: null, progressStream: tty.stream }).fit();
  assert.equal(tty.chunks.filter((c) => c.startsWith('\r')).length, 4);
  assert.match(tty.chunks.join(''), /\repoch 1\/1 \[#{24}\] 4\/4 loss \d\.\d{4} lr \d\.\d{2}e-\d+ \d+\.\d img\/s ETA 0s/);
  const plain = capture(false);
  await setup({ epochs: 1, evalLoader: null, progressStream: plain.stream, progressEvery: 2 }).fit();
  assert.equal(plain.chunks.length, 2);
  assert.ok(plain.chunks.every((c) => !c.includes('\r') && c.endsWith('\n')));
});

test('a NaN gradient with a finite loss is caught too (with and without clip-grad)', async () => {
  for (const clipGrad of [null, 1]) {
    const t = setup({ gradProbe: true, clipGrad, evalLoader: null, onStep: (s) => s.step === 2 && noGrad(() => (t.options.model as GradProbeNet).z.fill_(0)) });
    await assert.rejects(t.fit(), (e: unknown) => e instanceof NonFiniteError && e.step === 3 && /gradient/.test(e.message));
  }
  const s = setup({ gradProbe: true, onNonFinite: 'skip', evalLoader: null, epochs: 1, onStep: (i) => i.step === 2 && noGrad(() => (s.options.model as GradProbeNet).z.fill_(0)) });
  const r = await s.fit();
  assert.equal(r.stepLosses.length, 2);
  assert.equal(r.history[0].skippedSteps, 2);
  assert.ok(weights(s).flat().every(Number.isFinite));
});

const cut = (file: string) => truncateSync(file, Math.floor(statSync(file).size / 2));

test('resume skips an unreadable newest checkpoint saying why, continues bitwise from the older one, and keeps the damaged one aside', async () => {
  const straight = setup();
  const full = await straight.fit();
  const dir = tmp();
  await setup({ outputDir: dir, checkpointEvery: 1, keepCheckpoints: 2, maxSteps: 6 }).fit();
  assert.deepEqual(listCheckpoints(dir).map((c) => c.step), [4, 5, 6]);
  cut(path.join(dir, 'checkpoint-6', 'model.safetensors'));
  const lines: string[] = [];
  const resumed = setup({ outputDir: dir, checkpointEvery: 1, keepCheckpoints: 2, log: (l) => lines.push(l) });
  resumed.resume(dir);
  const rest = await resumed.fit();
  assert.deepEqual(rest.stepLosses, full.stepLosses);
  assert.deepEqual(weights(resumed), weights(straight));
  const text = lines.join('\n');
  assert.match(text, /resume: skipped .*checkpoint-6, which cannot be read: .*checkpoint-6\/model\.safetensors: /);
  assert.match(text, /resumed from .*checkpoint-5 \(epoch 1, step 5\)/);
  assert.match(text, /kept the unreadable checkpoint-6 as .*checkpoint-6\.unreadable\b/);
  const aside = path.join(dir, 'checkpoint-6.unreadable');
  assert.ok(readSafetensors(path.join(aside, 'optimizer.safetensors')).tensors.size > 0, 'its optimizer state is still there');
  assert.equal(loadCheckpoint(path.join(dir, 'checkpoint-8')).state.step, 8);
  rmSync(dir, { recursive: true });
});

test('a corrupt best.json costs neither the epoch\'s checkpoint nor its metrics; the save says why it pruned nothing', async () => {
  const dir = tmp();
  await setup({ outputDir: dir, epochs: 1 }).fit();
  cut(path.join(dir, 'best.json'));
  const lines: string[] = [];
  const t = setup({ outputDir: dir, log: (l) => lines.push(l) });
  t.resume(dir);
  const r = await t.fit();
  assert.equal(r.lastCheckpoint, path.join(dir, 'checkpoint-8'));
  assert.equal(loadCheckpoint(r.lastCheckpoint).state.step, 8);
  assert.equal(readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 2);
  assert.ok(lines.some((l) => /^epoch 2\/2: train loss/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /saved .*checkpoint-8, but kept every older checkpoint: .*best\.json is not valid JSON/.test(l)), lines.join('\n'));
  assert.deepEqual(listCheckpoints(dir).map((c) => c.step), [4, 8]);
  rmSync(dir, { recursive: true });
});

test('callbacks: hooks run in order with the step\'s place in its epoch; requestStop ends the run with a checkpoint; trainStep accumulates', async () => {
  const calls: string[] = [];
  const dir = tmp();
  const spy: TrainCallback = {
    onFitStart: () => void calls.push('fitStart'),
    onStepEnd: (trainer, s) => {
      calls.push(`step ${s.step} at ${s.position}/${s.total}${s.lastOfEpoch ? ' last' : ''}`);
      if (s.step === 6) trainer.requestStop();
    },
    onEvaluate: async () => (calls.push('evaluate'), {}),
    onEpochEnd: (trainer, e) => void calls.push(`epochEnd ${e.record.epoch} history ${trainer.history.length}`),
    onStop: (trainer) => void calls.push(`stop at ${trainer.step}`),
    onFitEnd: () => void calls.push('fitEnd'),
  };
  const r = await setup({ outputDir: dir, callbacks: [spy] }).fit();
  assert.deepEqual(calls, ['fitStart', 'step 1 at 1/4', 'step 2 at 2/4', 'step 3 at 3/4', 'step 4 at 4/4 last', 'evaluate', 'epochEnd 1 history 1', 'step 5 at 1/4', 'step 6 at 2/4', 'stop at 6', 'fitEnd']);
  assert.equal(r.interrupted, true);
  assert.equal(r.lastCheckpoint, path.join(dir, 'checkpoint-6'));
  rmSync(dir, { recursive: true });

  const t = setup({ evalLoader: null });
  const batch = { images: full([2, 3, 16, 16], 0.5), labels: tensor([0, 1], { dtype: 'int64' }), indices: [0, 1] };
  assert.equal(t.trainStep(batch, { epoch: 0, groupSize: 2, closesUpdate: false }), null);
  assert.ok(t.options.model.parameters().every((p) => p.grad !== null), 'the first micro-batch left its gradients');
  const info = t.trainStep(batch, { epoch: 0, groupSize: 2, closesUpdate: true });
  assert.equal(info?.step, 1);
  assert.equal(t.step, 1);
});
