/**
 * Pretrained weights from a `.safetensors` file, a local folder in Hugging Face hub layout, or a
 * hub repo id (`org/name[@revision]`), downloaded into the hub's own cache so that the Python
 * tools (huggingface_hub, transformers, timm, open_clip) and tsvision share one copy.
 *
 * Cache layout, as huggingface_hub writes it:
 *   {cache}/models--{org}--{name}/blobs/{etag}                  the content, named by its ETag
 *                                                                (the sha256 for LFS files)
 *   {cache}/models--{org}--{name}/snapshots/{commit}/{filename}  relative symlink to the blob
 *   {cache}/models--{org}--{name}/refs/{revision}                commit a branch or tag named
 *
 * A download goes to `blobs/{etag}.incomplete`, resumes with a Range request after a dropped
 * connection, is checked against a sha256 ETag, and is renamed into place only when complete and
 * verified, so the cache never holds a partial or corrupt blob under its final name. One process
 * downloads a given blob at a time (an in-process map plus a lock file for other processes).
 *
 * Requests: `HEAD {endpoint}/{repo}/resolve/{revision}/{filename}` for the metadata (commit, etag,
 * size), read from the first response carrying it (the hub answers LFS files with a redirect to a
 * CDN), then `GET` on the URL it names, following redirects to any http(s) URL. The Authorization
 * header goes to the endpoint's origin only, never to a CDN.
 */
import fs from 'node:fs';
import http, { type IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsvisionError } from '../errors.ts';
import { ProgressReporter, type ProgressCallback, type ProgressStream } from './progress.ts';

/** Why weights could not be resolved or a file could not be downloaded. */
export type HubErrorReason =
  | 'InvalidSpec' // not a usable path, repo id, revision or filename
  | 'NotFound' // no such local file/folder, repo, revision or file on the hub
  | 'Offline' // offline mode is on and the file is not cached
  | 'Network' // the hub could not be reached (and the file is not cached)
  | 'Http' // the hub answered with an error status or an unusable response
  | 'Integrity' // downloaded bytes do not match the ETag's sha256 or the announced size
  | 'Io'; // the cache could not be written or read

/** A weights spec or hub download that failed; `reason` says why, `status` is the HTTP status when there was one. */
export class HubError extends TsvisionError {
  readonly reason: HubErrorReason;
  readonly status: number | undefined;
  /** The message without the trailing `(reason)`. */
  readonly detail: string;
  constructor(reason: HubErrorReason, detail: string, status?: number) {
    super('E_HUB', `${detail} (${reason})`);
    this.reason = reason;
    this.status = status;
    this.detail = detail;
  }
}

/** How to reach the hub and where to cache; every field falls back to the variable huggingface_hub reads. */
export interface HubOptions {
  /** Branch, tag or 40-hex commit hash; default `main`. */
  revision?: string;
  /** Cache root; default `HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`. */
  cacheDir?: string;
  /** Hub base URL; default `HF_ENDPOINT`, else `https://huggingface.co`. */
  endpoint?: string;
  /** Bearer token; default `HF_TOKEN`, else the token file `huggingface-cli login` writes. `false`: send none. */
  token?: string | false;
  /** Use the cache only, never the network; default on when `HF_HUB_OFFLINE` is 1/true/yes/on. */
  offline?: boolean;
  /** Receives progress reports; without it a progress line goes to stderr when stderr is a TTY. */
  onProgress?: ProgressCallback;
  /** Socket idle timeout of each request in milliseconds; default 10000. */
  timeoutMs?: number;
  /** Further attempts of a transfer that failed on the network or with HTTP 5xx/429, each resuming; default 2. */
  retries?: number;
}

/** Options of {@link resolveWeights}. */
export interface ResolveOptions extends HubOptions {
  /** Weights files to look for, in order of preference; default {@link WEIGHT_FILES}. */
  weightFiles?: readonly string[];
  /** Companion files taken when present; default {@link COMPANION_FILES}. */
  companionFiles?: readonly string[];
}

/** Where resolved weights and their companion files are on disk. */
export interface ResolvedWeights {
  source: 'file' | 'folder' | 'hub';
  /** The safetensors file to load. */
  weights: string;
  /** The folder holding the files: the local folder or the cache snapshot; absent for a single file. */
  dir?: string;
  /** Every file found, by its name in the hub layout (`config.json`, ...), the weights included. */
  files: Record<string, string>;
  /** For a hub spec: the repo, the revision asked for, and the commit it resolved to. */
  repoId?: string;
  revision?: string;
  commit?: string;
}

/** Weights files of a hub-layout folder, in order of preference. */
export const WEIGHT_FILES = ['model.safetensors', 'open_clip_model.safetensors'] as const;

/** Companion files of a hub-layout folder: model and preprocessing configs, tokenizer files. */
export const COMPANION_FILES = [
  'config.json',
  'preprocessor_config.json',
  'open_clip_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
  'vocab.json',
  'merges.txt',
] as const;

const DEFAULT_ENDPOINT = 'https://huggingface.co';
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRIES = 2;
const RETRY_DELAY_MS = 200;
const MAX_REDIRECTS = 10;
const MAX_LISTING_BYTES = 32 << 20;
const LOCK_POLL_MS = 100;
// A lock whose holder cannot be checked (another host) is stale once its heartbeat stops this long.
const LOCK_STALE_MS = 60_000;
const LOCK_HEARTBEAT_MS = 10_000;

const COMMIT_RE = /^[0-9a-f]{40}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
const REPO_PART_RE = /^\w(?:[\w.-]{0,94}\w)?$/;
const ETAG_RE = /^[\w.+=-]{1,256}$/;

// ---------------------------------------------------------------------------------------------
// Settings

interface Context {
  endpoint: string;
  cacheDir: string;
  token: string | undefined;
  offline: boolean;
  timeoutMs: number;
  retries: number;
  onProgress: ProgressCallback | undefined;
  progressStream: ProgressStream;
}

function env(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

function envFlag(name: string): boolean {
  return ['1', 'true', 'yes', 'on'].includes((env(name) ?? '').toLowerCase());
}

function hfHome(): string {
  return env('HF_HOME') ?? path.join(env('XDG_CACHE_HOME') ?? path.join(os.homedir(), '.cache'), 'huggingface');
}

/** The hub cache root: `cacheDir`, else `HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`. */
export function hubCacheDir(cacheDir?: string): string {
  return path.resolve(cacheDir ?? env('HF_HUB_CACHE') ?? env('HUGGINGFACE_HUB_CACHE') ?? path.join(hfHome(), 'hub'));
}

function readTokenFile(): string | undefined {
  try {
    const token = fs.readFileSync(env('HF_TOKEN_PATH') ?? path.join(hfHome(), 'token'), 'utf8').trim();
    return token === '' ? undefined : token;
  } catch {
    return undefined;
  }
}

function context(options: HubOptions): Context {
  const endpoint = (options.endpoint ?? env('HF_ENDPOINT') ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
  let parsed: URL | undefined;
  try {
    parsed = new URL(endpoint);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new HubError('InvalidSpec', `hub endpoint '${endpoint}' is not an http(s) URL`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = options.retries ?? DEFAULT_RETRIES;
  if (!(timeoutMs > 0)) throw new HubError('InvalidSpec', `timeoutMs must be > 0, got ${timeoutMs}`);
  if (!(Number.isInteger(retries) && retries >= 0)) throw new HubError('InvalidSpec', `retries must be an integer >= 0, got ${retries}`);
  const token = options.token === false ? undefined : (options.token ?? env('HF_TOKEN') ?? env('HUGGING_FACE_HUB_TOKEN') ?? readTokenFile());
  return {
    endpoint,
    cacheDir: hubCacheDir(options.cacheDir),
    token,
    offline: options.offline ?? envFlag('HF_HUB_OFFLINE'),
    timeoutMs,
    retries,
    onProgress: options.onProgress,
    progressStream: envFlag('HF_HUB_DISABLE_PROGRESS_BARS') ? { write: () => true } : process.stderr,
  };
}

// ---------------------------------------------------------------------------------------------
// Names

function checkRepoId(repoId: string): void {
  const parts = typeof repoId === 'string' ? repoId.split('/') : [];
  const ok = parts.length >= 1 && parts.length <= 2 && parts.every((p) => REPO_PART_RE.test(p) && !p.includes('--') && !p.includes('..'));
  if (!ok) throw new HubError('InvalidSpec', `'${repoId}' is not a hub repo id (expected 'org/name': letters, digits, '_', '-', '.'; no '--' or '..')`);
}

// A relative path of safe segments: it becomes a path under the cache, so no '..', no absolute paths.
function checkRelativePath(value: string, what: string): void {
  const ok =
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= 1024 &&
    !/[\\\0-\x1f]/.test(value) &&
    value.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
  if (!ok) throw new HubError('InvalidSpec', `${what} '${value}' is not a relative path of non-empty segments without '..'`);
}

function repoFolderName(repoId: string): string {
  return `models--${repoId.split('/').join('--')}`;
}

function encodePath(filename: string): string {
  return filename.split('/').map(encodeURIComponent).join('/');
}

function normalizeEtag(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  return raw.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

// ---------------------------------------------------------------------------------------------
// HTTP

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isNetworkFailure(error: unknown): boolean {
  return error instanceof HubError && (error.reason === 'Network' || (error.reason === 'Http' && error.status !== undefined && (error.status >= 500 || error.status === 429)));
}

function send(method: 'GET' | 'HEAD', url: URL, headers: Record<string, string>, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(url, { method, headers }, resolve);
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`no data for ${timeoutMs} ms`)));
    request.on('error', (error) => reject(new HubError('Network', `${method} ${url.href}: ${error.message}`)));
    request.end();
  });
}

interface Opened {
  response: IncomingMessage;
  url: URL;
  /** Set when stopped at a redirect that carries file metadata: where the content is. */
  location?: URL;
}

/**
 * Sends a request and follows redirects to any http(s) URL. The token goes to the endpoint's origin
 * only. With `stopAtMetadata`, a redirect whose response names the file's commit or etag is
 * returned instead of followed (the hub's LFS redirect to its CDN).
 */
async function open(ctx: Context, method: 'GET' | 'HEAD', start: URL, headers: Record<string, string>, stopAtMetadata = false): Promise<Opened> {
  const endpointOrigin = new URL(ctx.endpoint).origin;
  let url = start;
  for (let hop = 0; hop <= MAX_REDIRECTS; ++hop) {
    const sent: Record<string, string> = { 'user-agent': `tsvision; node/${process.versions.node}`, 'accept-encoding': 'identity', ...headers };
    if (ctx.token && url.origin === endpointOrigin) sent.authorization = `Bearer ${ctx.token}`;
    const response = await send(method, url, sent, ctx.timeoutMs);
    const status = response.statusCode ?? 0;
    const locationHeader = header(response.headers, 'location');
    if (status < 300 || status >= 400 || status === 304 || locationHeader === undefined) return { response, url };
    response.resume();
    let next: URL;
    try {
      next = new URL(locationHeader, url);
    } catch {
      throw new HubError('Http', `${method} ${url.href}: HTTP ${status} redirect to an invalid URL '${locationHeader}'`, status);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new HubError('Http', `${method} ${url.href}: HTTP ${status} redirect to a non-http URL '${next.href}'`, status);
    }
    if (stopAtMetadata && (response.headers['x-repo-commit'] !== undefined || response.headers['x-linked-etag'] !== undefined)) {
      return { response, url, location: next };
    }
    url = next;
  }
  throw new HubError('Http', `${method} ${start.href}: more than ${MAX_REDIRECTS} redirects`);
}

function statusError(response: IncomingMessage, what: string): HubError {
  const status = response.statusCode ?? 0;
  const code = header(response.headers, 'x-error-code');
  const message = header(response.headers, 'x-error-message');
  const notFound = status === 404 || code === 'RepoNotFound' || code === 'EntryNotFound' || code === 'RevisionNotFound';
  const hint = status === 401 || status === 403 ? '; set HF_TOKEN or the token option for private or gated repos' : '';
  const detail = `${what}: HTTP ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}${hint}`;
  return new HubError(notFound ? 'NotFound' : 'Http', detail, status);
}

async function readBody(response: IncomingMessage, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        response.destroy();
        throw new HubError('Http', `${what}: response larger than ${limit} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof HubError) throw error;
    throw new HubError('Network', `${what}: ${(error as Error).message}`);
  }
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------------------------
// Metadata

interface FileMetadata {
  commit: string;
  etag: string;
  size: number | undefined;
  /** Where the content is: the resolve URL itself or the CDN URL the hub redirected to. */
  downloadUrl: URL;
}

function resolveUrl(ctx: Context, repoId: string, revision: string, filename: string): URL {
  return new URL(`${ctx.endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${encodePath(filename)}`);
}

async function fileMetadata(ctx: Context, repoId: string, revision: string, filename: string): Promise<FileMetadata> {
  const what = `hub file ${repoId}/${filename} (revision ${revision})`;
  const start = resolveUrl(ctx, repoId, revision, filename);
  const { response, url, location } = await open(ctx, 'HEAD', start, {}, true);
  response.resume();
  if (!location && response.statusCode !== 200) throw statusError(response, what);
  const commit = header(response.headers, 'x-repo-commit');
  const etag = normalizeEtag(header(response.headers, 'x-linked-etag') ?? header(response.headers, 'etag'));
  // A redirect's Content-Length is that of its own body, not of the file.
  const sizeText = header(response.headers, 'x-linked-size') ?? (location ? undefined : header(response.headers, 'content-length'));
  if (commit === undefined || !COMMIT_RE.test(commit)) {
    throw new HubError('Http', `${what}: the response from ${url.origin} has no valid X-Repo-Commit header (got '${commit ?? ''}'); is ${ctx.endpoint} a Hugging Face hub?`);
  }
  if (etag === undefined || !ETAG_RE.test(etag) || etag === '.' || etag === '..') {
    throw new HubError('Http', `${what}: the response has no usable ETag (got '${etag ?? ''}')`);
  }
  const size = sizeText !== undefined && /^\d+$/.test(sizeText) ? Number(sizeText) : undefined;
  // Small files are fetched at the commit, so a branch moving between HEAD and GET cannot mix versions.
  const downloadUrl = location ?? (url.href === start.href ? resolveUrl(ctx, repoId, commit, filename) : url);
  return { commit, etag, size, downloadUrl };
}

interface RepoListing {
  commit: string;
  files: string[];
}

async function repoListing(ctx: Context, repoId: string, revision: string): Promise<RepoListing> {
  const what = `hub repo ${repoId} (revision ${revision})`;
  const url = new URL(`${ctx.endpoint}/api/models/${repoId}/revision/${encodeURIComponent(revision)}`);
  const { response } = await open(ctx, 'GET', url, { accept: 'application/json' });
  if (response.statusCode !== 200) {
    response.resume();
    throw statusError(response, what);
  }
  const body = await readBody(response, MAX_LISTING_BYTES, what);
  let info: { sha?: unknown; siblings?: unknown };
  try {
    info = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HubError('Http', `${what}: ${url.href} did not answer with JSON`);
  }
  const siblings = Array.isArray(info.siblings) ? info.siblings : undefined;
  if (typeof info.sha !== 'string' || !COMMIT_RE.test(info.sha) || !siblings) {
    throw new HubError('Http', `${what}: ${url.href} answered without a commit 'sha' and a 'siblings' list`);
  }
  const files = siblings.map((s: { rfilename?: unknown }) => s?.rfilename).filter((f): f is string => typeof f === 'string');
  return { commit: info.sha, files };
}

// ---------------------------------------------------------------------------------------------
// Cache

function exists(file: string): boolean {
  return fs.existsSync(file);
}

function ioError(error: unknown, what: string): unknown {
  if (error instanceof TsvisionError) return error;
  return new HubError('Io', `${what}: ${(error as Error).message}`);
}

// Writes a small file by rename, so a reader sees the old or the new content, never a partial one.
function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** One repo's folder in the hub cache. */
class RepoCache {
  readonly dir: string;
  constructor(
    readonly cacheDir: string,
    readonly repoId: string,
  ) {
    this.dir = path.join(cacheDir, repoFolderName(repoId));
  }

  /** The commit a revision is known to point to: itself when a commit hash, else refs/{revision}. */
  commitOf(revision: string): string | undefined {
    if (COMMIT_RE.test(revision)) return revision;
    try {
      const commit = fs.readFileSync(path.join(this.dir, 'refs', revision), 'utf8').trim();
      return COMMIT_RE.test(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  snapshotDir(commit: string): string {
    return path.join(this.dir, 'snapshots', commit);
  }

  /** The cached file of a revision, when present (a pointer whose blob exists). */
  cached(revision: string, filename: string): string | undefined {
    const commit = this.commitOf(revision);
    if (commit === undefined) return undefined;
    const file = path.join(this.snapshotDir(commit), filename);
    return exists(file) ? file : undefined;
  }

  writeRef(revision: string, commit: string): void {
    if (revision === commit) return;
    if (this.commitOf(revision) !== commit) writeAtomic(path.join(this.dir, 'refs', revision), commit);
  }

  blobPath(etag: string): string {
    return path.join(this.dir, 'blobs', etag);
  }

  lockPath(etag: string): string {
    return path.join(this.cacheDir, '.locks', repoFolderName(this.repoId), `${etag}.tsvision.lock`);
  }

  /** Points snapshots/{commit}/{filename} at the blob with a relative symlink (a copy where symlinks are refused). */
  link(blob: string, commit: string, filename: string): string {
    const pointer = path.join(this.snapshotDir(commit), filename);
    fs.mkdirSync(path.dirname(pointer), { recursive: true });
    const tmp = `${pointer}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      try {
        fs.symlinkSync(path.relative(path.dirname(pointer), blob), tmp);
      } catch (error) {
        if (!['EPERM', 'ENOSYS', 'EOPNOTSUPP'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
        fs.copyFileSync(blob, tmp);
      }
      fs.renameSync(tmp, pointer);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    return pointer;
  }
}

// ---------------------------------------------------------------------------------------------
// Locking: one downloader per blob

const inFlight = new Map<string, Promise<void>>();

function lockIsStale(lock: string): boolean {
  let text: string;
  let mtimeMs: number;
  try {
    text = fs.readFileSync(lock, 'utf8');
    mtimeMs = fs.statSync(lock).mtimeMs;
  } catch {
    return false; // released meanwhile: the next attempt takes it
  }
  const [host, pidText] = text.split(':');
  const pid = Number(pidText);
  if (host === os.hostname() && Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
  return Date.now() - mtimeMs > LOCK_STALE_MS;
}

async function withLock<T>(lock: string, body: () => Promise<T>): Promise<T> {
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      fs.writeFileSync(lock, `${os.hostname()}:${process.pid}`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (lockIsStale(lock)) fs.rmSync(lock, { force: true });
      else await sleep(LOCK_POLL_MS);
    }
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    fs.utimes(lock, now, now, () => undefined);
  }, LOCK_HEARTBEAT_MS);
  heartbeat.unref();
  try {
    return await body();
  } finally {
    clearInterval(heartbeat);
    fs.rmSync(lock, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Transfer

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

// One GET into `partial`, appending to what is there when the server honours the Range.
async function transfer(ctx: Context, meta: FileMetadata, partial: string, label: string): Promise<void> {
  let have = fileSize(partial);
  if (meta.size !== undefined && have > meta.size) {
    fs.rmSync(partial, { force: true });
    have = 0;
  }
  if (have > 0 && have === meta.size) return;
  const what = `download of ${label}`;
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
  if (status !== 200 && !append) {
    response.resume();
    if (status === 206) {
      fs.rmSync(partial, { force: true });
      throw new HubError('Http', `${what}: asked for bytes from ${have}, got Content-Range '${header(response.headers, 'content-range')}'; the partial file was deleted`, status);
    }
    throw statusError(response, what);
  }
  if (!append) have = 0;
  const progress = new ProgressReporter(label, meta.size, have, ctx.onProgress, ctx.progressStream);
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
async function downloadBlob(ctx: Context, meta: FileMetadata, blob: string, label: string): Promise<void> {
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

function ensureBlob(ctx: Context, repo: RepoCache, meta: FileMetadata, label: string): Promise<void> {
  const blob = repo.blobPath(meta.etag);
  let pending = inFlight.get(blob);
  if (!pending) {
    pending = withLock(repo.lockPath(meta.etag), async () => {
      if (!exists(blob)) await downloadBlob(ctx, meta, blob, label);
    }).finally(() => inFlight.delete(blob));
    inFlight.set(blob, pending);
  }
  return pending;
}

// ---------------------------------------------------------------------------------------------
// Public API

function offlineError(repo: RepoCache, revision: string, filename: string, why: string): HubError {
  return new HubError('Offline', `hub file ${repo.repoId}/${filename} (revision ${revision}) is not in the cache at ${repo.dir} and ${why}`);
}

function unreachableError(ctx: Context, repo: RepoCache, revision: string, what: string, cause: unknown): HubError {
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
  const ctx = context(options);
  const repo = new RepoCache(ctx.cacheDir, repoId);
  if (ctx.offline) {
    const hit = repo.cached(revision, filename);
    if (hit) return hit;
    throw offlineError(repo, revision, filename, 'offline mode is on (HF_HUB_OFFLINE or the offline option)');
  }
  if (COMMIT_RE.test(revision)) {
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
    if (exists(pointer)) return pointer;
    await ensureBlob(ctx, repo, meta, `${repoId}/${filename}`);
    return repo.link(repo.blobPath(meta.etag), meta.commit, filename);
  } catch (error) {
    throw ioError(error, `caching ${repoId}/${filename} in ${repo.dir}`);
  }
}

interface Spec {
  kind: 'file' | 'folder' | 'hub';
  path?: string;
  repoId?: string;
  revision?: string;
}

// Whether a spec that names nothing on disk was meant as a path: a repo id has one '/' before any '@'.
function looksLikePath(spec: string): boolean {
  const beforeRevision = spec.split('@')[0];
  return /^[.~\\/]/.test(spec) || /^[A-Za-z]:/.test(spec) || spec.endsWith('.safetensors') || beforeRevision.split('/').length > 2;
}

function parseSpec(spec: string): Spec {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new HubError('InvalidSpec', `weights spec must be a .safetensors file, a folder or a hub repo id 'org/name[@revision]', got ${JSON.stringify(spec)}`);
  }
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(spec);
  } catch {
    stat = undefined;
  }
  if (stat?.isDirectory()) return { kind: 'folder', path: path.resolve(spec) };
  if (stat?.isFile()) {
    if (!spec.endsWith('.safetensors')) {
      throw new HubError('InvalidSpec', `${spec}: weights must be a .safetensors file (or a folder or hub repo id holding model.safetensors)`);
    }
    return { kind: 'file', path: path.resolve(spec) };
  }
  if (looksLikePath(spec)) throw new HubError('NotFound', `${path.resolve(spec)}: no such weights file or folder`);
  const at = spec.indexOf('@');
  const repoId = at < 0 ? spec : spec.slice(0, at);
  const revision = at < 0 ? 'main' : spec.slice(at + 1);
  if (!/^[^/]+\/[^/]+$/.test(repoId)) {
    throw new HubError('InvalidSpec', `'${spec}' is neither an existing file or folder nor a hub repo id 'org/name[@revision]'`);
  }
  checkRepoId(repoId);
  checkRelativePath(revision, `revision of '${spec}'`);
  return { kind: 'hub', repoId, revision };
}

function pickWeights(available: (name: string) => boolean, weightFiles: readonly string[]): string | undefined {
  return weightFiles.find(available);
}

function resolveFolder(dir: string, weightFiles: readonly string[], companions: readonly string[]): ResolvedWeights {
  const present = (name: string) => {
    try {
      return fs.statSync(path.join(dir, name)).isFile();
    } catch {
      return false;
    }
  };
  const weights = pickWeights(present, weightFiles);
  if (weights === undefined) {
    let listing: string[];
    try {
      listing = fs.readdirSync(dir).sort();
    } catch (error) {
      throw new HubError('Io', `${dir}: cannot list the folder: ${(error as Error).message}`);
    }
    throw new HubError('NotFound', `${dir}: no ${weightFiles.join(' or ')} in this folder (it holds: ${listing.length ? listing.join(', ') : 'nothing'})`);
  }
  const files: Record<string, string> = {};
  for (const name of [...companions, weights]) if (present(name)) files[name] = path.join(dir, name);
  return { source: 'folder', weights: files[weights], dir, files };
}

async function resolveFromHub(repoId: string, revision: string, options: ResolveOptions, weightFiles: readonly string[], companions: readonly string[]): Promise<ResolvedWeights> {
  const ctx = context(options);
  const repo = new RepoCache(ctx.cacheDir, repoId);
  let listing: RepoListing | undefined;
  let unreachable: unknown;
  if (!ctx.offline) {
    try {
      listing = await repoListing(ctx, repoId, revision);
    } catch (error) {
      if (!isNetworkFailure(error)) throw error;
      unreachable = error;
    }
  }
  if (!listing) {
    const what = `hub repo ${repoId}`;
    const commit = repo.commitOf(revision);
    const dir = commit === undefined ? undefined : repo.snapshotDir(commit);
    const cachedWeights = dir === undefined ? undefined : pickWeights((name) => exists(path.join(dir, name)), weightFiles);
    if (dir === undefined || cachedWeights === undefined) {
      const where = `${weightFiles.join(' or ')} of ${what} (revision ${revision}) is not in the cache at ${repo.dir}`;
      if (unreachable !== undefined) throw unreachableError(ctx, repo, revision, `${weightFiles.join(' or ')} of ${what}`, unreachable);
      throw new HubError('Offline', `${where} and offline mode is on (HF_HUB_OFFLINE or the offline option)`);
    }
    const local = resolveFolder(dir, [cachedWeights], companions);
    return { ...local, source: 'hub', repoId, revision, commit };
  }
  const available = new Set(listing.files);
  const weights = pickWeights((name) => available.has(name), weightFiles);
  if (weights === undefined) {
    const shown = listing.files.slice(0, 20).join(', ') + (listing.files.length > 20 ? ', ...' : '');
    throw new HubError('NotFound', `hub repo ${repoId} (revision ${revision}, commit ${listing.commit}) has no ${weightFiles.join(' or ')} (it holds: ${shown || 'nothing'})`);
  }
  const pinned: HubOptions = { ...options, revision: listing.commit };
  const files: Record<string, string> = {};
  for (const name of [...companions.filter((f) => available.has(f)), weights]) {
    files[name] = await hubDownload(repoId, name, pinned);
  }
  try {
    repo.writeRef(revision, listing.commit);
  } catch (error) {
    throw ioError(error, `writing refs/${revision} in ${repo.dir}`);
  }
  return { source: 'hub', weights: files[weights], dir: repo.snapshotDir(listing.commit), files, repoId, revision, commit: listing.commit };
}

/**
 * Local paths of pretrained weights named by `spec`: a `.safetensors` file (used as is), a folder
 * in hub layout, or a hub repo id `org/name[@revision]` (downloaded into the hub cache, or taken
 * from it offline). An existing local path always wins over a repo id of the same spelling.
 */
export async function resolveWeights(spec: string, options: ResolveOptions = {}): Promise<ResolvedWeights> {
  const parsed = parseSpec(spec);
  const weightFiles = options.weightFiles ?? WEIGHT_FILES;
  const companions = options.companionFiles ?? COMPANION_FILES;
  if (parsed.kind === 'file') {
    const file = parsed.path!;
    return { source: 'file', weights: file, files: { [path.basename(file)]: file } };
  }
  if (parsed.kind === 'folder') return resolveFolder(parsed.path!, weightFiles, companions);
  try {
    return await resolveFromHub(parsed.repoId!, parsed.revision!, options, weightFiles, companions);
  } catch (error) {
    if (error instanceof HubError && error.reason === 'NotFound') {
      throw new HubError('NotFound', `'${spec}' is not a local file or folder, and ${error.detail}`, error.status);
    }
    throw error;
  }
}
