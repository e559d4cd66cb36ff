/**
 * Hub client settings: each option falls back to the environment variable huggingface_hub reads
 * (HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, ...), so both share one cache
 * and one login.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ProgressCallback, ProgressStream } from '../progress.ts';
import { HubError } from './error.ts';

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

/** Settings of one hub call, every default filled in and checked. */
export interface HubContext {
  endpoint: string;
  cacheDir: string;
  token: string | undefined;
  offline: boolean;
  timeoutMs: number;
  retries: number;
  onProgress: ProgressCallback | undefined;
  progressStream: ProgressStream;
}

const DEFAULT_ENDPOINT = 'https://huggingface.co';
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRIES = 2;

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

function checkedEndpoint(raw: string): string {
  const endpoint = raw.replace(/\/+$/, '');
  let parsed: URL | undefined;
  try {
    parsed = new URL(endpoint);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw new HubError('InvalidSpec', `hub endpoint '${endpoint}' is not an http(s) URL`);
  }
  return endpoint;
}

/** The settings of one call: the options given, else the environment, else the defaults; InvalidSpec when one is unusable. */
export function hubContext(options: HubOptions): HubContext {
  const endpoint = checkedEndpoint(options.endpoint ?? env('HF_ENDPOINT') ?? DEFAULT_ENDPOINT);
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
