/**
 * Downloads one hub file into the cache. The blob goes to `blobs/{etag}.incomplete`, resumes with a
 * Range request after a dropped connection, is checked against a sha256 ETag and the announced
 * size, and is renamed into place only when complete, so the cache never holds a partial or
 * corrupt blob under its final name. One downloader per blob: an in-process map, and across
 * processes (huggingface_hub's included) the flock of `.locks/{repo folder}/{etag}.lock`.
 */
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProgressReporter } from '../progress.ts';
import { fileMetadata, type FileMetadata } from './api.ts';
import { RepoCache } from './cache-layout.ts';
import { hubContext, type HubContext, type HubOptions } from './config.ts';
import { HubError, ioError } from './error.ts';
import { header, isNetworkFailure, open, statusError } from './http.ts';
import { withFileLock } from './lock.ts';
import { checkRelativePath, checkRepoId, isCommitHash } from './names.ts';

const RETRY_DELAY_MS = 200;
const SHA256_RE = /^[0-9a-f]{64}$/;

const inFlight = new Map<string, Promise<void>>();

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// Writes each chunk synchronously as it arrives: a stream that fails drops what it still buffers,
// so a synchronous write is what keeps every received byte on disk for the resume.
function receive(response: IncomingMessage, fd: number, size: number | undefined, progress: ProgressReporter, what: string, partial: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      if (error === undefined) return resolve();
      response.destroy();
      reject(error);
    };
    response.on('data', (chunk: Buffer) => {
      if (settled) return;
      if (size !== undefined && progress.bytes + chunk.length > size) {
        return settle(new HubError('Integrity', `${what}: the server sent more than the ${size} bytes it announced; the partial file is deleted`));
      }
      try {
        for (let offset = 0; offset < chunk.length; ) offset += fs.writeSync(fd, chunk, offset);
      } catch (error) {
        return settle(new HubError('Io', `${what}: writing ${partial}: ${(error as Error).message}`));
      }
      try {
        progress.advance(chunk.length);
      } catch (error) {
        settle(error);
      }
    });
    response.on('end', () => settle());
    const lost = (reason: string) => settle(new HubError('Network', `${what}: connection lost after ${progress.bytes} of ${size ?? '?'} bytes (${reason})`));
    response.on('error', (error) => lost(error.message));
    response.on('close', () => lost('closed'));
  });
}

// Opens the GET for what `partial` lacks: a Range request when it holds a prefix, the whole file
// again when the server cannot serve that range (416).
async function openTransfer(ctx: HubContext, meta: FileMetadata, partial: string, have: number, what: string): Promise<{ response: IncomingMessage; append: boolean }> {
  let { response } = await open(ctx, 'GET', meta.downloadUrl, have > 0 ? { range: `bytes=${have}-` } : {});
  if (response.statusCode === 416 && have > 0) {
    response.resume();
    fs.rmSync(partial, { force: true });
    have = 0;
    ({ response } = await open(ctx, 'GET', meta.downloadUrl, {}));
  }
  const status = response.statusCode ?? 0;
  const rangeStart = /^bytes (\d+)-/.exec(header(response.headers, 'content-range') ?? '')?.[1];
  const append = status === 206 && Number(rangeStart) === have;
  if (status === 200 || append) return { response, append };
  response.resume();
  if (status === 206) {
    fs.rmSync(partial, { force: true });
    throw new HubError('Http', `${what}: asked for bytes from ${have}, got Content-Range '${header(response.headers, 'content-range')}'; the partial file was deleted`, status);
  }
  throw statusError(response, what);
}

// One GET into `partial`, appending to what is there when the server honours the Range.
async function transfer(ctx: HubContext, meta: FileMetadata, partial: string, label: string): Promise<void> {
  let have = fileSize(partial);
  if (meta.size !== undefined && have > meta.size) {
    fs.rmSync(partial, { force: true });
    have = 0;
  }
  if (have > 0 && have === meta.size) return;
  const what = `download of ${label}`;
  const { response, append } = await openTransfer(ctx, meta, partial, have, what);
  const progress = new ProgressReporter(label, meta.size, append ? have : 0, ctx.onProgress, ctx.progressStream);
  let fd: number;
  try {
    fd = fs.openSync(partial, append ? 'a' : 'w');
  } catch (error) {
    response.destroy();
    throw new HubError('Io', `${what}: opening ${partial}: ${(error as Error).message}`);
  }
  try {
    await receive(response, fd, meta.size, progress, what, partial);
  } catch (error) {
    if (error instanceof HubError && error.reason === 'Integrity') fs.rmSync(partial, { force: true });
    throw error;
  } finally {
    fs.closeSync(fd);
  }
  progress.finish();
  const got = fileSize(partial);
  if (meta.size !== undefined && got < meta.size) {
    throw new HubError('Network', `${what}: connection closed after ${got} of ${meta.size} bytes`);
  }
}

// Downloads the blob: transfer (with retries that resume), verify, fsync, rename into place.
async function downloadBlob(ctx: HubContext, meta: FileMetadata, blob: string, label: string): Promise<void> {
  fs.mkdirSync(path.dirname(blob), { recursive: true });
  const partial = `${blob}.incomplete`;
  for (let attempt = 0; ; ++attempt) {
    try {
      await transfer(ctx, meta, partial, label);
      break;
    } catch (error) {
      if (!isNetworkFailure(error) || attempt >= ctx.retries) throw error;
      await sleep(RETRY_DELAY_MS * (attempt + 1));
    }
  }
  const got = fileSize(partial);
  if (meta.size !== undefined && got !== meta.size) {
    fs.rmSync(partial, { force: true });
    throw new HubError('Integrity', `download of ${label}: got ${got} bytes, the hub announced ${meta.size}; the partial file was deleted`);
  }
  if (SHA256_RE.test(meta.etag)) {
    const digest = await sha256File(partial);
    if (digest !== meta.etag) {
      fs.rmSync(partial, { force: true });
      throw new HubError('Integrity', `download of ${label}: sha256 ${digest} does not match the expected ${meta.etag}; the file was deleted`);
    }
  }
  fsyncFile(partial);
  fs.renameSync(partial, blob);
}

// The blob in the cache, downloaded under its lock unless present once the lock is held
// (another process may have finished it while this one waited).
function ensureBlob(ctx: HubContext, repo: RepoCache, meta: FileMetadata, label: string): Promise<void> {
  const blob = repo.blobPath(meta.etag);
  let pending = inFlight.get(blob);
  if (!pending) {
    const lock = repo.lockPath(meta.etag);
    const onWait = () => {
      if (ctx.progressStream.isTTY) ctx.progressStream.write(`${label}: waiting for another process that is downloading it (lock ${lock})\n`);
    };
    pending = withFileLock(
      lock,
      async () => {
        if (!fs.existsSync(blob)) await downloadBlob(ctx, meta, blob, label);
      },
      { onWait },
    ).finally(() => inFlight.delete(blob));
    inFlight.set(blob, pending);
  }
  return pending;
}

function offlineError(repo: RepoCache, revision: string, filename: string, why: string): HubError {
  return new HubError('Offline', `hub file ${repo.repoId}/${filename} (revision ${revision}) is not in the cache at ${repo.dir} and ${why}`);
}

/** The Network error for a hub that could not be reached while `what` is not cached. */
export function unreachableError(ctx: HubContext, repo: RepoCache, revision: string, what: string, cause: unknown): HubError {
  const status = cause instanceof HubError ? cause.status : undefined;
  return new HubError('Network', `could not reach ${ctx.endpoint} (${(cause as Error).message}) and ${what} (revision ${revision}) is not in the cache at ${repo.dir}`, status);
}

/**
 * Local path of one file of a hub repo, downloaded into the hub cache when needed: a cached
 * file of a commit-hash revision needs no request; a branch or tag costs one HEAD to learn its
 * current commit; offline, or when the hub cannot be reached, the cached file of the revision is used.
 */
export async function hubDownload(repoId: string, filename: string, options: HubOptions = {}): Promise<string> {
  checkRepoId(repoId);
  checkRelativePath(filename, 'filename');
  const revision = options.revision ?? 'main';
  checkRelativePath(revision, 'revision');
  const ctx = hubContext(options);
  const repo = new RepoCache(ctx.cacheDir, repoId);
  if (ctx.offline) {
    const hit = repo.cached(revision, filename);
    if (hit) return hit;
    throw offlineError(repo, revision, filename, 'offline mode is on (HF_HUB_OFFLINE or the offline option)');
  }
  if (isCommitHash(revision)) {
    const hit = repo.cached(revision, filename);
    if (hit) return hit;
  }
  let meta: FileMetadata;
  try {
    meta = await fileMetadata(ctx, repoId, revision, filename);
  } catch (error) {
    if (!isNetworkFailure(error)) throw error;
    const hit = repo.cached(revision, filename);
    if (hit) return hit;
    throw unreachableError(ctx, repo, revision, `hub file ${repoId}/${filename}`, error);
  }
  try {
    repo.writeRef(revision, meta.commit);
    const pointer = path.join(repo.snapshotDir(meta.commit), filename);
    if (fs.existsSync(pointer)) return pointer;
    await ensureBlob(ctx, repo, meta, `${repoId}/${filename}`);
    return repo.link(repo.blobPath(meta.etag), meta.commit, filename);
  } catch (error) {
    throw ioError(error, `caching ${repoId}/${filename} in ${repo.dir}`);
  }
}
