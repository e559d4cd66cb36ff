#!/usr/bin/env node
// The package's install step: builds the native addon (build/Release/tsvision.node) only when it
// is missing or out of date, so `npm ci`, `npx tsvision` (which runs this in a checkout) and
// `npm run build:native` cost nothing when nothing changed.
//
// Up to date means: the stamp written beside the addon by the last successful build holds the
// same key, a sha256 of binding.gyp, every file under native/, node's module ABI, the platform,
// the architecture, the CPU's model and feature flags (the addon is compiled with -march=native),
// and the node-addon-api version. A build runs in build/staging/ (a mirror of binding.gyp and native/,
// kept between builds so make recompiles only what changed); the addon replaces the old one by a
// rename once the build succeeded, so a failed or interrupted build leaves the previous addon.
//
// Usage: node scripts/install-native.mjs [--force] [--dry-run] [--root DIR] [--build-command CMD]
//   --force          build even when the addon is up to date (a clean build: the staging is wiped)
//   --dry-run        say whether a build is needed, build nothing
//   --root DIR       the package root (default: this script's package)
//   --build-command  run CMD through the shell in the staging folder instead of node-gyp; it must
//                    leave build/Release/tsvision.node there (tests use it to stand in for a build)
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ADDON = join('build', 'Release', 'tsvision.node');
const STAGING = join('build', 'staging');

const { values: args } = parseArgs({
  options: { force: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, root: { type: 'string' }, 'build-command': { type: 'string' } },
});
const root = resolve(args.root ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const log = (line) => console.error(`install-native: ${line}`);

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []))
    .sort();
}

function sources() {
  return [join(root, 'binding.gyp'), ...filesUnder(join(root, 'native'))];
}

function addonApiVersion() {
  try {
    return JSON.parse(readFileSync(createRequire(join(root, 'package.json')).resolve('node-addon-api/package.json'), 'utf8')).version;
  } catch {
    return 'none';
  }
}

// The instruction-set extensions -march=native compiles for: the kernel's flag list where there is one
// (a virtual CPU's model name can be the same across CPU generations), else the model name.
function cpuFeatures() {
  try {
    const flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
    if (flags) return createHash('sha256').update(flags).digest('hex').slice(0, 16);
  } catch {
    // Not Linux: the model name below is what there is.
  }
  return cpus()[0]?.model ?? 'unknown';
}

function buildKey() {
  const hash = createHash('sha256');
  for (const file of sources()) hash.update(`${relative(root, file)}\0`).update(readFileSync(file)).update('\0');
  const target = { abi: process.versions.modules, napi: process.versions.napi, platform: process.platform, arch: process.arch, cpu: cpus()[0]?.model ?? '', cpuFeatures: cpuFeatures(), addonApi: addonApiVersion() };
  return { key: hash.update(JSON.stringify(target)).digest('hex'), target };
}

function readStamp(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

// Why the addon must be built, or null when it is up to date.
function staleReason(key) {
  if (args.force) return '--force';
  if (!existsSync(join(root, ADDON))) return `${ADDON} is missing`;
  const stamp = readStamp(join(root, `${ADDON}.stamp`));
  if (!stamp) return `${ADDON} has no build stamp`;
  return stamp.key === key ? null : 'binding.gyp, native/, node or the CPU changed since the last build';
}

// Mirrors binding.gyp and native/ into the staging folder. Unchanged files are left alone, so make
// skips them; a changed file is written now, so make rebuilds it even when its own time is older
// than an object compiled from earlier content (a source edited while a build ran).
function syncStaging(staging) {
  const wanted = new Set(sources().map((f) => relative(root, f)));
  for (const file of filesUnder(join(staging, 'native'))) if (!wanted.has(relative(staging, file))) rmSync(file);
  for (const rel of wanted) {
    const from = join(root, rel);
    const to = join(staging, rel);
    if (existsSync(to) && readFileSync(to).equals(readFileSync(from))) continue;
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
  }
}

// node-gyp would otherwise fetch node's headers from the network; the running node's own are used when it ships them.
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

function run(command, argv, cwd) {
  const r = spawnSync(command, argv, { cwd, stdio: 'inherit', shell: argv.length === 0 });
  if (r.error) throw r.error;
  return r.status === 0;
}

function build(staging) {
  if (args['build-command']) return run(args['build-command'], [], staging);
  const gyp = createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  const gypChanged = readStamp(join(staging, 'configured.json'))?.gyp !== readFileSync(join(root, 'binding.gyp'), 'utf8') + process.version;
  if (gypChanged || !existsSync(join(staging, 'build', 'Makefile'))) {
    if (!run(process.execPath, [gyp, 'configure', ...nodedirArgs()], staging)) return false;
    writeFileSync(join(staging, 'configured.json'), JSON.stringify({ gyp: readFileSync(join(root, 'binding.gyp'), 'utf8') + process.version }));
  }
  return run(process.execPath, [gyp, 'build', '-j', 'max'], staging);
}

// Writes `file` by a rename, so a reader (or an interrupt) never sees half of it.
function replaceFile(file, write) {
  const temp = `${file}.${process.pid}.tmp`;
  write(temp);
  renameSync(temp, file);
}

const { key, target } = buildKey();
const reason = staleReason(key);
if (!reason) {
  log(`${ADDON} is up to date`);
  process.exit(0);
}
if (args['dry-run']) {
  log(`would build: ${reason}`);
  process.exit(0);
}
log(`building ${ADDON}: ${reason}`);
const staging = join(root, STAGING);
if (args.force) rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });
syncStaging(staging);
const built = join(staging, ADDON);
rmSync(built, { force: true });
if (!build(staging) || !existsSync(built) || statSync(built).size === 0) {
  log(`the build failed; ${existsSync(join(root, ADDON)) ? `the previous ${ADDON} is left in place` : `there is no ${ADDON}`}`);
  process.exit(1);
}
mkdirSync(join(root, dirname(ADDON)), { recursive: true });
replaceFile(join(root, ADDON), (temp) => copyFileSync(built, temp));
replaceFile(join(root, `${ADDON}.stamp`), (temp) => writeFileSync(temp, `${JSON.stringify({ key, ...target, builtAt: new Date().toISOString() }, null, 2)}\n`));
log(`built ${ADDON}`);
