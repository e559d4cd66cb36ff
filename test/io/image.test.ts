/**
 * decodeImage gives exactly the pixels of Pillow 9.4's Image.open(f).convert(mode) for every mode
 * the fixture images cover (fixture: tools/reference/image_preprocess.py), and rejects bad or
 * hostile input with a typed ImageError before decoding, keeping the process up.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import { convertImage, decodeImage, ImageError, premultiplyAlpha, sniffFormat, unpremultiplyAlpha, type ImageErrorReason } from '../../src/io/image.ts';
import { readSafetensors } from '../../src/io/safetensors.ts';
import * as T from '../../src/index.ts';
import { fixturesDir } from '../helpers/opcheck.ts';

const dir = path.join(fixturesDir, 'image');
const fixture = (name: string) => path.join(dir, name);
const { tensors: refs } = readSafetensors(fixture('preprocess.safetensors'));
const scratch = mkdtempSync(path.join(tmpdir(), 'tsvision-image-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const MODES = { rgb: 'RGB', rgba: 'RGBA', l: 'L' } as const;

for (const [key, expected] of refs) {
  const [kind, file] = key.split('/');
  if (!(kind in MODES)) continue;
  const mode = MODES[kind as keyof typeof MODES];
  test(`decodeImage ${file} as ${mode} equals PIL convert('${mode}')`, async () => {
    const decoded = await decodeImage(fixture(file), { mode });
    assert.equal(decoded.mode, mode);
    assert.deepEqual(decoded.image.shape, mode === 'L' ? [...expected.shape, 1] : expected.shape);
    assert.deepEqual(decoded.image.toArray(), expected.toArray());
  });
}

test('decodeImage reports the mode PIL opens each file in', async () => {
  const expected: Record<string, string> = {
    'rgb_landscape.png': 'RGB', 'rgb_portrait.jpg': 'RGB', 'rgb_lossy.webp': 'RGB', 'gray.png': 'L', 'gray.jpg': 'L',
    'rgba.png': 'RGBA', 'la.png': 'LA', 'palette.png': 'P', 'cmyk.jpg': 'CMYK', 'bilevel.png': '1', 'gray16.png': 'I',
    'rgb16.png': 'RGB', 'anim100.gif': 'P',
  };
  for (const [file, mode] of Object.entries(expected)) {
    assert.equal((await decodeImage(fixture(file))).sourceMode, mode, file);
  }
});

test("mode 'source' keeps the file's channels (L, LA, RGBA, CMYK) and matches the RGB decode after convertImage", async () => {
  const cases: [string, string, number][] = [['gray.png', 'L', 1], ['la.png', 'LA', 2], ['rgba.png', 'RGBA', 4], ['cmyk.jpg', 'CMYK', 4], ['palette.png', 'RGBA', 4], ['gray16.png', 'L', 1]];
  for (const [file, mode, channels] of cases) {
    const d = await decodeImage(fixture(file), { mode: 'source' });
    assert.equal(d.mode, mode, file);
    assert.equal(d.image.shape[2], channels, file);
    assert.deepEqual(convertImage(d.image, d.mode, 'RGB').toArray(), refs.get(`rgb/${file}`)!.toArray(), file);
  }
});

test('EXIF orientation is not applied by default (as PIL open), and applied on request (as ImageOps.exif_transpose)', async () => {
  const plain = await decodeImage(fixture('exif_rotated.jpg'));
  assert.equal(plain.orientation, 6);
  assert.deepEqual(plain.image.shape, [30, 44, 3]);
  assert.deepEqual(plain.image.toArray(), refs.get('rgb/exif_rotated.jpg')!.toArray());
  const rotated = await decodeImage(fixture('exif_rotated.jpg'), { applyExifOrientation: true });
  assert.deepEqual(rotated.image.shape, [44, 30, 3]);
  assert.deepEqual(rotated.image.toArray(), refs.get('exif/exif_rotated.jpg')!.toArray());
});

test('a 100-frame GIF decodes its first frame only, with PIL colours under transparency and outside the frame', async () => {
  const d = await decodeImage(readFileSync(fixture('anim100.gif')));
  assert.equal(d.pages, 100);
  assert.equal(d.format, 'gif');
  assert.deepEqual(d.image.shape, [10, 12, 3]);
  assert.deepEqual(d.image.toArray(), refs.get('rgb/anim100.gif')!.toArray());
});

test('16-bit PNGs: greyscale clips at 255 (PIL mode I), colour keeps the high byte', async () => {
  const grey = await decodeImage(fixture('gray16.png'), { mode: 'L' });
  const values = grey.image.toArray() as Uint8Array;
  assert.ok(values.includes(255) && values.some((v) => v < 255), 'fixture has clipped and unclipped pixels');
  assert.deepEqual(values, refs.get('l/gray16.png')!.toArray());
  assert.deepEqual((await decodeImage(fixture('rgb16.png'))).image.toArray(), refs.get('rgb/rgb16.png')!.toArray());
});

test('premultiplyAlpha / unpremultiplyAlpha follow Pillow (round(c·a/255); floor(c·255/a) clipped, kept at a = 0 or 255)', () => {
  const img = T.tensor([[[200, 100, 50, 128], [255, 255, 255, 0], [10, 20, 30, 255], [90, 1, 254, 3]]], { dtype: 'uint8' });
  assert.deepEqual(premultiplyAlpha(img).tolist(), [[[100, 50, 25, 128], [0, 0, 0, 0], [10, 20, 30, 255], [1, 0, 3, 3]]]);
  const pm = T.tensor([[[100, 50, 25, 128], [7, 0, 0, 0], [10, 20, 30, 255], [1, 0, 3, 3], [200, 9, 0, 100]]], { dtype: 'uint8' });
  assert.deepEqual(unpremultiplyAlpha(pm).tolist(), [[[199, 99, 49, 128], [7, 0, 0, 0], [10, 20, 30, 255], [85, 0, 255, 3], [255, 22, 0, 100]]]);
});

test('sniffFormat recognises only JPEG, PNG, WebP and GIF signatures', () => {
  assert.equal(sniffFormat(readFileSync(fixture('rgb_portrait.jpg'))), 'jpeg');
  assert.equal(sniffFormat(readFileSync(fixture('gray.png'))), 'png');
  assert.equal(sniffFormat(readFileSync(fixture('rgb_lossy.webp'))), 'webp');
  assert.equal(sniffFormat(readFileSync(fixture('anim100.gif'))), 'gif');
  assert.equal(sniffFormat(Buffer.from('<svg></svg>')), null);
  assert.equal(sniffFormat(Buffer.alloc(0)), null);
});

// ---- hostile and broken input --------------------------------------------------------------

async function rejects(input: Buffer | string, reason: ImageErrorReason, pattern: RegExp, options = {}): Promise<void> {
  await assert.rejects(decodeImage(input, options), (e: unknown) => {
    assert.ok(e instanceof ImageError, `expected ImageError, got ${String(e)}`);
    assert.ok(e instanceof T.TsvisionError);
    assert.equal(e.reason, reason, e.message);
    assert.equal(e.code, 'E_IMAGE');
    assert.match(e.message, pattern);
    assert.equal(e.source, typeof input === 'string' ? input : 'buffer');
    return true;
  });
}

function png(width: number, height: number, idat: Buffer): Buffer {
  const chunk = (kind: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(kind, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', Buffer.alloc(0))]);
}

test('a 0-byte buffer or file is InvalidImage', async () => {
  await rejects(Buffer.alloc(0), 'InvalidImage', /buffer: image is empty \(0 bytes\), expected JPEG, PNG, WebP or GIF/);
  const empty = path.join(scratch, 'empty.png');
  writeFileSync(empty, '');
  await rejects(empty, 'InvalidImage', /empty\.png: image is empty/);
});

test('decodeImage names bytes by options.name in its errors', async () => {
  await assert.rejects(decodeImage(Buffer.from('not an image'), { name: 'photos/cat.jpg' }), (e: unknown) => e instanceof ImageError && e.source === 'photos/cat.jpg' && /^photos\/cat\.jpg: not an image/.test(e.message));
});

test('a truncated JPEG is InvalidImage (strict), decodes with strict: false', async () => {
  const full = readFileSync(fixture('rgb_portrait.jpg'));
  const truncated = full.subarray(0, Math.floor(full.length / 2));
  await rejects(truncated, 'InvalidImage', /buffer: cannot decode the jpeg data: .*premature end/i);
  const lenient = await decodeImage(truncated, { strict: false });
  assert.deepEqual(lenient.image.shape, [57, 39, 3]);
  await rejects(full.subarray(0, 40), 'InvalidImage', /buffer: cannot (read the jpeg header|decode the jpeg data)/);
});

test('HTML saved as .jpg, random bytes and a JPEG signature followed by garbage are InvalidImage', async () => {
  const html = path.join(scratch, 'photo.jpg');
  writeFileSync(html, '<!DOCTYPE html>\n<html><body>Not found</body></html>\n');
  await rejects(html, 'InvalidImage', /photo\.jpg: not an image: expected JPEG, PNG, WebP or GIF data, got bytes starting "<!DOCTYPE html/);
  await rejects(Buffer.from([0x00, 0x13, 0x37, 0xff, 0x10, 0x20, 0x30, 0x40, 0x50]), 'InvalidImage', /not an image: .* 00133/);
  await rejects(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(200, 0x41)]), 'InvalidImage', /buffer: cannot (read the jpeg header|decode the jpeg data)/);
  await rejects(Buffer.from('\x89PNG\r\n\x1a\n\0\0\0\x0dIHDRgarbagegarbage', 'latin1'), 'InvalidImage', /buffer: cannot read the png header/);
});

test('a PNG claiming 40000x40000 is TooManyPixels from its header, without decoding', async () => {
  const bomb = png(40000, 40000, deflateSync(Buffer.alloc(4096)));
  assert.ok(bomb.length < 200);
  const rssBefore = process.memoryUsage().rss;
  await rejects(bomb, 'TooManyPixels', /buffer: image is 40000x40000 = 1600000000 pixels, expected at most 50000000/);
  assert.ok(process.memoryUsage().rss - rssBefore < 100e6, 'memory stayed small');
  await rejects(fixture('rgb_landscape.png'), 'TooManyPixels', /53x37 = 1961 pixels, expected at most 1000/, { maxPixels: 1000 });
});

test('inputs above maxBytes are TooManyBytes before they are read', async () => {
  const bytes = readFileSync(fixture('rgb_landscape.png'));
  await rejects(bytes, 'TooManyBytes', new RegExp(`buffer: image has ${bytes.length} bytes, expected at most 100`), { maxBytes: 100 });
  await rejects(fixture('rgb_landscape.png'), 'TooManyBytes', new RegExp(`file has ${bytes.length} bytes, expected at most 100`), { maxBytes: 100 });
});

test('SVG, PDF, TIFF, BMP and HEIC are UnsupportedFormat', async () => {
  await rejects(Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'), 'UnsupportedFormat', /buffer: SVG images are not accepted, expected JPEG, PNG, WebP or GIF/);
  await rejects(Buffer.from('<svg width="4" height="4"></svg>'), 'UnsupportedFormat', /SVG/);
  await rejects(Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n'), 'UnsupportedFormat', /buffer: PDF images are not accepted/);
  await rejects(Buffer.from('II*\0\x08\0\0\0', 'latin1'), 'UnsupportedFormat', /TIFF/);
  await rejects(Buffer.from('BM\x3a\0\0\0\0\0\0\0\x36\0\0\0', 'latin1'), 'UnsupportedFormat', /BMP/);
  await rejects(Buffer.from('\0\0\0\x18ftypheic\0\0\0\0mif1heic', 'latin1'), 'UnsupportedFormat', /HEIF/);
});

test('a missing file or a directory is ReadFailed', async () => {
  await rejects(path.join(scratch, 'missing.jpg'), 'ReadFailed', /missing\.jpg: cannot read the file/);
  await rejects(scratch, 'ReadFailed', /expected a regular file/);
});

test('many bad inputs at once all reject with ImageError and the process keeps decoding', async () => {
  const jpeg = readFileSync(fixture('rgb_portrait.jpg'));
  const bad = [Buffer.alloc(0), jpeg.subarray(0, 700), Buffer.from('<html></html>'), png(40000, 40000, Buffer.alloc(8)), Buffer.from('%PDF-1.4')];
  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => decodeImage(bad[i % bad.length])));
  for (const r of results) assert.ok(r.status === 'rejected' && r.reason instanceof ImageError);
  const good = await decodeImage(jpeg);
  assert.deepEqual(good.image.toArray(), refs.get('rgb/rgb_portrait.jpg')!.toArray());
});

test('convertImage and decodeImage reject bad arguments with typed errors', async () => {
  assert.throws(() => convertImage(T.zeros([2, 2, 3], { dtype: 'uint8' }), 'RGBA', 'RGB'), (e: unknown) => e instanceof T.ShapeError && /convertImage: expected a \[H, W, 4\] RGBA image, got shape \[2, 2, 3\]/.test((e as Error).message));
  assert.throws(() => convertImage(T.zeros([2, 2, 3]), 'RGB', 'L'), (e: unknown) => e instanceof T.DTypeError && /got dtype float32/.test((e as Error).message));
  assert.throws(() => convertImage(T.zeros([2, 2, 4], { dtype: 'uint8' }), 'RGBA', 'CMYK' as 'RGB'), (e: unknown) => e instanceof T.ArgumentError && /cannot convert RGBA to CMYK/.test((e as Error).message));
  await assert.rejects(decodeImage(fixture('gray.png'), { mode: 'P' as 'RGB' }), (e: unknown) => e instanceof T.ArgumentError && /unknown mode 'P'/.test((e as Error).message));
  await assert.rejects(decodeImage(fixture('gray.png'), { maxPixels: -1 }), (e: unknown) => e instanceof T.ArgumentError && /maxPixels must be a positive integer, got -1/.test((e as Error).message));
});
