/**
 * Child process of `npm run bench -- clip`: measures one engine on one CLIP tower and batch
 * size, or one `index` run over a folder of JPEGs. Reads a ClipRunSpec as JSON from argv and
 * prints one ClipRunResult as JSON on the last line of stdout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type * as Tsvision from '../src/index.ts';
import { measureSteps, tsvisionVersion, type StepTimes, type ThroughputPlan } from './harness.ts';

/** What a child measures. */
export interface ClipRunSpec {
  engine: 'tsvision' | 'onnxruntime-node';
  model: string;
  /** 'index': tsvision index over `imagesDir` (batch = images per forward). */
  tower: 'image' | 'text' | 'index';
  batch: number;
  dtype: 'float32' | 'bfloat16';
  threads: number;
  /** Image side of the image tower. */
  imgSize: number;
  plan: ThroughputPlan;
  onnxFile?: string;
  imagesDir?: string;
}

/** Step times (towers) or one timed index run, and peak RSS; or why there are none. */
export type ClipRunResult =
  | ({ ok: true; version: string; peakRssMiB: number } & StepTimes)
  | { ok: false; reason: string };

const CONTEXT = 77;
const peakRssMiB = () => process.resourceUsage().maxRSS / 1024;

/** Token ids as clip.tokenize gives them: SOT, words, EOT at varied lengths, zero padding. */
export function syntheticIds(batch: number): BigInt64Array {
  const ids = new BigInt64Array(batch * CONTEXT);
  for (let b = 0; b < batch; ++b) {
    const length = 8 + ((b * 13) % 20);
    ids[b * CONTEXT] = 49406n;
    for (let t = 1; t < length - 1; ++t) ids[b * CONTEXT + t] = BigInt(300 + ((b * 131 + t * 17) % 40000));
    ids[b * CONTEXT + length - 1] = 49407n;
  }
  return ids;
}

async function runTsvision(spec: ClipRunSpec): Promise<ClipRunResult> {
  const T = await import('../src/index.ts');
  T.configure({ threads: spec.threads });
  const model = T.buildModel<Tsvision.CLIP>(spec.model);
  model.eval();
  if (spec.dtype === 'bfloat16') model.to('bfloat16');
  if (spec.tower === 'index') return runIndex(T, model, spec);
  const step = spec.tower === 'image'
    ? (() => {
        const x = T.randn([spec.batch, 3, spec.imgSize, spec.imgSize], { generator: new T.Generator(0) }).to(spec.dtype);
        return () => T.noGrad(() => model.encodeImage(x)).dispose();
      })()
    : (() => {
        const ids = T.fromTypedArray(syntheticIds(spec.batch), [spec.batch, CONTEXT]);
        return () => T.noGrad(() => model.encodeText(ids)).dispose();
      })();
  const times = await measureSteps(spec.plan, step);
  return { ok: true, version: tsvisionVersion, peakRssMiB: peakRssMiB(), ...times };
}

// Two runs into fresh index folders: the first warms the model and the decode threads, the second is timed.
async function runIndex(T: typeof Tsvision, model: Tsvision.Model<Tsvision.CLIP>, spec: ClipRunSpec): Promise<ClipRunResult> {
  if (spec.imagesDir === undefined) throw new Error('no imagesDir given');
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'tsvision-bench-index-'));
  try {
    await T.indexImages(model, spec.imagesDir, path.join(scratch, 'warm'), { batchSize: spec.batch });
    const start = performance.now();
    const report = await T.indexImages(model, spec.imagesDir, path.join(scratch, 'timed'), { batchSize: spec.batch });
    const totalMs = performance.now() - start;
    const steps = Math.ceil(report.embedded / spec.batch);
    // Reported in batches so images/s = iterations × batch / totalMs, as for the towers.
    return { ok: true, version: tsvisionVersion, peakRssMiB: peakRssMiB(), warmup: 1, iterations: report.embedded / spec.batch, totalMs, medianStepMs: totalMs / steps, meanStepMs: totalMs / steps };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function runOrt(spec: ClipRunSpec): Promise<ClipRunResult> {
  const ort = await import('onnxruntime-node');
  const { sessionOptions } = await import('./peers/ort.ts');
  const version = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  if (spec.onnxFile === undefined) throw new Error('no ONNX file given');
  const session = await ort.InferenceSession.create(spec.onnxFile, sessionOptions(spec.threads));
  let feed: InstanceType<typeof ort.Tensor>;
  if (spec.tower === 'image') {
    const shape = [spec.batch, 3, spec.imgSize, spec.imgSize];
    feed = new ort.Tensor('float32', Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => Math.random() * 2 - 1), shape);
  } else {
    feed = new ort.Tensor('int64', syntheticIds(spec.batch), [spec.batch, CONTEXT]);
  }
  const feeds = { [session.inputNames[0]]: feed };
  const times = await measureSteps(spec.plan, () => session.run(feeds));
  await session.release();
  return { ok: true, version, peakRssMiB: peakRssMiB(), ...times };
}

const spec = JSON.parse(process.argv[2] ?? 'null') as ClipRunSpec | null;
let result: ClipRunResult;
try {
  if (spec === null) throw new Error('usage: clip-runner.ts <ClipRunSpec JSON>');
  result = spec.engine === 'tsvision' ? await runTsvision(spec) : await runOrt(spec);
} catch (e) {
  result = { ok: false, reason: e instanceof Error ? e.message.split('\n')[0] : String(e) };
}
console.log(JSON.stringify(result));
