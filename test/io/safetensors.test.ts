/**
 * safetensors reader and writer: the loader checklist of reliability.md (section 1 and
 * "Test checklist" items 1-8), round trips of every dtype we write, reading the dtypes we
 * only read (built byte by byte here), atomic writes, and a seeded mutation fuzz in which
 * every outcome must be a successful load or a SafetensorsError naming the file.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, describe, mock, test } from 'node:test';
import {
  MAX_HEADER_BYTES,
  SafetensorsError,
  checkOutputPath,
  readHeader,
  readSafetensors,
  writeSafetensors,
  type SafetensorsReason,
} from '../../src/io/safetensors.ts';
import * as T from '../../src/tensor/index.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-safetensors-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

let counter = 0;
/** A fresh path in the test folder. */
const fresh = (stem = 'f') => path.join(dir, `${stem}-${counter++}.safetensors`);

/** Writes 8-byte N (the header's byte length unless overridden), the header, then data. */
function rawFile(header: string | Uint8Array | object, data: ArrayLike<number> = [], length?: bigint): string {
  const h = typeof header === 'string' ? Buffer.from(header, 'utf8') : header instanceof Uint8Array ? Buffer.from(header) : Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(length ?? BigInt(h.length));
  const file = fresh('raw');
  fs.writeFileSync(file, Buffer.concat([len, h, Buffer.from(Array.from(data))]));
  return file;
}

/** Asserts that reading `file` fails with a SafetensorsError of `reason` whose message names the file. */
function rejects(file: string, reason: SafetensorsReason, ...fragments: string[]): void {
  const readers: [string, () => unknown][] = [['readSafetensors', () => readSafetensors(file)]];
  // Everything but the per-tensor data checks is a header check, which readHeader makes too.
  if (reason !== 'UnsupportedDType' && reason !== 'MissingTensor') readers.push(['readHeader', () => readHeader(file)]);
  for (const [label, read] of readers) {
    assert.throws(read, (e: unknown) => {
      assert.ok(e instanceof SafetensorsError, `${label}: expected SafetensorsError, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
      assert.equal(e.reason, reason, `${label}: reason (message: ${e.message})`);
      assert.equal(e.code, 'E_SAFETENSORS');
      assert.equal(e.file, file);
      assert.ok(e.message.includes(file), `${label}: message '${e.message}' does not name the file`);
      for (const f of fragments) assert.ok(e.message.includes(f), `${label}: message '${e.message}' lacks '${f}'`);
      return true;
    });
  }
}

const f32Bytes = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);
const entry = (dtype: string, shape: number[], begin: number, end: number) => ({ dtype, shape, data_offsets: [begin, end] });

describe('header size and length (checklist 1-2)', () => {
  test('files of 0 to 7 bytes: HeaderTooSmall', () => {
    for (let n = 0; n < 8; ++n) {
      const file = fresh('small');
      fs.writeFileSync(file, Buffer.alloc(n, 0x7b));
      rejects(file, 'HeaderTooSmall', `${n} bytes`);
    }
  });

  test('N = 2^64 - 1 and N just above 100 MB: HeaderTooLarge', () => {
    rejects(rawFile('{}', [], 2n ** 64n - 1n), 'HeaderTooLarge', '18446744073709551615');
    rejects(rawFile('{}', [], BigInt(MAX_HEADER_BYTES) + 1n), 'HeaderTooLarge', String(MAX_HEADER_BYTES + 1));
  });

  test('N past the end of the file: InvalidHeaderLength, without allocating N bytes', () => {
    const file = rawFile('{}', [], BigInt(MAX_HEADER_BYTES - 1));
    const before = process.memoryUsage().arrayBuffers;
    rejects(file, 'InvalidHeaderLength', String(MAX_HEADER_BYTES - 1));
    const grown = process.memoryUsage().arrayBuffers - before;
    assert.ok(grown < 1 << 20, `array buffers grew by ${grown} bytes`);
    rejects(rawFile('{}', [], 3n), 'InvalidHeaderLength');
  });
});

describe('header text (checklist 3-4)', () => {
  test('non-UTF-8 header: InvalidHeader', () => {
    rejects(rawFile(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 'InvalidHeader', 'UTF-8');
    rejects(rawFile(new Uint8Array([0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d])), 'InvalidHeader');
  });

  test('a lone {, empty text, non-objects and a byte-order mark: InvalidHeaderDeserialization', () => {
    rejects(rawFile('{'), 'InvalidHeaderDeserialization', 'JSON');
    rejects(rawFile(''), 'InvalidHeaderDeserialization');
    rejects(rawFile('[]'), 'InvalidHeaderDeserialization', 'object');
    rejects(rawFile('null'), 'InvalidHeaderDeserialization');
    rejects(rawFile('"x"'), 'InvalidHeaderDeserialization');
    rejects(rawFile('\ufeff{}'), 'InvalidHeaderDeserialization');
  });

  test('leading whitespace and trailing padding are accepted, as the reference reader does', () => {
    assert.equal(readSafetensors(rawFile('  \n{}   ')).tensors.size, 0);
  });

  test('numeric, null or nested metadata values: InvalidHeaderDeserialization', () => {
    rejects(rawFile({ __metadata__: { epoch: 3 } }), 'InvalidHeaderDeserialization', 'epoch', 'string');
    rejects(rawFile({ __metadata__: { a: null } }), 'InvalidHeaderDeserialization');
    rejects(rawFile({ __metadata__: { a: { b: 'c' } } }), 'InvalidHeaderDeserialization');
    rejects(rawFile({ __metadata__: ['a'] }), 'InvalidHeaderDeserialization', '__metadata__');
    rejects(rawFile({ __metadata__: 'a' }), 'InvalidHeaderDeserialization', '__metadata__');
  });

  test('entries lacking dtype, shape or data_offsets, or of the wrong kinds: InvalidHeaderDeserialization', () => {
    rejects(rawFile({ a: { dtype: 'F32', shape: [1] } }), 'InvalidHeaderDeserialization', "'a'");
    rejects(rawFile({ a: 'F32' }), 'InvalidHeaderDeserialization', "'a'");
    rejects(rawFile({ a: { dtype: 1, shape: [1], data_offsets: [0, 4] } }), 'InvalidHeaderDeserialization');
    rejects(rawFile({ a: entry('F32', [-1], 0, 4) }, f32Bytes([1])), 'InvalidHeaderDeserialization', 'shape');
    rejects(rawFile({ a: entry('F32', [1.5], 0, 4) }, f32Bytes([1])), 'InvalidHeaderDeserialization', 'shape');
    rejects(rawFile({ a: entry('F32', ['1'] as unknown as number[], 0, 4) }, f32Bytes([1])), 'InvalidHeaderDeserialization');
  });

  test('a deeply nested value is reported, not a stack overflow', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    rejects(rawFile(`{"a":{"dtype":"F32","shape":${deep},"data_offsets":[0,0]}}`), 'InvalidHeaderDeserialization', "'a'");
    rejects(rawFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":${deep}}}`), 'InvalidOffset', "'a'");
  });

  test('duplicate keys: DuplicateKey, at the top level and inside an entry or the metadata', () => {
    const a = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
    rejects(rawFile(`{"w":${a},"w":${a}}`, f32Bytes([1])), 'DuplicateKey', '"w"');
    // The same key spelled with an escape.
    rejects(rawFile(`{"w":${a},"\\u0077":${a}}`, f32Bytes([1])), 'DuplicateKey', '"w"');
    rejects(rawFile(`{"w":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, f32Bytes([1])), 'DuplicateKey', '"dtype"');
    rejects(rawFile(`{"__metadata__":{"k":"a","k":"b"}}`), 'DuplicateKey', '"k"');
    rejects(rawFile(`{"__metadata__":{},"__metadata__":{}}`), 'DuplicateKey', '__metadata__');
  });

  test('keys that look like quotes, commas or braces inside strings are not miscounted', () => {
    const file = rawFile({ __metadata__: { 'a,"b": {': '}, "a,\\"b": {' }, 'x,{"y"': entry('F32', [1], 0, 4) }, f32Bytes([2]));
    const { tensors, metadata } = readSafetensors(file);
    assert.deepEqual([...tensors.keys()], ['x,{"y"']);
    assert.equal(metadata['a,"b": {'], '}, "a,\\"b": {');
  });
});

describe('offsets and sizes (checklist 5-8)', () => {
  const two = (a: [number, number], b: [number, number], bytes = 16) =>
    rawFile({ a: entry('F32', [(a[1] - a[0]) / 4], a[0], a[1]), b: entry('F32', [Math.max(0, b[1] - b[0]) / 4], b[0], b[1]) }, new Uint8Array(bytes));

  test('overlapping offsets, a gap, a start other than 0, end < begin: InvalidOffset naming the tensor', () => {
    rejects(two([0, 8], [4, 12], 12), 'InvalidOffset', "'b'", '[4, 12]');
    rejects(two([0, 8], [0, 8], 8), 'InvalidOffset', '[0, 8]');
    rejects(two([0, 4], [8, 12], 12), 'InvalidOffset', "'b'", '[8, 12]');
    rejects(rawFile({ a: entry('F32', [1], 4, 8) }, new Uint8Array(8)), 'InvalidOffset', "'a'", 'start at 0');
    rejects(rawFile({ a: entry('F32', [2], 0, 8), b: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, new Uint8Array(8)), 'InvalidOffset', "'b'", '[8, 4]');
    rejects(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] } }, new Uint8Array(4)), 'InvalidOffset', "'a'");
    rejects(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, new Uint8Array(4)), 'InvalidOffset', "'a'");
    rejects(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4.5] } }, new Uint8Array(4)), 'InvalidOffset', "'a'");
  });

  test('shape [2, 2^63] and products past 2^53: ValidationOverflow', () => {
    rejects(rawFile('{"a":{"dtype":"F32","shape":[2,9223372036854775808],"data_offsets":[0,8]}}', new Uint8Array(8)), 'ValidationOverflow', "'a'");
    rejects(rawFile({ a: entry('U8', [2 ** 31, 2 ** 31, 2 ** 31], 0, 8) }, new Uint8Array(8)), 'ValidationOverflow', "'a'");
    rejects(rawFile({ a: entry('F64', [2 ** 26, 2 ** 26], 0, 8) }, new Uint8Array(8)), 'ValidationOverflow');
  });

  test('byte size other than shape x dtype: TensorInvalidInfo', () => {
    rejects(rawFile({ a: entry('F32', [3], 0, 8) }, new Uint8Array(8)), 'TensorInvalidInfo', "'a'", '12 bytes', 'give 8');
    rejects(rawFile({ a: entry('BF16', [2, 2], 0, 4) }, new Uint8Array(4)), 'TensorInvalidInfo');
    rejects(rawFile({ a: entry('F4', [3], 0, 2) }, new Uint8Array(2)), 'TensorInvalidInfo');
  });

  test('trailing bytes and a truncated file: MetadataIncompleteBuffer', () => {
    rejects(rawFile({ a: entry('F32', [2], 0, 8) }, new Uint8Array(9)), 'MetadataIncompleteBuffer', '9 bytes', 'cover 8');
    rejects(rawFile({ a: entry('F32', [2], 0, 8) }, new Uint8Array(5)), 'MetadataIncompleteBuffer');
    rejects(rawFile({}, new Uint8Array(1)), 'MetadataIncompleteBuffer');
    const good = fresh('good');
    writeSafetensors(good, { w: T.arange(10, undefined, 1, { dtype: 'float32' }) });
    const bytes = fs.readFileSync(good);
    const cut = fresh('cut');
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 3));
    rejects(cut, 'MetadataIncompleteBuffer');
  });

  test('unknown dtypes, including names of Object.prototype members: UnknownDType', () => {
    for (const dtype of ['F128', 'f32', '', 'toString', '__proto__', 'constructor', 'hasOwnProperty']) {
      rejects(rawFile({ a: entry(dtype, [1], 0, 4) }, new Uint8Array(4)), 'UnknownDType', "'a'");
    }
  });

  test('dtypes the format defines but tsvision cannot hold: UnsupportedDType when read, accepted by readHeader', () => {
    for (const [dtype, bytes] of [['F8_E4M3', 2], ['C64', 16], ['F8_E5M2', 2]] as const) {
      const file = rawFile({ a: entry(dtype, [2], 0, bytes) }, new Uint8Array(bytes));
      assert.equal(readHeader(file).entries[0].dtype, dtype);
      rejects(file, 'UnsupportedDType', "'a'", dtype);
    }
  });

  test('F32 data at an odd offset (misaligned) loads correctly', () => {
    // Header of odd length, and a 3-byte tensor before the F32 one: the F32 data starts at an odd file offset.
    let header = JSON.stringify({ pad: entry('U8', [3], 0, 3), w: entry('F32', [2, 2], 3, 19) });
    if ((8 + header.length) % 2 === 1) header += ' ';
    const values = [1.5, -2.25, 3e-38, Number.NaN];
    const file = rawFile(header, [7, 8, 9, ...f32Bytes(values)]);
    assert.equal((8 + Buffer.byteLength(header) + 3) % 2, 1);
    const { tensors } = readSafetensors(file);
    assert.deepEqual(tensors.get('pad')!.tolist(), [7, 8, 9]);
    const w = tensors.get('w')!;
    assert.deepEqual(w.shape, [2, 2]);
    assert.deepEqual([...(w.toArray() as Float32Array)], [...new Float32Array(values)]);
  });

  test('bool bytes other than 0 and 1 load as true', () => {
    const { tensors } = readSafetensors(rawFile({ b: entry('BOOL', [4], 0, 4) }, [0, 1, 2, 255]));
    const b = tensors.get('b')!;
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(b.tolist(), [false, true, true, true]);
    assert.deepEqual(T.eq(b, T.tensor([false, true, true, true])).tolist(), [true, true, true, true]);
  });
});

describe('round trips', () => {
  test('every dtype we write, with edge values, empty and 0-d tensors, and metadata', () => {
    const f32 = T.fromTypedArray(new Float32Array([0, -0, 1.5, -3.25e-40, 3.4e38, Infinity, -Infinity, NaN]), [2, 4]);
    const bits = new Uint16Array([0x3f80, 0xc000, 0x0001, 0x7f80, 0xff80, 0x7fc1, 0x8000]);
    const bf16 = T.fromTypedArray(bits, [7]);
    const i32 = T.fromTypedArray(new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0, -1]), [4]);
    const i64 = T.fromTypedArray(new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n]), [3]);
    const u8 = T.fromTypedArray(new Uint8Array([0, 255, 128]), [1, 3]);
    const bool = T.tensor([[true, false], [false, true]]);
    const tensors: Record<string, T.Tensor> = {
      f32, bf16, i32, i64, u8, bool,
      'empty/f32': T.zeros([0]),
      'empty/bf16': T.zeros([2, 0, 3], { dtype: 'bfloat16' }),
      'empty/i64': T.zeros([0, 5], { dtype: 'int64' }),
      'empty/bool': T.zeros([0], { dtype: 'bool' }),
      'scalar/f32': T.scalarTensor(-7.5),
      'scalar/i32': T.scalarTensor(42, 'int32'),
      'scalar/bool': T.scalarTensor(1, 'bool'),
      'unicode ✓ / ключ': T.ones([2]),
      ['__proto__']: T.ones([1]),
    };
    const metadata: Record<string, string> = { format: 'pt', note: 'ünïcödé, "quotes", {braces}', empty: '', ['__proto__']: 'kept' };
    const file = fresh('round');
    writeSafetensors(file, new Map(Object.entries(tensors)), metadata);
    const header = readHeader(file);
    assert.equal(header.dataStart % 8, 0, 'data section starts 8-byte aligned');
    const back = readSafetensors(file);
    assert.deepEqual(Object.entries(back.metadata).sort(), Object.entries(metadata).sort());
    assert.deepEqual([...back.tensors.keys()].sort(), Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const r = back.tensors.get(name)!;
      assert.equal(r.dtype, t.dtype, `${name} dtype`);
      assert.deepEqual(r.shape, t.shape, `${name} shape`);
      assert.deepEqual(rawBytes(r), rawBytes(t), `${name} bytes`);
    }
  });

  test('non-contiguous and offset views are written in row-major order', () => {
    const base = T.arange(24, undefined, 1, { dtype: 'float32' }).reshape(2, 3, 4);
    const views = { permuted: base.permute(2, 0, 1), sliced: base.slice(2, 1, 4, 2), expanded: T.expand(T.scalarTensor(3), [2, 2]) };
    const file = fresh('views');
    writeSafetensors(file, views);
    const { tensors } = readSafetensors(file);
    for (const [name, v] of Object.entries(views)) assert.deepEqual(tensors.get(name)!.tolist(), v.tolist(), name);
  });

  test('floatDtype converts float tensors and leaves the others', () => {
    const file = fresh('float');
    writeSafetensors(file, { w: T.tensor([1.5, -2]), ids: T.tensor([1, 2], { dtype: 'int64' }) });
    const { tensors } = readSafetensors(file, { floatDtype: 'bfloat16' });
    assert.equal(tensors.get('w')!.dtype, 'bfloat16');
    assert.deepEqual(tensors.get('w')!.tolist(), [1.5, -2]);
    assert.equal(tensors.get('ids')!.dtype, 'int64');
  });

  test('names picks tensors; an unknown name is MissingTensor naming it and the file', () => {
    const file = fresh('names');
    writeSafetensors(file, { a: T.ones([2]), b: T.zeros([3]) });
    assert.deepEqual([...readSafetensors(file, { names: ['b'] }).tensors.keys()], ['b']);
    assert.equal(readSafetensors(file, { names: [] }).tensors.size, 0);
    assert.throws(
      () => readSafetensors(file, { names: ['a', 'c'] }),
      (e: unknown) => e instanceof SafetensorsError && e.reason === 'MissingTensor' && e.message.includes("'c'") && e.message.includes(file),
    );
  });

  test('an empty file of tensors round-trips', () => {
    const file = fresh('none');
    writeSafetensors(file, {});
    const { tensors, metadata } = readSafetensors(file);
    assert.equal(tensors.size, 0);
    assert.deepEqual(metadata, {});
  });
});

/** A tensor's elements as raw little-endian bytes (bfloat16 as its 16-bit patterns). */
function rawBytes(t: T.Tensor): number[] {
  const c = t.contiguous();
  const size = T.DTYPE_SIZE[c.dtype];
  return [...new Uint8Array(c.buffer, c.offset * size, c.numel * size)];
}

describe('dtypes tsvision reads but does not write (files built byte by byte)', () => {
  function oneTensor(dtype: string, shape: number[], bytes: Uint8Array): T.Tensor {
    const file = rawFile({ t: entry(dtype, shape, 0, bytes.length) }, bytes);
    return readSafetensors(file).tensors.get('t')!;
  }
  const le = (n: number, write: (dv: DataView) => void) => {
    const b = new Uint8Array(n);
    write(new DataView(b.buffer));
    return b;
  };

  test('F16 loads as float32, including subnormals, infinities and NaN', () => {
    const halves = [0x3c00, 0xc000, 0x0001, 0x03ff, 0x7bff, 0x7c00, 0xfc00, 0x8000, 0x7e00];
    const t = oneTensor('F16', [3, 3], le(18, (dv) => halves.forEach((h, i) => dv.setUint16(2 * i, h, true))));
    assert.equal(t.dtype, 'float32');
    const v = [...(t.toArray() as Float32Array)];
    assert.deepEqual(v.slice(0, 8), [1, -2, 2 ** -24, 1023 * 2 ** -24, 65504, Infinity, -Infinity, -0]);
    assert.ok(Number.isNaN(v[8]));
  });

  test('F64 loads as float32', () => {
    const t = oneTensor('F64', [3], le(24, (dv) => [0.1, -1e300, 2 ** -1074].forEach((x, i) => dv.setFloat64(8 * i, x, true))));
    assert.equal(t.dtype, 'float32');
    assert.deepEqual([...(t.toArray() as Float32Array)], [Math.fround(0.1), -Infinity, 0]);
  });

  test('I8, I16 and U16 load as int32; U32 and U64 as int64', () => {
    const i8 = oneTensor('I8', [3], new Uint8Array([0x80, 0x7f, 0xff]));
    assert.equal(i8.dtype, 'int32');
    assert.deepEqual(i8.tolist(), [-128, 127, -1]);
    const i16 = oneTensor('I16', [2], le(4, (dv) => { dv.setInt16(0, -32768, true); dv.setInt16(2, 12345, true); }));
    assert.deepEqual([i16.dtype, i16.tolist()], ['int32', [-32768, 12345]]);
    const u16 = oneTensor('U16', [2], le(4, (dv) => { dv.setUint16(0, 65535, true); dv.setUint16(2, 1, true); }));
    assert.deepEqual([u16.dtype, u16.tolist()], ['int32', [65535, 1]]);
    const u32 = oneTensor('U32', [2], le(8, (dv) => { dv.setUint32(0, 4294967295, true); dv.setUint32(4, 7, true); }));
    assert.equal(u32.dtype, 'int64');
    assert.deepEqual([...(u32.toArray() as BigInt64Array)], [4294967295n, 7n]);
    const u64 = oneTensor('U64', [2], le(16, (dv) => { dv.setBigUint64(0, 2n ** 63n - 1n, true); dv.setBigUint64(8, 0n, true); }));
    assert.deepEqual([...(u64.toArray() as BigInt64Array)], [2n ** 63n - 1n, 0n]);
  });

  test('a U64 value above the int64 range: UnsupportedDType', () => {
    const file = rawFile({ t: entry('U64', [1], 0, 8) }, new Uint8Array(8).fill(0xff));
    rejects(file, 'UnsupportedDType', "'t'", 'int64');
  });

  test('empty and 0-d tensors of widened dtypes', () => {
    assert.deepEqual(oneTensor('F16', [0, 4], new Uint8Array(0)).shape, [0, 4]);
    const s = oneTensor('I16', [], le(2, (dv) => dv.setInt16(0, -5, true)));
    assert.deepEqual([s.shape, s.item()], [[], -5]);
  });
});

/** Temp files a write left in `folder`. */
const leftovers = (folder: string) => fs.readdirSync(folder).filter((n) => n.endsWith('.tmp'));

describe('atomic writes', () => {

  test('into a missing folder: Io naming the file, and no temp file anywhere', () => {
    const file = path.join(dir, 'no-such-folder', 'x.safetensors');
    assert.throws(
      () => writeSafetensors(file, { a: T.ones([2]) }),
      (e: unknown) => e instanceof SafetensorsError && e.reason === 'Io' && e.message.includes(file),
    );
    assert.equal(fs.existsSync(path.dirname(file)), false);
    assert.deepEqual(leftovers(dir), []);
  });

  test('a write that fails midway (ENOSPC) leaves the existing file untouched and no temp file', () => {
    const file = fresh('keep');
    writeSafetensors(file, { a: T.ones([4]) }, { version: 'old' });
    const before = fs.readFileSync(file);
    let calls = 0;
    const original = fs.writeSync;
    const spy = mock.method(fs, 'writeSync', (...args: unknown[]) => {
      if (++calls === 3) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return (original as (...a: unknown[]) => number)(...args);
    });
    try {
      assert.throws(
        () => writeSafetensors(file, { a: T.zeros([4]), b: T.zeros([1000]) }, { version: 'new' }),
        (e: unknown) => e instanceof SafetensorsError && e.reason === 'Io' && e.message.includes('ENOSPC') && e.message.includes(file),
      );
    } finally {
      spy.mock.restore();
    }
    assert.ok(calls >= 3, 'the failure was injected');
    assert.deepEqual(fs.readFileSync(file), before);
    assert.deepEqual(leftovers(dir), []);
    assert.equal(readSafetensors(file).metadata.version, 'old');
  });

  test('a failing rename (the target is a folder) leaves no temp file', () => {
    const target = fresh('folder');
    fs.mkdirSync(target);
    assert.throws(
      () => writeSafetensors(target, { a: T.ones([2]) }),
      (e: unknown) => e instanceof SafetensorsError && e.reason === 'Io' && e.message.includes(target),
    );
    assert.ok(fs.statSync(target).isDirectory());
    assert.deepEqual(leftovers(dir), []);
  });

  test('into a path under a file: the open fails and its error is reported, not one from the cleanup', () => {
    const blocker = fresh('blocker');
    fs.writeFileSync(blocker, 'not a folder');
    const file = path.join(blocker, 'x.safetensors');
    assert.throws(
      () => writeSafetensors(file, { a: T.ones([2]) }),
      (e: unknown) => e instanceof SafetensorsError && e.reason === 'Io' && e.message.startsWith(`${file}: cannot create the temp file`) && e.message.includes('ENOTDIR'),
    );
    assert.deepEqual(leftovers(dir), []);
  });

  test('into a folder without search permission, as an unprivileged user: EACCES naming the file, for the write and the early check', () => {
    const outcome = asUnprivilegedUser(`
      const { writeSafetensors, checkOutputPath } = await import('./src/io/safetensors.ts');
      const T = await import('./src/tensor/index.ts');
      const describe = (fn) => { try { fn(); return null; } catch (e) { return { name: e.constructor.name, reason: e.reason, message: e.message }; } };
      const file = process.env.TARGET;
      console.log(JSON.stringify({
        write: describe(() => writeSafetensors(file, { a: T.ones([2]) })),
        check: describe(() => checkOutputPath(file)),
      }));
    `);
    const file = outcome.target;
    const { write, check } = outcome.result as Record<string, { name: string; reason: string; message: string } | null>;
    assert.equal(write?.name, 'SafetensorsError', JSON.stringify(write));
    assert.equal(write.reason, 'Io');
    assert.ok(write.message.startsWith(`${file}: cannot create the temp file`) && write.message.includes('EACCES'), write.message);
    assert.equal(check?.name, 'SafetensorsError', JSON.stringify(check));
    assert.ok(check.message.startsWith(`${file}: cannot write here: the folder ${path.dirname(file)} is not writable`) && check.message.includes('EACCES'), check.message);
  });

  test('bad arguments are rejected before anything is written', () => {
    const file = fresh('args');
    assert.throws(() => writeSafetensors(file, { a: T.ones([1]) }, { n: 3 as unknown as string }), SafetensorsError);
    assert.throws(() => writeSafetensors(file, new Map([['__metadata__', T.ones([1])]])), SafetensorsError);
    assert.equal(fs.existsSync(file), false);
    assert.deepEqual(leftovers(dir), []);
  });

  test('overwriting replaces the file whole', () => {
    const file = fresh('over');
    writeSafetensors(file, { a: T.ones([1000]) });
    writeSafetensors(file, { b: T.zeros([2]) });
    assert.deepEqual([...readSafetensors(file).tensors.keys()], ['b']);
  });
});

/**
 * Runs an ES module script as a user the permission bits apply to (nobody when the tests run as
 * root, which bypasses them), with TARGET set to a file inside a folder that has no search bit.
 */
function asUnprivilegedUser(script: string): { target: string; result: unknown } {
  const outer = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-noperm-'));
  const locked = path.join(outer, 'locked');
  fs.mkdirSync(locked);
  fs.chmodSync(outer, 0o755);
  fs.chmodSync(locked, 0o644);
  const target = path.join(locked, 'out.safetensors');
  const asRoot = process.getuid?.() === 0;
  try {
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, TARGET: target },
      ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
    });
    assert.equal(run.status, 0, run.stderr);
    return { target, result: JSON.parse(run.stdout.trim().split('\n').at(-1)!) };
  } finally {
    fs.chmodSync(locked, 0o755);
    fs.rmSync(outer, { recursive: true, force: true });
  }
}

describe('checkOutputPath', () => {
  const rejects = (file: string, ...fragments: string[]) =>
    assert.throws(
      () => checkOutputPath(file),
      (e: unknown) => e instanceof SafetensorsError && e.reason === 'Io' && e.message.startsWith(`${file}: cannot write here`) && fragments.every((f) => e.message.includes(f)),
    );

  test('a new or an existing file in a writable folder passes, and nothing is created', () => {
    const file = fresh('check');
    checkOutputPath(file);
    assert.equal(fs.existsSync(file), false);
    writeSafetensors(file, { a: T.ones([1]) });
    checkOutputPath(file);
    assert.deepEqual(leftovers(dir), []);
  });

  test('a missing folder, a file in the way, a folder as the path: typed errors naming path and cause', () => {
    rejects(path.join(dir, 'missing-folder', 'x.safetensors'), 'missing-folder', 'does not exist');
    const blocker = fresh('check-blocker');
    fs.writeFileSync(blocker, '');
    rejects(path.join(blocker, 'x.safetensors'), blocker, 'is not a folder');
    rejects(path.join(blocker, 'deeper', 'x.safetensors'), 'has a file where a folder should be');
    const folder = fresh('check-folder');
    fs.mkdirSync(folder);
    rejects(folder, 'the path is a folder');
  });
});

describe('reading what is not a safetensors file', () => {
  test('a missing file and a folder: Io naming the path', () => {
    rejects(path.join(dir, 'missing.safetensors'), 'Io');
    rejects(dir, 'Io');
  });
});

// mulberry32: a small seeded generator, so every run mutates the same way.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// 2,000 mutations by default; the extended suite (npm run test:full) runs 50,000.
const FUZZ_ITERATIONS = process.env.TSVISION_FULL ? 50_000 : 2_000;

describe('fuzz', () => {
  test(`${FUZZ_ITERATIONS} seeded mutations of valid files: each loads or fails with a SafetensorsError naming the file`, () => {
    const written = fresh('seed');
    writeSafetensors(
      written,
      {
        w: T.arange(12, undefined, 1, { dtype: 'float32' }).reshape(3, 4),
        h: T.ones([5], { dtype: 'bfloat16' }),
        ids: T.tensor([1, 2], { dtype: 'int64' }),
        n: T.tensor([3, 4, 5], { dtype: 'int32' }),
        u: T.tensor([1, 2, 3], { dtype: 'uint8' }),
        m: T.tensor([true, false]),
        s: T.scalarTensor(2),
        e: T.zeros([0, 3]),
      },
      { format: 'pt', step: '12' },
    );
    const handBuilt = rawFile(
      { __metadata__: { k: 'v' }, a: entry('F16', [2], 0, 4), b: entry('I8', [3], 4, 7), c: entry('U16', [1], 7, 9), d: entry('F64', [1], 9, 17), e: entry('U64', [1], 17, 25) },
      new Uint8Array(25).fill(0x11),
    );
    const seeds = [fs.readFileSync(written), fs.readFileSync(handBuilt)];
    const interesting = ['0', '-1', '1.5', '1e309', '9007199254740993', '18446744073709551615', '4294967296', '[]', '{}', 'null', '"x"', '[0,0]', '[1,2,3]'];
    const dtypes = ['F32', 'BF16', 'I64', 'BOOL', 'F16', 'U64', 'F4', 'C64', 'F128', 'toString', '__proto__'];
    const tokens = [...'{}[]":,0123456789-e. \\'];
    const random = rng(20261123);
    const pick = <V>(xs: readonly V[]) => xs[Math.floor(random() * xs.length)];
    const outcomes = new Map<string, number>();
    const file = fresh('mutant');
    for (let iter = 0; iter < FUZZ_ITERATIONS; ++iter) {
      const seed = seeds[iter % seeds.length];
      let bytes = Buffer.from(seed);
      const headerEnd = 8 + Number(bytes.readBigUInt64LE(0));
      const steps = 1 + Math.floor(random() * 3);
      for (let s = 0; s < steps; ++s) {
        const at = Math.floor(random() * bytes.length);
        switch (Math.floor(random() * 10)) {
          case 0: bytes[at] ^= 1 << Math.floor(random() * 8); break;
          case 1: bytes[at] = Math.floor(random() * 256); break;
          case 2: bytes = bytes.subarray(0, Math.floor(random() * bytes.length)); break;
          case 3: bytes = Buffer.concat([bytes, Buffer.from(Array.from({ length: 1 + Math.floor(random() * 16) }, () => Math.floor(random() * 256)))]); break;
          case 4: {
            const h = 8 + Math.floor(random() * Math.max(1, Math.min(bytes.length, headerEnd) - 8));
            if (h < bytes.length) bytes[h] = pick(tokens).charCodeAt(0);
            break;
          }
          case 5:
          case 6: {
            // Rewrite the header text: a number or a dtype replaced, keeping N consistent.
            const text = bytes.subarray(8, Math.min(bytes.length, headerEnd)).toString('latin1');
            const matches = [...text.matchAll(/\d+|"[A-Z0-9_]+"/g)];
            if (matches.length === 0) break;
            const m = pick(matches);
            const replacement = m[0].startsWith('"') ? `"${pick(dtypes)}"` : pick(interesting);
            const newText = text.slice(0, m.index) + replacement + text.slice(m.index! + m[0].length);
            const len = Buffer.alloc(8);
            len.writeBigUInt64LE(BigInt(newText.length));
            bytes = Buffer.concat([len, Buffer.from(newText, 'latin1'), bytes.subarray(Math.min(bytes.length, headerEnd))]);
            break;
          }
          case 7: {
            if (bytes.length < 8) break;
            const n = BigInt(headerEnd - 8);
            bytes.writeBigUInt64LE(pick([0n, 1n, n - 1n, n + 1n, 2n ** 64n - 1n, 100_000_000n, BigInt(bytes.length)]), 0);
            break;
          }
          case 8: {
            const len = Math.floor(random() * 24);
            bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + len)]);
            break;
          }
          default: {
            const len = Math.floor(random() * 24);
            bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at, at + len), bytes.subarray(at)]);
          }
        }
      }
      fs.writeFileSync(file, bytes);
      let outcome: string;
      try {
        const { tensors } = readSafetensors(file);
        for (const t of tensors.values()) assert.ok(t.numel >= 0);
        outcome = 'loaded';
      } catch (e) {
        if (!(e instanceof SafetensorsError)) {
          assert.fail(`mutation ${iter} (bytes ${bytes.toString('hex').slice(0, 400)}) threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
        }
        assert.equal(e.file, file);
        assert.ok(e.message.includes(file));
        outcome = e.reason;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    const total = [...outcomes.values()].reduce((p, q) => p + q, 0);
    assert.equal(total, FUZZ_ITERATIONS);
    // The mutations must reach past the first checks, and some must still load.
    assert.ok((outcomes.get('loaded') ?? 0) > 0, `outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`);
    assert.ok(outcomes.size >= 6, `outcomes ${JSON.stringify(Object.fromEntries(outcomes))}`);
    console.log(`fuzz outcomes: ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}`);
  });
});
