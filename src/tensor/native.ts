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

// OpenMP threads that spin long while waiting for work starve everything else on a busy machine
// (a small training loop ran 10× slower beside one other busy process with libgomp's default
// spin), while threads that sleep at once wake too slowly for back-to-back kernels (matmul 2048³
// lost 20%). A short spin keeps most of both. libgomp reads this when the addon loads it; an
// explicit OMP_WAIT_POLICY or GOMP_SPINCOUNT from the user wins.
if (process.env.OMP_WAIT_POLICY === undefined && process.env.GOMP_SPINCOUNT === undefined) {
  process.env.GOMP_SPINCOUNT = '10000';
}

/** The native kernels; see native/index.d.ts. */
export const native: NativeAddon = createRequire(import.meta.url)(found);
native.setErrorClass(NativeError);
// Activations are large and short-lived: reusing freed heap memory beats a fresh, page-faulting
// mapping per tensor (ResNet-50 batch 16 inference ~10% faster). TSVISION_RETAIN_MEMORY=0 opts out.
if (process.env.TSVISION_RETAIN_MEMORY !== '0') native.retainFreedMemory();

/** Runs one native call on behalf of the profiler (src/tensor/profiler.ts), which times it. */
export type NativeCallHook = (name: string, fn: (...args: unknown[]) => unknown, args: unknown[]) => unknown;

type NativeFunction = (...args: unknown[]) => unknown;
const kernels = Object.entries(native).filter((entry): entry is [string, NativeFunction] => typeof entry[1] === 'function');

/**
 * Routes every native call through hook, or (null, the default) straight to the addon again.
 * Swapping the functions in place rather than testing a flag on each call keeps the off state
 * free: callers reach the addon's own functions (bench/ops.ts 'add (per call)' is the guard).
 * It also means call sites must look up `native.fn` when they call, never keep a reference.
 */
export function setNativeCallHook(hook: NativeCallHook | null): void {
  const table = native as unknown as Record<string, NativeFunction>;
  for (const [name, fn] of kernels) table[name] = hook === null ? fn : (...args) => hook(name, fn, args);
}
