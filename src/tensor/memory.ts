/**
 * Tensor memory: the Storage a tensor and its views share, and the scopes that hand an
 * inference pass's intermediates back for reuse as soon as the block that made them returns.
 *
 * V8 frees an ArrayBuffer only at a garbage collection, and it starts one for every ~32 MB of
 * new ArrayBuffers: a ResNet-50 forward at batch 16 allocates ~0.7 GB, so dozens of collections
 * ran per forward, their helper threads preempting the compute threads, and every buffer was
 * fresh memory. Inside a scope (`withAllocationScope`), each storage created is recorded; when
 * the scope's function returns, the storages its result does not reach are released into a
 * pool of buffers keyed by size, from which later storages of that size are served.
 */
import { ArgumentError } from '../errors.ts';
import { onConfigure } from './config.ts';
import { native } from './native.ts';

/** Buffers from this size up are backed by huge pages: first-touch page faults dominate writing fresh large outputs. */
export const HUGE_PAGE_MIN_BYTES = 4 << 20;

/** What a released storage's views see: a buffer of length 0, which every kernel rejects. */
const RELEASED = new ArrayBuffer(0);

/** Released buffers kept for reuse, by byte length (most recently released last). */
const pool = new Map<number, ArrayBuffer[]>();
/** The same buffers in release order, oldest first: the first to go when the pool is over its limit. */
const released = new Set<ArrayBuffer>();
let pooledBytes = 0;
// configure({ memoryPoolLimitBytes }), 512 MiB by default: a whole ResNet-50 forward's buffers at
// batch 16 fit; at 256 MiB, layer 1's buffers aged out before the next forward asked for them again,
// and those fresh allocations (first-touch page faults) cost ~5–8% of the forward.
let poolLimitBytes = 0;

/** Storages created in each open scope, innermost last; null marks a `persistent` region. */
const scopes: (Storage[] | null)[] = [];

// Node allocates a non-pooled Buffer's ArrayBuffer without clearing it (malloc, not calloc):
// clearing a 50 MB activation only to overwrite it costs as much as a light kernel.
function uninitializedBuffer(nbytes: number): ArrayBuffer {
  const b = Buffer.allocUnsafeSlow(nbytes);
  return b.byteOffset === 0 && b.buffer.byteLength === nbytes ? b.buffer : new ArrayBuffer(nbytes);
}

function allocate(nbytes: number, zeroed: boolean): ArrayBuffer {
  const reused = nbytes > 0 ? pool.get(nbytes)?.pop() : undefined;
  if (reused) {
    released.delete(reused);
    pooledBytes -= nbytes;
    if (zeroed) new Uint8Array(reused).fill(0);
    return reused;
  }
  const buffer = zeroed ? new ArrayBuffer(nbytes) : uninitializedBuffer(nbytes);
  if (nbytes >= HUGE_PAGE_MIN_BYTES) native.adviseHugePages(buffer);
  return buffer;
}

function recycle(buffer: ArrayBuffer): void {
  const nbytes = buffer.byteLength;
  if (nbytes === 0) return;
  if (nbytes > poolLimitBytes) {
    native.detachBuffer(buffer);
    return;
  }
  const list = pool.get(nbytes);
  if (list) list.push(buffer);
  else pool.set(nbytes, [buffer]);
  released.add(buffer);
  pooledBytes += nbytes;
  trimPool(poolLimitBytes);
}

// Frees the longest-pooled buffers until the pool holds at most `limit` bytes.
function trimPool(limit: number): void {
  for (const oldest of released) {
    if (pooledBytes <= limit) return;
    const list = pool.get(oldest.byteLength)!;
    list.splice(list.indexOf(oldest), 1);
    if (list.length === 0) pool.delete(oldest.byteLength);
    released.delete(oldest);
    pooledBytes -= oldest.byteLength;
    native.detachBuffer(oldest);
  }
}

/**
 * Memory shared by a tensor and its views: a JS ArrayBuffer, which the addon reads in place.
 * V8 frees it when the last view is collected; release() (Tensor.dispose, or the end of an
 * allocation scope) hands it back at once.
 */
export class Storage {
  buffer: ArrayBuffer;
  readonly nbytes: number;
  disposed = false;
  /** Counts in-place writes (copy_, fill_), so values derived from the data (packed conv weights) know when to refresh. */
  version = 0;

  /** `zeroed` false skips clearing the memory, for outputs a kernel overwrites entirely. */
  constructor(nbytes: number, zeroed = true) {
    this.nbytes = nbytes;
    this.buffer = allocate(nbytes, zeroed);
    scopes[scopes.length - 1]?.push(this);
  }

  /** Releases the memory now, into the reuse pool; every view of it then reads as disposed. */
  release(): void {
    if (this.disposed) return;
    this.disposed = true;
    const buffer = this.buffer;
    this.buffer = RELEASED;
    recycle(buffer);
  }
}

// Marks every storage reachable from a function's result: tensors, and arrays, Maps and plain
// objects holding them.
function markReachable(value: unknown, kept: Set<Storage>, seen: Set<object>): void {
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  const storage = (value as { storage?: unknown }).storage;
  if (storage instanceof Storage) {
    kept.add(storage);
    return;
  }
  if (Array.isArray(value)) for (const v of value) markReachable(v, kept, seen);
  else if (value instanceof Map) for (const v of value.values()) markReachable(v, kept, seen);
  else if (Object.getPrototypeOf(value) === Object.prototype) for (const v of Object.values(value)) markReachable(v, kept, seen);
}

/**
 * Runs fn and then releases, for reuse, every storage created during it that its result does
 * not hold; the ones it holds belong to the enclosing scope from then on. Only for code that
 * keeps nothing else it creates (a block's forward pass without autograd): a tensor fn stashes
 * elsewhere is disposed. Code that fills a cache inside fn creates it under `persistent`.
 */
export function withAllocationScope<T>(fn: () => T): T {
  const created: Storage[] = [];
  scopes.push(created);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    for (const s of created) s.release();
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) throw new ArgumentError('withAllocationScope: fn must be synchronous (it returned a Promise)');
  const kept = new Set<Storage>();
  markReachable(result, kept, new Set());
  const parent = scopes[scopes.length - 1];
  for (const s of created) {
    if (kept.has(s)) parent?.push(s);
    else s.release();
  }
  return result;
}

/** Runs fn with its new storages outside every enclosing allocation scope: for caches that outlive the call. */
export function persistent<T>(fn: () => T): T {
  scopes.push(null);
  try {
    return fn();
  } finally {
    scopes.pop();
  }
}

/** Bytes of released buffers kept for reuse, and how many buffers. */
export function memoryPoolStats(): { bytes: number; buffers: number; limitBytes: number } {
  let buffers = 0;
  for (const list of pool.values()) buffers += list.length;
  return { bytes: pooledBytes, buffers, limitBytes: poolLimitBytes };
}

/** Frees the buffers kept for reuse (torch.cuda.empty_cache). */
export function releasePooledMemory(): void {
  trimPool(0);
}

onConfigure((config, changed) => {
  if (!changed.has('memoryPoolLimitBytes')) return;
  poolLimitBytes = config.memoryPoolLimitBytes;
  trimPool(poolLimitBytes);
});
