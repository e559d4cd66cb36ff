/** Hub download cache and weights resolution, against a fake hub on 127.0.0.1 (test/helpers/fake-hub.ts). */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { HubError, hubCacheDir, hubDownload, resolveWeights, type HubErrorReason } from '../../src/io/hub.ts';
import { ProgressReporter, formatProgress, type TransferProgress } from '../../src/io/progress.ts';
import { FakeHub } from '../helpers/fake-hub.ts';

const HF_VARS = ['HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'HF_HOME', 'XDG_CACHE_HOME', 'HF_ENDPOINT', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HF_TOKEN_PATH', 'HF_HUB_OFFLINE', 'HF_HUB_DISABLE_PROGRESS_BARS'];
const savedEnv = new Map(HF_VARS.map((name) => [name, process.env[name]]));

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvision-hub-'));
let hub: FakeHub;
let cacheSerial = 0;

const REPO = 'timm/vit_tiny_patch16_224.fake';
const weightsV1 = randomBytes(300_000);
const weightsV2 = randomBytes(200_001);
const configV1 = JSON.stringify({ architecture: 'vit_tiny_patch16_224', num_classes: 10 });
const configV2 = JSON.stringify({ architecture: 'vit_tiny_patch16_224', num_classes: 20 });
let commitV1 = '';
let commitV2 = '';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const freshCache = () => path.join(root, `cache-${++cacheSerial}`);
const repoDir = (cache: string, repoId = REPO) => path.join(cache, `models--${repoId.split('/').join('--')}`);

function isHubError(reason: HubErrorReason, ...fragments: (string | RegExp)[]) {
  return (error: unknown) => {
    assert.ok(error instanceof HubError, `expected HubError, got ${error}`);
    assert.equal(error.reason, reason, error.message);
    assert.equal(error.code, 'E_HUB');
    for (const f of fragments) assert.match(error.message, typeof f === 'string' ? new RegExp(f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : f);
    return true;
  };
}

// An http URL on 127.0.0.1 where nothing listens.
async function closedEndpoint(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}

before(async () => {
  for (const name of HF_VARS) delete process.env[name];
  process.env.HF_HOME = path.join(root, 'hf-home'); // no token file, no real user cache
  hub = await FakeHub.start();
  commitV1 = hub.commit(REPO, { 'model.safetensors': weightsV1, 'config.json': configV1, 'nested/dir/extra.json': '{"a":1}' }, { tags: ['v1'] });
  commitV2 = hub.commit(REPO, { 'model.safetensors': weightsV2, 'config.json': configV2 });
  hub.commit('openai/clip-fake', {
    'open_clip_model.safetensors': randomBytes(1000),
    'model.safetensors': randomBytes(1200),
    'config.json': '{}',
    'preprocessor_config.json': '{"crop_size": 224}',
    'vocab.json': '{}',
    'merges.txt': '#version: 0.2\n',
    'tokenizer.json': '{}',
    'README.md': '# fake',
  });
  hub.commit('org/bin-only', { 'pytorch_model.bin': randomBytes(100), 'config.json': '{}', '.gitkeep': '', 'empty.safetensors': '' });
  hub.commit('org/gated', { 'config.json': '{"gated":true}', 'model.safetensors': randomBytes(500) }, { token: 'secret-token' });
});

after(async () => {
  await hub.close();
  fs.rmSync(root, { recursive: true, force: true });
  for (const [name, value] of savedEnv) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

beforeEach(() => {
  hub.requests.length = 0;
  hub.dropAfter.clear();
  hub.corrupt.clear();
  hub.etagOverride.clear();
  hub.ignoreRange = false;
  hub.stall = false;
});

describe('hubDownload', () => {
  test('downloads into the hub cache layout: blob named by sha256, relative snapshot symlink, refs', async () => {
    const cacheDir = freshCache();
    const file = await hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir });
    const dir = repoDir(cacheDir);
    assert.equal(file, path.join(dir, 'snapshots', commitV2, 'model.safetensors'));
    assert.deepEqual(fs.readFileSync(file), weightsV2);
    const link = fs.readlinkSync(file);
    assert.ok(!path.isAbsolute(link), `symlink ${link} must be relative`);
    assert.equal(path.resolve(path.dirname(file), link), path.join(dir, 'blobs', sha256(weightsV2)));
    assert.equal(fs.readFileSync(path.join(dir, 'refs', 'main'), 'utf8'), commitV2);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'blobs')), [sha256(weightsV2)]);

    const config = await hubDownload(REPO, 'config.json', { endpoint: hub.endpoint, cacheDir });
    assert.equal(fs.readFileSync(config, 'utf8'), configV2);
    const gitSha1 = createHash('sha1').update(`blob ${configV2.length}\0${configV2}`).digest('hex');
    assert.equal(fs.readlinkSync(config), path.join('..', '..', 'blobs', gitSha1));
  });

  test('an empty file is downloaded and cached like any other', async () => {
    const cacheDir = freshCache();
    const file = await hubDownload('org/bin-only', '.gitkeep', { endpoint: hub.endpoint, cacheDir });
    assert.equal(fs.readFileSync(file, 'utf8'), '');
    const lfsEmpty = await hubDownload('org/bin-only', 'empty.safetensors', { endpoint: hub.endpoint, cacheDir });
    assert.equal(fs.readlinkSync(lfsEmpty), path.join('..', '..', 'blobs', sha256(Buffer.alloc(0))));
  });

  test('a nested filename gets a nested snapshot path whose symlink climbs back to blobs', async () => {
    const cacheDir = freshCache();
    const file = await hubDownload(REPO, 'nested/dir/extra.json', { endpoint: hub.endpoint, cacheDir, revision: 'v1' });
    assert.equal(file, path.join(repoDir(cacheDir), 'snapshots', commitV1, 'nested', 'dir', 'extra.json'));
    assert.equal(fs.readFileSync(file, 'utf8'), '{"a":1}');
    assert.match(fs.readlinkSync(file), /^\.\.\/\.\.\/\.\.\/\.\.\/blobs\/[0-9a-f]{40}$/);
  });

  test('a second call uses the cache: no request for a commit hash, one HEAD and no GET for a branch', async () => {
    const cacheDir = freshCache();
    const first = await hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir });
    hub.requests.length = 0;
    assert.equal(await hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir, revision: commitV2 }), first);
    assert.equal(hub.requests.length, 0);
    assert.equal(await hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir }), first);
    assert.deepEqual(hub.requests.map((r) => `${r.server} ${r.method}`), ['hub HEAD']);
  });

  test('revision pinning: a tag and a commit hash give the old content, each in its own snapshot', async () => {
    const cacheDir = freshCache();
    const byTag = await hubDownload(REPO, 'config.json', { endpoint: hub.endpoint, cacheDir, revision: 'v1' });
    assert.equal(fs.readFileSync(byTag, 'utf8'), configV1);
    assert.equal(fs.readFileSync(path.join(repoDir(cacheDir), 'refs', 'v1'), 'utf8'), commitV1);
    const byCommit = await hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir, revision: commitV1 });
    assert.deepEqual(fs.readFileSync(byCommit), weightsV1);
    assert.ok(byCommit.includes(path.join('snapshots', commitV1)));
    assert.ok(!fs.existsSync(path.join(repoDir(cacheDir), 'refs', commitV1)), 'no ref file for a commit hash');
    const latest = await hubDownload(REPO, 'config.json', { endpoint: hub.endpoint, cacheDir });
    assert.equal(fs.readFileSync(latest, 'utf8'), configV2);
    assert.ok(latest.includes(path.join('snapshots', commitV2)));
  });

  test('LFS files follow the redirect to the CDN, and the token never leaves the hub origin', async () => {
    const cacheDir = freshCache();
    const file = await hubDownload('org/gated', 'model.safetensors', { endpoint: hub.endpoint, cacheDir, token: 'secret-token' });
    assert.equal(fs.statSync(file).size, 500);
    assert.deepEqual(hub.requests.map((r) => `${r.server} ${r.method}`), ['hub HEAD', 'cdn GET']);
    const [head, cdn] = hub.requests;
    assert.equal(head.headers.authorization, 'Bearer secret-token');
    assert.equal(cdn.headers.authorization, undefined);
    assert.match(cdn.path, /^\/blobs\/[0-9a-f]{64}$/);
  });

  test('HF_TOKEN is sent as a bearer token; without one a gated repo is HTTP 401', async () => {
    const cacheDir = freshCache();
    await assert.rejects(hubDownload('org/gated', 'config.json', { endpoint: hub.endpoint, cacheDir }), (e: unknown) => isHubError('Http', 'HTTP 401', 'GatedRepo', 'org/gated/config.json', 'HF_TOKEN')(e) && (e as HubError).status === 401);
    process.env.HF_TOKEN = 'secret-token';
    try {
      const file = await hubDownload('org/gated', 'config.json', { endpoint: hub.endpoint, cacheDir });
      assert.equal(fs.readFileSync(file, 'utf8'), '{"gated":true}');
      await assert.rejects(hubDownload('org/gated', 'model.safetensors', { endpoint: hub.endpoint, cacheDir, token: false }), isHubError('Http', 'HTTP 401'));
    } finally {
      delete process.env.HF_TOKEN;
    }
  });

  test('resumes an interrupted transfer with a Range request on the next call', async () => {
    const cacheDir = freshCache();
    hub.dropAfter.set('model.safetensors', 120_000);
    await assert.rejects(hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir, retries: 0 }), isHubError('Network', 'connection lost', 'model.safetensors'));
    const blob = path.join(repoDir(cacheDir), 'blobs', sha256(weightsV2));
    assert.equal(fs.statSync(`${blob}.incomplete`).size, 120_000);
    assert.ok(!fs.existsSync(blob), 'no blob under its final name before it is complete');
    assert.ok(!fs.existsSync(path.join(repoDir(cacheDir), 'snapshots', commitV2, 'model.safetensors')));

    hub.requests.length = 0;
    const reports: TransferProgress[] = [];
    const file = await hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir, retries: 0, onProgress: (p) => reports.push(p) });
    assert.deepEqual(fs.readFileSync(file), weightsV2);
    const cdnGets = hub.requests.filter((r) => r.server === 'cdn');
    assert.equal(cdnGets.length, 1);
    assert.equal(cdnGets[0].headers.range, 'bytes=120000-');
    assert.ok(!fs.existsSync(`${blob}.incomplete`));
    assert.ok(reports[0].done >= 120_000, 'progress starts at the resumed offset');
    assert.equal(reports.at(-1)!.done, weightsV2.length);
  });

  test('retries within one call resume from where the connection dropped', async () => {
    const cacheDir = freshCache();
    hub.dropAfter.set('model.safetensors', 50_000);
    const file = await hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir });
    assert.deepEqual(fs.readFileSync(file), weightsV2);
    assert.deepEqual(hub.requests.filter((r) => r.server === 'cdn').map((r) => r.headers.range), [undefined, 'bytes=50000-']);
  });

  test('a server that ignores Range (200) restarts the file from the beginning', async () => {
    const cacheDir = freshCache();
    hub.dropAfter.set('model.safetensors', 70_000);
    await assert.rejects(hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir, retries: 0 }), isHubError('Network'));
    hub.ignoreRange = true;
    const file = await hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir, retries: 0 });
    assert.deepEqual(fs.readFileSync(file), weightsV2);
  });

  test('bytes that do not match the sha256 ETag: Integrity error, nothing left in the cache', async () => {
    const cacheDir = freshCache();
    hub.corrupt.add('model.safetensors');
    await assert.rejects(hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir }), isHubError('Integrity', sha256(weightsV2), 'model.safetensors'));
    const blobs = path.join(repoDir(cacheDir), 'blobs');
    assert.deepEqual(fs.readdirSync(blobs), []);
    assert.ok(!fs.existsSync(path.join(repoDir(cacheDir), 'snapshots', commitV2, 'model.safetensors')));
    hub.corrupt.clear();
    assert.deepEqual(fs.readFileSync(await hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir })), weightsV2);
  });

  test('a weak ETag (W/"...") is accepted; an ETag that would escape the cache is refused', async () => {
    const cacheDir = freshCache();
    hub.etagOverride.set('config.json', 'W/"0123456789abcdef0123456789abcdef01234567"');
    const file = await hubDownload(REPO, 'config.json', { endpoint: hub.endpoint, cacheDir });
    assert.equal(fs.readlinkSync(file), path.join('..', '..', 'blobs', '0123456789abcdef0123456789abcdef01234567'));
    hub.etagOverride.set('model.safetensors', '"../../../evil"');
    await assert.rejects(hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir }), isHubError('Http', 'ETag', '../../../evil'));
    assert.ok(!fs.existsSync(path.join(cacheDir, 'evil')));
  });

  test('offline (option or HF_HUB_OFFLINE): cached files without any request; uncached: Offline error', async () => {
    const cacheDir = freshCache();
    const cached = await hubDownload(REPO, 'config.json', { endpoint: hub.endpoint, cacheDir });
    hub.requests.length = 0;
    assert.equal(await hubDownload(REPO, 'config.json', { endpoint: hub.endpoint, cacheDir, offline: true }), cached);
    process.env.HF_HUB_OFFLINE = '1';
    try {
      assert.equal(await hubDownload(REPO, 'config.json', { endpoint: hub.endpoint, cacheDir }), cached);
      await assert.rejects(hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir }), isHubError('Offline', REPO, 'model.safetensors', repoDir(cacheDir)));
      await assert.rejects(hubDownload(REPO, 'config.json', { endpoint: hub.endpoint, cacheDir, revision: 'v1' }), isHubError('Offline', 'revision v1'));
    } finally {
      delete process.env.HF_HUB_OFFLINE;
    }
    assert.equal(hub.requests.length, 0);
  });

  test('hub unreachable or not answering: the cached file of the revision is used, else a Network error', async () => {
    const cacheDir = freshCache();
    const cached = await hubDownload(REPO, 'config.json', { endpoint: hub.endpoint, cacheDir });
    const nowhere = await closedEndpoint();
    assert.equal(await hubDownload(REPO, 'config.json', { endpoint: nowhere, cacheDir }), cached);
    await assert.rejects(hubDownload(REPO, 'model.safetensors', { endpoint: nowhere, cacheDir }), isHubError('Network', nowhere, 'model.safetensors', repoDir(cacheDir)));
    hub.stall = true;
    assert.equal(await hubDownload(REPO, 'config.json', { endpoint: hub.endpoint, cacheDir, timeoutMs: 150 }), cached);
    await assert.rejects(hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir, timeoutMs: 150 }), isHubError('Network', 'no data for 150 ms'));
  });

  test('404s name the repo, revision or file: NotFound', async () => {
    const cacheDir = freshCache();
    const endpoint = hub.endpoint;
    await assert.rejects(hubDownload(REPO, 'missing.json', { endpoint, cacheDir }), (e: unknown) => isHubError('NotFound', 'HTTP 404', 'EntryNotFound', `${REPO}/missing.json`)(e) && (e as HubError).status === 404);
    await assert.rejects(hubDownload('org/nope', 'config.json', { endpoint, cacheDir }), isHubError('NotFound', 'RepoNotFound', 'org/nope'));
    await assert.rejects(hubDownload(REPO, 'config.json', { endpoint, cacheDir, revision: 'no-such-branch' }), isHubError('NotFound', 'RevisionNotFound', 'no-such-branch'));
  });

  test('invalid repo ids, filenames, revisions and settings: InvalidSpec before any request', async () => {
    const o = { endpoint: hub.endpoint, cacheDir: freshCache() };
    for (const repoId of ['', 'a/b/c', 'org//name', 'org/na--me', 'org/..', '../x', 'org/name with space', '-org/name']) {
      await assert.rejects(hubDownload(repoId, 'config.json', o), isHubError('InvalidSpec', 'repo id'), repoId);
    }
    for (const filename of ['', '../x', 'a/../../b', '/etc/passwd', 'a//b', 'a\\b']) {
      await assert.rejects(hubDownload(REPO, filename, o), isHubError('InvalidSpec', 'filename'), filename);
    }
    await assert.rejects(hubDownload(REPO, 'config.json', { ...o, revision: '../../x' }), isHubError('InvalidSpec', 'revision'));
    await assert.rejects(hubDownload(REPO, 'config.json', { ...o, endpoint: 'ftp://example' }), isHubError('InvalidSpec', 'endpoint'));
    await assert.rejects(hubDownload(REPO, 'config.json', { ...o, retries: -1 }), isHubError('InvalidSpec', 'retries'));
    assert.equal(hub.requests.length, 0);
  });

  test('cache root: cacheDir, else HF_HUB_CACHE, else $HF_HOME/hub; endpoint from HF_ENDPOINT', async () => {
    const home = path.join(root, 'home-x');
    process.env.HF_HOME = home;
    assert.equal(hubCacheDir(), path.join(home, 'hub'));
    process.env.HF_HUB_CACHE = path.join(root, 'hub-cache-env');
    process.env.HF_ENDPOINT = hub.endpoint;
    try {
      assert.equal(hubCacheDir(), path.join(root, 'hub-cache-env'));
      assert.equal(hubCacheDir('rel/dir'), path.resolve('rel/dir'));
      const viaEnv = await hubDownload(REPO, 'config.json');
      assert.ok(viaEnv.startsWith(path.join(root, 'hub-cache-env', 'models--timm--vit_tiny_patch16_224.fake')));
      const explicit = freshCache();
      assert.ok((await hubDownload(REPO, 'config.json', { cacheDir: explicit })).startsWith(explicit));
    } finally {
      delete process.env.HF_HUB_CACHE;
      delete process.env.HF_ENDPOINT;
      process.env.HF_HOME = path.join(root, 'hf-home');
    }
  });

  test('progress callback: monotone byte counts ending at the total', async () => {
    const reports: TransferProgress[] = [];
    await hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir: freshCache(), onProgress: (p) => reports.push(p) });
    assert.ok(reports.length >= 1);
    for (let i = 1; i < reports.length; ++i) assert.ok(reports[i].done >= reports[i - 1].done);
    assert.equal(reports.at(-1)!.done, weightsV2.length);
    for (const r of reports) {
      assert.equal(r.total, weightsV2.length);
      assert.equal(r.label, `${REPO}/model.safetensors`);
    }
  });

  test('concurrent calls for one file download it once', async () => {
    const cacheDir = freshCache();
    const files = await Promise.all([1, 2, 3].map(() => hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir })));
    assert.equal(new Set(files).size, 1);
    assert.equal(hub.requests.filter((r) => r.server === 'cdn').length, 1);
  });

  test("the blob's lock is huggingface_hub's file, group-writable; one left behind does not block and is never deleted", async () => {
    const cacheDir = freshCache();
    const lock = path.join(cacheDir, '.locks', 'models--timm--vit_tiny_patch16_224.fake', `${sha256(weightsV2)}.lock`);
    fs.mkdirSync(path.dirname(lock), { recursive: true });
    fs.writeFileSync(lock, '');
    fs.chmodSync(lock, 0o600);
    const file = await hubDownload(REPO, 'model.safetensors', { endpoint: hub.endpoint, cacheDir });
    assert.deepEqual(fs.readFileSync(file), weightsV2);
    assert.ok(fs.existsSync(lock), 'the lock file stays, as filelock expects');
    assert.equal(fs.statSync(lock).mode & 0o777, 0o664);
    const config = await hubDownload(REPO, 'config.json', { endpoint: hub.endpoint, cacheDir });
    const gitSha1 = path.basename(fs.readlinkSync(config));
    assert.ok(fs.existsSync(path.join(path.dirname(lock), `${gitSha1}.lock`)), 'small files are locked by their git sha1 etag');
  });
});

describe('resolveWeights', () => {
  test('a .safetensors file is used as is', async () => {
    const file = path.join(root, 'single.safetensors');
    fs.writeFileSync(file, 'x');
    assert.deepEqual(await resolveWeights(file), { source: 'file', weights: file, files: { 'single.safetensors': file } });
  });

  test('a folder in hub layout: weights plus the companion files present', async () => {
    const dir = path.join(root, 'folder');
    fs.mkdirSync(dir);
    for (const name of ['model.safetensors', 'config.json', 'preprocessor_config.json', 'vocab.txt', 'notes.md']) fs.writeFileSync(path.join(dir, name), '{}');
    const resolved = await resolveWeights(dir);
    assert.equal(resolved.source, 'folder');
    assert.equal(resolved.dir, dir);
    assert.equal(resolved.weights, path.join(dir, 'model.safetensors'));
    assert.deepEqual(Object.keys(resolved.files).sort(), ['config.json', 'model.safetensors', 'preprocessor_config.json', 'vocab.txt']);
    const openClip = await resolveWeights(dir, { weightFiles: ['open_clip_model.safetensors', 'model.safetensors'] });
    assert.equal(openClip.weights, path.join(dir, 'model.safetensors'));
  });

  test('a folder without weights, a missing path, a non-safetensors file: typed errors naming what and where', async () => {
    const dir = path.join(root, 'no-weights');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'pytorch_model.bin'), 'x');
    await assert.rejects(resolveWeights(dir), isHubError('NotFound', dir, 'model.safetensors or open_clip_model.safetensors', 'pytorch_model.bin'));
    await assert.rejects(resolveWeights(path.join(root, 'missing.safetensors')), isHubError('NotFound', 'missing.safetensors', 'no such'));
    await assert.rejects(resolveWeights('./not/here'), isHubError('NotFound', 'not/here'));
    const bin = path.join(dir, 'pytorch_model.bin');
    await assert.rejects(resolveWeights(bin), isHubError('InvalidSpec', bin, '.safetensors'));
  });

  test('invalid specs: InvalidSpec', async () => {
    for (const spec of ['', '   ', 'just-a-name', 'org/na--me', 'org/name@', 'org/name@../x', 'a b/c']) {
      await assert.rejects(resolveWeights(spec, { endpoint: hub.endpoint, cacheDir: freshCache() }), isHubError('InvalidSpec'), spec);
    }
    await assert.rejects(resolveWeights(undefined as unknown as string), isHubError('InvalidSpec', 'weights spec'));
    assert.equal(hub.requests.length, 0);
  });

  test('a hub repo id: listing, companions and weights into one snapshot; the second call only lists', async () => {
    const cacheDir = freshCache();
    const first = await resolveWeights('openai/clip-fake', { endpoint: hub.endpoint, cacheDir });
    assert.equal(first.source, 'hub');
    assert.equal(first.repoId, 'openai/clip-fake');
    assert.equal(first.revision, 'main');
    assert.equal(first.dir, path.join(repoDir(cacheDir, 'openai/clip-fake'), 'snapshots', first.commit!));
    assert.equal(first.weights, path.join(first.dir!, 'model.safetensors'));
    assert.deepEqual(Object.keys(first.files).sort(), ['config.json', 'merges.txt', 'model.safetensors', 'preprocessor_config.json', 'tokenizer.json', 'vocab.json']);
    assert.equal(fs.readFileSync(path.join(repoDir(cacheDir, 'openai/clip-fake'), 'refs', 'main'), 'utf8'), first.commit);
    assert.ok(!fs.existsSync(path.join(first.dir!, 'open_clip_model.safetensors')), 'only the preferred weights file is fetched');

    hub.requests.length = 0;
    assert.deepEqual(await resolveWeights('openai/clip-fake', { endpoint: hub.endpoint, cacheDir }), first);
    assert.deepEqual(hub.requests.map((r) => `${r.method} ${r.path}`), ['GET /api/models/openai/clip-fake/revision/main']);

    const openClip = await resolveWeights('openai/clip-fake', { endpoint: hub.endpoint, cacheDir, weightFiles: ['open_clip_model.safetensors'] });
    assert.equal(openClip.weights, path.join(first.dir!, 'open_clip_model.safetensors'));
  });

  test('org/name@revision pins the revision; offline it resolves from the cached snapshot', async () => {
    const cacheDir = freshCache();
    const pinned = await resolveWeights(`${REPO}@v1`, { endpoint: hub.endpoint, cacheDir });
    assert.equal(pinned.commit, commitV1);
    assert.deepEqual(fs.readFileSync(pinned.weights), weightsV1);
    assert.equal(fs.readFileSync(pinned.files['config.json'], 'utf8'), configV1);

    hub.requests.length = 0;
    const offline = await resolveWeights(`${REPO}@v1`, { endpoint: hub.endpoint, cacheDir, offline: true });
    assert.deepEqual(offline, pinned);
    await assert.rejects(resolveWeights(REPO, { endpoint: hub.endpoint, cacheDir, offline: true }), isHubError('Offline', REPO, 'revision main', repoDir(cacheDir)));
    const unreachable = await resolveWeights(`${REPO}@v1`, { endpoint: await closedEndpoint(), cacheDir });
    assert.deepEqual(unreachable, pinned);
    assert.equal(hub.requests.length, 0);
  });

  test('hub repos that do not exist or hold no safetensors weights: NotFound', async () => {
    const o = { endpoint: hub.endpoint, cacheDir: freshCache() };
    await assert.rejects(resolveWeights('org/nope', o), isHubError('NotFound', "'org/nope' is not a local file or folder", 'RepoNotFound'));
    await assert.rejects(resolveWeights('org/bin-only', o), isHubError('NotFound', 'model.safetensors or open_clip_model.safetensors', 'pytorch_model.bin'));
    await assert.rejects(resolveWeights(`${REPO}@nope`, o), isHubError('NotFound', 'RevisionNotFound'));
  });
});

describe('progress reporter', () => {
  test('writes one rewritten line to a TTY, nothing to a non-TTY, and formats rate and ETA', () => {
    const written: string[] = [];
    const tty = new ProgressReporter('f', 2000, 0, undefined, { isTTY: true, columns: 80, write: (t: string) => written.push(t) });
    tty.advance(1000);
    tty.advance(1000);
    tty.finish();
    assert.ok(written.length >= 2 && written.length <= 4, `${written.length} writes`);
    assert.ok(written.slice(0, -1).every((t) => t.startsWith('\r') && !t.includes('\n')));
    assert.equal(written.at(-1), '\n');
    const silent: string[] = [];
    const pipe = new ProgressReporter('f', 10, 0, undefined, { isTTY: false, write: (t: string) => silent.push(t) });
    pipe.advance(10);
    pipe.finish();
    assert.deepEqual(silent, []);
    assert.equal(formatProgress({ label: 'a/b', done: 45_100_000, total: 346_300_000, rate: 12_300_000, eta: 24.4 }), 'a/b  45.1 MB / 346.3 MB  13%  12.3 MB/s  ETA 24s');
  });
});
