/** Loads the native addon built by node-gyp and connects its errors to NativeError. */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { NativeAddon } from '../../native/index.d.ts';
import { NativeError, TsvisionError } from '../errors.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const candidates = [path.join(root, 'build', 'Release', 'tsvision.node'), path.join(root, 'build', 'Debug', 'tsvision.node')];
const found = candidates.find((p) => existsSync(p));
if (!found) {
  throw new TsvisionError(
    'E_NO_ADDON',
    `tsvision's native addon is not built (looked for ${candidates.join(', ')}); run 'npm ci' or 'npm run build:native' (needs libdnnl-dev)`,
  );
}

/** The native kernels; see native/index.d.ts. */
export const native: NativeAddon = createRequire(import.meta.url)(found);
native.setErrorClass(NativeError);
