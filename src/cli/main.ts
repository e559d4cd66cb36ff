/**
 * The tsvision command line: `tsvision <command> [options]`. Each command is an entry of
 * COMMANDS; its module is imported only when it runs, so --help and --version work without
 * loading the native addon. Exit codes: 0 success, 1 failure, 2 bad usage.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TsvisionError } from '../errors.ts';

type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

interface Command {
  summary: string;
  /** Lines describing the options, for help. */
  optionHelp: string[];
  options: NonNullable<ParseArgsConfig['options']>;
  run(values: OptionValues): Promise<void>;
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

const COMMANDS: Record<string, Command> = {
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
      `  ${name.padEnd(width)}  ${c.summary}`,
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
  try {
    ({ values } = parseArgs({ args: [...rest], options: command.options, strict: true, allowPositionals: false }));
  } catch (e) {
    if (isParseArgsError(e)) throw new UsageError(`${first}: ${e.message}`);
    throw e;
  }
  await command.run(values);
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
