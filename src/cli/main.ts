/**
 * The tsvision command line: `tsvision <command> [options]`. Each command lives in
 * commands/NAME.ts as one option table (options.ts turns it into parsing, validation and help);
 * a command's task modules are imported only when it runs, so --help and --version work
 * without loading the native addon. Exit codes: 0 success, 1 failure, 2 bad usage.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TsvisionError } from '../errors.ts';
import { classifyCommand } from './commands/classify.ts';
import { demoCommand } from './commands/demo.ts';
import { evalCommand } from './commands/eval.ts';
import { indexCommand } from './commands/index-images.ts';
import { inferCommand } from './commands/infer.ts';
import { modelsCommand } from './commands/models.ts';
import { plotCommand } from './commands/plot.ts';
import { searchCommand } from './commands/search.ts';
import { tokenizeCommand } from './commands/tokenize.ts';
import { trainCommand } from './commands/train.ts';
import { trainClipCommand } from './commands/train-clip.ts';
import { zeroshotCommand } from './commands/zeroshot.ts';
import { formatColumns, UsageError, type Command } from './options.ts';

const COMMANDS: Record<string, Command> = {
  classify: classifyCommand,
  infer: inferCommand,
  models: modelsCommand,
  train: trainCommand,
  'train-clip': trainClipCommand,
  eval: evalCommand,
  plot: plotCommand,
  index: indexCommand,
  search: searchCommand,
  tokenize: tokenizeCommand,
  zeroshot: zeroshotCommand,
  demo: demoCommand,
};

function packageVersion(): string {
  const file = fileURLToPath(new URL('../../package.json', import.meta.url));
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** The top-level help: the commands and the global options. */
function usage(): string {
  return [
    'Usage: tsvision <command> [options]',
    '',
    'Commands:',
    ...formatColumns(Object.entries(COMMANDS).map(([name, c]) => [name, c.summary])),
    '',
    "Run 'tsvision <command> --help' for a command's arguments and options.",
    '',
    'Options:',
    ...formatColumns([
      ['-h, --help', 'show this help'],
      ['-v, --version', 'print the version'],
    ]),
  ].join('\n');
}

function findCommand(name: string): Command {
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new UsageError(`unknown command '${name}'`);
  return command;
}

async function dispatch(argv: readonly string[]): Promise<void> {
  const [first, ...rest] = argv;
  const print = (text: string) => console.log(text);
  if (first === undefined) throw new UsageError('missing command');
  if (first === '-h' || first === '--help') print(usage());
  else if (first === 'help') print(rest[0] === undefined ? usage() : findCommand(rest[0]).help(rest[0]));
  else if (first === '-v' || first === '--version') print(packageVersion());
  else if (first.startsWith('-')) throw new UsageError(`unknown option '${first}'`);
  else await findCommand(first).execute(first, rest, print);
}

function usageHint(e: UsageError): string {
  const command = e.command !== undefined && Object.hasOwn(COMMANDS, e.command) ? COMMANDS[e.command] : undefined;
  return command ? `Usage: ${command.usage(e.command!)}\nRun 'tsvision ${e.command} --help' for its options.` : usage();
}

/** Runs the CLI on argv (without node and script) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await dispatch(argv);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`tsvision: ${e.message}\n\n${usageHint(e)}`);
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
