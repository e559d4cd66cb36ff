/**
 * Cross-process locks on files of the hub cache, compatible with huggingface_hub. It locks
 * `{cache}/.locks/{repo folder}/{etag}.lock` through the `filelock` package, which on Linux and
 * macOS opens the file and polls flock(fd, LOCK_EX | LOCK_NB); flock(2) on the same file here makes
 * a Python download and a tsvision download of one blob exclude each other. The kernel drops a
 * flock when its holder exits, so a crashed downloader never leaves a stale lock. The lock file is
 * never deleted: a process waiting on the old inode would then hold a lock nobody else sees.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HubError } from './error.ts';

type FsExt = typeof import('fs-ext');

/** Options of {@link withFileLock}. */
export interface FileLockOptions {
  /** Milliseconds between attempts while another process holds the lock; default 100. */
  pollMs?: number;
  /** Called once, when the lock is found held and the call starts waiting for it. */
  onWait?: () => void;
}

const DEFAULT_POLL_MS = 100;
// huggingface_hub creates lock files group-writable so users sharing a cache can all take them.
const LOCK_FILE_MODE = 0o664;
const BUSY = new Set(['EAGAIN', 'EWOULDBLOCK']);
// flock(2) is not available on this file system (some network mounts).
const UNSUPPORTED = new Set(['ENOSYS', 'ENOLCK', 'EOPNOTSUPP', 'ENOTSUP']);

let fsExt: FsExt | undefined;
let warnedUnsupported = false;

// Loaded on first use, so a broken native build of fs-ext fails a download, not every import of tsvision.
function loadFsExt(lock: string): FsExt {
  if (!fsExt) {
    try {
      fsExt = createRequire(import.meta.url)('fs-ext') as FsExt;
    } catch (error) {
      throw new HubError('Io', `cannot lock ${lock}: the fs-ext package (flock) did not load (${(error as Error).message}); run 'npm rebuild fs-ext'`);
    }
  }
  return fsExt;
}

function openLockFile(lock: string): number {
  let fd: number;
  try {
    fd = fs.openSync(lock, fs.constants.O_RDWR | fs.constants.O_CREAT, LOCK_FILE_MODE);
  } catch (error) {
    // A lock file another user created without group write: flock needs only a readable descriptor.
    if ((error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
    return fs.openSync(lock, 'r');
  }
  try {
    fs.fchmodSync(fd, LOCK_FILE_MODE); // past the umask, as huggingface_hub does; refused when another user owns it
  } catch {
    // Someone else's lock file keeps its mode.
  }
  return fd;
}

// Whether the descriptor still names the file at `lock` (not one unlinked or replaced since it was opened).
function stillInPlace(fd: number, lock: string): boolean {
  try {
    const held = fs.fstatSync(fd);
    return held.nlink > 0 && fs.statSync(lock).ino === held.ino;
  } catch {
    return false;
  }
}

type Attempt = { fd: number } | 'busy' | 'unsupported';

function tryLock(ext: FsExt, lock: string): Attempt {
  const fd = openLockFile(lock);
  try {
    ext.flockSync(fd, 'exnb');
  } catch (error) {
    fs.closeSync(fd);
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (BUSY.has(code)) return 'busy';
    if (UNSUPPORTED.has(code)) return 'unsupported';
    throw error;
  }
  if (stillInPlace(fd, lock)) return { fd };
  fs.closeSync(fd);
  return 'busy';
}

async function acquire(lock: string, options: FileLockOptions): Promise<number | undefined> {
  const ext = loadFsExt(lock);
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  let waiting = false;
  for (;;) {
    const attempt = tryLock(ext, lock);
    if (attempt === 'unsupported') {
      if (!warnedUnsupported) process.emitWarning(`${lock}: this file system does not support flock(2); downloads into this cache are not locked against other processes`);
      warnedUnsupported = true;
      return undefined;
    }
    if (attempt !== 'busy') return attempt.fd;
    if (!waiting) options.onWait?.();
    waiting = true;
    await sleep(options.pollMs ?? DEFAULT_POLL_MS);
  }
}

/**
 * Runs `body` while this process holds an exclusive flock(2) on `lock` (created when missing),
 * waiting without end while another process, tsvision or huggingface_hub, holds it.
 */
export async function withFileLock<T>(lock: string, body: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  let fd: number | undefined;
  try {
    fd = await acquire(lock, options);
  } catch (error) {
    if (error instanceof HubError) throw error;
    throw new HubError('Io', `cannot lock ${lock}: ${(error as Error).message}`);
  }
  try {
    return await body();
  } finally {
    if (fd !== undefined) fs.closeSync(fd); // closing the only descriptor releases the flock
  }
}
