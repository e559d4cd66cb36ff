/**
 * Child process of `npm run bench -- train`: times training steps of one model in one precision
 * with tsvision, so that its RSS figures are its own. Reads a TrainSpec as JSON from argv; prints
 * progress events and, on the last line of stdout, one TrainResult as JSON
 * (bench/peers/torch_train.py speaks the same protocol for PyTorch).
 *
 * A step is what the Trainer does per update: forward in train mode, cross-entropy on f32 logits,
 * backward, AdamW step (f32 master copies of bf16 parameters), zero the gradients, read the loss.
 * bfloat16 is the Trainer's `--amp bf16` path: the model cast to bf16, bf16 input.
 */
import { buildBenchModel, tsvisionVersion } from './harness.ts';

/** What a child measures. */
export interface TrainSpec {
  engine: 'tsvision' | 'pytorch';
  model: string;
  batch: number;
  dtype: 'float32' | 'bfloat16';
  threads: number;
  imgSize: number;
  numClasses: number;
  /** Untimed steps first; the RSS "after warm-up" is taken after them. */
  warmup: number;
  /** Timed steps. */
  steps: number;
  /** Give up (status 'capped') once warm-up plus timed steps project past this many seconds. */
  maxSeconds: number;
}

/** Step times and memory of a finished run. */
export interface TrainFigures {
  ok: true;
  version: string;
  /** Duration of each timed step, ms. */
  stepMs: number[];
  /** Wall time of the timed loop, ms (images/s = steps × batch / this). */
  totalMs: number;
  warmupMs: number[];
  peakRssMiB: number;
  rssAfterWarmupMiB: number;
  rssLastMiB: number;
  lastLoss: number;
}

/** A child's answer. */
export type TrainResult =
  | TrainFigures
  | { ok: false; status: 'capped'; projectedSeconds: number; reason: string }
  | { ok: false; status: 'pending' | 'failed'; reason: string };

/** A progress line a child prints before its result, so a parent that has to kill it can still project. */
export interface TrainEvent {
  event: 'forward' | 'step';
  ms: number;
}

const MiB = 2 ** 20;

/**
 * Runs warm-up then timed steps, printing progress events; stops early with 'capped' when the
 * elapsed time plus the remaining steps at the last step's pace exceeds spec.maxSeconds.
 */
function runSteps(spec: TrainSpec, version: string, step: (onForward: () => void) => number, rssMiB: () => number, peakRssMiB: () => number): TrainResult {
  const total = spec.warmup + spec.steps;
  const warmupMs: number[] = [];
  const stepMs: number[] = [];
  let rssAfterWarmupMiB = rssMiB();
  let lastLoss = NaN;
  const started = performance.now();
  let timedStart = started;
  for (let i = 0; i < total; i++) {
    if (i === spec.warmup) {
      rssAfterWarmupMiB = rssMiB();
      timedStart = performance.now();
    }
    const t0 = performance.now();
    let reported = i > 0;
    lastLoss = step(() => {
      if (!reported) console.log(JSON.stringify({ event: 'forward', ms: performance.now() - t0 } satisfies TrainEvent));
      reported = true;
    });
    const ms = performance.now() - t0;
    (i < spec.warmup ? warmupMs : stepMs).push(ms);
    console.log(JSON.stringify({ event: 'step', ms } satisfies TrainEvent));
    const projected = (performance.now() - started + ms * (total - i - 1)) / 1000;
    if (i < total - 1 && projected > spec.maxSeconds) {
      return { ok: false, status: 'capped', projectedSeconds: projected, reason: `${spec.warmup}+${spec.steps} steps project ${projected.toFixed(0)} s at ${(ms / 1000).toFixed(1)} s/step` };
    }
  }
  const totalMs = performance.now() - timedStart;
  if (spec.warmup >= total) rssAfterWarmupMiB = rssMiB();
  return { ok: true, version, stepMs, totalMs, warmupMs, peakRssMiB: peakRssMiB(), rssAfterWarmupMiB, rssLastMiB: rssMiB(), lastLoss };
}

async function runTsvision(spec: TrainSpec): Promise<TrainResult> {
  const T = await import('../src/index.ts');
  T.configure({ threads: spec.threads });
  const built = await buildBenchModel(spec.model, spec.numClasses);
  if (!built.ok) return built;
  const { model } = built;
  model.train();
  const optimizer = new T.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
  if (spec.dtype === 'bfloat16') model.to('bfloat16');
  const generator = new T.Generator(0);
  const x = T.randn([spec.batch, 3, spec.imgSize, spec.imgSize], { generator }).to(spec.dtype);
  const y = T.randint(0, spec.numClasses, [spec.batch], { generator });
  const step = (onForward: () => void): number => {
    const out = model.forward(x);
    onForward();
    const loss = T.crossEntropy(T.cast(out, 'float32'), y);
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
    return loss.item();
  };
  return runSteps(spec, tsvisionVersion, step, () => process.memoryUsage.rss() / MiB, () => process.resourceUsage().maxRSS / 1024);
}

const spec = JSON.parse(process.argv[2] ?? 'null') as TrainSpec | null;
let result: TrainResult;
try {
  if (spec === null) throw new Error('usage: train-runner.ts <TrainSpec JSON>');
  if (spec.engine !== 'tsvision') throw new Error('the PyTorch peer is bench/peers/torch_train.py');
  result = await runTsvision(spec);
} catch (e) {
  result = { ok: false, status: 'failed', reason: e instanceof Error ? e.message.split('\n')[0] : String(e) };
}
console.log(JSON.stringify(result));
