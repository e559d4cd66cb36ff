/**
 * HTTP for the hub client: one request with an idle timeout, redirects followed to any http(s)
 * URL, the token sent to the endpoint's origin only (never to a CDN), error statuses turned into
 * HubErrors that carry the hub's own error code.
 */
import http, { type IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { HubContext } from './config.ts';
import { HubError } from './error.ts';

const MAX_REDIRECTS = 10;

/** A response that was opened, and where it came from. */
export interface Opened {
  response: IncomingMessage;
  url: URL;
  /** Set when stopped at a redirect that carries file metadata: where the content is. */
  location?: URL;
}

/** The first value of a response header. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Whether a failure is worth a retry or a fall back to the cache: no connection, HTTP 5xx or 429. */
export function isNetworkFailure(error: unknown): boolean {
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

function redirectTarget(method: string, url: URL, status: number, location: string): URL {
  let next: URL;
  try {
    next = new URL(location, url);
  } catch {
    throw new HubError('Http', `${method} ${url.href}: HTTP ${status} redirect to an invalid URL '${location}'`, status);
  }
  if (next.protocol !== 'http:' && next.protocol !== 'https:') {
    throw new HubError('Http', `${method} ${url.href}: HTTP ${status} redirect to a non-http URL '${next.href}'`, status);
  }
  return next;
}

/**
 * Sends a request and follows redirects to any http(s) URL. The token goes to the endpoint's origin
 * only. With `stopAtMetadata`, a redirect whose response names the file's commit or etag is
 * returned instead of followed (the hub's LFS redirect to its CDN).
 */
export async function open(ctx: HubContext, method: 'GET' | 'HEAD', start: URL, headers: Record<string, string>, stopAtMetadata = false): Promise<Opened> {
  const endpointOrigin = new URL(ctx.endpoint).origin;
  let url = start;
  for (let hop = 0; hop <= MAX_REDIRECTS; ++hop) {
    const sent: Record<string, string> = { 'user-agent': `tsvision; node/${process.versions.node}`, 'accept-encoding': 'identity', ...headers };
    if (ctx.token && url.origin === endpointOrigin) sent.authorization = `Bearer ${ctx.token}`;
    const response = await send(method, url, sent, ctx.timeoutMs);
    const status = response.statusCode ?? 0;
    const location = header(response.headers, 'location');
    if (status < 300 || status >= 400 || status === 304 || location === undefined) return { response, url };
    response.resume();
    const next = redirectTarget(method, url, status, location);
    if (stopAtMetadata && (response.headers['x-repo-commit'] !== undefined || response.headers['x-linked-etag'] !== undefined)) {
      return { response, url, location: next };
    }
    url = next;
  }
  throw new HubError('Http', `${method} ${start.href}: more than ${MAX_REDIRECTS} redirects`);
}

/** The HubError for an error status: NotFound for a missing repo, revision or file, else Http; names the hub's error code. */
export function statusError(response: IncomingMessage, what: string): HubError {
  const status = response.statusCode ?? 0;
  const code = header(response.headers, 'x-error-code');
  const message = header(response.headers, 'x-error-message');
  const notFound = status === 404 || code === 'RepoNotFound' || code === 'EntryNotFound' || code === 'RevisionNotFound';
  const hint = status === 401 || status === 403 ? '; set HF_TOKEN or the token option for private or gated repos' : '';
  const detail = `${what}: HTTP ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}${hint}`;
  return new HubError(notFound ? 'NotFound' : 'Http', detail, status);
}

/** The whole body of a response of at most `limit` bytes. */
export async function readBody(response: IncomingMessage, limit: number, what: string): Promise<Buffer> {
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
