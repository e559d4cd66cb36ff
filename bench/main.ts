/**
 * Benchmark entry: `npm run bench -- <name> [args]`. Each benchmark runs tsvision and its peers in one
 * process tree, prints a table with ratios and appends its rows to bench/results/<name>-<date>.csv.
 * `profile` and `pair` are the odd ones out: where one forward pass spends its time, and a ratio from
 * steps taken in turns in one process; neither is recorded.
 */
const BENCHES: Record<string, { usage: string; summary: string; run: (args: string[]) => Promise<void> }> = {
  ops: {
    usage: 'ops',
    summary: 'matmul, 3x3 conv forward/backward and tiny-op overhead, f32 and bf16, next to onnxruntime-node',
    run: async (args) => {
      if (args.length > 0) throw new UsageError(`unexpected arguments: ${args.join(' ')}`);
      await (await import('./ops.ts')).runOpsBench();
    },
  },
  models: {
    usage: 'models [model ...]',
    summary: 'images/s and peak RSS of whole models, batch 1 and 16, f32 and bf16, next to onnxruntime-node and PyTorch',
    run: async (args) => (await import('./models.ts')).runModelsBench(args),
  },
  clip: {
    usage: 'clip [model ...]',
    summary: 'CLIP image/text embedding throughput, batch 1 and 32, next to onnxruntime-node; index images/s vs pure forward',
    run: async (args) => (await import('./clip.ts')).runClipBench(args),
  },
  train: {
    usage: 'train [model ...] [--batch N --steps N --max-seconds S]',
    summary: 'training images/s, peak RSS and RSS growth, f32 and bf16, next to PyTorch (batch 32 at 224)',
    run: async (args) => (await import('./train.ts')).runTrainBench(args),
  },
  pair: {
    usage: 'pair <model> [batch] [--rounds N]',
    summary: 'tsvision and onnxruntime-node f32 taking turns step by step in one process (not recorded)',
    run: async (args) => (await import('./pair.ts')).runPairBench(args),
  },
  profile: {
    usage: 'profile <model> [batch] [dtype] [--by-shape] [--top N]',
    summary: 'per-op time of one forward pass of a model (not recorded in bench/results)',
    run: async (args) => (await import('./profile.ts')).runProfileBench(args),
  },
};

class UsageError extends Error {}

const usage = ['Usage: npm run bench -- <name> [args]', '', 'Benchmarks:', ...Object.values(BENCHES).map((b) => `  ${b.usage.padEnd(56)} ${b.summary}`)].join('\n');

const [name, ...extra] = process.argv.slice(2);
if (name === '-h' || name === '--help') {
  console.log(usage);
} else if (name === undefined || !Object.hasOwn(BENCHES, name)) {
  console.error(`bench: ${name === undefined ? 'missing benchmark name' : `unknown benchmark '${name}'`}\n\n${usage}`);
  process.exitCode = 2;
} else {
  try {
    await BENCHES[name].run(extra);
  } catch (e) {
    const { ArgumentError } = await import('../src/errors.ts');
    if (!(e instanceof UsageError || e instanceof ArgumentError)) throw e;
    console.error(`bench ${name}: ${e.message}\n\n${usage}`);
    process.exitCode = 2;
  }
}
