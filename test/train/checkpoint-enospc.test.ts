/**
 * Checkpoints on a full disk: a save that runs out of space throws a CheckpointError saying so,
 * leaves no temp file or half-written checkpoint behind, and keeps the previous checkpoint
 * loadable; an atomic JSON write (best.json) that runs out of space leaves no temp file either.
 * The disk is a 256 KiB tmpfs mounted by the test, so it needs root (mount); otherwise it skips.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { arange, zeros } from '../../src/tensor/index.ts';
import { CheckpointError, loadCheckpoint, markBest, saveCheckpoint, type CheckpointContents } from '../../src/train/checkpoint.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';

const DISK_BYTES = 256 * 1024;

/** Mounts a small tmpfs on a fresh directory; returns it, or why it cannot (the test then skips). */
function mountTinyDisk(): { dir: string } | { skip: string } {
  if (process.platform !== 'linux') return { skip: `tmpfs mounts need Linux, this is ${process.platform}` };
  if (process.getuid?.() !== 0) return { skip: 'mounting a tmpfs needs root' };
  const dir = mkdtempSync(path.join(tmpdir(), 'tsv-enospc-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK_BYTES}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { skip: `mount -t tmpfs not permitted here: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}` };
  }
  return { dir };
}

function unmount(dir: string): void {
  const r = spawnSync('umount', [dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, `umount ${dir}: ${r.stderr}`);
  rmSync(dir, { recursive: true, force: true });
}

function contents(step: number, weights: Map<string, Tensor>): CheckpointContents {
  return {
    model: weights,
    optimizer: null,
    state: { model: 'tiny', epoch: 0, step, bestMetric: null, scheduler: null, loader: null, rng: {}, args: {}, extra: {} },
  };
}

/** Fills the disk with one file until it is full; returns the file. */
function fill(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
  return file;
}

/** Runs fn on a freshly mounted tiny disk, unmounting it after; skips the test when no disk can be mounted. */
function onTinyDisk(t: TestContext, fn: (dir: string) => void): void {
  const disk = mountTinyDisk();
  if ('skip' in disk) {
    t.skip(disk.skip);
    return;
  }
  try {
    fn(disk.dir);
  } finally {
    unmount(disk.dir);
  }
}

test('a checkpoint save onto a full disk throws a clear CheckpointError and keeps the previous checkpoint intact', (t) =>
  onTinyDisk(t, (dir) => {
    const small = new Map([['w', arange(0, 64).reshape([8, 8])]]);
    const first = saveCheckpoint(dir, contents(1, small));
    assert.deepEqual(readdirSync(dir), ['checkpoint-1']);

    // 1 MiB of weights cannot fit on a 256 KiB disk.
    const big = new Map([['w', zeros([512, 512])]]);
    assert.throws(
      () => saveCheckpoint(dir, contents(2, big)),
      (e: unknown) => {
        assert.ok(e instanceof CheckpointError, String(e));
        assert.match(e.message, /^saveCheckpoint: could not write checkpoint-2 in .*: the disk is full \(ENOSPC\)/);
        assert.match(e.message, /the previous checkpoints are kept$/);
        return true;
      },
    );
    assert.deepEqual(readdirSync(dir), ['checkpoint-1'], 'no temp directory or partial checkpoint is left');
    const loaded = loadCheckpoint(dir);
    assert.equal(loaded.path, first);
    assert.equal(loaded.state.step, 1);
    assert.deepEqual(loaded.model.get('w')!.tolist(), small.get('w')!.tolist());

    // A later save that fits still works: the failed one left the space free.
    const next = saveCheckpoint(dir, contents(3, small));
    assert.deepEqual(readdirSync(dir), ['checkpoint-3']);
    assert.equal(loadCheckpoint(dir).path, next);
  }));

test('best.json on a full disk: the atomic write fails without leaving its temp file', (t) =>
  onTinyDisk(t, (dir) => {
    const ckpt = saveCheckpoint(dir, contents(1, new Map([['w', zeros([4])]])));
    const filler = fill(dir);
    assert.throws(() => markBest(dir, ckpt, 0.5), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOSPC');
    assert.deepEqual(readdirSync(dir).sort(), ['checkpoint-1', 'filler']);
    rmSync(filler);
    markBest(dir, ckpt, 0.5);
    assert.deepEqual(readdirSync(dir).sort(), ['best.json', 'checkpoint-1']);
  }));
