/**
 * DataLoader: batches a dataset into float32 [N, C, H, W] images and int64 [N] labels, with
 * seeded per-epoch shuffling, drop_last, a bounded prefetch window and optional worker threads.
 *
 * Every random choice is a pure function of the loader seed: the epoch's order of
 * deriveSeed(seed, epoch), sample i's transform generator of deriveSeed(seed, epoch, i), and
 * batch b's batch-transform generator of deriveSeed(seed, epoch, b, 1). So workers produce
 * exactly the batches the main thread would, and a saved {epoch, position, seed} resumes the
 * same data order. At most `prefetch + workers` batches are in flight: memory stays flat.
 */
import { Worker } from 'node:worker_threads';
import { ArgumentError, formatShape, ShapeError } from '../errors.ts';
import { Generator, Tensor, cast, fromTypedArray, stack } from '../tensor/index.ts';
import { toTensor } from './transforms.ts';
import { deriveSeed, uniforms, type Dataset, type IterableDataset, type Sample } from './datasets/types.ts';
import { DatasetError } from './datasets/image-folder.ts';

/** A per-sample transform: gets the image (uint8 [H, W, C] or float [C, H, W]) and this sample's generator. */
export type SampleTransform = (image: Tensor, rng: Generator) => Tensor;

/** One batch: images [N, C, H, W] float32, labels int64 [N] (or soft targets after a batch transform), dataset indices; captions when the samples have them. */
export interface Batch {
  images: Tensor;
  labels: Tensor;
  indices: readonly number[];
  texts?: readonly string[];
}

/** A batch-level transform (Mixup/CutMix), run on the main thread with this batch's generator. */
export type BatchTransform = (batch: Batch, rng: Generator) => Batch;

/** A dataset and its per-sample transform, as a pipeline factory returns them. */
export interface Pipeline {
  dataset: Dataset;
  transform?: SampleTransform;
}

/**
 * Where worker threads (and the main thread) get the pipeline: a module URL or absolute path
 * whose export (default `createPipeline`) maps the structured-cloneable `options` to a Pipeline.
 */
export interface PipelineSpec {
  module: string;
  export?: string;
  options?: unknown;
}

/** The resumable position of a loader. */
export interface LoaderState {
  epoch: number;
  /** Batches of `epoch` already produced. */
  position: number;
  seed: number;
}

export interface LoaderOptions {
  batchSize: number;
  shuffle?: boolean;
  seed?: number;
  dropLast?: boolean;
  /** Batches prepared ahead of the consumer (default 2). */
  prefetch?: number;
  /** Worker threads (default 0: main thread); needs a PipelineSpec source. */
  workers?: number;
  /** Per-sample transform; with a PipelineSpec it comes from the pipeline instead. */
  transform?: SampleTransform;
  batchTransform?: BatchTransform;
}

function isSpec(x: unknown): x is PipelineSpec {
  return typeof x === 'object' && x !== null && typeof (x as PipelineSpec).module === 'string';
}

function isIterable(x: Dataset | IterableDataset): x is IterableDataset {
  return typeof (x as IterableDataset).iterate === 'function' && typeof (x as Dataset).get !== 'function';
}

/** Loads the pipeline a spec names. */
export async function loadPipeline(spec: PipelineSpec): Promise<Pipeline> {
  const mod = (await import(spec.module)) as Record<string, unknown>;
  const name = spec.export ?? 'createPipeline';
  const factory = mod[name];
  if (typeof factory !== 'function') throw new ArgumentError(`DataLoader: ${spec.module} has no function export '${name}'`);
  return (await (factory as (o: unknown) => Pipeline | Promise<Pipeline>)(spec.options)) as Pipeline;
}

/** Turns one transformed sample into float32 [C, H, W]. */
function asChw(image: Tensor): Tensor {
  if (image.dtype === 'uint8' && image.ndim === 3) return toTensor(image);
  if (image.ndim !== 3) throw new ShapeError(`DataLoader: a sample image must be uint8 [H, W, C] or float [C, H, W], got ${image.dtype} ${formatShape(image.shape)}`);
  return image.dtype === 'float32' ? image : cast(image, 'float32');
}

/** Stacks samples into a batch; images must share one shape. */
export function collate(samples: readonly Sample[], indices: readonly number[]): Batch {
  const images = samples.map((s) => asChw(s.image));
  const first = images[0].shape;
  images.forEach((im, k) => {
    if (im.shape.some((d, j) => d !== first[j])) {
      throw new ShapeError(`DataLoader: sample ${indices[k]} has shape ${formatShape(im.shape)}, expected ${formatShape(first)} like sample ${indices[0]}`);
    }
  });
  const labels = fromTypedArray(BigInt64Array.from(samples, (s) => BigInt(s.label)), [samples.length]);
  const texts = samples.map((s) => s.text);
  if (texts.some((t) => t !== undefined)) {
    const missing = texts.findIndex((t) => typeof t !== 'string');
    if (missing >= 0) throw new ArgumentError(`DataLoader: sample ${indices[missing]} has no text, but others in its batch do`);
    return { images: stack(images), labels, indices, texts: texts as string[] };
  }
  return { images: stack(images), labels, indices };
}

/** Builds batch `indices` on the current thread: get, transform with the per-sample generator, collate. Null if every sample was skipped. */
export async function buildBatch(pipeline: Pipeline, seed: number, epoch: number, indices: readonly number[]): Promise<Batch | null> {
  const got = await Promise.all(indices.map((i) => pipeline.dataset.get(i)));
  const kept: Sample[] = [];
  const keptIdx: number[] = [];
  got.forEach((s, k) => {
    if (!s) return;
    const image = pipeline.transform ? pipeline.transform(s.image, new Generator(deriveSeed(seed, epoch, indices[k]))) : s.image;
    kept.push(s.text === undefined ? { image, label: s.label } : { image, label: s.label, text: s.text });
    keptIdx.push(indices[k]);
  });
  return kept.length > 0 ? collate(kept, keptIdx) : null;
}

/** The sample order of an epoch: a seeded Fisher–Yates permutation, or 0..n-1. */
export function epochOrder(length: number, seed: number, epoch: number, shuffle: boolean): Int32Array {
  const order = new Int32Array(length);
  for (let i = 0; i < length; i++) order[i] = i;
  if (!shuffle || length < 2) return order;
  const u = uniforms(new Generator(deriveSeed(seed, epoch)), length);
  for (let k = length - 1; k > 0; k--) {
    const j = Math.min(k, Math.floor(u[k] * (k + 1)));
    const t = order[k];
    order[k] = order[j];
    order[j] = t;
  }
  return order;
}

// Messages between the loader and its workers.
interface WorkRequest { id: number; epoch: number; indices: number[] }
interface WorkReply {
  id: number;
  error?: { name: string; message: string };
  images?: Float32Array;
  shape?: number[];
  labels?: BigInt64Array;
  indices?: number[];
  texts?: string[];
}

// Loader hooks (tsx) do not reach worker threads: a TypeScript worker registers tsx itself before loading worker.ts.
const WORKER_URL = new URL('./worker.ts', import.meta.url).href;
const WORKER_BOOT = WORKER_URL.endsWith('.ts')
  ? `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL)}); });`
  : `import(${JSON.stringify(WORKER_URL)});`;

class WorkerPool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, { resolve: (b: Batch | null) => void; reject: (e: Error) => void; worker: Worker }>();
  private readonly outstanding = new Map<Worker, number>();
  private nextId = 0;
  private turn = 0;

  constructor(count: number, spec: PipelineSpec, seed: number) {
    this.workers = Array.from({ length: count }, () => {
      const w = new Worker(WORKER_BOOT, { eval: true, workerData: { spec, seed } });
      w.unref();
      w.on('message', (reply: WorkReply) => this.settle(reply));
      w.on('error', (e) => this.failAll(w, e));
      w.on('exit', (code) => this.failAll(w, new DatasetError(`DataLoader: a worker exited with code ${code}`)));
      this.outstanding.set(w, 0);
      return w;
    });
  }

  run(epoch: number, indices: number[]): Promise<Batch | null> {
    const worker = this.workers[this.turn++ % this.workers.length];
    const id = this.nextId++;
    const count = this.outstanding.get(worker)!;
    if (count === 0) worker.ref();
    this.outstanding.set(worker, count + 1);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, worker });
      worker.postMessage({ id, epoch, indices } satisfies WorkRequest);
    });
  }

  private release(worker: Worker): void {
    const count = this.outstanding.get(worker)! - 1;
    this.outstanding.set(worker, count);
    if (count === 0) worker.unref();
  }

  private settle(reply: WorkReply): void {
    const job = this.waiting.get(reply.id);
    if (!job) return;
    this.waiting.delete(reply.id);
    this.release(job.worker);
    if (reply.error) {
      const e = reply.error.name === 'DatasetError' ? new DatasetError(reply.error.message) : Object.assign(new Error(reply.error.message), { name: reply.error.name });
      job.reject(e);
    } else if (!reply.images) job.resolve(null);
    else {
      const batch: Batch = { images: fromTypedArray(reply.images, reply.shape!), labels: fromTypedArray(reply.labels!, [reply.labels!.length]), indices: reply.indices! };
      job.resolve(reply.texts ? { ...batch, texts: reply.texts } : batch);
    }
  }

  private failAll(worker: Worker, error: Error): void {
    for (const [id, job] of this.waiting) {
      if (job.worker !== worker) continue;
      this.waiting.delete(id);
      job.reject(error);
    }
    this.outstanding.set(worker, 0);
  }

  async close(): Promise<void> {
    // A terminating worker does not keep the event loop alive until terminate() resolves: a timer does.
    const keepAlive = setInterval(() => undefined, 1000);
    try {
      await Promise.all(this.workers.map((w) => w.terminate()));
    } finally {
      clearInterval(keepAlive);
    }
  }
}

/** Batches a dataset for training and evaluation; iterate it once per epoch with `for await`. */
export class DataLoader {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly prefetch: number;
  readonly workers: number;
  private seed: number;
  private epoch = 0;
  private position = 0;
  private readonly source: Dataset | IterableDataset | PipelineSpec;
  private readonly batchTransform?: BatchTransform;
  private pipeline: Promise<Pipeline> | null = null;
  private pool: WorkerPool | null = null;
  private readonly transform?: SampleTransform;
  private datasetLength?: number;

  constructor(source: Dataset | IterableDataset | PipelineSpec, options: LoaderOptions) {
    const { batchSize } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ArgumentError(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    const prefetch = options.prefetch ?? 2;
    if (!Number.isInteger(prefetch) || prefetch < 0) throw new ArgumentError(`DataLoader: prefetch must be a non-negative integer, got ${prefetch}`);
    const workers = options.workers ?? 0;
    if (!Number.isInteger(workers) || workers < 0) throw new ArgumentError(`DataLoader: workers must be a non-negative integer, got ${workers}`);
    if (workers > 0 && !isSpec(source)) throw new ArgumentError('DataLoader: workers need a PipelineSpec source ({ module, export, options }) that each worker can load');
    if (isSpec(source) && options.transform) throw new ArgumentError('DataLoader: with a PipelineSpec source the per-sample transform comes from the pipeline, not options.transform');
    const seed = options.seed ?? 0;
    if (!Number.isSafeInteger(seed) || seed < 0) throw new ArgumentError(`DataLoader: seed must be a non-negative safe integer, got ${seed}`);
    this.source = source;
    this.batchSize = batchSize;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.prefetch = prefetch;
    this.workers = workers;
    this.seed = seed;
    this.transform = options.transform;
    this.batchTransform = options.batchTransform;
    if (!isSpec(source) && !isIterable(source)) {
      this.pipeline = Promise.resolve({ dataset: source, transform: options.transform });
      this.datasetLength = source.length;
    }
  }

  /** Batches per epoch; undefined for a streaming dataset, and for a PipelineSpec until its first iteration loads it. */
  get length(): number | undefined {
    return this.datasetLength === undefined ? undefined : this.batchesOf(this.datasetLength);
  }

  private batchesOf(n: number): number {
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Where the loader stands: the epoch the next iteration runs and the batches of it already produced. */
  stateDict(): LoaderState {
    return { epoch: this.epoch, position: this.position, seed: this.seed };
  }

  /** Restores a state from stateDict(), so the next iteration continues the same data order. */
  loadStateDict(state: LoaderState): void {
    for (const key of ['epoch', 'position', 'seed'] as const) {
      if (!Number.isSafeInteger(state[key]) || state[key] < 0) throw new ArgumentError(`DataLoader.loadStateDict: ${key} must be a non-negative integer, got ${state[key]}`);
    }
    if (this.pool && state.seed !== this.seed) throw new ArgumentError(`DataLoader.loadStateDict: seed ${state.seed} differs from the workers' seed ${this.seed}; load the state before the first iteration`);
    this.epoch = state.epoch;
    this.position = state.position;
    this.seed = state.seed;
  }

  /** Stops the worker threads; the loader can still iterate on the main thread afterwards only if it has none. */
  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = null;
  }

  /** Iterates the rest of the current epoch, then moves to the next epoch. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Batch> {
    if (!isSpec(this.source) && isIterable(this.source)) {
      yield* this.stream(this.source);
      return;
    }
    this.pipeline ??= loadPipeline(this.source as PipelineSpec);
    const pipeline = await this.pipeline;
    if (typeof pipeline.dataset?.get !== 'function') {
      throw new ArgumentError('DataLoader: a PipelineSpec must give a map-style dataset (with get); pass a streaming dataset to the loader directly');
    }
    this.datasetLength = pipeline.dataset.length;
    if (this.workers > 0) this.pool ??= new WorkerPool(this.workers, this.source as PipelineSpec, this.seed);
    const { epoch, seed } = this;
    const n = pipeline.dataset.length;
    const order = epochOrder(n, seed, epoch, this.shuffle);
    const total = this.batchesOf(n);
    const window = this.prefetch + this.workers + 1;
    const inflight = new Map<number, Promise<Batch | null>>();
    let scheduled = this.position;
    const schedule = () => {
      while (scheduled < total && inflight.size < window) {
        const indices = Array.from(order.subarray(scheduled * this.batchSize, Math.min(n, (scheduled + 1) * this.batchSize)));
        const p = this.pool ? this.pool.run(epoch, indices) : buildBatch(pipeline, seed, epoch, indices);
        p.catch(() => undefined); // awaited below; a batch abandoned by an early break must not be an unhandled rejection
        inflight.set(scheduled++, p);
      }
    };
    for (let b = this.position; b < total; b++) {
      schedule();
      const batch = await inflight.get(b)!;
      inflight.delete(b);
      this.position = b + 1;
      if (batch) yield this.finish(batch, epoch, b);
    }
    this.epoch = epoch + 1;
    this.position = 0;
  }

  private finish(batch: Batch, epoch: number, b: number): Batch {
    return this.batchTransform ? this.batchTransform(batch, new Generator(deriveSeed(this.seed, epoch, b, 1))) : batch;
  }

  // A streaming dataset: sample k of the epoch gets generator deriveSeed(seed, epoch, k); one batch is built ahead.
  private async *stream(ds: IterableDataset): AsyncGenerator<Batch> {
    const { epoch, seed } = this;
    const it = ds.iterate(epoch)[Symbol.asyncIterator]();
    let ordinal = 0;
    const skip = this.position * this.batchSize;
    const next = async (): Promise<Batch | null> => {
      const samples: Sample[] = [];
      const indices: number[] = [];
      while (samples.length < this.batchSize) {
        const r = await it.next();
        if (r.done) break;
        const k = ordinal++;
        if (k < skip) continue;
        const image = this.transform ? this.transform(r.value.image, new Generator(deriveSeed(seed, epoch, k))) : r.value.image;
        samples.push(r.value.text === undefined ? { image, label: r.value.label } : { image, label: r.value.label, text: r.value.text });
        indices.push(k);
      }
      if (samples.length === 0 || (this.dropLast && samples.length < this.batchSize)) return null;
      return collate(samples, indices);
    };
    let b = this.position;
    let ahead = next();
    for (;;) {
      const batch = await ahead;
      if (!batch) break;
      ahead = next();
      ahead.catch(() => undefined);
      this.position = b + 1;
      yield this.finish(batch, epoch, b++);
    }
    this.epoch = epoch + 1;
    this.position = 0;
  }
}
