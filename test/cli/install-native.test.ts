/**
 * scripts/install-native.mjs (the package's install step) on a scratch package root, with
 * --build-command standing in for node-gyp: a second install does not rebuild, a change to the
 * native sources does, and a failed or interrupted build leaves the previous addon in place.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../scripts/install-native.mjs', import.meta.url));
let root = '';
let addon = '';
let buildLog = '';

// A stand-in build: records that it ran, then "compiles" the staged source into the addon.
const goodBuild = () => `node -e "fs.appendFileSync('${buildLog}', 'build\\n'); fs.mkdirSync('build/Release', { recursive: true }); fs.copyFileSync('native/src/a.cc', 'build/Release/tsvision.node')"`;
const failingBuild = () => `node -e "fs.mkdirSync('build/Release', { recursive: true }); fs.writeFileSync('build/Release/tsvision.node', 'half'); process.exit(1)"`;

function install(...args: string[]) {
  const r = spawnSync(process.execPath, [script, '--root', root, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stderr: r.stderr };
}
const builds = () => (fs.existsSync(buildLog) ? fs.readFileSync(buildLog, 'utf8').split('\n').filter(Boolean).length : 0);

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-install-'));
  fs.mkdirSync(path.join(root, 'native', 'src'), { recursive: true });
  fs.writeFileSync(path.join(root, 'binding.gyp'), '{ "targets": [] }\n');
  fs.writeFileSync(path.join(root, 'native', 'src', 'a.cc'), 'int a = 1;\n');
  addon = path.join(root, 'build', 'Release', 'tsvision.node');
  buildLog = path.join(root, 'builds.log');
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

test('the first install builds; the second finds the addon up to date and does not build', () => {
  const first = install('--build-command', goodBuild());
  assert.equal(first.code, 0, first.stderr);
  assert.equal(builds(), 1);
  assert.equal(fs.readFileSync(addon, 'utf8'), 'int a = 1;\n');
  const second = install('--build-command', goodBuild());
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /up to date/);
  assert.equal(builds(), 1, 'the second install rebuilt');
  assert.match(install('--dry-run').stderr, /up to date/);
});

test('a changed native source makes the next install rebuild', () => {
  fs.writeFileSync(path.join(root, 'native', 'src', 'a.cc'), 'int a = 2;\n');
  assert.match(install('--dry-run').stderr, /would build: .*changed/);
  assert.equal(builds(), 1, '--dry-run built');
  const r = install('--build-command', goodBuild());
  assert.equal(r.code, 0, r.stderr);
  assert.equal(builds(), 2);
  assert.equal(fs.readFileSync(addon, 'utf8'), 'int a = 2;\n');
  assert.equal(install('--build-command', goodBuild()).code, 0);
  assert.equal(builds(), 2);
});

test('a failed build leaves the previous addon, and the next install builds again', () => {
  fs.writeFileSync(path.join(root, 'native', 'src', 'a.cc'), 'int a = 3;\n');
  const failed = install('--build-command', failingBuild());
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /the build failed; the previous build\/Release\/tsvision.node is left in place/);
  assert.equal(fs.readFileSync(addon, 'utf8'), 'int a = 2;\n');
  const again = install('--build-command', goodBuild());
  assert.equal(again.code, 0, again.stderr);
  assert.equal(fs.readFileSync(addon, 'utf8'), 'int a = 3;\n');
});

test('an install interrupted mid-build (Ctrl-C) leaves the previous addon', async () => {
  fs.writeFileSync(path.join(root, 'native', 'src', 'a.cc'), 'int a = 4;\n');
  const slowBuild = `node -e "fs.writeFileSync('build-started', ''); fs.mkdirSync('build/Release', { recursive: true }); fs.writeFileSync('build/Release/tsvision.node', 'half'); setTimeout(() => {}, 60000)"`;
  // Detached: its own process group, which receives the SIGINT as a terminal's Ctrl-C would.
  const child = spawn(process.execPath, [script, '--root', root, '--build-command', slowBuild], { detached: true, stdio: 'ignore' });
  const staged = path.join(root, 'build', 'staging', 'build-started');
  const deadline = Date.now() + 30_000;
  while (!fs.existsSync(staged) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.ok(fs.existsSync(staged), 'the stand-in build did not start');
  process.kill(-child.pid!, 'SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? -1 : null))));
  assert.notEqual(code, 0);
  assert.equal(fs.readFileSync(addon, 'utf8'), 'int a = 3;\n');
  assert.match(install('--dry-run').stderr, /would build/);
});

// Like make: recompiles a.cc into build/a.o only when a.cc is newer than a.o, then links the addon from a.o.
const makeLikeBuild = () => `node -e "const o = 'build/a.o'; fs.mkdirSync('build/Release', { recursive: true }); if (!fs.existsSync(o) || fs.statSync('native/src/a.cc').mtimeMs > fs.statSync(o).mtimeMs) fs.copyFileSync('native/src/a.cc', o); fs.copyFileSync(o, 'build/Release/tsvision.node')"`;

test('a source whose file time is older than the object built from its earlier content is still recompiled', () => {
  const source = path.join(root, 'native', 'src', 'a.cc');
  fs.writeFileSync(source, 'int a = 3;\n');
  assert.equal(install('--build-command', makeLikeBuild()).code, 0);
  assert.equal(fs.readFileSync(addon, 'utf8'), 'int a = 3;\n');
  // An edit made while that build ran: its time is before the object's.
  fs.writeFileSync(source, 'int a = 4;\n');
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(source, past, past);
  const r = install('--build-command', makeLikeBuild());
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(addon, 'utf8'), 'int a = 4;\n', 'the stale object was linked');
});
