/**
 * Kernels under a signal storm: V8's sampling profiler (`node --cpu-prof`) signals the JS thread
 * every millisecond, and oneDNN's f32 matmul kernel corrupted the heap when a handler ran on its
 * thread mid-call (the process aborted with "corrupted size vs. prev_size" within a few thousand
 * 256×768×768 matmuls). Kernels now defer asynchronous signals until they return.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const tensorIndex = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'tensor', 'index.ts');

test('matmuls and a Winograd conv run to the end under node --cpu-prof', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsvision-cpuprof-'));
  const script = `
    const T = await import(${JSON.stringify(tensorIndex)});
    const a = T.randn([256, 768]), b = T.randn([768, 768]);
    for (let i = 0; i < 3000; i++) T.matmul(a, b).dispose();
    T.configure({ convWinograd: 'always' });
    const x = T.toChannelsLast(T.randn([16, 64, 28, 28])), w = T.randn([64, 64, 3, 3]);
    for (let i = 0; i < 50; i++) T.noGrad(() => T.conv2d(x, w, null, { padding: 1 })).dispose();
    console.log('finished');
  `;
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--cpu-prof', '--cpu-prof-dir', dir, '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 240_000,
    });
    assert.equal(r.status, 0, `child exited with ${r.status} (signal ${r.signal}): ${r.stderr.slice(-500)}`);
    assert.match(r.stdout, /finished/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
