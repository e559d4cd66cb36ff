/**
 * `npm run bench -- train [model ...] [--batch N] [--steps N] [--max-seconds S]`: training
 * throughput (images/s) of whole classifiers at 224×224 (default batch 32) for tsvision f32,
 * tsvision bf16 (the Trainer's `--amp bf16`: bf16 model and input, f32 AdamW masters), PyTorch
 * f32 and PyTorch bf16 (torch.autocast on CPU, f32 parameters), with ratios to PyTorch f32, and
 * each engine's peak RSS and its RSS after the warm-up steps next to the RSS after the last step
 * (a training loop's memory should stay flat).
 *
 * A step is forward in train mode, cross-entropy, backward and an AdamW step on synthetic random
 * input and labels made once (random weights). WARMUP steps run untimed first; images/s = timed
 * steps × batch / wall time of the timed loop. Every engine runs in its own child process
 * (bench/train-runner.ts, bench/peers/torch_train.py), one after the other. An engine whose steps
 * project past --max-seconds stops early and its row shows '–' with the projected time: Debian's
 * torch uses the reference BLAS, so its f32 Linear layers (ViT) are very slow.
 */
import path from 'node:path';
import * as T from '../src/index.ts';
import {
  PYTHON, appendResults, formatTable, jsonLines, loadAverage, machineInfo, median, probeTorch, repoRoot, runChild, tsvisionVersion, type Measurement, type TorchPeer,
} from './harness.ts';
import type { TrainEvent, TrainFigures, TrainResult, TrainSpec } from './train-runner.ts';

const DEFAULT_MODELS = ['resnet18', 'resnet50', 'vit_small_patch16_224'];
const IMG_SIZE = 224;
const NUM_CLASSES = 1000;
const WARMUP = 2;
const DEFAULTS = { batch: 32, steps: 8, maxSeconds: 240 };
/** Time a child gets beyond --max-seconds for imports, model build and first-step primitive creation. */
const STARTUP_ALLOWANCE_SECONDS = 120;

const TORCH_PEER = path.join(repoRoot, 'bench', 'peers', 'torch_train.py');
const TRAIN_RUNNER = path.join(repoRoot, 'bench', 'train-runner.ts');

interface Engine {
  label: string;
  impl: TrainSpec['engine'];
  dtype: TrainSpec['dtype'];
  precision: string;
}

const ENGINES: readonly Engine[] = [
  { label: 'tsvision f32', impl: 'tsvision', dtype: 'float32', precision: 'fp32' },
  { label: 'tsvision bf16', impl: 'tsvision', dtype: 'bfloat16', precision: 'model.to(bfloat16), bf16 input, f32 AdamW masters (Trainer --amp bf16)' },
  { label: 'pytorch f32', impl: 'pytorch', dtype: 'float32', precision: 'fp32' },
  { label: 'pytorch bf16', impl: 'pytorch', dtype: 'bfloat16', precision: "torch.autocast('cpu', bfloat16), f32 params" },
];
const BASELINE = ENGINES[2];

/** Debian's torch and the model library the peer will use (timm, else torchvision for resnets), or why there is none. */
function trainPeer(): TorchPeer & { library?: string } {
  const peer = probeTorch('/work/oracle/timm');
  if (!peer.ok) return peer;
  if (peer.timm !== null) return { ...peer, library: `timm ${peer.timm}` };
  if (peer.torchvision !== null) return { ...peer, library: `torchvision ${peer.torchvision} (no timm: resnets only)` };
  return { ok: false, reason: 'neither timm (TIMM_PATH) nor torchvision is importable' };
}

/**
 * Runs one child; resolves to its TrainResult. A child killed at its time limit (or that dies)
 * is projected from its last progress event: a whole step, or about 3× its first forward pass.
 */
async function runTrainChild(command: string, args: readonly string[], spec: TrainSpec): Promise<TrainResult> {
  const limitSeconds = spec.maxSeconds + STARTUP_ALLOWANCE_SECONDS;
  const { stdout, stderr, code, signal, error } = await runChild(command, args, limitSeconds);
  if (error) return { ok: false, status: 'failed', reason: error.message };
  const lines = jsonLines<TrainResult | TrainEvent>(stdout);
  const result = lines.find((l): l is TrainResult => 'ok' in l);
  if (result) return result;
  const events = lines.filter((l): l is TrainEvent => 'event' in l);
  const lastStep = events.filter((e) => e.event === 'step').at(-1);
  const forward = events.find((e) => e.event === 'forward');
  const steps = spec.warmup + spec.steps;
  if (signal === 'SIGKILL' && (lastStep || forward)) {
    const perStep = lastStep ? lastStep.ms / 1000 : (3 * forward!.ms) / 1000;
    const projected = perStep * steps;
    const basis = lastStep ? `${perStep.toFixed(0)} s/step` : `~${perStep.toFixed(0)} s/step from 3× its first forward pass`;
    return { ok: false, status: 'capped', projectedSeconds: projected, reason: `killed at ${limitSeconds} s; ${steps} steps project ${projected.toFixed(0)} s at ${basis}` };
  }
  const why = signal ? `killed by ${signal}${signal === 'SIGKILL' ? ` (time limit ${limitSeconds} s before its first forward pass ended, or out of memory)` : ''}` : `exit ${code}`;
  return { ok: false, status: 'failed', reason: `${why}: ${stderr.trim().split('\n').pop() ?? ''}` };
}

interface Options {
  models: string[];
  batch: number;
  steps: number;
  maxSeconds: number;
}

function parseOptions(args: readonly string[]): Options {
  const o: Options = { models: [], ...DEFAULTS };
  const usage = 'usage: npm run bench -- train [model ...] [--batch N] [--steps N] [--max-seconds S]';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-')) {
      o.models.push(a);
      continue;
    }
    const key = ({ '--batch': 'batch', '--steps': 'steps', '--max-seconds': 'maxSeconds' } as const)[a];
    if (key === undefined) throw new T.ArgumentError(`unknown option '${a}'; ${usage}`);
    const raw = args[++i];
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new T.ArgumentError(`${a} expects a positive integer, got '${raw ?? ''}'; ${usage}`);
    o[key] = n;
  }
  if (o.models.length === 0) o.models = DEFAULT_MODELS;
  return o;
}

/** One row of the table: a measured engine, or a cell saying why it was not. */
interface Row {
  model: string;
  engine: Engine;
  load: number;
  result: TrainFigures | string;
}

const imgPerSec = (r: TrainFigures, batch: number) => (r.stepMs.length * batch * 1000) / r.totalMs;

function cellOf(result: TrainResult): TrainFigures | string {
  if (result.ok) return result;
  if (result.status === 'capped') return `– (~${result.projectedSeconds.toFixed(0)} s projected)`;
  return result.status === 'pending' ? 'pending' : `failed: ${result.reason}`;
}

function formatRows(rows: readonly Row[], batch: number): string {
  const header = ['model', 'engine', 'img/s', 'vs torch f32', 'step ms', 'steps', 'peak RSS MiB', 'RSS warm → last MiB', 'load'];
  const body: string[][] = [];
  rows.forEach((r, i) => {
    if (i > 0 && rows[i - 1].model !== r.model) body.push([]);
    if (typeof r.result === 'string') {
      body.push([r.model, r.engine.label, r.result, '', '', '', '', '', r.load.toFixed(1)]);
      return;
    }
    const base = rows.find((o) => o.model === r.model && o.engine === BASELINE)?.result;
    const rate = imgPerSec(r.result, batch);
    const ratio = base && typeof base !== 'string' ? (rate / imgPerSec(base, batch)).toFixed(2) : '–';
    const { rssAfterWarmupMiB: warm, rssLastMiB: last } = r.result;
    const growth = last - warm;
    body.push([
      r.model, r.engine.label, rate.toFixed(2), ratio, median(r.result.stepMs).toFixed(0), `${r.result.warmupMs.length}+${r.result.stepMs.length}`,
      r.result.peakRssMiB.toFixed(0), `${warm.toFixed(0)} → ${last.toFixed(0)} (${growth >= 0 ? '+' : ''}${growth.toFixed(0)})`, r.load.toFixed(1),
    ]);
  });
  return formatTable(header, body, 2);
}

function toMeasurement(row: Row & { result: TrainFigures }, batch: number, threads: number, torch: TorchPeer): Measurement {
  const { engine, result } = row;
  const blas = engine.impl === 'pytorch' && torch.ok ? `; BLAS ${torch.blas}` : '';
  return {
    case: `${row.model} train`, shape: `${batch}x3x${IMG_SIZE}x${IMG_SIZE}`, dtype: engine.dtype, impl: engine.impl,
    implVersion: result.version, medianMs: median(result.stepMs), value: imgPerSec(result, batch), unit: 'img/s', iterations: result.stepMs.length,
    extra: {
      batch, warmup: result.warmupMs.length, mean_step_ms: (result.stepMs.reduce((a, b) => a + b, 0) / result.stepMs.length).toFixed(3),
      peak_rss_mib: result.peakRssMiB.toFixed(1), rss_after_warmup_mib: result.rssAfterWarmupMiB.toFixed(1), rss_last_mib: result.rssLastMiB.toFixed(1),
      last_loss: result.lastLoss.toFixed(4), threads, load_1m: row.load.toFixed(2), precision: `${engine.precision}${blas}`,
    },
  };
}

/** Measures every model × engine, prints the table and appends the CSV rows. */
export async function runTrainBench(args: readonly string[]): Promise<void> {
  const o = parseOptions(args);
  const machine = machineInfo();
  const threads = T.native.getNumThreads();
  const torch = trainPeer();
  const started = performance.now();
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, node ${machine.node}; load average ${loadAverage().toFixed(2)}`);
  console.log(`tsvision ${tsvisionVersion}: ${threads} OpenMP threads; bf16 = the Trainer's --amp bf16 (bf16 model and input, f32 AdamW masters)`);
  console.log(torch.ok
    ? `PyTorch ${torch.torch} (${PYTHON}), ${torch.library}: ${threads} threads; bf16 = torch.autocast('cpu', bfloat16) with f32 params; BLAS ${torch.blas}`
    : `PyTorch unavailable: ${torch.reason}`);
  console.log(`plan: batch ${o.batch} at ${IMG_SIZE}x${IMG_SIZE}, ${NUM_CLASSES} classes, ${WARMUP} warm-up + ${o.steps} timed steps of forward + cross-entropy + backward + AdamW; an engine projecting over ${o.maxSeconds} s stops early`);

  const rows: Row[] = [];
  for (const model of o.models) {
    let registered = true;
    try {
      T.resolveModel(model);
    } catch (e) {
      if (!(e instanceof T.UnknownModelError)) throw e;
      registered = false;
    }
    for (const engine of ENGINES) {
      const load = loadAverage();
      const spec: TrainSpec = {
        engine: engine.impl, model, batch: o.batch, dtype: engine.dtype, threads, imgSize: IMG_SIZE, numClasses: NUM_CLASSES,
        warmup: WARMUP, steps: o.steps, maxSeconds: o.maxSeconds,
      };
      let result: Row['result'];
      let detail = '';
      if (engine.impl === 'tsvision' && !registered) result = 'pending';
      else if (engine.impl === 'pytorch' && !torch.ok) result = `n/a: ${torch.reason}`;
      else {
        const child = engine.impl === 'pytorch'
          ? await runTrainChild(PYTHON, [TORCH_PEER, JSON.stringify(spec)], spec)
          : await runTrainChild(process.execPath, ['--import', 'tsx', TRAIN_RUNNER, JSON.stringify(spec)], spec);
        result = cellOf(child);
        if (!child.ok && child.status === 'capped') detail = ` [${child.reason}]`;
      }
      rows.push({ model, engine, load, result });
      const shown = typeof result === 'string' ? result : `${imgPerSec(result, o.batch).toFixed(2)} img/s, peak RSS ${result.peakRssMiB.toFixed(0)} MiB, loss ${result.lastLoss.toFixed(3)}`;
      console.error(`  ${model} ${engine.label}: ${shown}${detail} (load ${load.toFixed(1)})`);
    }
  }

  console.log('');
  console.log(formatRows(rows, o.batch));
  console.log(`\nimg/s = timed steps × batch / wall time of the timed loop; vs torch f32 = img/s / PyTorch f32's img/s; step ms = median timed step;`);
  console.log(`steps = warm-up + timed; peak RSS of the engine's own process; RSS warm → last = resident memory after the warm-up steps and after the last step (growth);`);
  console.log(`load = 1-minute load average at the engine's start. '–': the engine would exceed --max-seconds (projected time given); 'n/a': PyTorch unavailable.`);
  if (torch.ok && torch.blas === 'generic') {
    console.log(`PyTorch here uses the reference BLAS (BLAS_INFO=generic): its f32 Linear/matmul run far below oneDNN's speed; convolutions and bf16 autocast use oneDNN.`);
  }
  console.log(`total ${((performance.now() - started) / 60_000).toFixed(1)} min, load average now ${loadAverage().toFixed(2)}`);
  const measured = rows.filter((r): r is Row & { result: TrainFigures } => typeof r.result !== 'string');
  const columns = ['batch', 'warmup', 'mean_step_ms', 'peak_rss_mib', 'rss_after_warmup_mib', 'rss_last_mib', 'last_loss', 'threads', 'load_1m', 'precision'];
  if (measured.length > 0) console.log(`results appended to ${appendResults('train', measured.map((r) => toMeasurement(r, o.batch, threads, torch)), machine, columns)}`);
}
