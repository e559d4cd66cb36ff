/**
 * Benchmark entry: `npm run bench -- <name>`. Each benchmark runs tsvision and its peers in one
 * process tree, prints a table with ratios and appends its rows to bench/results/<name>-<date>.csv.
 */
const BENCHES: Record<string, { summary: string; run: () => Promise<void> }> = {
  ops: {
    summary: 'matmul, 3x3 conv forward/backward and tiny-op overhead, f32 and bf16, next to onnxruntime-node',
    run: async () => (await import('./ops.ts')).runOpsBench(),
  },
};

const usage = ['Usage: npm run bench -- <name>', '', 'Benchmarks:', ...Object.entries(BENCHES).map(([name, b]) => `  ${name}  ${b.summary}`)].join('\n');

const [name, ...extra] = process.argv.slice(2);
if (name === '-h' || name === '--help') {
  console.log(usage);
} else if (name === undefined || !Object.hasOwn(BENCHES, name) || extra.length > 0) {
  const problem = name === undefined ? 'missing benchmark name' : !Object.hasOwn(BENCHES, name) ? `unknown benchmark '${name}'` : `unexpected arguments: ${extra.join(' ')}`;
  console.error(`bench: ${problem}\n\n${usage}`);
  process.exitCode = 2;
} else {
  await BENCHES[name].run();
}
