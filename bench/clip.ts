/**
 * `npm run bench -- clip [name ...]`: CLIP embedding throughput of the image tower (images/s) and
 * the text tower (texts/s, 77-token contexts) at batch 1 and 32, for tsvision f32 and bf16 and
 * onnxruntime-node f32 on ONNX graphs of openai/CLIP's towers; then `index` throughput (images/s
 * over a folder of JPEGs, decoding and preprocessing included) beside the image tower's pure
 * forward at the same batch. Every measurement runs in its own child process, one after the other.
 *
 * The ONNX graphs are exported once with tools/reference/export_clip_onnx.py into bench/.cache/onnx/
 * (needs /usr/bin/python3 with torch and an openai/CLIP checkout on CLIP_PATH); the JPEG folder is
 * generated once into bench/.cache/clip-index-images/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as T from '../src/index.ts';
import type { ClipRunResult, ClipRunSpec } from './clip-runner.ts';
import { PYTHON, appendResults, formatTable, jsonLines, loadAverage, machineInfo, repoRoot, runChild, tsvisionVersion, type Measurement, type ThroughputPlan } from './harness.ts';
import { loadOrt } from './peers/ort.ts';

const DEFAULT_MODELS = ['clip_vit_base_patch32', 'clip_rn50'];
const BATCHES = [1, 32];
const INDEX_BATCH = 32;
const INDEX_IMAGES = 512;
const OPSET = 17;
const CHILD_TIMEOUT_SECONDS = 600;
const PLANS: Record<number, ThroughputPlan> = {
  1: { warmup: 3, minIterations: 5, maxIterations: 40, budgetSeconds: 5 },
  32: { warmup: 1, minIterations: 2, maxIterations: 10, budgetSeconds: 10 },
};
const RUNNER = path.join(repoRoot, 'bench', 'clip-runner.ts');
const EXPORT_SCRIPT = path.join(repoRoot, 'tools', 'reference', 'export_clip_onnx.py');
const ONNX_CACHE = path.join(repoRoot, 'bench', '.cache', 'onnx');
const IMAGES = path.join(repoRoot, 'bench', '.cache', 'clip-index-images');

interface Engine {
  label: string;
  impl: ClipRunSpec['engine'];
  dtype: ClipRunSpec['dtype'];
}
const ENGINES: readonly Engine[] = [
  { label: 'tsvision f32', impl: 'tsvision', dtype: 'float32' },
  { label: 'tsvision bf16', impl: 'tsvision', dtype: 'bfloat16' },
  { label: 'onnxruntime f32', impl: 'onnxruntime-node', dtype: 'float32' },
];

interface Row {
  model: string;
  tower: ClipRunSpec['tower'];
  batch: number;
  engine: Engine;
  load: number;
  result: (ClipRunResult & { ok: true }) | string;
}

const perSecond = (r: ClipRunResult & { ok: true }, batch: number) => (r.iterations * batch * 1000) / r.totalMs;

/** The cached ONNX graph of one tower, exported on first use; or why there is none. */
function onnxTower(model: string, tower: 'image' | 'text'): { ok: true; file: string } | { ok: false; reason: string } {
  const file = path.join(ONNX_CACHE, `${model}-${tower}-opset${OPSET}.onnx`);
  if (existsSync(file)) return { ok: true, file };
  mkdirSync(ONNX_CACHE, { recursive: true });
  console.error(`  exporting the ${tower} tower of ${model} to ONNX (once, cached in ${path.relative(repoRoot, ONNX_CACHE)}/) ...`);
  const r = spawnSync(PYTHON, [EXPORT_SCRIPT, model, tower, file, '--opset', String(OPSET)], { encoding: 'utf8', timeout: CHILD_TIMEOUT_SECONDS * 1000 });
  if (r.status === 0 && existsSync(file)) return { ok: true, file };
  return { ok: false, reason: `ONNX export failed: ${r.stderr?.trim().split('\n').pop() ?? r.error?.message}` };
}

/**
 * A folder of photo-like JPEGs (500×375, quality 90: smooth colour fields with edges and grain),
 * generated once; returns the folder and the mean file size.
 */
async function indexImages(): Promise<{ dir: string; meanKiB: number }> {
  const files = () => (existsSync(IMAGES) ? readdirSync(IMAGES).filter((f) => f.endsWith('.jpg')) : []);
  if (files().length < INDEX_IMAGES) {
    console.error(`  generating ${INDEX_IMAGES} JPEGs into ${path.relative(repoRoot, IMAGES)}/ (once) ...`);
    mkdirSync(IMAGES, { recursive: true });
    const [w, h] = [500, 375];
    for (let i = 0; i < INDEX_IMAGES; ++i) {
      const raw = Buffer.alloc(w * h * 3);
      const f = [1 + (i % 5), 2 + (i % 3), 1 + (i % 7)];
      for (let y = 0; y < h; ++y) {
        for (let x = 0; x < w; ++x) {
          const grain = ((x * 7919 + y * 104729 + i * 31) % 23) - 11;
          const edge = (x - w / 2) * (y - h / 3) > 0 ? 40 : 0;
          for (let c = 0; c < 3; ++c) {
            const field = 128 + 90 * Math.sin((f[c] * x) / w * Math.PI + i + c) * Math.cos((f[(c + 1) % 3] * y) / h * Math.PI + c);
            raw[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(field + edge * (c === i % 3 ? 1 : -1) + grain)));
          }
        }
      }
      const file = path.join(IMAGES, `img${String(i).padStart(4, '0')}.jpg`);
      writeFileSync(`${file}.tmp`, await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
      renameSync(`${file}.tmp`, file);
    }
  }
  const sizes = files().slice(0, INDEX_IMAGES).map((f) => statSync(path.join(IMAGES, f)).size);
  return { dir: IMAGES, meanKiB: sizes.reduce((a, b) => a + b, 0) / sizes.length / 1024 };
}

async function runClipChild(spec: ClipRunSpec): Promise<ClipRunResult> {
  const { stdout, stderr, code, signal, error } = await runChild(process.execPath, ['--import', 'tsx', RUNNER, JSON.stringify(spec)], CHILD_TIMEOUT_SECONDS);
  if (error) return { ok: false, reason: error.message };
  const result = jsonLines<ClipRunResult>(stdout).at(-1);
  if (result) return result;
  return { ok: false, reason: `${signal ? `killed by ${signal}` : `exit ${code}`}: ${stderr.trim().split('\n').pop() ?? ''}` };
}

function formatRows(rows: readonly Row[]): string {
  const header = ['model', 'tower', 'batch', 'engine', 'per s', 'vs ort', 'vs forward', 'step ms', 'iters', 'peak RSS MiB', 'load'];
  const body: string[][] = [];
  const rate = (r: Row | undefined) => (r && typeof r.result !== 'string' ? perSecond(r.result, r.batch) : undefined);
  rows.forEach((r, i) => {
    if (i > 0 && (rows[i - 1].model !== r.model || rows[i - 1].tower !== r.tower || rows[i - 1].batch !== r.batch)) body.push([]);
    if (typeof r.result === 'string') {
      body.push([r.model, r.tower, String(r.batch), r.engine.label, r.result, '', '', '', '', '', r.load.toFixed(1)]);
      return;
    }
    const own = perSecond(r.result, r.batch);
    const ort = rate(rows.find((o) => o.model === r.model && o.tower === r.tower && o.batch === r.batch && o.engine.impl === 'onnxruntime-node'));
    const forward = r.tower === 'index' ? rate(rows.find((o) => o.model === r.model && o.tower === 'image' && o.batch === r.batch && o.engine === r.engine)) : undefined;
    body.push([
      r.model, r.tower, String(r.batch), r.engine.label, own.toFixed(2), ort ? (own / ort).toFixed(2) : '-', forward ? (own / forward).toFixed(2) : '-',
      r.result.medianStepMs.toFixed(1), `${r.result.warmup}+${Number(r.result.iterations.toFixed(2))}`, r.result.peakRssMiB.toFixed(0), r.load.toFixed(1),
    ]);
  });
  return formatTable(header, body, 4);
}

function toMeasurement(row: Row & { result: ClipRunResult & { ok: true } }, threads: number): Measurement {
  const { engine, batch, result, tower } = row;
  const input = tower === 'text' ? `${batch}x77` : `${batch}x3xRxR`;
  return {
    case: `${row.model} ${tower}`, shape: input, dtype: engine.dtype, impl: engine.impl, implVersion: result.version,
    medianMs: result.medianStepMs, value: perSecond(result, batch), unit: tower === 'text' ? 'texts/s' : 'img/s', iterations: result.iterations,
    extra: { batch, warmup: result.warmup, peak_rss_mib: result.peakRssMiB.toFixed(1), threads, load_1m: row.load.toFixed(2) },
  };
}

/** Measures every model × tower × batch × engine and the index runs, prints the table and appends the CSV rows. */
export async function runClipBench(args: readonly string[]): Promise<void> {
  const flag = args.find((a) => a.startsWith('-'));
  if (flag) throw new T.ArgumentError(`bench clip: unknown option '${flag}'; usage: npm run bench -- clip [model ...]`);
  const models = args.length > 0 ? [...args] : DEFAULT_MODELS;
  for (const m of models) if (T.resolveModel(m).entry.family !== 'clip') throw new T.ArgumentError(`bench clip: ${m} is not a CLIP model`);
  const machine = machineInfo();
  const threads = T.native.getNumThreads();
  const ort = await loadOrt();
  const started = performance.now();
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, node ${machine.node}; load average ${loadAverage().toFixed(2)}`);
  console.log(`tsvision ${tsvisionVersion}: ${threads} OpenMP threads; ${ort.ok ? `onnxruntime-node ${ort.version}: CPU provider, ${threads} intra-op threads, all graph optimizations, opset-${OPSET} graphs of openai/CLIP's towers` : `onnxruntime-node unavailable: ${ort.reason}`}`);
  const images = await indexImages();
  console.log(`index: ${INDEX_IMAGES} JPEGs of 500x375 (mean ${images.meanKiB.toFixed(0)} KiB), batch ${INDEX_BATCH}, decode threads ${T.defaultDecodeThreads()}, a warm-up run then a timed run into a fresh index`);

  const rows: Row[] = [];
  const record = (row: Row) => {
    rows.push(row);
    const shown = typeof row.result === 'string' ? row.result : `${perSecond(row.result, row.batch).toFixed(2)}/s`;
    console.error(`  ${row.model} ${row.tower} batch ${row.batch} ${row.engine.label}: ${shown} (load ${row.load.toFixed(1)})`);
  };
  for (const model of models) {
    const imgSize = T.resolveModel(model).cfg.preprocess.image!.inputSize[1];
    for (const tower of ['image', 'text'] as const) {
      const graph = ort.ok ? onnxTower(model, tower) : { ok: false as const, reason: `onnxruntime-node unavailable: ${ort.reason}` };
      for (const batch of BATCHES) {
        for (const engine of ENGINES) {
          const load = loadAverage();
          if (engine.impl === 'onnxruntime-node' && !graph.ok) {
            record({ model, tower, batch, engine, load, result: `n/a: ${graph.reason}` });
            continue;
          }
          const spec: ClipRunSpec = { engine: engine.impl, model, tower, batch, dtype: engine.dtype, threads, imgSize, plan: PLANS[batch], onnxFile: graph.ok ? graph.file : undefined };
          const result = await runClipChild(spec);
          record({ model, tower, batch, engine, load, result: result.ok ? result : `failed: ${result.reason}` });
        }
      }
    }
    for (const engine of ENGINES.filter((e) => e.impl === 'tsvision')) {
      const load = loadAverage();
      const spec: ClipRunSpec = { engine: 'tsvision', model, tower: 'index', batch: INDEX_BATCH, dtype: engine.dtype, threads, imgSize, plan: PLANS[INDEX_BATCH], imagesDir: images.dir };
      const result = await runClipChild(spec);
      record({ model, tower: 'index', batch: INDEX_BATCH, engine, load, result: result.ok ? result : `failed: ${result.reason}` });
    }
  }

  console.log('');
  console.log(formatRows(rows));
  console.log(`\nper s = images/s (image, index) or texts/s (text) = timed steps × batch / wall time of the timed loop; vs ort = / onnxruntime-node's rate;`);
  console.log(`vs forward = index images/s / the same engine's image-tower images/s at the same batch (decoding is not the bottleneck when near 1).`);
  console.log(`total ${((performance.now() - started) / 60_000).toFixed(1)} min, load average now ${loadAverage().toFixed(2)}`);
  const measured = rows.filter((r): r is Row & { result: ClipRunResult & { ok: true } } => typeof r.result !== 'string');
  if (measured.length > 0) console.log(`results appended to ${appendResults('clip', measured.map((r) => toMeasurement(r, threads)), machine, ['batch', 'warmup', 'peak_rss_mib', 'threads', 'load_1m'])}`);
}
