/**
 * `npm run bench -- ops`: throughput of the engine's core kernels next to onnxruntime-node in the
 * same process: matmul 1024³ and 2048³, a 3×3 64→64 convolution on 16×64×56×56 forward and backward
 * (input and weight grads), and the per-call overhead of a tiny elementwise add. f32 and bf16 for
 * tsvision; the peer runs f32 (its CPU provider has no bf16 MatMul/Conv, and no backward).
 * Figures are medians after warm-up, tsvision and peer samples taking turns; few iterations for the
 * big cases, as the machine is small.
 */
import * as T from '../src/index.ts';
import {
  appendResults, interleavedMedians, machineInfo, printTable, timed, timedAsync, tsvisionVersion,
  type Comparison, type Measurement, type Plan, type TimedRun,
} from './harness.ts';
import { loadOrt, OrtGraphs } from './peers/ort.ts';

const DTYPES = ['float32', 'bfloat16'] as const;
type FloatDType = (typeof DTYPES)[number];

const MATMUL_SIZES = [1024, 2048];
const CONV = { batch: 16, channels: 64, size: 56, kernel: 3 };
const TINY_SHAPE = [4];
const TINY_CALLS_PER_SAMPLE = 200;
const TINY_PLAN: Plan = { warmup: 20, iterations: 100 };

const planFor = (gflop: number): Plan => (gflop > 5 ? { warmup: 2, iterations: 7 } : { warmup: 3, iterations: 20 });

const generator = new T.Generator(0);
const randn = (shape: readonly number[], dtype: FloatDType = 'float32') => T.randn(shape, { generator }).to(dtype);
const f32Data = (shape: readonly number[]) => randn(shape).toArray() as Float32Array;

const convInput = [CONV.batch, CONV.channels, CONV.size, CONV.size];
const convWeight = [CONV.channels, CONV.channels, CONV.kernel, CONV.kernel];
const convPad = (CONV.kernel - 1) / 2;
const convFlop = 2 * CONV.batch * CONV.channels * CONV.size * CONV.size * CONV.channels * CONV.kernel * CONV.kernel;

/** A prepared measurement: one sample per run() call, and the memory to free afterwards. */
interface Runner {
  run: TimedRun;
  dispose(): void | Promise<void>;
}

/** One row of the table. */
interface Case {
  case: string;
  shape: string;
  dtype: FloatDType;
  plan: Plan;
  /** Floating-point operations per sample; absent for per-call overhead cases. */
  flop?: number;
  /** Calls per sample for per-call overhead cases. */
  calls?: number;
  tsvision: () => Runner;
  /** The peer's version of the case; absent where the peer has no such kernel. */
  peer?: (graphs: OrtGraphs) => Promise<Runner>;
}

// ---- tsvision ----------------------------------------------------------------------------------

function tsMatmul(n: number, dtype: FloatDType): Runner {
  const a = randn([n, n], dtype);
  const b = randn([n, n], dtype);
  return { run: () => timed(() => T.matmul(a, b).dispose()), dispose: () => [a, b].forEach((t) => t.dispose()) };
}

function tsConvForward(dtype: FloatDType): Runner {
  const x = randn(convInput, dtype);
  const w = randn(convWeight, dtype);
  return {
    run: () => timed(() => T.conv2d(x, w, null, { padding: convPad }).dispose()),
    dispose: () => [x, w].forEach((t) => t.dispose()),
  };
}

// Times backward() alone: the forward that builds the graph runs untimed before each sample.
function tsConvBackward(dtype: FloatDType): Runner {
  const x = randn(convInput, dtype).requiresGrad_();
  const w = randn(convWeight, dtype).requiresGrad_();
  const gy = randn(convInput, dtype);
  const run = () => {
    const y = T.conv2d(x, w, null, { padding: convPad });
    const elapsed = timed(() => y.backward(gy));
    for (const leaf of [x, w]) {
      leaf.grad?.dispose();
      leaf.grad = null;
    }
    y.dispose();
    return elapsed;
  };
  return { run, dispose: () => [x, w, gy].forEach((t) => t.dispose()) };
}

function tsTinyAdd(dtype: FloatDType): Runner {
  const a = randn(TINY_SHAPE, dtype);
  const b = randn(TINY_SHAPE, dtype);
  const run = () => timed(() => {
    for (let i = 0; i < TINY_CALLS_PER_SAMPLE; ++i) T.add(a, b);
  });
  return { run, dispose: () => [a, b].forEach((t) => t.dispose()) };
}

// ---- onnxruntime-node --------------------------------------------------------------------------

async function ortMatmul(graphs: OrtGraphs, n: number): Promise<Runner> {
  const session = await graphs.session({
    opType: 'MatMul',
    inputs: [{ name: 'A', shape: [n, n] }, { name: 'B', shape: [n, n] }],
    outputs: [{ name: 'Y', shape: [n, n] }],
  });
  const feeds = { A: graphs.tensor(f32Data([n, n]), [n, n]), B: graphs.tensor(f32Data([n, n]), [n, n]) };
  return { run: () => timedAsync(() => session.run(feeds)), dispose: () => session.release() };
}

async function ortConvForward(graphs: OrtGraphs): Promise<Runner> {
  const session = await graphs.session({
    opType: 'Conv',
    inputs: [{ name: 'X', shape: convInput }, { name: 'W', shape: convWeight }],
    outputs: [{ name: 'Y', shape: convInput }],
    attributes: { kernel_shape: [CONV.kernel, CONV.kernel], pads: [convPad, convPad, convPad, convPad], strides: [1, 1], dilations: [1, 1], group: 1 },
  });
  const feeds = { X: graphs.tensor(f32Data(convInput), convInput), W: graphs.tensor(f32Data(convWeight), convWeight) };
  return { run: () => timedAsync(() => session.run(feeds)), dispose: () => session.release() };
}

async function ortTinyAdd(graphs: OrtGraphs): Promise<Runner> {
  const session = await graphs.session({
    opType: 'Add',
    inputs: [{ name: 'A', shape: TINY_SHAPE }, { name: 'B', shape: TINY_SHAPE }],
    outputs: [{ name: 'Y', shape: TINY_SHAPE }],
  });
  const feeds = { A: graphs.tensor(f32Data(TINY_SHAPE), TINY_SHAPE), B: graphs.tensor(f32Data(TINY_SHAPE), TINY_SHAPE) };
  const run = () => timedAsync(async () => {
    for (let i = 0; i < TINY_CALLS_PER_SAMPLE; ++i) await session.run(feeds);
  });
  return { run, dispose: () => session.release() };
}

// ---- the run -----------------------------------------------------------------------------------

function cases(): Case[] {
  const convShape = convInput.join('x');
  return DTYPES.flatMap((dtype): Case[] => {
    const f32 = dtype === 'float32';
    return [
      ...MATMUL_SIZES.map((n): Case => ({
        case: 'matmul', shape: `${n}^3`, dtype, flop: 2 * n ** 3, plan: planFor((2 * n ** 3) / 1e9),
        tsvision: () => tsMatmul(n, dtype), peer: f32 ? (g) => ortMatmul(g, n) : undefined,
      })),
      {
        case: 'conv3x3 fwd', shape: convShape, dtype, flop: convFlop, plan: planFor(convFlop / 1e9),
        tsvision: () => tsConvForward(dtype), peer: f32 ? ortConvForward : undefined,
      },
      {
        case: 'conv3x3 bwd (dx+dw)', shape: convShape, dtype, flop: 2 * convFlop, plan: planFor((2 * convFlop) / 1e9),
        tsvision: () => tsConvBackward(dtype),
      },
      {
        case: 'add (per call)', shape: TINY_SHAPE.join('x'), dtype, calls: TINY_CALLS_PER_SAMPLE, plan: TINY_PLAN,
        tsvision: () => tsTinyAdd(dtype), peer: f32 ? ortTinyAdd : undefined,
      },
    ];
  });
}

const isPending = (e: unknown) => e instanceof T.TsvisionError && e.code === 'E_PENDING';

// tsvision's runner, or 'pending' when its op is still a stub (it throws on the first call).
function prepareTsvision(c: Case): Runner | 'pending' {
  let runner: Runner | undefined;
  try {
    runner = c.tsvision();
    runner.run();
    return runner;
  } catch (e) {
    runner?.dispose();
    if (isPending(e)) return 'pending';
    throw e;
  }
}

function toMeasurement(c: Case, impl: string, implVersion: string, ms: number): Measurement {
  const common = { case: c.case, shape: c.shape, dtype: c.dtype, impl, implVersion, iterations: c.plan.iterations };
  if (c.flop !== undefined) return { ...common, medianMs: ms, unit: 'GFLOP/s', value: c.flop / (ms * 1e6) };
  const perCall = ms / (c.calls ?? 1);
  return { ...common, medianMs: perCall, unit: 'us/call', value: perCall * 1000 };
}

/** Runs every case for tsvision and the peer, prints the table and appends the CSV rows. */
export async function runOpsBench(): Promise<void> {
  const machine = machineInfo();
  const threads = T.native.getNumThreads();
  const peer = await loadOrt();
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, node ${machine.node}`);
  console.log(`tsvision ${tsvisionVersion}: ${threads} OpenMP threads`);
  console.log(peer.ok ? `onnxruntime-node ${peer.version}: CPU provider, ${threads} intra-op threads` : `onnxruntime-node unavailable: ${peer.reason}`);

  const graphs = peer.ok ? new OrtGraphs(peer.ort, threads) : null;
  const rows: Comparison[] = [];
  try {
    for (const c of cases()) {
      const ts = prepareTsvision(c);
      const other: Runner | string = !c.peer ? '-' : graphs ? await c.peer(graphs) : 'n/a';
      const runners = [ts, other].filter((r): r is Runner => typeof r !== 'string');
      const medians = await interleavedMedians(c.plan, runners.map((r) => r.run));
      for (const r of runners) await r.dispose();
      const result = (r: Runner | string, impl: string, version: string) =>
        typeof r === 'string' ? r : toMeasurement(c, impl, version, medians[runners.indexOf(r)]);
      rows.push({
        case: c.case, shape: c.shape, dtype: c.dtype, unit: c.flop !== undefined ? 'GFLOP/s' : 'us/call',
        tsvision: result(ts, 'tsvision', tsvisionVersion),
        peer: result(other, 'onnxruntime-node', peer.ok ? peer.version : ''),
      });
      console.error(`  measured ${c.case} ${c.shape} ${c.dtype}`);
    }
  } finally {
    graphs?.close();
  }

  console.log('');
  printTable('onnxruntime-node', rows);
  console.log('\nratio = tsvision / onnxruntime-node: above 1 is faster for GFLOP/s, below 1 is faster for us/call.');
  console.log("'pending': the op is not implemented yet; '-': the peer has no such kernel; 'n/a': the peer did not load.");
  const measured = rows.flatMap((r) => [r.tsvision, r.peer]).filter((m): m is Measurement => typeof m !== 'string');
  console.log(`results appended to ${appendResults('ops', measured, machine)}`);
}
