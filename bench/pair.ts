/**
 * `npm run bench -- pair <model> [batch] [--rounds N]`: tsvision f32 and onnxruntime-node f32 taking
 * turns step by step in one process, for a ratio that a noisy shared host moves less than the models
 * bench's back-to-back runs. onnxruntime's threads do not spin after a run here (they would hold the
 * cores during tsvision's step), which can cost onnxruntime a little between its own ops; the models
 * bench, each engine alone in its process, stays the reference figure. Not recorded in bench/results.
 */
import * as T from '../src/index.ts';
import { loadAverage, machineInfo, median } from './harness.ts';
import { onnxGraph, probePython } from './models.ts';
import { sessionOptions } from './peers/ort.ts';

const USAGE = 'usage: npm run bench -- pair <model> [batch=16] [--rounds N=8]';

function parseArgs(args: readonly string[]): { model: string; batch: number; rounds: number } {
  const positional: string[] = [];
  let rounds = 8;
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--rounds') rounds = Number(args[++i]);
    else if (args[i].startsWith('-')) throw new T.ArgumentError(`bench pair: unknown option '${args[i]}'; ${USAGE}`);
    else positional.push(args[i]);
  }
  const [model, batchArg = '16', ...extra] = positional;
  if (model === undefined || extra.length > 0) throw new T.ArgumentError(`bench pair: ${model === undefined ? 'missing model name' : `unexpected arguments: ${extra.join(' ')}`}; ${USAGE}`);
  const batch = Number(batchArg);
  if (!Number.isInteger(batch) || batch < 1) throw new T.ArgumentError(`bench pair: batch must be a positive integer, got '${batchArg}'`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new T.ArgumentError('bench pair: --rounds takes a positive integer');
  return { model, batch, rounds };
}

/** Prints both engines' median step and the median of the per-round ratios (onnxruntime ms / tsvision ms). */
export async function runPairBench(args: readonly string[]): Promise<void> {
  const { model: name, batch, rounds } = parseArgs(args);
  const graph = onnxGraph(name, probePython());
  if (!graph.ok) throw new Error(`bench pair: ${graph.reason}`);
  const ort = await import('onnxruntime-node');
  const model = T.buildModel(name).eval();
  const shape = [batch, ...T.imagePreprocess(model.pretrainedCfg)!.inputSize];
  const x = T.randn(shape, { generator: new T.Generator(0) });
  const options = { ...sessionOptions(T.native.getNumThreads()), extra: { session: { intra_op: { allow_spinning: '0' } } } };
  const session = await ort.InferenceSession.create(graph.file, options);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.toArray() as Float32Array, shape) };
  const timed = async (step: () => unknown): Promise<number> => {
    const t0 = performance.now();
    await step();
    return performance.now() - t0;
  };
  const ours = () => T.noGrad(() => model.forward(x)).dispose();
  const theirs = () => session.run(feeds);
  await timed(ours);
  await timed(theirs);
  const machine = machineInfo();
  console.log(`${model.modelName}, batch ${batch}, f32, ${rounds} rounds; ${machine.cpu}, ${machine.cores} cores; load average ${loadAverage().toFixed(2)}`);
  const oursMs: number[] = [];
  const theirsMs: number[] = [];
  for (let i = 0; i < rounds; ++i) {
    oursMs.push(await timed(ours));
    theirsMs.push(await timed(theirs));
  }
  const ratios = oursMs.map((ms, i) => theirsMs[i] / ms);
  console.log(`tsvision ${median(oursMs).toFixed(1)} ms, onnxruntime ${median(theirsMs).toFixed(1)} ms a step (medians)`);
  console.log(`speed ratio vs onnxruntime (median of rounds): ${median(ratios).toFixed(2)}×; rounds: ${ratios.map((r) => r.toFixed(2)).join(' ')}`);
  await session.release();
}
