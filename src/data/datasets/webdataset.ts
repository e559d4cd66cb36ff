/**
 * A streaming dataset over WebDataset tar shards. Each shard is a POSIX (ustar, with pax and
 * GNU long-name entries) tar file read sequentially; consecutive files sharing a key (the path
 * up to the first dot of the file name) form one sample: the image from .jpg/.jpeg/.png/.webp
 * and the label from .cls (an integer) or .json (a number, or an object with "label" or "cls").
 * Shards are read in order, or shuffled per epoch with a seeded shard order plus a bounded
 * shuffle buffer (the WebDataset scheme), so an epoch's order is a pure function of (seed, epoch).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { ArgumentError } from '../../errors.ts';
import { decodeImage } from '../../io/image.ts';
import { Generator } from '../../tensor/index.ts';
import { DatasetError, type SampleError } from './image-folder.ts';
import { deriveSeed, uniforms, type IterableDataset, type OnError, type Sample } from './types.ts';

const BLOCK = 512;
const IMAGE_EXTS = ['jpg', 'jpeg', 'png', 'webp'];

/** One file of a tar archive. */
export interface TarEntry {
  name: string;
  data: Buffer;
}

// Sequential reads from a file through a 1 MiB window.
class Reader {
  private buf = Buffer.alloc(0);
  private pos = 0;
  offset = 0;
  private constructor(private readonly fh: FileHandle) {}

  static async open(path: string): Promise<Reader> {
    return new Reader(await open(path, 'r'));
  }

  async read(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      if (this.pos === this.buf.length) {
        const chunk = Buffer.alloc(Math.max(1 << 20, Math.min(need, 64 << 20)));
        const { bytesRead } = await this.fh.read(chunk, 0, chunk.length, null);
        if (bytesRead === 0) break;
        this.buf = chunk.subarray(0, bytesRead);
        this.pos = 0;
      }
      const take = Math.min(need, this.buf.length - this.pos);
      parts.push(this.buf.subarray(this.pos, this.pos + take));
      this.pos += take;
      need -= take;
    }
    const out = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    this.offset += out.length;
    return out;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

function cString(b: Buffer, start: number, len: number): string {
  const field = b.subarray(start, start + len);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? len : end).toString('utf8');
}

function octal(b: Buffer, start: number, len: number, what: string, where: string): number {
  if (b[start] & 0x80) {
    // GNU base-256 for sizes ≥ 8 GiB.
    let v = b[start] & 0x7f;
    for (let k = 1; k < len; k++) v = v * 256 + b[start + k];
    return v;
  }
  const text = cString(b, start, len).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new DatasetError(`tar: ${where}: bad ${what} field '${text}', expected octal digits`);
  return parseInt(text, 8);
}

function parsePax(data: Buffer, where: string): Map<string, string> {
  const out = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const len = space < 0 ? NaN : Number(data.subarray(at, space).toString('ascii'));
    if (!Number.isInteger(len) || len <= 0 || at + len > data.length) throw new DatasetError(`tar: ${where}: malformed pax header record`);
    const record = data.subarray(space + 1, at + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    at += len;
  }
  return out;
}

/** Yields the regular files of a tar archive in order; throws DatasetError on a malformed or truncated archive. */
export async function* readTar(path: string): AsyncGenerator<TarEntry> {
  const reader = await Reader.open(path);
  try {
    let longName: string | null = null;
    let paxPath: string | null = null;
    for (;;) {
      const where = `${path} at byte ${reader.offset}`;
      const header = await reader.read(BLOCK);
      if (header.length === 0) return; // EOF without end-of-archive blocks: accepted, as GNU tar does
      if (header.length < BLOCK) throw new DatasetError(`tar: ${where}: truncated header (${header.length} of ${BLOCK} bytes)`);
      if (header.every((x) => x === 0)) return;
      const stored = octal(header, 148, 8, 'checksum', where);
      let sum = 0;
      for (let k = 0; k < BLOCK; k++) sum += k >= 148 && k < 156 ? 0x20 : header[k];
      if (sum !== stored) throw new DatasetError(`tar: ${where}: header checksum ${stored} does not match the computed ${sum} (not a tar file or corrupt)`);
      const size = octal(header, 124, 12, 'size', where);
      const type = String.fromCharCode(header[156] || 0x30);
      const data = await reader.read(size);
      if (data.length < size) throw new DatasetError(`tar: ${where}: truncated entry (${data.length} of ${size} bytes)`);
      const padding = (BLOCK - (size % BLOCK)) % BLOCK;
      if ((await reader.read(padding)).length < padding) throw new DatasetError(`tar: ${where}: truncated entry padding`);
      if (type === 'L') {
        longName = cString(data, 0, data.length);
        continue;
      }
      if (type === 'x') {
        paxPath = parsePax(data, where).get('path') ?? null;
        continue;
      }
      const prefix = cString(header, 257, 6) === 'ustar' ? cString(header, 345, 155) : '';
      const name = paxPath ?? longName ?? (prefix ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100));
      longName = null;
      paxPath = null;
      if (type === '0' || type === '7') yield { name, data };
    }
  } finally {
    await reader.close();
  }
}

/** Splits a tar member name into the WebDataset sample key and the extension (after the first dot of the file name). */
export function splitKey(name: string): [string, string] {
  const slash = name.lastIndexOf('/');
  const dot = name.indexOf('.', slash + 1);
  return dot < 0 ? [name, ''] : [name.slice(0, dot), name.slice(dot + 1).toLowerCase()];
}

/** The raw files of one sample, by extension. */
export interface RawSample {
  key: string;
  shard: string;
  files: Map<string, Buffer>;
}

/** Groups consecutive tar members with the same key into samples. */
export async function* tarSamples(path: string): AsyncGenerator<RawSample> {
  let current: RawSample | null = null;
  for await (const entry of readTar(path)) {
    const [key, ext] = splitKey(entry.name);
    if (current && current.key !== key) {
      yield current;
      current = null;
    }
    current ??= { key, shard: path, files: new Map() };
    current.files.set(ext, entry.data);
  }
  if (current) yield current;
}

export interface WebDatasetOptions {
  /** Class names; labels must be below their count. Default: none checked, names class_<k> for numClasses. */
  classes?: readonly string[];
  numClasses?: number;
  /** Shuffle shards and samples per epoch (default false: shard order, file order). */
  shuffle?: boolean;
  /** Samples held in the shuffle buffer (default 1000). */
  shuffleBuffer?: number;
  seed?: number;
  /** 'fail' (default) throws on a malformed shard or sample; 'skip' reports it and goes on. */
  onError?: OnError;
  onSkip?: (error: SampleError) => void;
}

function labelOf(sample: RawSample): number {
  const cls = sample.files.get('cls');
  let value: unknown;
  if (cls) value = Number(cls.toString('utf8').trim());
  else {
    const json = sample.files.get('json');
    if (!json) throw new Error('no .cls or .json label');
    const parsed: unknown = JSON.parse(json.toString('utf8'));
    value = typeof parsed === 'object' && parsed !== null ? ((parsed as Record<string, unknown>).label ?? (parsed as Record<string, unknown>).cls) : parsed;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw new Error(`label must be a non-negative integer, got ${JSON.stringify(value)}`);
  return value;
}

/** A streaming dataset over WebDataset tar shards. */
export class WebDataset implements IterableDataset {
  readonly shards: readonly string[];
  readonly classes: readonly string[];
  readonly shuffle: boolean;
  readonly shuffleBuffer: number;
  readonly seed: number;
  readonly onError: OnError;
  readonly skipped: SampleError[] = [];
  private readonly onSkip: (error: SampleError) => void;

  constructor(shards: readonly string[], options: WebDatasetOptions = {}) {
    if (shards.length === 0) throw new ArgumentError('WebDataset: expected at least one shard path');
    const buffer = options.shuffleBuffer ?? 1000;
    if (!Number.isInteger(buffer) || buffer < 1) throw new ArgumentError(`WebDataset: shuffleBuffer must be a positive integer, got ${buffer}`);
    const onError = options.onError ?? 'fail';
    if (onError !== 'skip' && onError !== 'fail') throw new ArgumentError(`WebDataset: onError must be 'skip' or 'fail', got '${onError}'`);
    this.shards = [...shards];
    this.classes = options.classes ?? Array.from({ length: options.numClasses ?? 0 }, (_, k) => `class_${k}`);
    this.shuffle = options.shuffle ?? false;
    this.shuffleBuffer = buffer;
    this.seed = options.seed ?? 0;
    this.onError = onError;
    this.onSkip = options.onSkip ?? ((e) => process.emitWarning(`WebDataset: skipped ${e.path}: ${e.message}`, 'DatasetWarning'));
  }

  /** A bad shard or sample at `path`: a DatasetError under 'fail'; reported and recorded under 'skip'. */
  reportFailure(path: string, message: string): void {
    if (this.onError === 'fail') throw new DatasetError(`WebDataset: ${path}: ${message}`);
    const error = { path, message };
    this.skipped.push(error);
    this.onSkip(error);
  }

  /** The raw samples of an epoch, after shard and buffer shuffling. */
  async *rawSamples(epoch: number): AsyncGenerator<RawSample> {
    const rng = new Generator(deriveSeed(this.seed, epoch));
    let draws: Float32Array = new Float32Array(0);
    let used = 0;
    const next = () => {
      if (used === draws.length) {
        draws = uniforms(rng, 1024);
        used = 0;
      }
      return draws[used++];
    };
    const order = this.shards.map((_, k) => k);
    if (this.shuffle) {
      for (let k = order.length - 1; k > 0; k--) {
        const j = Math.floor(next() * (k + 1));
        [order[k], order[j]] = [order[j], order[k]];
      }
    }
    const buffer: RawSample[] = [];
    for (const k of order) {
      const shard = this.shards[k];
      try {
        for await (const sample of tarSamples(shard)) {
          if (!this.shuffle) {
            yield sample;
            continue;
          }
          if (buffer.length < this.shuffleBuffer) {
            buffer.push(sample);
            continue;
          }
          const j = Math.floor(next() * buffer.length);
          yield buffer[j];
          buffer[j] = sample;
        }
      } catch (e) {
        if (!(e instanceof DatasetError) && (e as NodeJS.ErrnoException).code === undefined) throw e;
        this.reportFailure(shard, (e as Error).message);
      }
    }
    while (buffer.length > 0) {
      const j = Math.floor(next() * buffer.length);
      yield buffer[j];
      buffer[j] = buffer[buffer.length - 1];
      buffer.pop();
    }
  }

  /** Decoded samples of an epoch: uint8 [H, W, 3] images and labels. */
  async *iterate(epoch = 0): AsyncGenerator<Sample> {
    for await (const raw of this.rawSamples(epoch)) {
      const where = `${raw.shard} sample '${raw.key}'`;
      const ext = IMAGE_EXTS.find((x) => raw.files.has(x));
      if (!ext) {
        this.reportFailure(where, `no image (.${IMAGE_EXTS.join(', .')}) among [${[...raw.files.keys()].join(', ')}]`);
        continue;
      }
      let sample: Sample;
      try {
        const label = labelOf(raw);
        if (this.classes.length > 0 && label >= this.classes.length) throw new Error(`label ${label} is out of range for ${this.classes.length} classes`);
        sample = { image: (await decodeImage(raw.files.get(ext)!, { mode: 'RGB' })).image, label };
      } catch (e) {
        this.reportFailure(where, (e as Error).message);
        continue;
      }
      yield sample;
    }
  }
}
