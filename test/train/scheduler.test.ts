/**
 * LR schedules against timm (tools/reference/sched_loss_parity.py): the lr of every group after
 * construction and after every step must equal timm's to 1e-12 relative.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { ArgumentError } from '../../src/errors.ts';
import {
  CosineLRScheduler,
  createScheduler,
  MultiStepLRScheduler,
  PolyLRScheduler,
  StepLRScheduler,
  type LRScheduler,
  type SchedulableOptimizer,
  type SchedulerName,
} from '../../src/train/scheduler.ts';
import { fixturesDir } from '../helpers/opcheck.ts';

interface ScheduleSpec {
  name: string;
  how: 'factory' | 'class';
  sched: string;
  options: Record<string, any>;
  perUpdate: boolean;
  numEpochs: number | null;
  lrs: number[][];
}

const { metadata } = readSafetensors(path.join(fixturesDir, 'train', 'sched_loss.safetensors'));
const specs = JSON.parse(metadata.schedules) as ScheduleSpec[];
const baseLrs = JSON.parse(metadata.baseLrs) as number[];
const lrScale = JSON.parse(metadata.lrScale) as (number | null)[];

function groups(): SchedulableOptimizer {
  return { paramGroups: baseLrs.map((lr, i) => (lrScale[i] === null ? { lr } : { lr, lrScale: lrScale[i]! })) };
}

function build(spec: ScheduleSpec, opt: SchedulableOptimizer): { scheduler: LRScheduler; numEpochs: number | null } {
  if (spec.how === 'factory') return createScheduler(spec.sched as SchedulerName, opt, spec.options);
  const o = spec.options as any;
  const made = { cosine: () => new CosineLRScheduler(opt, o), poly: () => new PolyLRScheduler(opt, o), step: () => new StepLRScheduler(opt, o), multistep: () => new MultiStepLRScheduler(opt, o) }[spec.sched];
  assert.ok(made, `unknown scheduler kind ${spec.sched}`);
  return { scheduler: made(), numEpochs: null };
}

function assertLrs(actual: number[], expected: number[], label: string): void {
  assert.equal(actual.length, expected.length, `${label}: group count`);
  actual.forEach((a, i) => {
    const e = expected[i];
    assert.ok(Math.abs(a - e) <= 1e-12 * Math.abs(e), `${label}, group ${i}: lr ${a}, timm ${e}`);
  });
}

const lrsOf = (opt: SchedulableOptimizer) => opt.paramGroups.map((g) => g.lr);

function advance(s: LRScheduler, spec: ScheduleSpec, t: number): void {
  // The step of the other time unit must not apply, as in timm.
  if (spec.perUpdate) {
    s.step(t);
    s.stepUpdate(t);
  } else {
    s.stepUpdate(t);
    s.step(t);
  }
}

for (const spec of specs) {
  test(`schedule ${spec.name} matches timm at every step`, () => {
    const opt = groups();
    const { scheduler, numEpochs } = build(spec, opt);
    if (spec.numEpochs !== null) assert.equal(numEpochs, spec.numEpochs, 'numEpochs');
    assertLrs(lrsOf(opt), spec.lrs[0], 'after construction');
    for (let t = 0; t + 1 < spec.lrs.length; ++t) {
      advance(scheduler, spec, t);
      assertLrs(lrsOf(opt), spec.lrs[t + 1], `t=${t}`);
    }
  });

  test(`schedule ${spec.name} resumes exactly from its state`, () => {
    const first = groups();
    const { scheduler } = build(spec, first);
    const half = Math.floor((spec.lrs.length - 1) / 2);
    for (let t = 0; t < half; ++t) advance(scheduler, spec, t);
    const saved = JSON.parse(JSON.stringify(scheduler.stateDict()));
    // A fresh optimizer whose lr was never scheduled.
    const second = groups();
    const { scheduler: resumed } = build(spec, second);
    resumed.loadStateDict(saved);
    assertLrs(lrsOf(second), spec.lrs[half], 'after loadStateDict');
    for (let t = half; t + 1 < spec.lrs.length; ++t) {
      advance(resumed, spec, t);
      assertLrs(lrsOf(second), spec.lrs[t + 1], `resumed t=${t}`);
    }
  });
}

test('initialLr is kept: a second scheduler on the same optimizer starts from the original lr', () => {
  const opt: SchedulableOptimizer = { paramGroups: [{ lr: 0.2 }] };
  const a = new StepLRScheduler(opt, { decayT: 1, decayRate: 0.5 });
  a.step(3);
  assert.equal(opt.paramGroups[0].lr, 0.025);
  const b = new CosineLRScheduler(opt, { tInitial: 10 });
  assert.deepEqual(b.baseValues, [0.2]);
  assert.equal(opt.paramGroups[0].initialLr, 0.2);
});

test('linear schedule ends at zero and cooldown holds minLr', () => {
  const opt: SchedulableOptimizer = { paramGroups: [{ lr: 1 }] };
  const { scheduler, numEpochs } = createScheduler('linear', opt, { numEpochs: 10, warmupEpochs: 2, warmupLr: 0, warmupPrefix: true });
  assert.equal(numEpochs, 12);
  scheduler.step(1);
  assert.equal(opt.paramGroups[0].lr, 0.5);
  scheduler.step(2);
  assert.equal(opt.paramGroups[0].lr, 1);
  scheduler.step(12);
  assert.equal(opt.paramGroups[0].lr, 0);
  const c = createScheduler('cosine', opt, { numEpochs: 10, minLr: 0.01, cooldownEpochs: 3 });
  assert.equal(c.numEpochs, 13);
  for (const t of [10, 11, 12]) {
    c.scheduler.step(t);
    assert.equal(opt.paramGroups[0].lr, 0.01);
  }
});

test('scheduler errors are typed and name the problem', () => {
  const opt = () => ({ paramGroups: [{ lr: 0.1 }] });
  assert.throws(() => createScheduler('nope' as SchedulerName, opt()), (e: unknown) => e instanceof ArgumentError && /unknown schedule 'nope'/.test(e.message));
  assert.throws(() => createScheduler('cosine', opt(), { stepOnEpochs: false }), (e: unknown) => e instanceof ArgumentError && /updatesPerEpoch/.test(e.message));
  assert.throws(() => new CosineLRScheduler(opt(), { tInitial: 0 }), (e: unknown) => e instanceof ArgumentError && /tInitial must be > 0, got 0/.test(e.message));
  assert.throws(() => new StepLRScheduler(opt(), { decayT: 0 }), (e: unknown) => e instanceof ArgumentError && /decayT/.test(e.message));
  assert.throws(() => new MultiStepLRScheduler(opt(), { milestones: [5, 2] }), (e: unknown) => e instanceof ArgumentError && /sorted, got \[5, 2\]/.test(e.message));
  assert.throws(() => new CosineLRScheduler({ paramGroups: [{ lr: NaN }] }, { tInitial: 3 }), (e: unknown) => e instanceof ArgumentError && /paramGroups\[0\]\.lr/.test(e.message));
  const s = new CosineLRScheduler(opt(), { tInitial: 3 });
  assert.throws(() => s.loadStateDict({ ...s.stateDict(), kind: 'step' }), (e: unknown) => e instanceof ArgumentError && /'step' scheduler, expected 'cosine'/.test(e.message));
  assert.throws(() => s.loadStateDict({ ...s.stateDict(), config: { decayT: 3 } }), (e: unknown) => e instanceof ArgumentError && /unknown setting 'decayT'/.test(e.message));
  assert.throws(() => s.step(-1), (e: unknown) => e instanceof ArgumentError && /t must be/.test(e.message));
});
