/**
 * The hub cache's download lock against Python: huggingface_hub holds
 * `{cache}/.locks/{repo folder}/{etag}.lock` through the `filelock` package, which on Linux is
 * flock(2) via fcntl.flock. Debian's /usr/bin/python3 plays the other process, once with fcntl.flock
 * directly and once with filelock itself where python3-filelock is installed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { hubDownload } from '../../src/io/hub.ts';
import { withFileLock } from '../../src/io/hub/lock.ts';
import { FakeHub } from '../helpers/fake-hub.ts';

const PYTHON = '/usr/bin/python3';
const hasPython = fs.existsSync(PYTHON);
const hasFilelock = hasPython && spawnSync(PYTHON, ['-c', 'import filelock'], { stdio: 'ignore' }).status === 0;
const KINDS = [
  { kind: 'fcntl', skip: !hasPython && `no ${PYTHON}` },
  { kind: 'filelock', skip: !hasFilelock && `python3-filelock is not installed for ${PYTHON}` },
] as const;

// `hold PATH KIND`: takes the lock, prints 'held', keeps it until a line arrives on stdin.
// `probe PATH KIND`: tries the lock for 0.3 s and prints 'acquired' or 'busy'.
const PY = `
import os, sys
mode, path, kind = sys.argv[1:4]
if kind == 'filelock':
    import filelock
    lock = filelock.FileLock(path)
    try:
        lock.acquire(timeout=-1 if mode == 'hold' else 0.3)
        got = True
    except filelock.Timeout:
        got = False
else:
    import fcntl
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o664)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if mode == 'hold' else fcntl.LOCK_EX | fcntl.LOCK_NB)
        got = True
    except BlockingIOError:
        got = False
if mode == 'hold':
    print('held', flush=True)
    sys.stdin.readline()
else:
    print('acquired' if got else 'busy', flush=True)
`;

const REPO = 'org/locked-model';
const weights = randomBytes(150_000);
const sha256 = createHash('sha256').update(weights).digest('hex');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvision-hub-lock-'));
const savedHome = process.env.HF_HOME;
let hub: FakeHub;
let serial = 0;

function freshCache(): { cacheDir: string; lock: string } {
  const cacheDir = path.join(root, `cache-${++serial}`);
  const lock = path.join(cacheDir, '.locks', 'models--org--locked-model', `${sha256}.lock`);
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  return { cacheDir, lock };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A Python process holding the lock; resolves once it says so. */
async function pythonHolder(lock: string, kind: string): Promise<ChildProcessWithoutNullStreams> {
  const child = spawn(PYTHON, ['-c', PY, 'hold', lock, kind]);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  await waitFor(() => out.includes('held') || child.exitCode !== null, 'the Python holder');
  assert.ok(out.includes('held'), `Python holder failed: ${err}`);
  return child;
}

function exited(child: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

/** What a Python process gets when it tries the lock for 0.3 s. */
function pythonProbe(lock: string, kind: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', PY, 'probe', lock, kind]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`Python probe exited ${code}: ${err}`))));
  });
}

const cdnGets = () => hub.requests.filter((r) => r.server === 'cdn' && r.method === 'GET').length;

before(async () => {
  process.env.HF_HOME = path.join(root, 'hf-home');
  hub = await FakeHub.start();
  hub.commit(REPO, { 'model.safetensors': weights });
});

after(async () => {
  await hub.close();
  fs.rmSync(root, { recursive: true, force: true });
  if (savedHome === undefined) delete process.env.HF_HOME;
  else process.env.HF_HOME = savedHome;
});

beforeEach(() => {
  hub.requests.length = 0;
  hub.gates.clear();
});

describe('withFileLock', () => {
  test('two holders in one process run one after the other; the second is told it waits', async () => {
    const { lock } = freshCache();
    const events: string[] = [];
    let release!: () => void;
    const first = withFileLock(lock, async () => {
      events.push('first in');
      await new Promise<void>((resolve) => (release = resolve));
      events.push('first out');
    });
    await waitFor(() => events.length === 1, 'the first holder');
    let waits = 0;
    const second = withFileLock(lock, async () => void events.push('second in'), { pollMs: 10, onWait: () => ++waits });
    await sleep(100);
    assert.deepEqual(events, ['first in']);
    release();
    await Promise.all([first, second]);
    assert.deepEqual(events, ['first in', 'first out', 'second in']);
    assert.equal(waits, 1);
  });

  test('a failing body releases the lock and its error comes through', async () => {
    const { lock } = freshCache();
    await assert.rejects(withFileLock(lock, async () => Promise.reject(new Error('body failed'))), /body failed/);
    assert.equal(await withFileLock(lock, async () => 'free again'), 'free again');
  });

  test('a lock path under a file: a typed Io error naming it', async () => {
    const file = path.join(root, 'plain-file');
    fs.writeFileSync(file, '');
    await assert.rejects(withFileLock(path.join(file, 'x.lock'), async () => undefined), (e: unknown) => {
      assert.equal((e as { code?: string }).code, 'E_HUB');
      assert.match((e as Error).message, /cannot lock .*plain-file\/x\.lock.*\(Io\)/);
      return true;
    });
  });
});

describe('the download lock is shared with Python (huggingface_hub)', () => {
  for (const { kind, skip } of KINDS) {
    test(`a Python process holding the lock (${kind}) holds back the download until it lets go`, { skip }, async () => {
      const { cacheDir, lock } = freshCache();
      const holder = await pythonHolder(lock, kind);
      let settled = false;
      const download = hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir }).finally(() => (settled = true));
      try {
        await waitFor(() => hub.requests.length > 0, 'the HEAD request');
        await sleep(500);
        assert.equal(settled, false, 'the download waits for the lock');
        assert.equal(cdnGets(), 0, 'no byte is fetched while Python holds the lock');
      } finally {
        holder.stdin.end('\n');
      }
      const file = await download;
      assert.deepEqual(fs.readFileSync(file), weights);
      assert.equal(cdnGets(), 1);
    });

    test(`a download holding the lock holds back Python (${kind}) until it is done`, { skip }, async () => {
      const { cacheDir, lock } = freshCache();
      let open!: () => void;
      hub.gates.set('model.safetensors', new Promise<void>((resolve) => (open = resolve)));
      const download = hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir });
      try {
        await waitFor(() => cdnGets() === 1, 'the download to start');
        assert.equal(await pythonProbe(lock, kind), 'busy');
      } finally {
        open();
      }
      await download;
      assert.equal(await pythonProbe(lock, kind), 'acquired');
    });
  }

  test('a Python holder that is killed leaves no lock behind', { skip: !hasPython && `no ${PYTHON}` }, async () => {
    const { cacheDir, lock } = freshCache();
    const holder = await pythonHolder(lock, 'fcntl');
    holder.kill('SIGKILL');
    await exited(holder);
    const file = await hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir });
    assert.deepEqual(fs.readFileSync(file), weights);
  });
});
