/**
 * The tsvision command line: `tsvision <command> [options]`. Each command is an entry of
 * COMMANDS; its module is imported only when it runs, so --help and --version work without
 * loading the native addon. Exit codes: 0 success, 1 failure, 2 bad usage.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TsvisionError } from '../errors.ts';

type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

interface Command {
  summary: string;
  /** Positional arguments as shown in help (none when absent). */
  args?: string;
  /** Lines describing the options, for help. */
  optionHelp: string[];
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: OptionValues, positionals: string[]): Promise<void>;
}

/** Bad command-line usage; exits with code 2 after printing usage. */
class UsageError extends TsvisionError {
  constructor(message: string) {
    super('E_USAGE', message);
  }
}

function integerOption(values: OptionValues, name: string, fallback: number, min: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${name} expects an integer >= ${min}, got '${String(raw)}'`);
  }
  return n;
}

function stringOption(values: OptionValues, name: string, required: true): string;
function stringOption(values: OptionValues, name: string, required?: false): string | undefined;
function stringOption(values: OptionValues, name: string, required = false): string | undefined {
  const raw = values[name];
  if (raw === undefined) {
    if (required) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  if (typeof raw !== 'string' || raw.length === 0) throw new UsageError(`--${name} expects a value`);
  return raw;
}

const MODEL_OPTIONS = {
  model: { type: 'string' },
  weights: { type: 'string' },
  dtype: { type: 'string' },
} as const;

const MODEL_HELP = [
  '--model <name>     registry model, optionally with a tag (resnet50.tv_in1k)',
  '--weights <w>      .safetensors file, hub-layout folder or hub repo id (random init without)',
  '--dtype <t>        float32 (default) or bfloat16',
];

async function loadCliModel(values: OptionValues) {
  const { createModel } = await import('../io/pretrained.ts');
  const name = stringOption(values, 'model', true);
  const weights = stringOption(values, 'weights');
  const dtype = stringOption(values, 'dtype') ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'bfloat16') throw new UsageError(`--dtype expects float32 or bfloat16, got '${dtype}'`);
  if (!weights) console.error(`tsvision: no --weights given: ${name} has random weights, so its outputs mean nothing`);
  const model = await createModel(name, { weights });
  model.eval();
  if (dtype === 'bfloat16') model.to('bfloat16');
  return model;
}

const COMMANDS: Record<string, Command> = {
  classify: {
    summary: 'classify images with a model (top-k labels and probabilities)',
    args: 'IMAGE...',
    optionHelp: [...MODEL_HELP, '--top <k>          classes per image (default 5)', '--labels <file>    one label per line (default: the model\'s label set)'],
    options: { ...MODEL_OPTIONS, top: { type: 'string' }, labels: { type: 'string' } },
    async run(values, positionals) {
      if (positionals.length === 0) throw new UsageError('classify: give at least one image path');
      const topK = integerOption(values, 'top', 5, 1);
      const model = await loadCliModel(values);
      const { classify } = await import('../tasks/classify.ts');
      const results = await classify(model, positionals, { topK, labels: stringOption(values, 'labels') });
      results.forEach((predictions, i) => {
        console.log(positionals[i]);
        for (const p of predictions) console.log(`  ${(p.probability * 100).toFixed(2).padStart(6)}%  ${p.label} (${p.index})`);
      });
    },
  },
  infer: {
    summary: 'run a model on named input tensors and write its named outputs (safetensors)',
    optionHelp: [...MODEL_HELP, '--input <file>     safetensors with the inputs (pixel_values for classifiers)', '--output <file>    safetensors to write (logits, pre_logits)'],
    options: { ...MODEL_OPTIONS, input: { type: 'string' }, output: { type: 'string' } },
    async run(values) {
      const input = stringOption(values, 'input', true);
      const output = stringOption(values, 'output', true);
      const { readSafetensors, writeSafetensors } = await import('../io/safetensors.ts');
      const { inferNamed } = await import('../tasks/infer.ts');
      const model = await loadCliModel(values);
      const outputs = inferNamed(model, readSafetensors(input).tensors);
      writeSafetensors(output, outputs, { model: model.modelName, producer: 'tsvision infer' });
      for (const [name, t] of outputs) console.log(`${name}: [${t.shape.join(', ')}] ${t.dtype}`);
    },
  },
  models: {
    summary: 'list the registered models with parameter counts and input sizes',
    optionHelp: ['--filter <pattern>  a glob (vit_*) or substring'],
    options: { filter: { type: 'string' } },
    async run(values) {
      const { listModels, resolveModel } = await import('../models/index.ts');
      const names = listModels(stringOption(values, 'filter'));
      const width = Math.max(5, ...names.map((n) => n.length));
      console.log(`${'model'.padEnd(width)}  ${'params'.padStart(8)}  input      default tag`);
      for (const name of names) {
        const { entry, tag, cfg } = resolveModel(name);
        const [, h, w] = cfg.inputSize;
        console.log(`${name.padEnd(width)}  ${(entry.paramCount / 1e6).toFixed(2).padStart(7)}M  ${`${h}x${w}`.padEnd(9)}  ${tag}`);
      }
    },
  },
  demo: {
    summary: 'train a tiny conv net on a built-in synthetic dataset (no downloads)',
    optionHelp: ['--steps <n>   SGD steps (default 100)', '--seed <n>    random seed (default 0)'],
    options: { steps: { type: 'string' }, seed: { type: 'string' } },
    async run(values) {
      const steps = integerOption(values, 'steps', 100, 1);
      const seed = integerOption(values, 'seed', 0, 0);
      const { runDemo } = await import('./demo.ts');
      runDemo({ steps, seed, print: (line) => console.log(line) });
    },
  },
  train: {
    summary: 'train or fine-tune a classifier; checkpoints, metrics.jsonl/csv and curves.png go to --output',
    optionHelp: [
      '--model <name>        registry model (resnet18, vit_tiny_patch16_224, ...)',
      '--data <spec>         shapes | shapes:N | shapes:classes=N,first=K,size=S,train=L,val=L | cifar10:DIR | cifar100:DIR | DIR (ImageFolder: DIR/train, DIR/val)',
      '--output <dir>        checkpoints and logs',
      '--pretrained <w>      weights to fine-tune (the head is replaced when the class count differs)',
      '--epochs <n>          default 10        --batch-size <n>  default 64',
      '--lr <x>              default 2.5e-4 x batch/64      --weight-decay <x>  default 0.05',
      '--opt <name>          adamw (default), adam, sgd, lamb, adafactor',
      '--sched <name>        cosine (default), linear, poly, step, multistep; stepped per update',
      '--warmup-epochs <x>   default min(5, epochs/10)      --min-lr <x>  default lr/100',
      '--mixup <a> --cutmix <a>  Mixup/CutMix alphas (off by default)',
      '--smoothing <x>       label smoothing (default 0.1)  --drop-path <x>  stochastic depth rate',
      '--amp bf16            bfloat16 mixed precision (f32 master weights)',
      '--accum <n>           gradient accumulation steps   --clip-grad <x>  max gradient L2 norm',
      '--teacher <name+w>    distil from a teacher (DeiT); --distill-type hard (default) or soft',
      '--linear-probe        train a fresh head only        --few-shot <k>  k images per class',
      '--workers <n>         data loader worker threads (default 0: batches built on the main thread)',
      '--model-ema           keep an EMA of the weights, evaluated each epoch (ema top-1 in the logs)',
      '--model-ema-decay <x> EMA decay (default 0.9998)     --model-ema-warmup  ramp the decay up (timm)',
      '--resume              continue from the newest checkpoint in --output (exactly)',
      '--checkpoint-every <n>  also checkpoint every n updates   --skip-nonfinite  skip NaN/Inf updates instead of stopping',
      '--skip-corrupt        report and leave out image files that cannot be decoded (default: stop naming the file)',
      '--seed <n>  --img-size <n>  --max-steps <n>',
    ],
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      output: { type: 'string' },
      pretrained: { type: 'string' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      'weight-decay': { type: 'string' },
      opt: { type: 'string' },
      sched: { type: 'string' },
      'warmup-epochs': { type: 'string' },
      'min-lr': { type: 'string' },
      mixup: { type: 'string' },
      cutmix: { type: 'string' },
      smoothing: { type: 'string' },
      'drop-path': { type: 'string' },
      amp: { type: 'string' },
      accum: { type: 'string' },
      'clip-grad': { type: 'string' },
      teacher: { type: 'string' },
      'distill-type': { type: 'string' },
      'linear-probe': { type: 'boolean' },
      'few-shot': { type: 'string' },
      workers: { type: 'string' },
      'model-ema': { type: 'boolean' },
      'model-ema-decay': { type: 'string' },
      'model-ema-warmup': { type: 'boolean' },
      resume: { type: 'boolean' },
      'checkpoint-every': { type: 'string' },
      'skip-nonfinite': { type: 'boolean' },
      'skip-corrupt': { type: 'boolean' },
      seed: { type: 'string' },
      'img-size': { type: 'string' },
      'max-steps': { type: 'string' },
    },
    async run(values) {
      const number = (name: string, min: number): number | undefined => {
        const raw = stringOption(values, name);
        if (raw === undefined) return undefined;
        const n = Number(raw);
        if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} expects a number >= ${min}, got '${raw}'`);
        return n;
      };
      const integer = (name: string, min: number) => (values[name] === undefined ? undefined : integerOption(values, name, 0, min));
      const choice = <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
        const raw = stringOption(values, name);
        if (raw !== undefined && !allowed.includes(raw as T)) throw new UsageError(`--${name} expects one of ${allowed.join(', ')}, got '${raw}'`);
        return raw as T | undefined;
      };
      const amp = choice('amp', ['bf16', 'bfloat16', 'none'] as const);
      const emaDecay = number('model-ema-decay', 0);
      if (emaDecay !== undefined && emaDecay > 1) throw new UsageError(`--model-ema-decay expects a number in [0, 1], got '${emaDecay}'`);
      if ((emaDecay !== undefined || values['model-ema-warmup'] === true) && values['model-ema'] !== true) throw new UsageError('--model-ema-decay and --model-ema-warmup need --model-ema');
      const { runTraining } = await import('../tasks/train.ts');
      const result = await runTraining({
        model: stringOption(values, 'model', true),
        data: stringOption(values, 'data', true),
        output: stringOption(values, 'output', true),
        pretrained: stringOption(values, 'pretrained'),
        epochs: integer('epochs', 1),
        batchSize: integer('batch-size', 1),
        lr: number('lr', 0),
        weightDecay: number('weight-decay', 0),
        opt: choice('opt', ['adamw', 'adam', 'sgd', 'lamb', 'adafactor'] as const),
        sched: choice('sched', ['cosine', 'linear', 'poly', 'step', 'multistep'] as const),
        warmupEpochs: number('warmup-epochs', 0),
        minLr: number('min-lr', 0),
        mixup: number('mixup', 0),
        cutmix: number('cutmix', 0),
        smoothing: number('smoothing', 0),
        dropPath: number('drop-path', 0),
        amp: amp === 'bf16' || amp === 'bfloat16' ? 'bf16' : null,
        accum: integer('accum', 1),
        clipGrad: number('clip-grad', 0),
        teacher: stringOption(values, 'teacher'),
        distillType: choice('distill-type', ['hard', 'soft'] as const),
        linearProbe: values['linear-probe'] === true,
        fewShot: integer('few-shot', 1),
        workers: integer('workers', 0),
        modelEma: values['model-ema'] === true,
        modelEmaDecay: emaDecay,
        modelEmaWarmup: values['model-ema-warmup'] === true,
        resume: values.resume === true,
        checkpointEvery: integer('checkpoint-every', 1),
        onNonFinite: values['skip-nonfinite'] === true ? 'skip' : 'stop',
        onCorrupt: values['skip-corrupt'] === true ? 'skip' : 'fail',
        seed: integer('seed', 0),
        imgSize: integer('img-size', 8),
        maxSteps: integer('max-steps', 1),
      });
      const last = result.history.at(-1);
      if (result.interrupted) {
        throw new TsvisionError('E_INTERRUPTED', `interrupted; ${result.lastCheckpoint ? `saved ${result.lastCheckpoint}; continue with --resume` : 'no checkpoint was written'}`);
      }
      console.log(last ? `done: ${result.stepLosses.length} updates, train loss ${last.trainLoss.toFixed(4)}${last.top1 === null ? '' : `, top-1 ${(last.top1 * 100).toFixed(2)}%, top-5 ${(last.top5! * 100).toFixed(2)}%`}` : `stopped after ${result.stepLosses.length} updates`);
    },
  },
  plot: {
    summary: 'overlay the loss and top-1 curves of training runs in one PNG',
    args: 'RUN_DIR...',
    optionHelp: ['--output <file>     the PNG to write (required)', '--names <a,b,...>   legend names (default: the directory names)'],
    options: { output: { type: 'string' }, names: { type: 'string' } },
    async run(values, positionals) {
      if (positionals.length === 0) throw new UsageError('plot: give at least one run directory (a train --output)');
      const names = stringOption(values, 'names')?.split(',') ?? positionals.map((d) => basename(resolve(d)));
      if (names.length !== positionals.length) throw new UsageError(`--names has ${names.length} names for ${positionals.length} runs`);
      const { plotRuns } = await import('../tasks/plot-runs.ts');
      const output = stringOption(values, 'output', true)!;
      const legend = await plotRuns(positionals.map((dir, i) => ({ dir, name: names[i] })), output);
      console.log(`wrote ${output} (${legend})`);
    },
  },
  eval: {
    summary: 'evaluate weights on a data spec: loss, top-1/top-5 and a confusion matrix',
    optionHelp: [
      '--model <name>      registry model',
      '--weights <w>       a train --output dir, a checkpoint dir, a .safetensors file or hub id',
      '--data <spec>       as for train; the validation split is used (the train split when there is none)',
      '--batch-size <n>    default 64    --img-size <n>  input side (default: the data\'s or the model\'s)',
      '--skip-corrupt      report and leave out image files that cannot be decoded (default: stop naming the file)',
    ],
    options: { model: { type: 'string' }, weights: { type: 'string' }, data: { type: 'string' }, 'batch-size': { type: 'string' }, 'img-size': { type: 'string' }, 'skip-corrupt': { type: 'boolean' } },
    async run(values) {
      const { runEvaluation } = await import('../tasks/train.ts');
      const r = await runEvaluation({
        model: stringOption(values, 'model', true),
        weights: stringOption(values, 'weights', true),
        data: stringOption(values, 'data', true),
        batchSize: integerOption(values, 'batch-size', 64, 1),
        imgSize: values['img-size'] === undefined ? undefined : integerOption(values, 'img-size', 0, 8),
        onCorrupt: values['skip-corrupt'] === true ? 'skip' : 'fail',
      });
      console.log(`images ${r.count}  loss ${r.loss.toFixed(4)}  top-1 ${(r.top1 * 100).toFixed(2)}%  top-5 ${(r.top5 * 100).toFixed(2)}%`);
      if (r.classes.length <= 20) console.log(r.confusion.format(r.classes));
    },
  },
};

function packageVersion(): string {
  const file = fileURLToPath(new URL('../../package.json', import.meta.url));
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = [
    'Usage: tsvision <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).flatMap(([name, c]) => [
      `  ${name.padEnd(width)}  ${c.summary}${c.args ? ` — tsvision ${name} ${c.args} [options]` : ''}`,
      ...c.optionHelp.map((line) => `  ${' '.repeat(width)}    ${line}`),
    ]),
    '',
    'Options:',
    '  -h, --help     show this help',
    '  -v, --version  print the version',
  ];
  return lines.join('\n');
}

// node:util parseArgs reports unknown or malformed flags as TypeErrors with these codes.
function isParseArgsError(e: unknown): e is Error {
  const code = (e as { code?: unknown })?.code;
  return e instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

async function dispatch(argv: readonly string[]): Promise<void> {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UsageError('missing command');
  if (first === '-h' || first === '--help' || first === 'help') {
    console.log(usage());
    return;
  }
  if (first === '-v' || first === '--version') {
    console.log(packageVersion());
    return;
  }
  if (first.startsWith('-')) throw new UsageError(`unknown option '${first}'`);
  const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (!command) throw new UsageError(`unknown command '${first}'`);
  if (rest.includes('-h') || rest.includes('--help')) {
    console.log(usage());
    return;
  }
  let values: OptionValues;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...rest], options: command.options, strict: true, allowPositionals: command.args !== undefined }));
  } catch (e) {
    if (isParseArgsError(e)) throw new UsageError(`${first}: ${e.message}`);
    throw e;
  }
  await command.run(values, positionals);
}

/** Runs the CLI on argv (without node and script) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await dispatch(argv);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`tsvision: ${e.message}\n\n${usage()}`);
      return 2;
    }
    if (e instanceof TsvisionError) {
      console.error(`tsvision: ${e.name} (${e.code}): ${e.message}`);
      return 1;
    }
    throw e;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
