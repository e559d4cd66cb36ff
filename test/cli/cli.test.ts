/** The tsvision command, spawned as a user runs it (bin/tsvision.js): help, version, bad usage, demo. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/tsvision.js', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('--help prints usage listing the commands, exit 0', () => {
  const r = cli('--help');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: tsvision <command>/);
  assert.match(r.stdout, /^\s+demo\s/m);
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
