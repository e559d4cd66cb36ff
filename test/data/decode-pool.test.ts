/** DecodePool: worker-thread decoding equals main-thread preprocessing; a known hash skips the decode; failures come back as values. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { DecodePool, defaultDecodeThreads } from '../../src/data/decode-pool.ts';
import { clipPreset, preprocess } from '../../src/data/transforms.ts';

let dir = '';
let photo = '';
before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-decode-pool-'));
  photo = path.join(dir, 'photo.jpg');
  const raw = Buffer.alloc(90 * 70 * 3);
  for (let p = 0; p < raw.length; ++p) raw[p] = (p * 7 + (p >> 7) * 3) & 255;
  await sharp(raw, { raw: { width: 90, height: 70, channels: 3 } }).jpeg().toFile(photo);
  fs.writeFileSync(path.join(dir, 'junk.jpg'), 'junk');
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('DecodePool.decode: the pixels preprocess gives on the main thread, and the SHA-256 of the bytes', async () => {
  const cfg = clipPreset(64);
  const pool = new DecodePool(cfg, 2);
  try {
    const reply = await pool.decode(photo);
    assert.equal(reply.kind, 'pixels');
    if (reply.kind !== 'pixels') return;
    assert.deepEqual(reply.shape, [3, 64, 64]);
    assert.deepEqual(reply.pixels, (await preprocess(fs.readFileSync(photo), cfg)).toArray());
    assert.equal(reply.hash, createHash('sha256').update(fs.readFileSync(photo)).digest('hex'));
    assert.deepEqual(await pool.decode(photo, reply.hash), { kind: 'unchanged', hash: reply.hash });
  } finally {
    await pool.close();
  }
});

test('DecodePool.decode: an undecodable or missing file is a failed reply naming it, and the pool keeps working', async () => {
  const pool = new DecodePool(clipPreset(32), 1);
  try {
    const junk = await pool.decode(path.join(dir, 'junk.jpg'));
    assert.equal(junk.kind, 'failed');
    assert.match((junk as { message: string }).message, /junk\.jpg: not an image/);
    const missing = await pool.decode(path.join(dir, 'gone.jpg'));
    assert.match((missing as { message: string }).message, /ENOENT.*gone\.jpg/);
    assert.equal((await pool.decode(photo)).kind, 'pixels');
  } finally {
    await pool.close();
  }
  assert.throws(() => new DecodePool(clipPreset(32), 0), /threads must be a positive integer, got 0/);
  assert.ok(defaultDecodeThreads() >= 1 && defaultDecodeThreads() <= 4);
});
