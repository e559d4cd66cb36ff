/**
 * A fake Hugging Face hub on 127.0.0.1 (random ports) serving repos from memory with the hub's
 * URL scheme and headers, plus a second server playing its CDN:
 *   HEAD|GET /{repo}/resolve/{revision}/{file}   small files: 200, ETag = git blob sha1
 *                                               LFS files: 302 to the CDN, X-Linked-Etag = sha256
 *   GET /api/models/{repo}/revision/{revision}  {sha, siblings: [{rfilename}]}
 *   GET {cdn}/blobs/{sha256}                    LFS content
 * Every request is recorded. Faults for tests: drop the connection mid-body once, send corrupt
 * bytes, ignore Range, send a chosen ETag, never answer, hold a body back until the test says.
 */
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

/** A file as the fake hub stores it. */
export interface FakeFile {
  name: string;
  content: Buffer;
  lfs: boolean;
  sha256: string;
  gitSha1: string;
}

/** One request a fake server received. */
export interface RecordedRequest {
  server: 'hub' | 'cdn';
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

interface FakeRepo {
  commits: Map<string, Map<string, FakeFile>>;
  refs: Map<string, string>;
  token?: string;
}

/** Options of {@link FakeHub.commit}. */
export interface CommitOptions {
  /** Branch moved to the new commit; default `main`. */
  ref?: string;
  /** Tags pointing at the new commit. */
  tags?: string[];
  /** Token the repo requires (a gated repo): requests without `Bearer {token}` get 401. */
  token?: string;
  /** Files served as LFS (redirected to the CDN); default: names ending in .safetensors or .bin. */
  lfs?: (name: string) => boolean;
}

const isLfsName = (name: string) => name.endsWith('.safetensors') || name.endsWith('.bin');

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

/** The fake hub and its CDN; `endpoint` goes where `HF_ENDPOINT` would. */
export class FakeHub {
  readonly requests: RecordedRequest[] = [];
  /** The next GET of a file (by name) sends this many body bytes, then drops the connection. */
  readonly dropAfter = new Map<string, number>();
  /** Files whose bytes are sent altered (same length). */
  readonly corrupt = new Set<string>();
  /** Raw ETag header value to send for a file instead of the right one. */
  readonly etagOverride = new Map<string, string>();
  /** The next GET of a file (by name) sends its headers, then its body only once this promise settles. */
  readonly gates = new Map<string, Promise<void>>();
  /** Answer Range requests with the whole file (200). */
  ignoreRange = false;
  /** Accept requests but never answer them. */
  stall = false;
  endpoint = '';
  cdnUrl = '';

  private readonly repos = new Map<string, FakeRepo>();
  private readonly bySha256 = new Map<string, FakeFile>();
  private readonly hub = http.createServer((req, res) => this.route('hub', req, res));
  private readonly cdn = http.createServer((req, res) => this.route('cdn', req, res));

  /** Starts both servers on random ports of 127.0.0.1. */
  static async start(): Promise<FakeHub> {
    const fake = new FakeHub();
    fake.endpoint = await listen(fake.hub);
    fake.cdnUrl = await listen(fake.cdn);
    return fake;
  }

  /** Adds a commit holding `files` to a repo (created when new) and moves the branch to it; returns its sha. */
  commit(repoId: string, files: Record<string, string | Buffer>, options: CommitOptions = {}): string {
    const repo: FakeRepo = this.repos.get(repoId) ?? { commits: new Map(), refs: new Map() };
    this.repos.set(repoId, repo);
    if (options.token !== undefined) repo.token = options.token;
    const sha = randomBytes(20).toString('hex');
    const stored = new Map<string, FakeFile>();
    for (const [name, value] of Object.entries(files)) {
      const content = Buffer.isBuffer(value) ? value : Buffer.from(value);
      const file: FakeFile = {
        name,
        content,
        lfs: (options.lfs ?? isLfsName)(name),
        sha256: createHash('sha256').update(content).digest('hex'),
        gitSha1: createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex'),
      };
      stored.set(name, file);
      this.bySha256.set(file.sha256, file);
    }
    repo.commits.set(sha, stored);
    repo.refs.set(options.ref ?? 'main', sha);
    for (const tag of options.tags ?? []) repo.refs.set(tag, sha);
    return sha;
  }

  /** Recorded requests whose path contains `fragment`. */
  requestsTo(fragment: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.includes(fragment));
  }

  /** Stops both servers, dropping kept-alive and stalled connections. */
  async close(): Promise<void> {
    for (const server of [this.hub, this.cdn]) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  private route(server: 'hub' | 'cdn', req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    this.requests.push({ server, method: req.method ?? '', path: url.pathname, headers: req.headers });
    if (this.stall) return;
    if (server === 'cdn') {
      const file = /^\/blobs\/([0-9a-f]{64})$/.exec(url.pathname) && this.bySha256.get(url.pathname.slice(7));
      if (!file) return this.fail(res, 404, 'EntryNotFound');
      return this.sendBody(req, res, file, {});
    }
    const api = /^\/api\/models\/(.+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (api) return this.listing(req, res, decodeURIComponent(api[1]), decodeURIComponent(api[2]));
    const resolve = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (resolve) return this.resolveFile(req, res, resolve[1], decodeURIComponent(resolve[2]), resolve[3].split('/').map(decodeURIComponent).join('/'));
    this.fail(res, 404, 'NotFound');
  }

  private fail(res: ServerResponse, status: number, code: string): void {
    res.writeHead(status, { 'x-error-code': code, 'x-error-message': `fake hub: ${code}`, 'content-length': 0 });
    res.end();
  }

  // The commit a repo's revision names, or an error answer sent.
  private lookup(req: IncomingMessage, res: ServerResponse, repoId: string, revision: string): { repo: FakeRepo; commit: string } | undefined {
    const repo = this.repos.get(repoId);
    if (!repo) return void this.fail(res, 404, 'RepoNotFound');
    if (repo.token !== undefined && req.headers.authorization !== `Bearer ${repo.token}`) return void this.fail(res, 401, 'GatedRepo');
    const commit = repo.refs.get(revision) ?? (repo.commits.has(revision) ? revision : undefined);
    if (commit === undefined) return void this.fail(res, 404, 'RevisionNotFound');
    return { repo, commit };
  }

  private listing(req: IncomingMessage, res: ServerResponse, repoId: string, revision: string): void {
    const found = this.lookup(req, res, repoId, revision);
    if (!found) return;
    const files = [...found.repo.commits.get(found.commit)!.keys()];
    const body = JSON.stringify({ id: repoId, sha: found.commit, siblings: files.map((rfilename) => ({ rfilename })) });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  private resolveFile(req: IncomingMessage, res: ServerResponse, repoId: string, revision: string, name: string): void {
    const found = this.lookup(req, res, repoId, revision);
    if (!found) return;
    const file = found.repo.commits.get(found.commit)!.get(name);
    if (!file) return this.fail(res, 404, 'EntryNotFound');
    if (file.lfs) {
      res.writeHead(302, {
        location: `${this.cdnUrl}/blobs/${file.sha256}`,
        'x-repo-commit': found.commit,
        'x-linked-etag': this.etagOverride.get(name) ?? `"${file.sha256}"`,
        'x-linked-size': file.content.length,
        'content-length': 0,
      });
      res.end();
      return;
    }
    this.sendBody(req, res, file, { 'x-repo-commit': found.commit, etag: this.etagOverride.get(name) ?? `"${file.gitSha1}"` });
  }

  private sendBody(req: IncomingMessage, res: ServerResponse, file: FakeFile, headers: Record<string, string>): void {
    let body = file.content;
    if (this.corrupt.has(file.name)) {
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let status = 200;
    if (range && !this.ignoreRange) {
      const start = Number(range[1]);
      if (start >= body.length) return this.fail(res, 416, 'RangeNotSatisfiable');
      headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
      body = body.subarray(start);
      status = 206;
    }
    res.writeHead(status, { ...headers, 'content-length': body.length, 'accept-ranges': 'bytes' });
    if (req.method === 'HEAD') return void res.end();
    const gate = req.method === 'GET' ? this.gates.get(file.name) : undefined;
    if (gate) {
      this.gates.delete(file.name);
      res.flushHeaders();
      void gate.finally(() => res.end(body));
      return;
    }
    const drop = req.method === 'GET' ? this.dropAfter.get(file.name) : undefined;
    if (drop !== undefined) {
      this.dropAfter.delete(file.name);
      // FIN rather than RST: a reset would let the client's kernel discard bytes it already received.
      res.write(body.subarray(0, drop), () => res.socket?.end());
      return;
    }
    res.end(body);
  }
}
