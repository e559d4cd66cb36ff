/**
 * safetensors read and write. Layout: an 8-byte little-endian header length N, N bytes
 * of UTF-8 JSON ({name: {dtype, shape, data_offsets}, __metadata__?}), then the data.
 * The reader validates everything the reference reader does (sizes, offsets contiguous
 * from 0 with no holes or overlaps, byte sizes, duplicate keys) before touching data,
 * and reads each tensor straight into its native storage. The writer writes a temp file
 * and renames it, so a crash never leaves a half-written file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { formatShape, TsvisionError } from '../errors.ts';
import { DTYPE_SIZE, type DType } from '../tensor/dtype.ts';
import { Tensor } from '../tensor/tensor.ts';
import { contiguous } from '../tensor/ops/shape.ts';
import { cast } from '../tensor/ops/elementwise.ts';

/** Why a safetensors file was rejected; names follow the reference implementation's errors. */
export type SafetensorsReason =
  | 'HeaderTooSmall'
  | 'HeaderTooLarge'
  | 'InvalidHeaderLength'
  | 'InvalidHeader'
  | 'InvalidHeaderDeserialization'
  | 'DuplicateKey'
  | 'InvalidOffset'
  | 'TensorInvalidInfo'
  | 'ValidationOverflow'
  | 'MetadataIncompleteBuffer'
  | 'UnknownDType'
  | 'UnsupportedDType'
  | 'MissingTensor'
  | 'Io';

/** A safetensors file that cannot be read or written; `reason` says why, `file` which one. */
export class SafetensorsError extends TsvisionError {
  readonly reason: SafetensorsReason;
  readonly file: string;
  constructor(reason: SafetensorsReason, file: string, message: string) {
    super('E_SAFETENSORS', `${file}: ${message} (${reason})`);
    this.reason = reason;
    this.file = file;
  }
}

/** Largest header the reader accepts, as the reference reader (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bits per element of every dtype the format defines. */
export const SAFETENSORS_DTYPE_BITS: Record<string, number> = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, F8_E4M3FNUZ: 8, F8_E5M2FNUZ: 8,
  I16: 16, U16: 16, F16: 16, BF16: 16,
  I32: 32, U32: 32, F32: 32,
  I64: 64, U64: 64, F64: 64, C64: 64,
  F4: 4, F6_E2M3: 6, F6_E3M2: 6,
};

/** One tensor's header entry, validated. */
export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte range [begin, end) relative to the start of the data section. */
  begin: number;
  end: number;
}

/** A validated header: entries in file order, metadata, and where data starts. */
export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  dataStart: number;
}

// The first key that repeats within one JSON object, at any depth, of a text JSON.parse
// accepted (JSON.parse silently keeps the last value of a repeated key).
function repeatedKey(text: string): string | null {
  const open: (Set<string> | null)[] = []; // one entry per open object or array (null)
  let expectKey = false;
  for (let i = 0; i < text.length; ++i) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const keys = open[open.length - 1];
      if (expectKey && keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      expectKey = false;
      i = j;
    } else if (c === '{' || c === '[') {
      open.push(c === '{' ? new Set() : null);
      expectKey = c === '{';
    } else if (c === '}' || c === ']') open.pop();
    else if (c === ',') expectKey = open[open.length - 1] !== null;
  }
  return null;
}

// A short description of an untrusted JSON value for messages (never a deep stringify).
function describe(v: unknown): string {
  if (Array.isArray(v)) return `[${v.slice(0, 8).map((x) => (typeof x === 'number' ? String(x) : typeof x === 'string' ? JSON.stringify(x.slice(0, 40)) : Array.isArray(x) ? 'array' : typeof x)).join(', ')}${v.length > 8 ? ', ...' : ''}]`;
  return typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : typeof v === 'number' ? String(v) : v === null ? 'null' : typeof v;
}

// Own, enumerable, writable: also for a key like "__proto__", which plain assignment would swallow.
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isNonNegInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/**
 * Validates a header. `fileSize` is the total file size in bytes; `headerBytes` are the N
 * JSON bytes that follow the 8-byte length.
 */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  let text: string;
  try {
    // ignoreBOM keeps a leading byte-order mark in the text, where JSON.parse rejects it as the reference does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError('InvalidHeader', file, 'header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError('InvalidHeaderDeserialization', file, `header is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new SafetensorsError('InvalidHeaderDeserialization', file, 'header must be a JSON object');
  }
  const repeated = repeatedKey(text);
  if (repeated !== null) throw new SafetensorsError('DuplicateKey', file, `key ${describe(repeated)} appears more than once in one object of the header`);
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new SafetensorsError('InvalidHeaderDeserialization', file, '__metadata__ must be an object of strings');
      }
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw new SafetensorsError('InvalidHeaderDeserialization', file, `__metadata__.${k} must be a string, got ${describe(v)}`);
        setOwn(metadata, k, v);
      }
      continue;
    }
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info !== 'object' || info === null || typeof info.dtype !== 'string' || !Array.isArray(info.shape) || !Array.isArray(info.data_offsets)) {
      throw new SafetensorsError('InvalidHeaderDeserialization', file, `entry '${name}' needs dtype, shape and data_offsets`);
    }
    if (!Object.hasOwn(SAFETENSORS_DTYPE_BITS, info.dtype)) throw new SafetensorsError('UnknownDType', file, `tensor '${name}' has unknown dtype ${describe(info.dtype)}`);
    if (!info.shape.every(isNonNegInteger)) throw new SafetensorsError('InvalidHeaderDeserialization', file, `tensor '${name}' has an invalid shape ${describe(info.shape)}`);
    // JSON numbers past 2^53 are no longer exact; such a dim can only describe an impossible size.
    if (!info.shape.every(isNonNegInt)) throw new SafetensorsError('ValidationOverflow', file, `tensor '${name}' of shape ${describe(info.shape)} is too large`);
    const offsets = info.data_offsets;
    if (offsets.length !== 2 || !offsets.every(isNonNegInt)) {
      throw new SafetensorsError('InvalidOffset', file, `tensor '${name}' has invalid data_offsets ${describe(offsets)}`);
    }
    entries.push({ name, dtype: info.dtype, shape: info.shape as number[], begin: offsets[0] as number, end: offsets[1] as number });
  }
  const dataStart = 8 + headerBytes.length;
  const dataSize = fileSize - dataStart;
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of sorted) {
    if (e.begin !== expected || e.end < e.begin) {
      throw new SafetensorsError('InvalidOffset', file, `tensor '${e.name}' has data_offsets [${e.begin}, ${e.end}], expected to start at ${expected} (offsets must be contiguous from 0, without gaps or overlaps)`);
    }
    // Checked arithmetic in BigInt: a shape like [2, 2^63] must not wrap around.
    let bits = BigInt(SAFETENSORS_DTYPE_BITS[e.dtype]);
    for (const d of e.shape) bits *= BigInt(d);
    if (bits > BigInt(Number.MAX_SAFE_INTEGER)) throw new SafetensorsError('ValidationOverflow', file, `tensor '${e.name}' of shape ${formatShape(e.shape)} is too large`);
    if (bits % 8n !== 0n || bits / 8n !== BigInt(e.end - e.begin)) {
      throw new SafetensorsError('TensorInvalidInfo', file, `tensor '${e.name}' ${e.dtype}${formatShape(e.shape)} needs ${Number(bits) / 8} bytes, data_offsets give ${e.end - e.begin}`);
    }
    expected = e.end;
  }
  if (expected !== dataSize) {
    throw new SafetensorsError('MetadataIncompleteBuffer', file, `data section is ${dataSize} bytes but the tensors cover ${expected}`);
  }
  return { entries, metadata, dataStart };
}

function readExactly(fd: number, into: Uint8Array, position: number, file: string): void {
  let done = 0;
  while (done < into.length) {
    const n = ioCall(file, 'cannot read', () => fs.readSync(fd, into, done, into.length - done, position + done));
    if (n === 0) throw new SafetensorsError('MetadataIncompleteBuffer', file, `file ended after ${position + done} bytes`);
    done += n;
  }
}

/** Reads and validates only the header of a safetensors file. */
export function readHeader(file: string): SafetensorsHeader {
  const fd = openForRead(file);
  try {
    return readHeaderFd(fd, file);
  } finally {
    fs.closeSync(fd);
  }
}

// Runs a file system call, turning its failure (EISDIR, EIO, ...) into an Io error naming the file.
function ioCall<T>(file: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new SafetensorsError('Io', file, `${what}: ${(e as Error).message}`);
  }
}

function openForRead(file: string): number {
  return ioCall(file, 'cannot open', () => fs.openSync(file, 'r'));
}

function readHeaderFd(fd: number, file: string): SafetensorsHeader {
  const stat = ioCall(file, 'cannot stat', () => fs.fstatSync(fd));
  if (!stat.isFile()) throw new SafetensorsError('Io', file, 'not a regular file');
  const size = stat.size;
  if (size < 8) throw new SafetensorsError('HeaderTooSmall', file, `file has ${size} bytes, fewer than the 8-byte header length`);
  const lenBytes = new Uint8Array(8);
  readExactly(fd, lenBytes, 0, file);
  const n = new DataView(lenBytes.buffer).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError('HeaderTooLarge', file, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (8n + n > BigInt(size)) throw new SafetensorsError('InvalidHeaderLength', file, `header length ${n} runs past the end of the ${size}-byte file`);
  const header = new Uint8Array(Number(n));
  readExactly(fd, header, 8, file);
  return parseHeader(header, size, file);
}

/** Options of readSafetensors. */
export interface ReadOptions {
  /** Convert every float tensor to this dtype (bf16/f16 checkpoints to float32, say). */
  floatDtype?: 'float32' | 'bfloat16';
}

/** The tensors and metadata of a safetensors file. */
export interface SafetensorsContents {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

// Storage dtype a file dtype loads into directly. BOOL loads as uint8 and is then cast, so a
// byte other than 0 and 1 becomes true rather than a bool no comparison treats as true.
const DIRECT: Record<string, DType> = { F32: 'float32', BF16: 'bfloat16', I32: 'int32', I64: 'int64', U8: 'uint8', BOOL: 'uint8' };

function decodeF16(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function widen(entry: SafetensorsEntry, bytes: Uint8Array, file: string): Tensor {
  const n = entry.shape.reduce((p, q) => p * q, 1);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const floatOut = ['F16', 'F64'].includes(entry.dtype);
  const out = Tensor.empty(entry.shape, floatOut ? 'float32' : entry.dtype === 'U32' || entry.dtype === 'U64' ? 'int64' : 'int32');
  const f32 = floatOut ? new Float32Array(out.buffer, 0, n) : null;
  const i32 = out.dtype === 'int32' ? new Int32Array(out.buffer, 0, n) : null;
  const i64 = out.dtype === 'int64' ? new BigInt64Array(out.buffer, 0, n) : null;
  for (let i = 0; i < n; ++i) {
    switch (entry.dtype) {
      case 'F16': f32![i] = decodeF16(dv.getUint16(2 * i, true)); break;
      case 'F64': f32![i] = dv.getFloat64(8 * i, true); break;
      case 'I8': i32![i] = dv.getInt8(i); break;
      case 'I16': i32![i] = dv.getInt16(2 * i, true); break;
      case 'U16': i32![i] = dv.getUint16(2 * i, true); break;
      case 'U32': i64![i] = BigInt(dv.getUint32(4 * i, true)); break;
      case 'U64': {
        const v = dv.getBigUint64(8 * i, true);
        if (v > 0x7fffffffffffffffn) throw new SafetensorsError('UnsupportedDType', file, `tensor '${entry.name}' holds a U64 value above the int64 range`);
        i64![i] = v;
        break;
      }
      default:
        throw new SafetensorsError('UnsupportedDType', file, `tensor '${entry.name}' has dtype ${entry.dtype}, which tsvision cannot load as a tensor`);
    }
  }
  return out;
}

/**
 * Reads every tensor of a safetensors file (or only `names`). F32, BF16, I32, I64, U8 and
 * BOOL load as they are; F16 and F64 load as float32; I8, I16, U16 as int32; U32, U64 as int64.
 */
export function readSafetensors(file: string, options: ReadOptions & { names?: readonly string[] } = {}): SafetensorsContents {
  const fd = openForRead(file);
  try {
    const header = readHeaderFd(fd, file);
    const wanted = options.names ? new Set(options.names) : null;
    if (wanted) {
      for (const name of wanted) {
        if (!header.entries.some((e) => e.name === name)) throw new SafetensorsError('MissingTensor', file, `no tensor named '${name}'`);
      }
    }
    const tensors = new Map<string, Tensor>();
    for (const entry of header.entries) {
      if (wanted && !wanted.has(entry.name)) continue;
      const direct = DIRECT[entry.dtype];
      let t: Tensor;
      if (direct) {
        t = Tensor.empty(entry.shape, direct);
        readExactly(fd, new Uint8Array(t.buffer, 0, t.numel * DTYPE_SIZE[direct]), header.dataStart + entry.begin, file);
        if (entry.dtype === 'BOOL') t = cast(t, 'bool');
      } else {
        const bytes = new Uint8Array(entry.end - entry.begin);
        readExactly(fd, bytes, header.dataStart + entry.begin, file);
        t = widen(entry, bytes, file);
      }
      if (options.floatDtype && (t.dtype === 'float32' || t.dtype === 'bfloat16')) t = cast(t, options.floatDtype);
      tensors.set(entry.name, t);
    }
    return { tensors, metadata: header.metadata };
  } finally {
    fs.closeSync(fd);
  }
}

const FILE_DTYPE: Record<DType, string> = { float32: 'F32', bfloat16: 'BF16', int32: 'I32', int64: 'I64', uint8: 'U8', bool: 'BOOL' };

/**
 * Writes tensors (and string metadata) to a safetensors file atomically: a temp file in
 * the same folder, fsync, then rename over the target.
 */
export function writeSafetensors(file: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): void {
  const list = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // No prototype, so a tensor named "__proto__" is an ordinary key.
  const header: Record<string, unknown> = Object.create(null);
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new SafetensorsError('InvalidHeaderDeserialization', file, `metadata '${k}' must be a string`);
    }
    header.__metadata__ = metadata;
  }
  const parts: Tensor[] = [];
  let at = 0;
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new SafetensorsError('InvalidHeader', file, "a tensor cannot be named '__metadata__'");
    t.assertAlive('writeSafetensors');
    const c = contiguous(t.detach());
    const bytes = c.numel * DTYPE_SIZE[c.dtype];
    header[name] = { dtype: FILE_DTYPE[c.dtype], shape: [...c.shape], data_offsets: [at, at + bytes] };
    parts.push(c);
    at += bytes;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data section starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - ((Buffer.byteLength(json) + 8) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(headerBytes.length));
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fd = ioCall(file, `cannot create the temp file ${tmp}`, () => fs.openSync(tmp, 'wx'));
  let step = `cannot write the temp file ${tmp}`;
  let open = true;
  try {
    fs.writeSync(fd, len);
    fs.writeSync(fd, headerBytes);
    for (const c of parts) {
      const n = c.numel * DTYPE_SIZE[c.dtype];
      if (n > 0) fs.writeSync(fd, new Uint8Array(c.buffer, c.offset * DTYPE_SIZE[c.dtype], n));
    }
    step = `cannot flush the temp file ${tmp} to disk`;
    fs.fsyncSync(fd);
    open = false;
    fs.closeSync(fd);
    step = `cannot rename the temp file ${tmp} to it`;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (open) closeQuietly(fd);
    removeQuietly(tmp);
    throw new SafetensorsError('Io', file, `${step}: ${(e as Error).message}`);
  }
}

// Cleanup after a failed write: its own failure must not replace the error that says what went wrong.
function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // The write's error is the one worth reporting.
  }
}

function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    // The write's error is the one worth reporting; a leftover temp file is only clutter.
  }
}

/**
 * Checks, before any work that ends in writing `file`, that it can be written: its folder exists,
 * is a folder and is writable, and `file` is not itself a folder. Throws a SafetensorsError (Io)
 * naming the path and what is wrong.
 */
export function checkOutputPath(file: string): void {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  let dirStat: fs.Stats;
  try {
    dirStat = fs.statSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'has a file where a folder should be in its path' : `cannot be read (${(e as Error).message})`;
    throw new SafetensorsError('Io', file, `cannot write here: the folder ${dir} ${why}`);
  }
  if (!dirStat.isDirectory()) throw new SafetensorsError('Io', file, `cannot write here: ${dir} is not a folder`);
  ioCall(file, `cannot write here: the folder ${dir} is not writable`, () => fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK));
  let targetStat: fs.Stats | undefined;
  try {
    targetStat = fs.statSync(target);
  } catch {
    targetStat = undefined;
  }
  if (targetStat?.isDirectory()) throw new SafetensorsError('Io', file, 'cannot write here: the path is a folder');
}
