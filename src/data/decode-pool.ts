/**
 * Image files decoded, hashed and preprocessed in worker threads (Piscina), so decoding overlaps
 * with a model running on the main thread.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { ArgumentError } from '../errors.ts';
import type { DecodeReply, DecodeRequest } from './decode-task.ts';
import type { EvalConfig } from './transforms.ts';

const TASK_MODULE = new URL('./decode-task.ts', import.meta.url).href;
// Files queued in each thread ahead of time: the pool hands out work only while the main thread is
// free, so without a backlog the threads would idle for as long as the model runs.
const QUEUED_PER_THREAD = 64;
const TASK_WORKER = new URL('./ts-task-worker.mjs', import.meta.url).href;

/** Threads a DecodePool uses when not told: one core stays with the model. */
export function defaultDecodeThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** A pool of decode threads for one preprocessing config. */
export class DecodePool {
  private readonly pool: Piscina;

  constructor(
    private readonly cfg: EvalConfig,
    threads = defaultDecodeThreads(),
  ) {
    if (!Number.isInteger(threads) || threads < 1) throw new ArgumentError(`DecodePool: threads must be a positive integer, got ${threads}`);
    this.pool = new Piscina({ filename: TASK_WORKER, workerData: { taskModule: TASK_MODULE }, minThreads: threads, maxThreads: threads, concurrentTasksPerWorker: QUEUED_PER_THREAD });
  }

  /** Reads, hashes and preprocesses one file; `knownHash` equal to its hash skips the decode. */
  decode(path: string, knownHash?: string): Promise<DecodeReply> {
    return this.pool.run({ path, cfg: this.cfg, knownHash } satisfies DecodeRequest) as Promise<DecodeReply>;
  }

  /** Stops the threads; pending decodes are rejected. */
  close(): Promise<void> {
    return this.pool.destroy();
  }
}
