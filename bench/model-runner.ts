/**
 * Child process of `npm run bench -- models`: measures one engine (tsvision or onnxruntime-node)
 * on one model, batch size and precision, so that its peak RSS is its own. Reads a RunSpec as
 * JSON from argv, prints one RunResult as JSON on the last line of stdout. Each engine is loaded
 * only in its own child: the ONNX runner never loads tsvision's addon and the other way round.
 */
import { createRequire } from 'node:module';
import { buildBenchModel, measureSteps, tsvisionVersion, type StepTimes, type ThroughputPlan } from './harness.ts';

/** What a child measures (bench/peers/torch_models.py reads the same spec for 'pytorch'). */
export interface RunSpec {
  engine: 'tsvision' | 'onnxruntime-node' | 'pytorch';
  model: string;
  batch: number;
  dtype: 'float32' | 'bfloat16';
  threads: number;
  imgSize: number;
  numClasses: number;
  plan: ThroughputPlan;
  /** The exported graph (onnxruntime-node only). */
  onnxFile?: string;
}

/** A child's answer: step times and peak RSS, or why there are none. */
export type RunResult =
  | ({ ok: true; version: string; peakRssMiB: number } & StepTimes)
  | { ok: false; status: 'pending' | 'failed'; reason: string };

const peakRssMiB = () => process.resourceUsage().maxRSS / 1024;

async function runTsvision(spec: RunSpec): Promise<RunResult> {
  const T = await import('../src/index.ts');
  T.configure({ threads: spec.threads });
  const built = await buildBenchModel(spec.model, spec.numClasses);
  if (!built.ok) return built;
  const { model } = built;
  model.eval();
  if (spec.dtype === 'bfloat16') model.to('bfloat16');
  const x = T.randn([spec.batch, 3, spec.imgSize, spec.imgSize], { generator: new T.Generator(0) }).to(spec.dtype);
  const times = await measureSteps(spec.plan, () => T.noGrad(() => model.forward(x)).dispose());
  return { ok: true, version: tsvisionVersion, peakRssMiB: peakRssMiB(), ...times };
}

async function runOrt(spec: RunSpec): Promise<RunResult> {
  const ort = await import('onnxruntime-node');
  const { sessionOptions } = await import('./peers/ort.ts');
  const version = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  if (spec.onnxFile === undefined) throw new Error('no ONNX file given');
  const session = await ort.InferenceSession.create(spec.onnxFile, sessionOptions(spec.threads));
  const shape = [spec.batch, 3, spec.imgSize, spec.imgSize];
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => Math.random() * 2 - 1);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
  const times = await measureSteps(spec.plan, () => session.run(feeds));
  await session.release();
  return { ok: true, version, peakRssMiB: peakRssMiB(), ...times };
}

const spec = JSON.parse(process.argv[2] ?? 'null') as RunSpec | null;
let result: RunResult;
try {
  if (spec === null) throw new Error('usage: model-runner.ts <RunSpec JSON>');
  if (spec.engine === 'pytorch') throw new Error('the PyTorch peer is bench/peers/torch_models.py');
  result = spec.engine === 'tsvision' ? await runTsvision(spec) : await runOrt(spec);
} catch (e) {
  result = { ok: false, status: 'failed', reason: e instanceof Error ? e.message.split('\n')[0] : String(e) };
}
console.log(JSON.stringify(result));
