/**
 * The two hub queries: a file's metadata (`HEAD {endpoint}/{repo}/resolve/{revision}/{file}`:
 * commit, etag, size, read from the first response carrying them, since the hub answers LFS files
 * with a redirect to its CDN) and a repo's file listing (`GET /api/models/{repo}/revision/{rev}`).
 */
import type { HubContext } from './config.ts';
import { HubError } from './error.ts';
import { header, open, readBody, statusError } from './http.ts';
import { isCommitHash } from './names.ts';

const MAX_LISTING_BYTES = 32 << 20;
const ETAG_RE = /^[\w.+=-]{1,256}$/;

/** What the hub says about one file of a revision. */
export interface FileMetadata {
  commit: string;
  /** Names the blob in the cache: the sha256 for LFS files, the git blob sha1 otherwise. */
  etag: string;
  size: number | undefined;
  /** Where the content is: the resolve URL itself or the CDN URL the hub redirected to. */
  downloadUrl: URL;
}

/** A revision's commit and the files it holds. */
export interface RepoListing {
  commit: string;
  files: string[];
}

function encodePath(filename: string): string {
  return filename.split('/').map(encodeURIComponent).join('/');
}

function normalizeEtag(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  return raw.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

function resolveUrl(ctx: HubContext, repoId: string, revision: string, filename: string): URL {
  return new URL(`${ctx.endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${encodePath(filename)}`);
}

/** Commit, etag, size and content URL of one file; the etag is checked to be a safe blob name. */
export async function fileMetadata(ctx: HubContext, repoId: string, revision: string, filename: string): Promise<FileMetadata> {
  const what = `hub file ${repoId}/${filename} (revision ${revision})`;
  const start = resolveUrl(ctx, repoId, revision, filename);
  const { response, url, location } = await open(ctx, 'HEAD', start, {}, true);
  response.resume();
  if (!location && response.statusCode !== 200) throw statusError(response, what);
  const commit = header(response.headers, 'x-repo-commit');
  const etag = normalizeEtag(header(response.headers, 'x-linked-etag') ?? header(response.headers, 'etag'));
  // A redirect's Content-Length is that of its own body, not of the file.
  const sizeText = header(response.headers, 'x-linked-size') ?? (location ? undefined : header(response.headers, 'content-length'));
  if (commit === undefined || !isCommitHash(commit)) {
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

/** The commit a revision points to and the files it holds. */
export async function repoListing(ctx: HubContext, repoId: string, revision: string): Promise<RepoListing> {
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
  if (typeof info.sha !== 'string' || !isCommitHash(info.sha) || !siblings) {
    throw new HubError('Http', `${what}: ${url.href} answered without a commit 'sha' and a 'siblings' list`);
  }
  const files = siblings.map((s: { rfilename?: unknown }) => s?.rfilename).filter((f): f is string => typeof f === 'string');
  return { commit: info.sha, files };
}
