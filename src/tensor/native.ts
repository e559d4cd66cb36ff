/**
 * The native addon built by node-gyp, loaded at the first kernel call (not at import), so that
 * settings libgomp reads only as it loads (configure's ompSpinCount) can still be made after
 * importing tsvision. Its errors become NativeError; its process settings come from ./config.ts.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { NativeAddon } from '../../native/index.d.ts';
import { NativeError, TsvisionError } from '../errors.ts';
import { attachAddon, spinCountForLoad } from './config.ts';

type NativeFunction = (...args: unknown[]) => unknown;

let addon: NativeAddon | null = null;
let kernels: [string, NativeFunction][] = [];

function addonPath(): string {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const candidates = [path.join(root, 'build', 'Release', 'tsvision.node'), path.join(root, 'build', 'Debug', 'tsvision.node')];
  const found = candidates.find((p) => existsSync(p));
  if (found) return found;
  throw new TsvisionError(
    'E_NO_ADDON',
    `tsvision's native addon is not built (looked for ${candidates.join(', ')}); run 'npm ci' or 'npm run build:native' (needs libdnnl-dev)`,
  );
}

function loadAddon(): NativeAddon {
  if (addon) return addon;
  const spinCount = spinCountForLoad();
  // libgomp, which the addon links, reads this once, as the dynamic loader brings it in below.
  if (spinCount !== null) process.env.GOMP_SPINCOUNT = String(spinCount);
  const loaded: NativeAddon = createRequire(import.meta.url)(addonPath());
  loaded.setErrorClass(NativeError);
  kernels = Object.entries(loaded).filter((entry): entry is [string, NativeFunction] => typeof entry[1] === 'function');
  addon = loaded;
  native = loaded;
  attachAddon(loaded);
  return loaded;
}

/**
 * The native kernels; see native/index.d.ts. Until the first access this is a stand-in that loads
 * the addon, after which it is the addon itself (a live binding: importers see the swap).
 */
export let native: NativeAddon = new Proxy({} as NativeAddon, { get: (_, name) => Reflect.get(loadAddon(), name) });

/** Whether the native addon has loaded (it does at the first kernel call). */
export function isNativeLoaded(): boolean {
  return addon !== null;
}

/** Runs one native call on behalf of the profiler (src/tensor/profiler.ts), which times it. */
export type NativeCallHook = (name: string, fn: (...args: unknown[]) => unknown, args: unknown[]) => unknown;

/**
 * Routes every native call through hook, or (null, the default) straight to the addon again.
 * Swapping the functions in place rather than testing a flag on each call keeps the off state
 * free: callers reach the addon's own functions (bench/ops.ts 'add (per call)' is the guard).
 * It also means call sites must look up `native.fn` when they call, never keep a reference.
 */
export function setNativeCallHook(hook: NativeCallHook | null): void {
  const table = loadAddon() as unknown as Record<string, NativeFunction>;
  for (const [name, fn] of kernels) table[name] = hook === null ? fn : (...args) => hook(name, fn, args);
}
