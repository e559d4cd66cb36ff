/**
 * configure / getConfiguration: the one place process-wide settings change. Settings the addon reads
 * as it loads are checked in child processes, which start with a known environment.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ArgumentError } from '../../src/errors.ts';
import * as T from '../../src/tensor/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const tensorIndex = path.resolve(here, '..', '..', 'src', 'tensor', 'index.ts');
const nativeModule = path.resolve(here, '..', '..', 'src', 'tensor', 'native.ts');

// Runs an ES module body in a fresh node with `env` added to an environment free of OpenMP and
// oneDNN settings; `T` and `N` (src/tensor/native.ts) are imported; returns what it prints as JSON.
function child(body: string, env: Record<string, string> = {}): unknown {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(OMP_|GOMP_|ONEDNN_|DNNL_)/.test(k)));
  const script = `
    const T = await import(${JSON.stringify(tensorIndex)});
    const N = await import(${JSON.stringify(nativeModule)});
    ${body}
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...clean, ...env },
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `child exited with ${r.status}: ${r.stderr.slice(-800)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

test('defaults, and ompSpinCount reaches libgomp when set before the first tensor operation', () => {
  const r = child(`
    const defaults = T.getConfiguration();
    const loadedAtImport = N.isNativeLoaded();
    T.configure({ ompSpinCount: 123 });
    T.ones([2]);
    let refused = '';
    try { T.configure({ ompSpinCount: 5 }); } catch (e) { refused = e.constructor.name + ': ' + e.message; }
    T.configure({ ompSpinCount: 123 });
    console.log(JSON.stringify({ defaults, loadedAtImport, loaded: N.isNativeLoaded(), env: process.env.GOMP_SPINCOUNT, refused }));
  `) as Record<string, unknown>;
  assert.deepEqual(r.defaults, { convWinograd: true, memoryPoolLimitBytes: 512 << 20, retainFreedMemory: true, ompSpinCount: 10000, threads: null });
  assert.equal(r.loadedAtImport, false, 'importing tsvision does not load the addon');
  assert.equal(r.loaded, true);
  assert.equal(r.env, '123', 'what libgomp read as it loaded');
  assert.match(r.refused as string, /^ArgumentError: configure: ompSpinCount cannot change to 5: libgomp read it \(123\)/);
});

test('the spin count libgomp gets decides whether idle OpenMP threads burn CPU after a kernel', () => {
  // Idle workers spin for ompSpinCount iterations before sleeping: 0 sleeps at once, 10^10 spins for seconds.
  const idleCpuMs = (spin: number) =>
    child(`
      T.configure({ ompSpinCount: ${spin}, threads: 2 });
      const a = T.randn([256, 256]);
      T.matmul(a, a);
      const before = process.cpuUsage();
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
      const used = process.cpuUsage(before);
      console.log(JSON.stringify((used.user + used.system) / 1000));
    `) as number;
  const sleeping = idleCpuMs(0);
  const spinning = idleCpuMs(1e10);
  assert.ok(sleeping < 50, `with ompSpinCount 0 the idle process used ${sleeping} ms of CPU in 500 ms`);
  assert.ok(spinning > 100, `with ompSpinCount 1e10 the idle process used only ${spinning} ms of CPU in 500 ms`);
});

test("libgomp's own environment wins over the default: ompSpinCount is null and GOMP_SPINCOUNT is left alone", () => {
  const r = child(`
    T.ones([2]);
    console.log(JSON.stringify({ spin: T.getConfiguration().ompSpinCount, env: process.env.GOMP_SPINCOUNT ?? 'unset' }));
  `, { OMP_WAIT_POLICY: 'passive' }) as Record<string, unknown>;
  assert.deepEqual(r, { spin: null, env: 'unset' });
});

test('on a CPU whose oneDNN has no bf16 kernels (ONEDNN_MAX_CPU_ISA=AVX2), oneDnnHasBf16 is false and Winograd is on', () => {
  const r = child(`
    const x = T.randn([4, 32]);
    const f32 = T.layerNorm(x.to('bfloat16').to('float32'), [32]).to('bfloat16').to('float32');
    const bf16 = T.layerNorm(x.to('bfloat16'), [32]).to('float32');
    const diff = T.amax(T.abs(T.sub(f32, bf16))).item();
    console.log(JSON.stringify({ bf16: T.native.oneDnnHasBf16(), winograd: T.isConvWinogradEnabled(), diff }));
  `, { ONEDNN_MAX_CPU_ISA: 'AVX2' }) as Record<string, unknown>;
  assert.deepEqual(r, { bf16: false, winograd: true, diff: 0 });
});

test('configure refuses unknown settings and values of the wrong kind, naming what it expected', () => {
  const refuses = (changes: unknown, pattern: RegExp) =>
    assert.throws(() => T.configure(changes as Partial<T.Configuration>), (e: Error) => e instanceof ArgumentError && pattern.test(e.message));
  refuses({ winograd: true }, /unknown setting 'winograd', expected one of convWinograd, memoryPoolLimitBytes, retainFreedMemory, ompSpinCount, threads/);
  refuses({ convWinograd: 'yes' }, /convWinograd must be true, false or 'always', got 'yes'/);
  refuses({ memoryPoolLimitBytes: -1 }, /memoryPoolLimitBytes must be a non-negative integer number of bytes, got -1/);
  refuses({ retainFreedMemory: 1 }, /retainFreedMemory must be a boolean, got 1/);
  refuses({ ompSpinCount: 1.5 }, /ompSpinCount must be a non-negative integer or null, got 1.5/);
  refuses({ threads: 0 }, /threads must be a positive integer or null, got 0/);
  refuses(null, /expected an object of settings, got null/);
  assert.equal(T.getConfiguration().convWinograd, true, 'a refused call changes nothing');
});

test('configure returns every setting and changes take effect at once; getConfiguration is a frozen copy', () => {
  const before = T.getConfiguration();
  try {
    const after = T.configure({ convWinograd: false, retainFreedMemory: false, threads: 1 });
    assert.deepEqual(after, { ...before, convWinograd: false, retainFreedMemory: false, threads: 1 });
    assert.equal(T.isConvWinogradEnabled(), false);
    assert.equal(T.native.getNumThreads(), 1);
    T.configure({ convWinograd: 'always' });
    assert.equal(T.isConvWinogradEnabled(), true);
    assert.throws(() => {
      (T.getConfiguration() as T.Configuration).threads = 4;
    }, TypeError);
  } finally {
    T.configure({ convWinograd: before.convWinograd, retainFreedMemory: before.retainFreedMemory, threads: before.threads });
  }
  assert.deepEqual(T.getConfiguration(), before);
});
