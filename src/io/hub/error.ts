/** The typed error of the hub client: weights specs, hub requests, the download cache. */
import { TsvisionError } from '../../errors.ts';

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

/** A failure of the cache's file system as an Io HubError naming `what`; tsvision's own errors pass through. */
export function ioError(error: unknown, what: string): unknown {
  if (error instanceof TsvisionError) return error;
  return new HubError('Io', `${what}: ${(error as Error).message}`);
}
