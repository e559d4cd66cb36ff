/**
 * `npm run bench -- profile <model> [batch] [dtype] [--by-shape] [--top N]`: where the time of
 * one forward pass of a model goes, per native op (src/tensor/profiler.ts). One untimed forward
 * runs first so that oneDNN primitive creation and first-touch page faults are not counted.
 */
import * as T from '../src/index.ts';
import { loadAverage, machineInfo } from './harness.ts';

const USAGE = 'usage: npm run bench -- profile <model> [batch=1] [dtype=float32|bfloat16] [--by-shape] [--top N]';

interface ProfileArgs {
  model: string;
  batch: number;
  dtype: 'float32' | 'bfloat16';
  byShape: boolean;
  top?: number;
}

function parseArgs(args: readonly string[]): ProfileArgs {
  const positional: string[] = [];
  let byShape = false;
  let top: number | undefined;
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--by-shape') byShape = true;
    else if (args[i] === '--top') top = Number(args[++i]);
    else if (args[i].startsWith('-')) throw new T.ArgumentError(`bench profile: unknown option '${args[i]}'; ${USAGE}`);
    else positional.push(args[i]);
  }
  const [model, batchArg = '1', dtypeArg = 'float32', ...extra] = positional;
  if (model === undefined || extra.length > 0) throw new T.ArgumentError(`bench profile: ${model === undefined ? 'missing model name' : `unexpected arguments: ${extra.join(' ')}`}; ${USAGE}`);
  const batch = Number(batchArg);
  if (!Number.isInteger(batch) || batch < 1) throw new T.ArgumentError(`bench profile: batch must be a positive integer, got '${batchArg}'`);
  const dtype = ({ float32: 'float32', f32: 'float32', bfloat16: 'bfloat16', bf16: 'bfloat16' } as const)[dtypeArg];
  if (dtype === undefined) throw new T.ArgumentError(`bench profile: dtype must be float32 or bfloat16, got '${dtypeArg}'`);
  if (top !== undefined && !(Number.isInteger(top) && top > 0)) throw new T.ArgumentError(`bench profile: --top takes a positive integer`);
  return { model, batch, dtype, byShape, top };
}

/** Prints the per-op profile of one forward pass of a model. */
export async function runProfileBench(args: readonly string[]): Promise<void> {
  const { model: name, batch, dtype, byShape, top } = parseArgs(args);
  const model = T.buildModel(name).eval();
  if (dtype === 'bfloat16') model.to('bfloat16');
  const cfg = T.imagePreprocess(model.pretrainedCfg)!;
  const x = T.randn([batch, ...cfg.inputSize], { generator: new T.Generator(0) }).to(dtype);
  const forward = () => T.noGrad(() => model.forward(x)).dispose();
  const machine = machineInfo();
  console.log(`${model.modelName}, batch ${batch}, ${dtype}, input ${[batch, ...cfg.inputSize].join('x')}; ${T.native.getNumThreads()} threads; ${machine.cpu}, ${machine.cores} cores; load average ${loadAverage().toFixed(2)}`);
  forward();
  const { report } = T.profile(forward, { byShape });
  console.log(report.format({ top }));
}
