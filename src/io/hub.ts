/**
 * Pretrained weights from a `.safetensors` file, a local folder in Hugging Face hub layout, or a
 * hub repo id (`org/name[@revision]`), downloaded into the hub's own cache so that the Python
 * tools (huggingface_hub, transformers, timm, open_clip) and tsvision share one copy.
 *
 * The hub client lives in ./hub/: settings from the environment (config), HTTP (http), the two hub
 * queries (api), the cache layout (cache-layout), the cross-process lock shared with
 * huggingface_hub (lock) and the download (download). This module resolves a weights spec and is
 * the public face of them all.
 */
import fs from 'node:fs';
import path from 'node:path';
import { repoListing, type RepoListing } from './hub/api.ts';
import { RepoCache } from './hub/cache-layout.ts';
import { hubContext, type HubOptions } from './hub/config.ts';
import { hubDownload, unreachableError } from './hub/download.ts';
import { HubError, ioError } from './hub/error.ts';
import { isNetworkFailure } from './hub/http.ts';
import { checkRelativePath, checkRepoId } from './hub/names.ts';

export { hubCacheDir, type HubOptions } from './hub/config.ts';
export { hubDownload } from './hub/download.ts';
export { HubError, type HubErrorReason } from './hub/error.ts';

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
  const ctx = hubContext(options);
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
    const cachedWeights = dir === undefined ? undefined : pickWeights((name) => fs.existsSync(path.join(dir, name)), weightFiles);
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
