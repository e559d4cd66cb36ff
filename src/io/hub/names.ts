/**
 * Checks of the names a hub call takes (repo id, revision, filename) and of commit hashes. Each
 * name becomes part of a path under the cache, so anything that could climb out of it is refused.
 */
import { HubError } from './error.ts';

const COMMIT_RE = /^[0-9a-f]{40}$/;
const REPO_PART_RE = /^\w(?:[\w.-]{0,94}\w)?$/;

/** Whether `revision` is a full 40-hex commit hash (a revision that can never move). */
export function isCommitHash(revision: string): boolean {
  return COMMIT_RE.test(revision);
}

/** Throws InvalidSpec unless `repoId` is `name` or `org/name` of letters, digits, '_', '-', '.', without '--' or '..'. */
export function checkRepoId(repoId: string): void {
  const parts = typeof repoId === 'string' ? repoId.split('/') : [];
  const ok = parts.length >= 1 && parts.length <= 2 && parts.every((p) => REPO_PART_RE.test(p) && !p.includes('--') && !p.includes('..'));
  if (!ok) throw new HubError('InvalidSpec', `'${repoId}' is not a hub repo id (expected 'org/name': letters, digits, '_', '-', '.'; no '--' or '..')`);
}

/** Throws InvalidSpec unless `value` is a relative path of non-empty segments without '.', '..', backslashes or control characters. */
export function checkRelativePath(value: string, what: string): void {
  const ok =
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= 1024 &&
    !/[\\\0-\x1f]/.test(value) &&
    value.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
  if (!ok) throw new HubError('InvalidSpec', `${what} '${value}' is not a relative path of non-empty segments without '..'`);
}
