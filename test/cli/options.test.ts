/** The CLI's option tables (src/cli/options.ts): typing, validation, defaults and generated help, in process. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convertValue, defineCommand, formatHelp, parseCommandLine, UsageError, type CommandSpec, type OptionTable, type OptionValues } from '../../src/cli/options.ts';

const spec = {
  summary: 'a command to test the parser with',
  description: ['A paragraph under the summary.'],
  positionals: { name: 'FILE', help: 'files to read' },
  options: {
    name: { type: 'string', required: true, placeholder: 'n', help: 'a required string' },
    top: { type: 'integer', min: 1, default: 5, placeholder: 'k', help: 'an integer with a default' },
    lr: { type: 'number', min: 0, placeholder: 'x', help: 'a number', defaultHelp: 'computed later' },
    decay: { type: 'number', min: 0, max: 1, help: 'a number in a range' },
    opt: { type: 'choice', choices: ['adamw', 'sgd'], default: 'adamw', help: 'a choice' },
    verbose: { type: 'boolean', help: 'a flag' },
    input: { type: 'repeated', placeholder: 'file', help: 'a repeated option' },
    even: { type: 'integer', help: 'an integer with a check', check: (v: number) => (v % 2 === 0 ? null : `${v} is odd`) },
  },
  run: async () => {},
} as const satisfies CommandSpec<OptionTable>;

function parse(...argv: string[]) {
  const r = parseCommandLine('test', spec, argv);
  assert.notEqual(r, 'help');
  return r as Exclude<typeof r, 'help'>;
}

function usageError(argv: string[], message: RegExp) {
  assert.throws(() => parseCommandLine('test', spec, argv), (e: unknown) => e instanceof UsageError && message.test(e.message) && e.command === 'test');
}

test('values come typed, with defaults applied, booleans false and repeated options empty when absent', () => {
  const { values, positionals } = parse('a.txt', '--name', 'x', 'b.txt');
  // These assignments typecheck only if the table's types reach the values.
  const top: number = values.top;
  const opt: 'adamw' | 'sgd' = values.opt;
  const lr: number | undefined = values.lr;
  const input: string[] = values.input;
  assert.deepEqual({ top, opt, lr, input, verbose: values.verbose, name: values.name }, { top: 5, opt: 'adamw', lr: undefined, input: [], verbose: false, name: 'x' });
  assert.deepEqual(positionals, ['a.txt', 'b.txt']);
});

test('given values are converted: integers, numbers (also negative and with exponents), choices, flags, repeated', () => {
  const { values } = parse('f', '--name=x', '--top', '12', '--lr', '1e-3', '--decay=.5', '--opt', 'sgd', '--verbose', '--input', 'a', '--input', 'b', '--even', '-4');
  assert.deepEqual(
    { top: values.top, lr: values.lr, decay: values.decay, opt: values.opt, verbose: values.verbose, input: values.input, even: values.even },
    { top: 12, lr: 1e-3, decay: 0.5, opt: 'sgd', verbose: true, input: ['a', 'b'], even: -4 },
  );
});

test('a negative number below the minimum names the option and the value (not an "ambiguous" argument)', () => {
  for (const argv of [['--lr', '-1'], ['--lr=-1']]) usageError(['f', '--name', 'x', ...argv], /^--lr expects a number >= 0, got '-1'$/);
  usageError(['f', '--name', 'x', '--top', '-1'], /^--top expects an integer >= 1, got '-1'$/);
  usageError(['f', '--name', 'x', '--decay', '1.5'], /^--decay expects a number in \[0, 1\], got '1.5'$/);
});

test('integers are decimal only: hex, exponents, fractions and empty text are refused', () => {
  for (const raw of ['0x10', '1e3', '2.5', '', ' 3', '9007199254740993']) usageError(['f', '--name', 'x', `--top=${raw}`], new RegExp(`^--top expects an integer >= 1, got '${raw}'$`));
  for (const raw of ['0x10', 'Infinity', 'NaN', '1e999', '-']) usageError(['f', '--name', 'x', `--lr=${raw}`], /^--lr expects a number >= 0/);
});

test('convertValue checks one value as the parser does', () => {
  assert.equal(convertValue('top', spec.options.top, '7'), 7);
  assert.throws(() => convertValue('top', spec.options.top, '0'), /--top expects an integer >= 1, got '0'/);
  assert.throws(() => convertValue('opt', spec.options.opt, 'rmsprop'), /--opt expects one of adamw, sgd, got 'rmsprop'/);
});

test("an option's check runs on its converted value", () => {
  usageError(['f', '--name', 'x', '--even', '3'], /^--even: 3 is odd$/);
});

test('usage errors: unknown option, missing or option-like value, a value for a flag, a repeated single value, missing arguments', () => {
  usageError(['f', '--name', 'x', '--frob'], /^test: unknown option '--frob'$/);
  usageError(['f', '--name', 'x', '-q'], /^test: unknown option '-q'$/);
  usageError(['f', '--name'], /^--name expects a value, got nothing$/);
  usageError(['f', '--name', '--verbose'], /^--name expects a value, got the option '--verbose' \(write --name=--verbose/);
  usageError(['f', '--name', 'x', '--top', '--verbose'], /^--top expects an integer >= 1, got the option '--verbose'$/);
  usageError(['f', '--name', 'x', '--verbose=yes'], /^--verbose takes no value, got 'yes'$/);
  usageError(['f', '--name', 'x', '--top', '1', '--top', '2'], /^--top is given twice \('1', '2'\); it takes one value$/);
  usageError(['f'], /^--name is required$/);
  usageError(['--name', 'x'], /^test: give at least one FILE$/);
  usageError(['f', '--top', '0'], /^--top expects an integer >= 1, got '0'$/);
  const none = { ...spec, positionals: undefined };
  assert.throws(() => parseCommandLine('test', none, ['stray', '--name', 'x']), /^UsageError: test takes no positional arguments, got 'stray'$/);
});

test('-h or --help anywhere asks for help, before any validation', () => {
  for (const argv of [['--help'], ['-h'], ['--top', '0', '--help'], ['--name', '--help']]) assert.equal(parseCommandLine('test', spec, argv), 'help', argv.join(' '));
});

test('the help is generated from the table: usage, summary, arguments, every option with its type, limits and default', () => {
  const help = formatHelp('test', spec);
  const lines = help.split('\n');
  assert.equal(lines[0], 'Usage: tsvision test FILE... [options]');
  assert.ok(help.includes(spec.summary) && help.includes('A paragraph under the summary.'));
  assert.match(help, /^ {2}FILE\.\.\. +files to read$/m);
  assert.match(help, /^ {2}--name <n> +a required string \(required\)$/m);
  assert.match(help, /^ {2}--top <k> +an integer with a default \(integer >= 1; default 5\)$/m);
  assert.match(help, /^ {2}--lr <x> +a number \(number >= 0; default computed later\)$/m);
  assert.match(help, /^ {2}--decay <value> +a number in a range \(number in \[0, 1\]\)$/m);
  assert.match(help, /^ {2}--opt <value> +a choice \(adamw \| sgd; default adamw\)$/m);
  assert.match(help, /^ {2}--verbose +a flag$/m);
  assert.match(help, /^ {2}--input <file> +a repeated option \(repeatable\)$/m);
  assert.match(help, /^ {2}-h, --help +show this help$/m);
  assert.ok(lines.every((line) => line.length <= 100), 'a help line is wider than 100 columns');
});

test('defineCommand runs the command with the parsed values, or prints its help', async () => {
  let seen: OptionValues<typeof spec.options> | undefined;
  const command = defineCommand({ ...spec, run: async (values) => void (seen = values) });
  const printed: string[] = [];
  await command.execute('test', ['f', '--name', 'y', '--top', '3'], (text) => printed.push(text));
  assert.deepEqual([seen?.name, seen?.top, printed.length], ['y', 3, 0]);
  await command.execute('test', ['--help'], (text) => printed.push(text));
  assert.equal(printed[0], command.help('test'));
  assert.equal(command.usage('test'), 'tsvision test FILE... [options]');
});
