/**
 * `npm run bench -- ops`: throughput of the engine's core kernels next to onnxruntime-node in the
 * same process: matmul 1024³ and 2048³, a 3×3 64→64 convolution on 16×64×56×56 forward and backward
 * (input and weight grads), and the per-call overhead of a tiny elementwise add. f32 and bf16 for
 * tsvision; the peer runs f32 (its CPU provider has no bf16 MatMul/Conv, and no backward).
 * Figures are medians after warm-up; few iterations for the big cases, as the machine is small.
 */
import * as T from '../src/index.ts';
import {
  appendResults, machineInfo, medianMs, medianMsAsync, printTable, timed, timedAsync, tsvisionVersion,
  type Comparison, type Measurement, type Plan,
} from './harness.ts';
import { loadOrt, OrtGraphs, type OrtPeer } from './peers/ort.ts';

const DTYPES = ['float32', 'bfloat16'] as const;
type FloatDType = (typeof DTYPES)[number];

const MATMUL_SIZES = [1024, 2048];
const CONV = { batch: 16, channels: 64, size: 56, kernel: 3 };
const TINY_SHAPE = [4];
const TINY_CALLS_PER_SAMPLE = 200;

const planFor = (gflop: number): Plan => (gflop > 5 ? { warmup: 2, iterations: 5 } : { warmup: 3, iterations: 10 });
const TINY_PLAN: Plan = { warmup: 20, iterations: 100 };

const generator = new T.Generator(0);
const randn = (shape: readonly number[], dtype: FloatDType = 'float32') => T.randn(shape, { generator }).to(dtype);

function measurement(c: Omit<Measurement, 'impl' | 'implVersion' | 'value' | 'unit' | 'iterations'>, impl: string, implVersion: string, plan: Plan, flop?: number): Measurement {
  return flop === undefined
    ? { ...c, impl, implVersion, iterations: plan.iterations, unit: 'us/call', value: c.medianMs * 1000 }
    : { ...c, impl, implVersion, iterations: plan.iterations, unit: 'GFLOP/s', value: flop / (c.medianMs * 1e6) };
}

// Ops whose kernels are still stubs throw E_PENDING: show them as such and measure the rest.
function unlessPending(fn: () => Measurement): Measurement | string {
  try {
    return fn();
  } catch (e) {
    if (e instanceof T.TsvisionError && e.code === 'E_PENDING') return 'pending';
    throw e;
  }
}

const fmtShape = (s: readonly number[]) => s.join('x');
const convInputShape = [CONV.batch, CONV.channels, CONV.size, CONV.size];
const convWeightShape = [CONV.channels, CONV.channels, CONV.kernel, CONV.kernel];
const convPad = (CONV.kernel - 1) / 2;
const convFlop = 2 * CONV.batch * CONV.channels * CONV.size * CONV.size * CONV.channels * CONV.kernel * CONV.kernel;

// ---- tsvision ----------------------------------------------------------------------------------

function tsMatmul(n: number, dtype: FloatDType): Measurement {
  const a = randn([n, n], dtype);
  const b = randn([n, n], dtype);
  const plan = planFor((2 * n ** 3) / 1e9);
  const ms = medianMs(plan, () => timed(() => T.matmul(a, b).dispose()));
  a.dispose();
  b.dispose();
  return measurement({ case: 'matmul', shape: `${n}^3`, dtype, medianMs: ms }, 'tsvision', tsvisionVersion, plan, 2 * n ** 3);
}

function tsConvForward(dtype: FloatDType): Measurement {
  const x = randn(convInputShape, dtype);
  const w = randn(convWeightShape, dtype);
  const plan = planFor(convFlop / 1e9);
  const ms = medianMs(plan, () => timed(() => T.conv2d(x, w, null, { padding: convPad }).dispose()));
  x.dispose();
  w.dispose();
  return measurement({ case: 'conv3x3 fwd', shape: fmtShape(convInputShape), dtype, medianMs: ms }, 'tsvision', tsvisionVersion, plan, convFlop);
}

// Times backward() alone: the forward that builds the graph runs untimed before each sample.
function tsConvBackward(dtype: FloatDType): Measurement {
  const x = randn(convInputShape, dtype).requiresGrad_();
  const w = randn(convWeightShape, dtype).requiresGrad_();
  const gy = randn(convInputShape, dtype);
  const plan = planFor((2 * convFlop) / 1e9);
  const ms = medianMs(plan, () => {
    const y = T.conv2d(x, w, null, { padding: convPad });
    const elapsed = timed(() => y.backward(gy));
    for (const leaf of [x, w]) {
      leaf.grad?.dispose();
      leaf.grad = null;
    }
    y.dispose();
    return elapsed;
  });
  for (const t of [x, w, gy]) t.dispose();
  return measurement({ case: 'conv3x3 bwd (dx+dw)', shape: fmtShape(convInputShape), dtype, medianMs: ms }, 'tsvision', tsvisionVersion, plan, 2 * convFlop);
}

function tsTinyAdd(dtype: FloatDType): Measurement {
  const a = randn(TINY_SHAPE, dtype);
  const b = randn(TINY_SHAPE, dtype);
  const ms = medianMs(TINY_PLAN, () => timed(() => {
    for (let i = 0; i < TINY_CALLS_PER_SAMPLE; ++i) T.add(a, b);
  }));
  return measurement({ case: 'add (per call)', shape: fmtShape(TINY_SHAPE), dtype, medianMs: ms / TINY_CALLS_PER_SAMPLE }, 'tsvision', tsvisionVersion, TINY_PLAN);
}

// ---- onnxruntime-node --------------------------------------------------------------------------

async function ortMatmul(graphs: OrtGraphs, version: string, n: number): Promise<Measurement> {
  const session = await graphs.session({
    opType: 'MatMul',
    inputs: [{ name: 'A', shape: [n, n] }, { name: 'B', shape: [n, n] }],
    outputs: [{ name: 'Y', shape: [n, n] }],
  });
  const feeds = { A: graphs.tensor(randn([n, n]).toArray() as Float32Array, [n, n]), B: graphs.tensor(randn([n, n]).toArray() as Float32Array, [n, n]) };
  const plan = planFor((2 * n ** 3) / 1e9);
  const ms = await medianMsAsync(plan, () => timedAsync(() => session.run(feeds)));
  await session.release();
  return measurement({ case: 'matmul', shape: `${n}^3`, dtype: 'float32', medianMs: ms }, 'onnxruntime-node', version, plan, 2 * n ** 3);
}

async function ortConvForward(graphs: OrtGraphs, version: string): Promise<Measurement> {
  const session = await graphs.session({
    opType: 'Conv',
    inputs: [{ name: 'X', shape: convInputShape }, { name: 'W', shape: convWeightShape }],
    outputs: [{ name: 'Y', shape: convInputShape }],
    attributes: { kernel_shape: [CONV.kernel, CONV.kernel], pads: [convPad, convPad, convPad, convPad], strides: [1, 1], dilations: [1, 1], group: 1 },
  });
  const feeds = {
    X: graphs.tensor(randn(convInputShape).toArray() as Float32Array, convInputShape),
    W: graphs.tensor(randn(convWeightShape).toArray() as Float32Array, convWeightShape),
  };
  const plan = planFor(convFlop / 1e9);
  const ms = await medianMsAsync(plan, () => timedAsync(() => session.run(feeds)));
  await session.release();
  return measurement({ case: 'conv3x3 fwd', shape: fmtShape(convInputShape), dtype: 'float32', medianMs: ms }, 'onnxruntime-node', version, plan, convFlop);
}

async function ortTinyAdd(graphs: OrtGraphs, version: string): Promise<Measurement> {
  const session = await graphs.session({
    opType: 'Add',
    inputs: [{ name: 'A', shape: TINY_SHAPE }, { name: 'B', shape: TINY_SHAPE }],
    outputs: [{ name: 'Y', shape: TINY_SHAPE }],
  });
  const feeds = { A: graphs.tensor(new Float32Array([1, 2, 3, 4]), TINY_SHAPE), B: graphs.tensor(new Float32Array([4, 3, 2, 1]), TINY_SHAPE) };
  const ms = await medianMsAsync(TINY_PLAN, () => timedAsync(async () => {
    for (let i = 0; i < TINY_CALLS_PER_SAMPLE; ++i) await session.run(feeds);
  }));
  await session.release();
  return measurement({ case: 'add (per call)', shape: fmtShape(TINY_SHAPE), dtype: 'float32', medianMs: ms / TINY_CALLS_PER_SAMPLE }, 'onnxruntime-node', version, TINY_PLAN);
}

// ---- the run -----------------------------------------------------------------------------------

/** Runs every case for tsvision and the peer, prints the table and appends the CSV rows. */
export async function runOpsBench(): Promise<void> {
  const machine = machineInfo();
  const threads = T.native.getNumThreads();
  const peer: OrtPeer = await loadOrt();
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, node ${machine.node}`);
  console.log(`tsvision ${tsvisionVersion}: ${threads} OpenMP threads`);
  console.log(peer.ok ? `onnxruntime-node ${peer.version}: CPU provider, ${threads} intra-op threads` : `onnxruntime-node unavailable: ${peer.reason}`);
  console.log('');

  const graphs = peer.ok ? new OrtGraphs(peer.ort, threads) : null;
  const peerRun = async (f: (g: OrtGraphs, version: string) => Promise<Measurement>, dtype: FloatDType): Promise<Measurement | string> => {
    if (!graphs || !peer.ok) return 'n/a';
    return dtype === 'float32' ? f(graphs, peer.version) : '-';
  };

  const rows: Comparison[] = [];
  const add = (tsvision: Measurement | string, other: Measurement | string, c: Pick<Comparison, 'case' | 'shape' | 'dtype' | 'unit'>) => {
    rows.push({ ...c, tsvision, peer: other });
    console.error(`  measured ${c.case} ${c.shape} ${c.dtype}`);
  };
  try {
    for (const dtype of DTYPES) {
      for (const n of MATMUL_SIZES) {
        add(unlessPending(() => tsMatmul(n, dtype)), await peerRun((g, v) => ortMatmul(g, v, n), dtype), { case: 'matmul', shape: `${n}^3`, dtype, unit: 'GFLOP/s' });
      }
      const convShape = fmtShape(convInputShape);
      add(unlessPending(() => tsConvForward(dtype)), await peerRun(ortConvForward, dtype), { case: 'conv3x3 fwd', shape: convShape, dtype, unit: 'GFLOP/s' });
      add(unlessPending(() => tsConvBackward(dtype)), peer.ok ? '-' : 'n/a', { case: 'conv3x3 bwd (dx+dw)', shape: convShape, dtype, unit: 'GFLOP/s' });
      add(unlessPending(() => tsTinyAdd(dtype)), await peerRun(ortTinyAdd, dtype), { case: 'add (per call)', shape: fmtShape(TINY_SHAPE), dtype, unit: 'us/call' });
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
