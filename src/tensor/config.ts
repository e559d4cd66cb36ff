/**
 * Process-wide settings that change numerics or speed, set in one place: `configure({...})`,
 * read back with `getConfiguration()`. Nothing else switches them (no environment variables of
 * tsvision's own, no implementation-name sniffing). Each default was measured; see the README.
 *
 * The native addon loads at the first tensor operation and takes the settings then; a later
 * change reaches it at once, except `ompSpinCount`, which libgomp reads only when it loads.
 */
import type { NativeAddon } from '../../native/index.d.ts';
import { ArgumentError } from '../errors.ts';

/** Process-wide settings; see each field for its default and what it trades. */
export interface Configuration {
  /**
   * When inference 3×3 convolutions (stride 1, padding 1, channels-last float, channel counts
   * multiples of 8) run as Winograd F(4×4, 3×3): 4× fewer multiplies than the direct kernel, with
   * results that differ from it by float rounding (about 1e-5 of the output's scale per layer).
   * `true` (default): on CPUs without AVX-512, where oneDNN 2.x has only direct 3×3 kernels and where
   * it was measured 2–3× faster per conv; `'always'`: on every CPU; `false`: never. Training always
   * uses the direct kernel.
   */
  convWinograd: boolean | 'always';
  /**
   * Bytes of released tensor buffers kept for reuse by later tensors of the same size (default
   * 512 MiB, which holds a whole ResNet-50 batch-16 forward's buffers; 0 keeps none). Lowering it
   * frees the buffers released longest ago at once.
   */
  memoryPoolLimitBytes: number;
  /**
   * Whether glibc serves large blocks from its heap and keeps freed memory there (default true):
   * tensor storage is malloc'd by V8 and freed at GC, and without this every large activation is a
   * fresh mapping whose first touch page-faults (ResNet-50 batch 16 inference ~10% slower). `false`
   * puts glibc's default limits back (its mmap threshold then stays at 128 KiB instead of adapting).
   */
  retainFreedMemory: boolean;
  /**
   * How long idle OpenMP threads spin before sleeping, in libgomp's units (GOMP_SPINCOUNT). Long
   * spins starve other processes on a busy machine (a small training loop ran 10× slower beside one
   * other busy process with libgomp's default); threads that sleep at once wake too slowly for
   * back-to-back kernels (matmul 2048³ lost 20%). Default 10 000, or `null` when the environment
   * sets libgomp's own OMP_WAIT_POLICY or GOMP_SPINCOUNT (`null`: libgomp decides). libgomp reads it
   * once, when the addon loads: set it before the first tensor operation.
   */
  ompSpinCount: number | null;
  /** OpenMP threads for the kernels; `null` (default) is OpenMP's own choice (OMP_NUM_THREADS, or one per core). */
  threads: number | null;
}

const libgompConfigured = process.env.OMP_WAIT_POLICY !== undefined || process.env.GOMP_SPINCOUNT !== undefined;

let current: Configuration = {
  convWinograd: true,
  memoryPoolLimitBytes: 512 << 20,
  retainFreedMemory: true,
  ompSpinCount: libgompConfigured ? null : 10_000,
  threads: null,
};

/** Applies settings to the part of the process that holds them; `changed` names the fields to apply. */
type Listener = (config: Readonly<Configuration>, changed: ReadonlySet<keyof Configuration>) => void;
const listeners: Listener[] = [];
let spinCountFixed = false;

const ALL_FIELDS = new Set(Object.keys(current) as (keyof Configuration)[]);

const isCount = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;

// Checks one field's new value; returns a description of what it must be, or null when it fits.
function expected(field: keyof Configuration, value: unknown): string | null {
  switch (field) {
    case 'convWinograd':
      return value === true || value === false || value === 'always' ? null : "true, false or 'always'";
    case 'memoryPoolLimitBytes':
      return isCount(value, 0) ? null : 'a non-negative integer number of bytes';
    case 'retainFreedMemory':
      return typeof value === 'boolean' ? null : 'a boolean';
    case 'ompSpinCount':
      return value === null || isCount(value, 0) ? null : 'a non-negative integer or null';
    case 'threads':
      return value === null || isCount(value, 1) ? null : 'a positive integer or null';
  }
}

/**
 * Changes process-wide settings (see Configuration) and returns them all. Refuses an unknown field,
 * a value of the wrong kind, and a new ompSpinCount once the native addon has loaded.
 */
export function configure(changes: Partial<Configuration>): Readonly<Configuration> {
  if (typeof changes !== 'object' || changes === null) throw new ArgumentError(`configure: expected an object of settings, got ${String(changes)}`);
  const changed = new Set<keyof Configuration>();
  for (const [field, value] of Object.entries(changes) as [keyof Configuration, unknown][]) {
    if (!ALL_FIELDS.has(field)) throw new ArgumentError(`configure: unknown setting '${field}', expected one of ${[...ALL_FIELDS].join(', ')}`);
    const want = expected(field, value);
    if (want !== null) throw new ArgumentError(`configure: ${field} must be ${want}, got ${typeof value === 'string' ? `'${value}'` : String(value)}`);
    if (field === 'ompSpinCount' && spinCountFixed && value !== current.ompSpinCount) {
      throw new ArgumentError(
        `configure: ompSpinCount cannot change to ${String(value)}: libgomp read it (${String(current.ompSpinCount)}) when the native addon loaded, at the first tensor operation; set it before that`,
      );
    }
    if (value !== current[field]) changed.add(field);
  }
  current = { ...current, ...changes };
  for (const listener of listeners) listener(current, changed);
  return getConfiguration();
}

/** The process-wide settings now in force (a copy). */
export function getConfiguration(): Readonly<Configuration> {
  return Object.freeze({ ...current });
}

/** Calls `listener` with every setting now and with the changed ones after each configure (for memory.ts and the addon). */
export function onConfigure(listener: Listener): void {
  listeners.push(listener);
  listener(current, ALL_FIELDS);
}

/**
 * The spin count libgomp is to read as the addon loads, or null to leave libgomp's environment
 * alone; from this call on, configure refuses to change it.
 */
export function spinCountForLoad(): number | null {
  spinCountFixed = true;
  return current.ompSpinCount;
}

/** Puts the addon's settings in force now and after every change (called once, as the addon loads). */
export function attachAddon(addon: NativeAddon): void {
  const ompDefaultThreads = addon.getNumThreads();
  onConfigure((config, changed) => {
    if (changed.has('convWinograd')) addon.setConvWinograd(config.convWinograd === 'always' ? 2 : config.convWinograd ? 1 : 0);
    if (changed.has('retainFreedMemory')) addon.retainFreedMemory(config.retainFreedMemory);
    if (changed.has('threads')) addon.setNumThreads(config.threads ?? ompDefaultThreads);
  });
}
