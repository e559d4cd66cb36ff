/**
 * The hub cache on disk, laid out as huggingface_hub lays it out so both share one copy:
 *   {cache}/models--{org}--{name}/blobs/{etag}                  the content, named by its ETag
 *                                                                (the sha256 for LFS files)
 *   {cache}/models--{org}--{name}/snapshots/{commit}/{filename}  relative symlink to the blob
 *   {cache}/models--{org}--{name}/refs/{revision}                commit a branch or tag named
 *   {cache}/.locks/models--{org}--{name}/{etag}.lock              held (flock) while the blob downloads
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { isCommitHash } from './names.ts';

/** The cache folder name of a model repo: `models--{org}--{name}`. */
function repoFolderName(repoId: string): string {
  return `models--${repoId.split('/').join('--')}`;
}

function tempName(file: string): string {
  return `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

// Puts `tmp` in place as `file` after `fill` wrote it; on failure removes what it left, never
// letting that cleanup's own error hide the failure.
function replaceVia(file: string, fill: (tmp: string) => void): void {
  const tmp = tempName(file);
  try {
    fill(tmp);
    fs.renameSync(tmp, file);
  } catch (error) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // The original error says what went wrong; a leftover temp file is harmless.
    }
    throw error;
  }
}

/** One repo's folder in the hub cache. */
export class RepoCache {
  readonly dir: string;
  constructor(
    readonly cacheDir: string,
    readonly repoId: string,
  ) {
    this.dir = path.join(cacheDir, repoFolderName(repoId));
  }

  /** The commit a revision is known to point to: itself when a commit hash, else refs/{revision}. */
  commitOf(revision: string): string | undefined {
    if (isCommitHash(revision)) return revision;
    try {
      const commit = fs.readFileSync(path.join(this.dir, 'refs', revision), 'utf8').trim();
      return isCommitHash(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  /** The folder of one commit's files. */
  snapshotDir(commit: string): string {
    return path.join(this.dir, 'snapshots', commit);
  }

  /** The cached file of a revision, when present (a pointer whose blob exists). */
  cached(revision: string, filename: string): string | undefined {
    const commit = this.commitOf(revision);
    if (commit === undefined) return undefined;
    const file = path.join(this.snapshotDir(commit), filename);
    return fs.existsSync(file) ? file : undefined;
  }

  /** Records that a branch or tag points to `commit`, by rename so a reader never sees a partial ref. */
  writeRef(revision: string, commit: string): void {
    if (revision === commit || this.commitOf(revision) === commit) return;
    const ref = path.join(this.dir, 'refs', revision);
    fs.mkdirSync(path.dirname(ref), { recursive: true });
    replaceVia(ref, (tmp) => fs.writeFileSync(tmp, commit));
  }

  /** Where the blob of an etag lives. */
  blobPath(etag: string): string {
    return path.join(this.dir, 'blobs', etag);
  }

  /** The lock file huggingface_hub takes around the download of the blob of an etag. */
  lockPath(etag: string): string {
    return path.join(this.cacheDir, '.locks', repoFolderName(this.repoId), `${etag}.lock`);
  }

  /** Points snapshots/{commit}/{filename} at the blob with a relative symlink (a copy where symlinks are refused). */
  link(blob: string, commit: string, filename: string): string {
    const pointer = path.join(this.snapshotDir(commit), filename);
    fs.mkdirSync(path.dirname(pointer), { recursive: true });
    replaceVia(pointer, (tmp) => {
      try {
        fs.symlinkSync(path.relative(path.dirname(pointer), blob), tmp);
      } catch (error) {
        if (!['EPERM', 'ENOSYS', 'EOPNOTSUPP'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
        fs.copyFileSync(blob, tmp);
      }
    });
    return pointer;
  }
}
