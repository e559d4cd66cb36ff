/**
 * `npm run bench -- models [name ...]`: inference throughput (images/s) of whole classification
 * models at 224×224, batch 1 and 16, for tsvision f32 and bf16, onnxruntime-node f32 on an ONNX
 * graph of the same timm model, and PyTorch f32 and bf16 (Debian's python3-torch with timm),
 * with ratios to onnxruntime-node and each engine's peak RSS. Method: timm's benchmark.py
 * (random weights, synthetic input made once, warm-up steps, then a timed loop; images/s =
 * iterations × batch / loop wall time) with fewer iterations (ThroughputPlan in harness.ts).
 * Every measurement runs in its own child process, one after the other, so a peak RSS belongs
 * to one engine; the 1-minute load average at its start is printed beside it.
 *
 * The ONNX graphs are exported once with tools/reference/export_onnx.py into bench/.cache/onnx/;
 * that and the PyTorch peer need /usr/bin/python3 with torch and a timm checkout on TIMM_PATH,
 * and their rows say 'n/a' with the reason when these are missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import * as T from '../src/index.ts';
import {
  PYTHON, appendResults, formatTable, jsonLines, loadAverage, machineInfo, probeTorch, repoRoot, runChild, tsvisionVersion,
  type Measurement, type ThroughputPlan,
} from './harness.ts';
import type { RunResult, RunSpec } from './model-runner.ts';
import { loadOrt } from './peers/ort.ts';

const DEFAULT_MODELS = ['resnet50', 'vit_base_patch16_224', 'vit_base_r50_s16_224', 'resnet18', 'deit_small_patch16_224'];
const BATCHES = [1, 16];
const IMG_SIZE = 224;
const NUM_CLASSES = 1000;
const OPSET = 17;

const PLANS: Record<number, ThroughputPlan> = {
  1: { warmup: 3, minIterations: 5, maxIterations: 40, budgetSeconds: 5 },
  16: { warmup: 1, minIterations: 2, maxIterations: 10, budgetSeconds: 8 },
};
const planFor = (batch: number) => PLANS[batch] ?? PLANS[16];

/** Batch 16 of an engine is skipped when batch 1's step time projects a step longer than this. */
const MAX_PROJECTED_STEP_SECONDS = 40;
/** A child that has not answered by then is killed (a hung engine must not stall the run). */
const CHILD_TIMEOUT_SECONDS = 600;

const TORCH_PEER = path.join(repoRoot, 'bench', 'peers', 'torch_models.py');
const EXPORT_SCRIPT = path.join(repoRoot, 'tools', 'reference', 'export_onnx.py');
const MODEL_RUNNER = path.join(repoRoot, 'bench', 'model-runner.ts');
const ONNX_CACHE = path.join(repoRoot, 'bench', '.cache', 'onnx');

type Dtype = 'float32' | 'bfloat16';
interface Engine {
  label: string;
  impl: RunSpec['engine'];
  dtype: Dtype;
}

const ENGINES: readonly Engine[] = [
  { label: 'tsvision f32', impl: 'tsvision', dtype: 'float32' },
  { label: 'tsvision bf16', impl: 'tsvision', dtype: 'bfloat16' },
  { label: 'onnxruntime f32', impl: 'onnxruntime-node', dtype: 'float32' },
  { label: 'pytorch f32', impl: 'pytorch', dtype: 'float32' },
  { label: 'pytorch bf16', impl: 'pytorch', dtype: 'bfloat16' },
];

/** Debian's torch with timm (the models bench exports and runs timm models), or why it cannot be used. */
export type PythonPeer = { ok: true; torch: string; timm: string; blas: string } | { ok: false; reason: string };

export function probePython(): PythonPeer {
  const peer = probeTorch();
  if (!peer.ok) return peer;
  if (peer.timm === null) return { ok: false, reason: 'timm not importable: set TIMM_PATH to a timm checkout' };
  return { ok: true, torch: peer.torch, timm: peer.timm, blas: peer.blas };
}

/** The cached ONNX graph of a model, exported on first use; or why there is none. */
export function onnxGraph(model: string, python: PythonPeer): { ok: true; file: string } | { ok: false; reason: string } {
  const file = path.join(ONNX_CACHE, `${model}-${IMG_SIZE}px-${NUM_CLASSES}c-opset${OPSET}.onnx`);
  if (existsSync(file)) return { ok: true, file };
  if (!python.ok) return { ok: false, reason: `no ONNX graph and none can be exported: ${python.reason}` };
  mkdirSync(ONNX_CACHE, { recursive: true });
  console.error(`  exporting ${model} to ONNX (once, cached in ${path.relative(repoRoot, ONNX_CACHE)}/) ...`);
  const args = [EXPORT_SCRIPT, model, file, '--num-classes', String(NUM_CLASSES), '--img-size', String(IMG_SIZE), '--opset', String(OPSET)];
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: CHILD_TIMEOUT_SECONDS * 1000 });
  if (r.status === 0 && existsSync(file)) return { ok: true, file };
  return { ok: false, reason: `ONNX export failed: ${r.stderr?.trim().split('\n').pop() ?? r.error?.message}` };
}

/** Runs one child to completion; resolves to its RunResult (a failure when it died or printed no result). */
async function runModelChild(command: string, args: readonly string[]): Promise<RunResult> {
  const { stdout, stderr, code, signal, error } = await runChild(command, args, CHILD_TIMEOUT_SECONDS);
  if (error) return { ok: false, status: 'failed', reason: error.message };
  const result = jsonLines<RunResult>(stdout).at(-1);
  if (result) return result;
  const why = signal ? `killed by ${signal}${signal === 'SIGKILL' ? ` (timeout ${CHILD_TIMEOUT_SECONDS} s or out of memory)` : ''}` : `exit ${code}`;
  return { ok: false, status: 'failed', reason: `${why}: ${stderr.trim().split('\n').pop() ?? ''}` };
}

/** One row of the table: a measured engine, or a cell saying why it was not. */
interface Row {
  model: string;
  batch: number;
  engine: Engine;
  load: number;
  result: (RunResult & { ok: true }) | string;
}

const imgPerSec = (r: RunResult & { ok: true }, batch: number) => (r.iterations * batch * 1000) / r.totalMs;

function formatRows(rows: readonly Row[]): string {
  const header = ['model', 'batch', 'engine', 'img/s', 'vs ort', 'step ms', 'iters', 'peak RSS MiB', 'load'];
  const body: string[][] = [];
  rows.forEach((r, i) => {
    if (i > 0 && (rows[i - 1].model !== r.model || rows[i - 1].batch !== r.batch)) body.push([]);
    const ort = rows.find((o) => o.model === r.model && o.batch === r.batch && o.engine.impl === 'onnxruntime-node')?.result;
    if (typeof r.result === 'string') {
      body.push([r.model, String(r.batch), r.engine.label, r.result, '', '', '', '', r.load.toFixed(1)]);
      return;
    }
    const rate = imgPerSec(r.result, r.batch);
    const ratio = ort && typeof ort !== 'string' ? (rate / imgPerSec(ort, r.batch)).toFixed(2) : '-';
    body.push([
      r.model, String(r.batch), r.engine.label, rate.toFixed(2), ratio, r.result.medianStepMs.toFixed(1),
      `${r.result.warmup}+${r.result.iterations}`, r.result.peakRssMiB.toFixed(0), r.load.toFixed(1),
    ]);
  });
  return formatTable(header, body, 3);
}

function toMeasurement(row: Row & { result: RunResult & { ok: true } }, threads: number, python: PythonPeer): Measurement {
  const { engine, batch, result } = row;
  const precision =
    engine.impl === 'pytorch'
      ? `${engine.dtype === 'bfloat16' ? 'model.to(bfloat16), bf16 input' : 'fp32'}; torch.inference_mode; BLAS ${python.ok ? python.blas : '?'}`
      : engine.impl === 'tsvision' && engine.dtype === 'bfloat16' ? "model.to('bfloat16'), bf16 input" : 'fp32';
  return {
    case: row.model, shape: `${batch}x3x${IMG_SIZE}x${IMG_SIZE}`, dtype: engine.dtype, impl: engine.impl,
    implVersion: engine.impl === 'pytorch' && python.ok ? `${python.torch} timm ${python.timm}` : result.version,
    medianMs: result.medianStepMs, value: imgPerSec(result, batch), unit: 'img/s', iterations: result.iterations,
    extra: {
      batch, warmup: result.warmup, mean_step_ms: result.meanStepMs.toFixed(3), peak_rss_mib: result.peakRssMiB.toFixed(1),
      threads, load_1m: row.load.toFixed(2), precision,
    },
  };
}

function parseModels(args: readonly string[]): string[] {
  const flag = args.find((a) => a.startsWith('-'));
  if (flag) throw new T.ArgumentError(`bench models: unknown option '${flag}'; usage: npm run bench -- models [model ...]`);
  return args.length > 0 ? [...args] : DEFAULT_MODELS;
}

/** Measures every model × batch × engine, prints the table and appends the CSV rows. */
export async function runModelsBench(args: readonly string[]): Promise<void> {
  const models = parseModels(args);
  const machine = machineInfo();
  const threads = T.native.getNumThreads();
  const ort = await loadOrt();
  const python = probePython();
  const started = performance.now();
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, node ${machine.node}; load average ${loadAverage().toFixed(2)}`);
  console.log(`tsvision ${tsvisionVersion}: ${threads} OpenMP threads (OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY})`);
  console.log(ort.ok ? `onnxruntime-node ${ort.version}: CPU provider, ${threads} intra-op threads, all graph optimizations, opset-${OPSET} graphs exported from timm` : `onnxruntime-node unavailable: ${ort.reason}`);
  console.log(python.ok
    ? `PyTorch ${python.torch} (${PYTHON}), timm ${python.timm}: ${threads} threads, torch.inference_mode, NCHW; bf16 = model.to(bfloat16) with bf16 input; BLAS ${python.blas}`
    : `PyTorch unavailable: ${python.reason}`);
  console.log(`plans: ${BATCHES.map((b) => `batch ${b}: ${planFor(b).warmup} warm-up, ${planFor(b).minIterations}-${planFor(b).maxIterations} timed steps in ~${planFor(b).budgetSeconds} s`).join('; ')}`);

  const rows: Row[] = [];
  for (const model of models) {
    let registered = true;
    try {
      T.resolveModel(model);
    } catch (e) {
      if (!(e instanceof T.UnknownModelError)) throw e;
      registered = false;
    }
    const graph = ort.ok ? onnxGraph(model, python) : { ok: false as const, reason: `onnxruntime-node unavailable: ${ort.reason}` };
    for (const batch of BATCHES) {
      for (const engine of ENGINES) {
        const load = loadAverage();
        const cell = await measure(model, batch, engine, { registered, graph, python, threads, rows });
        rows.push({ model, batch, engine, load, result: cell });
        const shown = typeof cell === 'string' ? cell : `${imgPerSec(cell, batch).toFixed(2)} img/s, peak RSS ${cell.peakRssMiB.toFixed(0)} MiB`;
        console.error(`  ${model} batch ${batch} ${engine.label}: ${shown} (load ${load.toFixed(1)})`);
      }
    }
  }

  console.log('');
  console.log(formatRows(rows));
  console.log(`\nimg/s = timed steps × batch / wall time of the timed loop; vs ort = img/s / onnxruntime-node's img/s; step ms = median step;`);
  console.log(`iters = warm-up + timed steps; peak RSS of the engine's own process (model build included); load = 1-minute load average at its start.`);
  console.log(`'pending': not registered in tsvision yet; 'n/a': the peer is unavailable (reason given); 'skipped': batch 1 projects a step over ${MAX_PROJECTED_STEP_SECONDS} s.`);
  if (python.ok && python.blas === 'generic') {
    console.log(`PyTorch here uses the reference BLAS (BLAS_INFO=generic): its f32 Linear/matmul run far below oneDNN's speed; its bf16 and convolutions use oneDNN.`);
  }
  console.log(`total ${((performance.now() - started) / 60_000).toFixed(1)} min, load average now ${loadAverage().toFixed(2)}`);
  const measured = rows.filter((r): r is Row & { result: RunResult & { ok: true } } => typeof r.result !== 'string');
  const columns = ['batch', 'warmup', 'mean_step_ms', 'peak_rss_mib', 'threads', 'load_1m', 'precision'];
  if (measured.length > 0) console.log(`results appended to ${appendResults('models', measured.map((r) => toMeasurement(r, threads, python)), machine, columns)}`);
}

interface Context {
  registered: boolean;
  graph: ReturnType<typeof onnxGraph>;
  python: PythonPeer;
  threads: number;
  rows: readonly Row[];
}

// One engine on one model and batch: a child process, or the reason none runs.
async function measure(model: string, batch: number, engine: Engine, ctx: Context): Promise<Row['result']> {
  if (engine.impl === 'tsvision' && !ctx.registered) return 'pending';
  if (engine.impl === 'onnxruntime-node' && !ctx.graph.ok) return `n/a: ${ctx.graph.reason}`;
  if (engine.impl === 'pytorch' && !ctx.python.ok) return `n/a: ${ctx.python.reason}`;
  const single = ctx.rows.find((r) => r.model === model && r.batch === 1 && r.engine === engine)?.result;
  if (batch > 1 && typeof single === 'object') {
    const projected = (single.medianStepMs * batch) / 1000;
    if (projected > MAX_PROJECTED_STEP_SECONDS) return `skipped (~${projected.toFixed(0)} s/step)`;
  }
  const spec: RunSpec = {
    engine: engine.impl, model, batch, dtype: engine.dtype, threads: ctx.threads,
    imgSize: IMG_SIZE, numClasses: NUM_CLASSES, plan: planFor(batch), onnxFile: ctx.graph.ok ? ctx.graph.file : undefined,
  };
  const result = engine.impl === 'pytorch'
    ? await runModelChild(PYTHON, [TORCH_PEER, JSON.stringify(spec)])
    : await runModelChild(process.execPath, ['--import', 'tsx', MODEL_RUNNER, JSON.stringify(spec)]);
  if (result.ok) return result;
  return result.status === 'pending' ? 'pending' : `failed: ${result.reason}`;
}
