/**
 * The CLI's declarative option tables: each command lists its options once, with a type
 * (string, integer, number, boolean, choice, repeated), the limits its values must keep and a
 * line of help; from that one table come the parser, the validation, the typed values the
 * command runs with, and the command's `--help`. Tokens come from node:util parseArgs in its
 * non-strict mode (so `--lr -1` reaches the validator as a value instead of parseArgs'
 * "ambiguous" error); every rule is checked here, with messages that name the option, what it
 * expects and what came.
 */
import { parseArgs } from 'node:util';
import { TsvisionError } from '../errors.ts';

/** Bad command-line usage (exit code 2); `command` names the command whose usage it breaks. */
export class UsageError extends TsvisionError {
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super('E_USAGE', message);
    this.command = command;
  }
}

interface OptionCommon {
  /** One line of help. */
  help: string;
  /** The value's name in help (`--top <k>`); default 'value'. */
  placeholder?: string;
}

interface ValueOption<T> extends OptionCommon {
  required?: boolean;
  default?: T;
  /** Documents a default the task computes (the value stays undefined): 'lr/100'. */
  defaultHelp?: string;
  /** Says what is wrong with a value, or null when it is fine (a missing path, a bad spec). */
  check?: (value: T) => string | null;
}

/** A free-form string. */
export interface StringOption extends ValueOption<string> {
  type: 'string';
}

/** A decimal integer (no hex, exponent or fraction) within [min, max]. */
export interface IntegerOption extends ValueOption<number> {
  type: 'integer';
  min?: number;
  max?: number;
}

/** A finite decimal number within [min, max]. */
export interface NumberOption extends ValueOption<number> {
  type: 'number';
  min?: number;
  max?: number;
}

/** A flag without a value; false when absent. */
export interface BooleanOption extends OptionCommon {
  type: 'boolean';
}

/** One of a fixed list of words. */
export interface ChoiceOption<C extends string = string> extends ValueOption<C> {
  type: 'choice';
  choices: readonly C[];
}

/** A string that may be given several times; [] when absent. */
export interface RepeatedOption extends OptionCommon {
  type: 'repeated';
  required?: boolean;
  check?: (value: string) => string | null;
}

/** One option of a command. */
export type OptionSpec = StringOption | IntegerOption | NumberOption | BooleanOption | ChoiceOption | RepeatedOption;

/** A command's options by long name (without the leading dashes). */
export type OptionTable = Record<string, OptionSpec>;

type ValueOf<S> = S extends { type: 'integer' | 'number' }
  ? number
  : S extends { type: 'choice'; choices: readonly (infer C)[] }
    ? C
    : S extends { type: 'boolean' }
      ? boolean
      : S extends { type: 'repeated' }
        ? string[]
        : string;

type AlwaysSet<S> = S extends { type: 'boolean' | 'repeated' } ? true : S extends { required: true } ? true : S extends { default: unknown } ? true : false;

/** The values a table parses to: an option that is required, defaulted, boolean or repeated is never undefined. */
export type OptionValues<T extends OptionTable> = { [K in keyof T]: AlwaysSet<T[K]> extends true ? ValueOf<T[K]> : ValueOf<T[K]> | undefined };

/** Positional arguments of a command: one or more of them, as `IMAGE...` in help. */
export interface PositionalSpec {
  name: string;
  help: string;
}

/** A command as its file declares it. */
export interface CommandSpec<T extends OptionTable> {
  summary: string;
  /** Paragraphs printed under the summary in the command's help. */
  description?: readonly string[];
  positionals?: PositionalSpec;
  options: T;
  run(values: OptionValues<T>, positionals: string[]): Promise<void>;
}

/** A command ready to dispatch: its table is hidden behind parse-and-run, so commands of different tables share one type. */
export interface Command {
  readonly summary: string;
  /** `tsvision NAME IMAGE... [options]` */
  usage(name: string): string;
  /** The command's whole help text. */
  help(name: string): string;
  /** Parses argv against the table (printing help for -h/--help) and runs the command. */
  execute(name: string, argv: readonly string[], print: (text: string) => void): Promise<void>;
}

/** Declares a command; the table's literal types give `run` its typed values. */
export function defineCommand<const T extends OptionTable>(spec: CommandSpec<T>): Command {
  return {
    summary: spec.summary,
    usage: (name) => usageLine(name, spec),
    help: (name) => formatHelp(name, spec),
    async execute(name, argv, print) {
      const parsed = parseCommandLine(name, spec, argv);
      if (parsed === 'help') print(formatHelp(name, spec));
      else await spec.run(parsed.values, parsed.positionals);
    },
  };
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
// A value that starts with '-' is taken as the option's value only when it reads as a number.
const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

function rangeText(o: { min?: number; max?: number }): string {
  if (o.min !== undefined && o.max !== undefined) return ` in [${o.min}, ${o.max}]`;
  if (o.min !== undefined) return ` >= ${o.min}`;
  return o.max !== undefined ? ` <= ${o.max}` : '';
}

function expected(spec: OptionSpec): string {
  switch (spec.type) {
    case 'integer':
      return `an integer${rangeText(spec)}`;
    case 'number':
      return `a number${rangeText(spec)}`;
    case 'choice':
      return `one of ${spec.choices.join(', ')}`;
    default:
      return 'a value';
  }
}

/** Converts and validates one option's raw text; throws a UsageError naming the option and the value. */
export function convertValue(name: string, spec: Exclude<OptionSpec, BooleanOption | RepeatedOption>, raw: string, command?: string): string | number {
  const bad = () => new UsageError(`--${name} expects ${expected(spec)}, got '${raw}'`, command);
  const checked = <V>(value: V, check: ((v: V) => string | null) | undefined): V => {
    const problem = check?.(value);
    if (problem) throw new UsageError(`--${name}: ${problem}`, command);
    return value;
  };
  if (spec.type === 'integer' || spec.type === 'number') {
    if (!(spec.type === 'integer' ? INTEGER : DECIMAL).test(raw)) throw bad();
    const value = Number(raw);
    if (!Number.isFinite(value) || (spec.type === 'integer' && !Number.isSafeInteger(value))) throw bad();
    if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) throw bad();
    return checked(value, spec.check);
  }
  if (spec.type === 'choice' ? !spec.choices.includes(raw) : raw.length === 0) throw bad();
  return checked(raw, spec.check);
}

// The texts given per option name (none for a flag).
type Raw = Map<string, string[]>;

function checkRepeated(name: string, option: RepeatedOption, item: string, command: string): string {
  const problem = item.length === 0 ? 'expects a value, got an empty one' : option.check?.(item);
  if (problem) throw new UsageError(`--${name}: ${problem}`, command);
  return item;
}

/** Reads argv into raw option texts and positionals, checking names, arity and value presence. */
function tokenize(command: string, spec: CommandSpec<OptionTable>, argv: readonly string[]): { raw: Raw; positionals: string[] } | 'help' {
  const { tokens } = parseArgs({ args: [...argv], strict: false, allowPositionals: true, tokens: true, options: parseArgsConfig(spec.options) });
  const isHelp = (text: string | undefined) => text === '--help' || text === '-h';
  // `--weights --help` asks for help too, though parseArgs reads '--help' as the value of --weights.
  if (tokens.some((t) => t.kind === 'option' && (t.name === 'help' || (!t.inlineValue && isHelp(t.value))))) return 'help';
  const raw: Raw = new Map();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      if (!spec.positionals) throw new UsageError(`${command} takes no positional arguments, got '${token.value}'`, command);
      positionals.push(token.value);
    }
    if (token.kind !== 'option') continue;
    const option = Object.hasOwn(spec.options, token.name) ? spec.options[token.name] : undefined;
    if (!option || token.rawName.length === 2) throw new UsageError(`${command}: unknown option '${token.rawName}'`, command);
    const flag = `--${token.name}`;
    if (option.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`${flag} takes no value, got '${token.value}'`, command);
      raw.set(token.name, []);
      continue;
    }
    const value = token.value;
    if (value === undefined) throw new UsageError(`${flag} expects ${expected(option)}, got nothing`, command);
    if (!token.inlineValue && value.startsWith('-') && !NEGATIVE_NUMBER.test(value)) {
      const hint = option.type === 'string' || option.type === 'repeated' ? ` (write ${flag}=${value} for a value that starts with '-')` : '';
      throw new UsageError(`${flag} expects ${expected(option)}, got the option '${value}'${hint}`, command);
    }
    const previous = raw.get(token.name) ?? [];
    if (previous.length > 0 && option.type !== 'repeated') {
      throw new UsageError(`${flag} is given twice ('${previous[0]}', '${value}'); it takes one value`, command);
    }
    raw.set(token.name, [...previous, value]);
  }
  if (spec.positionals && positionals.length === 0) throw new UsageError(`${command}: give at least one ${spec.positionals.name}`, command);
  return { raw, positionals };
}

function parseArgsConfig(table: OptionTable) {
  const config: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(table)) config[name] = o.type === 'boolean' ? { type: 'boolean' } : { type: 'string', multiple: o.type === 'repeated' };
  return config;
}

/** Parses a command's argv by its table: typed, validated values with defaults applied, or 'help' when -h/--help is given. */
export function parseCommandLine<T extends OptionTable>(command: string, spec: CommandSpec<T>, argv: readonly string[]): { values: OptionValues<T>; positionals: string[] } | 'help' {
  const tokens = tokenize(command, spec, argv);
  if (tokens === 'help') return 'help';
  const values: Record<string, unknown> = {};
  // Values given are checked before required ones are missed, so a bad value is reported as such.
  for (const [name, given] of tokens.raw) {
    const option = spec.options[name];
    if (option.type === 'boolean') values[name] = true;
    else if (option.type === 'repeated') values[name] = given.map((item) => checkRepeated(name, option, item, command));
    else values[name] = convertValue(name, option, given[0], command);
  }
  for (const [name, option] of Object.entries(spec.options)) {
    if (tokens.raw.has(name)) continue;
    if (option.type !== 'boolean' && option.required) throw new UsageError(`--${name} is required`, command);
    values[name] = option.type === 'boolean' ? false : option.type === 'repeated' ? [] : option.default;
  }
  return { values: values as OptionValues<T>, positionals: tokens.positionals };
}

function usageLine(name: string, spec: CommandSpec<OptionTable>): string {
  return `tsvision ${name}${spec.positionals ? ` ${spec.positionals.name}...` : ''} [options]`;
}

function notes(o: OptionSpec): string[] {
  const parts: string[] = [];
  if (o.type === 'integer' || o.type === 'number') parts.push(`${o.type}${rangeText(o)}`);
  if (o.type === 'choice') parts.push(o.choices.join(' | '));
  if (o.type === 'repeated') parts.push('repeatable');
  if (o.type !== 'boolean' && o.required) parts.push('required');
  if (o.type !== 'boolean' && o.type !== 'repeated') {
    if (o.default !== undefined) parts.push(`default ${o.default}`);
    else if (o.defaultHelp) parts.push(`default ${o.defaultHelp}`);
  }
  return parts;
}

const HELP_WIDTH = 100;

function wrap(text: string, indent: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent + line.length + 1 + word.length > HELP_WIDTH) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  return [...lines, line];
}

/** Two columns: the left padded to the widest entry, the right wrapped under itself. */
export function formatColumns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.flatMap(([left, right]) => wrap(right, width + 2).map((text, i) => `  ${(i === 0 ? left : '').padEnd(width)}${text}`.trimEnd()));
}

/** The help text of one command, generated from its table. */
export function formatHelp(name: string, spec: CommandSpec<OptionTable>): string {
  const optionRows = Object.entries(spec.options).map(([option, o]) => {
    const left = o.type === 'boolean' ? `--${option}` : `--${option} <${o.placeholder ?? 'value'}>`;
    const extra = notes(o);
    return [left, extra.length ? `${o.help} (${extra.join('; ')})` : o.help] as const;
  });
  const lines = [`Usage: ${usageLine(name, spec)}`, '', spec.summary];
  for (const paragraph of spec.description ?? []) lines.push('', ...wrap(paragraph, 0));
  if (spec.positionals) lines.push('', 'Arguments:', ...formatColumns([[`${spec.positionals.name}...`, spec.positionals.help]]));
  lines.push('', 'Options:', ...formatColumns([...optionRows, ['-h, --help', 'show this help']]));
  return lines.join('\n');
}
