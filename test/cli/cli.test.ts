/** The tsvision command, spawned as a user runs it (bin/tsvision.js): help, version, bad usage, demo. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cli } from './run-cli.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const COMMANDS = ['classify', 'infer', 'models', 'train', 'train-clip', 'eval', 'plot', 'index', 'search', 'tokenize', 'zeroshot', 'demo'];

test('--help prints usage listing the commands, exit 0', () => {
  const r = cli('--help');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: tsvision <command>/);
  for (const name of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${name}\\s`, 'm'), name);
  assert.doesNotMatch(r.stdout, /--steps/, 'the global help lists no command options');
});

test('COMMAND --help (and help COMMAND) prints that command\'s help only, exit 0', () => {
  const helps = new Map(COMMANDS.map((name) => [name, cli(name, '--help')]));
  for (const [name, r] of helps) {
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Usage: tsvision ${name} `), name);
    assert.match(r.stdout, /^ {2}-h, --help +show this help$/m, name);
    assert.doesNotMatch(r.stdout, /^Commands:/m, name);
  }
  assert.match(helps.get('demo')!.stdout, /^ {2}--steps <n> +SGD steps \(integer >= 1; default 100\)$/m);
  assert.doesNotMatch(helps.get('demo')!.stdout, /--model/);
  assert.match(helps.get('train')!.stdout, /^ {2}--opt <name> +optimizer \(adamw \| adam \| sgd \| lamb \| adafactor; default adamw\)$/m);
  assert.match(helps.get('infer')!.stdout, /input spec/);
  assert.equal(cli('help', 'demo').stdout, helps.get('demo')!.stdout);
});

test('--version prints the package version, exit 0', () => {
  const r = cli('--version');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), pkg.version);
});

test('an unknown command names it, prints usage, exit 2', () => {
  const r = cli('frobnicate');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
  assert.match(r.stderr, /Usage: tsvision/);
  assert.equal(r.stdout, '');
});

test('an unknown option names it, prints usage, exit 2', () => {
  for (const args of [['--frobnicate'], ['demo', '--frobnicate']]) {
    const r = cli(...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /'--frobnicate'/);
    assert.match(r.stderr, /Usage: tsvision/);
  }
});

test('a bad option value and a missing command are usage errors, exit 2', () => {
  const bad = cli('demo', '--steps', 'many');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--steps expects an integer >= 1, got 'many'/);
  assert.match(bad.stderr, /^Usage: tsvision demo \[options\]$/m);
  const none = cli();
  assert.equal(none.code, 2);
  assert.match(none.stderr, /missing command/);
});

// Needs conv2d, maxPool2d, relu, logSoftmax and the unary ops from the other op families.
test('demo trains to >= 0.9 test accuracy and reports loss and time', () => {
  const r = cli('demo');
  assert.equal(r.code, 0, r.stderr);
  const losses = [...r.stdout.matchAll(/^step\s+\d+\s+loss (\d+\.\d+)$/gm)].map((m) => Number(m[1]));
  assert.equal(losses.length, 10, r.stdout);
  assert.ok(losses[losses.length - 1] < losses[0], `loss did not fall: ${losses.join(', ')}`);
  const final = /^final: train accuracy (\d\.\d+), test accuracy (\d\.\d+)$/m.exec(r.stdout);
  assert.ok(final, `no final accuracy line in:\n${r.stdout}`);
  assert.ok(Number(final[2]) >= 0.9, `test accuracy ${final[2]} < 0.9`);
  assert.match(r.stdout, /^time: \d+\.\d+ s/m);
});

test('negative and hexadecimal numbers are refused naming the option and the value, exit 2', () => {
  const cases = [
    [['classify', 'x.png', '--model', 'resnet18', '--top', '-1'], "--top expects an integer >= 1, got '-1'"],
    [['classify', 'x.png', '--model', 'resnet18', '--top', '0x10'], "--top expects an integer >= 1, got '0x10'"],
    [['train', '--model', 'resnet18', '--data', 'shapes', '--output', 'unused', '--lr', '-1'], "--lr expects a number >= 0, got '-1'"],
  ] as const;
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.ok(r.stderr.includes(`tsvision: ${message}\n`), r.stderr);
    assert.doesNotMatch(r.stderr, /ambiguous/);
  }
});

test('--data naming a missing path says so before anything runs, exit 2', () => {
  const cases = [
    [['train', '--output', 'unused'], '/missing/data', '/missing/data'],
    [['eval', '--weights', 'unused'], 'cifar10:/missing/cifar', '/missing/cifar'],
  ] as const;
  for (const [args, spec, path] of cases) {
    const r = cli(...args, '--model', 'resnet18', '--data', spec);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`--data: no such file or folder '${path}'`));
  }
});
