/**
 * Datasets: the procedural `shapes` (determinism, balance, label/render consistency), ImageFolder
 * (torchvision ordering, corrupt files under 'fail' and 'skip'), CIFAR binaries (layout, size and
 * label errors) and WebDataset tar shards (grouping, labels, shuffling, malformed archives).
 * All files are generated in temp folders.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { tar } from '../helpers/tar.ts';
import {
  CIFAR10_CLASSES, DatasetError, ImageFolder, SHAPE_KINDS, WebDataset, cifar10, cifar100, readTar, shapes, splitKey,
  type SampleError,
} from '../../src/data/datasets/index.ts';
import { ArgumentError } from '../../src/errors.ts';
import type { Tensor } from '../../src/tensor/index.ts';

const root = mkdtempSync(join(tmpdir(), 'tsvision-datasets-'));
after(() => rmSync(root, { recursive: true, force: true }));

const bytesOf = (t: Tensor) => Buffer.from(t.toArray() as Uint8Array);

async function png(value: number, size = 6): Promise<Buffer> {
  return sharp(Buffer.alloc(size * size * 3, value), { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
}

// ---- shapes ----------------------------------------------------------------

test('shapes: sample i is a pure function of (seed, split, i)', () => {
  const a = shapes({ size: 32, length: 20, seed: 7 });
  const b = shapes({ size: 32, length: 20, seed: 7 });
  for (const i of [0, 5, 19]) assert.deepEqual(bytesOf(a.get(i).image), bytesOf(b.get(i).image));
  assert.deepEqual(bytesOf(a.get(3).image), bytesOf(a.get(3).image), 'rendering twice gives the same pixels');
  assert.notDeepEqual(bytesOf(a.get(0).image), bytesOf(a.get(10).image), 'same class, different sample');
  assert.notDeepEqual(bytesOf(a.get(0).image), bytesOf(shapes({ size: 32, length: 20, seed: 8 }).get(0).image), 'different seed');
  assert.notDeepEqual(bytesOf(a.get(0).image), bytesOf(shapes({ size: 32, length: 20, seed: 7, split: 'val' }).get(0).image), 'different split');
});

test('shapes: uint8 [H, W, 3] at any resolution, balanced classes, defaults', () => {
  const ds = shapes({ size: [24, 40], length: 120, numClasses: 12 });
  const s = ds.get(0);
  assert.equal(s.image.dtype, 'uint8');
  assert.deepEqual(s.image.shape, [24, 40, 3]);
  assert.deepEqual(ds.classes, [...SHAPE_KINDS]);
  const counts = new Array(12).fill(0);
  for (let i = 0; i < ds.length; i++) counts[ds.get(i).label]++;
  assert.deepEqual(counts, new Array(12).fill(10));
  const d = shapes();
  assert.deepEqual([d.length, d.classes.length, d.height, d.width], [12000, 10, 32, 32]);
  assert.equal(shapes({ split: 'test' }).length, 1000);
});

test('shapes: the shape is brighter than its background in every channel', () => {
  // Centred upright circles of radius 35% of the side: pixels within 30% are shape, beyond 45% background.
  const size = 40;
  const ds = shapes({ size, length: 60, jitter: false });
  for (let i = 0; i < ds.length; i += ds.classes.length) {
    const px = ds.get(i).image.toArray() as Uint8Array;
    const sums = { shape: [0, 0, 0], background: [0, 0, 0] };
    const counts = { shape: 0, background: 0 };
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const r = Math.hypot(x + 0.5 - size / 2, y + 0.5 - size / 2) / size;
        const where = r < 0.3 ? 'shape' : r > 0.45 ? 'background' : null;
        if (!where) continue;
        counts[where]++;
        for (let c = 0; c < 3; c++) sums[where][c] += px[3 * (y * size + x) + c];
      }
    }
    for (let c = 0; c < 3; c++) {
      const [fg, bg] = [sums.shape[c] / counts.shape, sums.background[c] / counts.background];
      assert.ok(fg > bg + 20, `sample ${i} channel ${c}: shape mean ${fg.toFixed(1)}, background mean ${bg.toFixed(1)}`);
    }
  }
});

test('shapes: labels agree with the renders (nearest class mean beats chance clearly)', (t) => {
  // Centred upright shapes; features are |z-scored grey levels|, invariant to the random colours.
  const size = 24;
  const features = (split: 'train' | 'test', n: number) => {
    const ds = shapes({ size, length: n, split, jitter: false });
    return Array.from({ length: n }, (_, i) => {
      const { image, label } = ds.get(i);
      const px = image.toArray() as Uint8Array;
      const g = Float64Array.from({ length: size * size }, (_, p) => px[3 * p] + px[3 * p + 1] + px[3 * p + 2]);
      const m = g.reduce((a, c) => a + c, 0) / g.length;
      const sd = Math.sqrt(g.reduce((a, c) => a + (c - m) ** 2, 0) / g.length) || 1;
      return { x: g.map((v) => Math.abs(v - m) / sd), label };
    });
  };
  const train = features('train', 200);
  const means = Array.from({ length: 10 }, () => new Float64Array(size * size));
  for (const { x, label } of train) x.forEach((v, d) => (means[label][d] += v / 20));
  const testSet = features('test', 100);
  let correct = 0;
  for (const { x, label } of testSet) {
    const dist = means.map((m) => x.reduce((a, v, d) => a + (v - m[d]) ** 2, 0));
    if (dist.indexOf(Math.min(...dist)) === label) correct++;
  }
  const acc = correct / testSet.length;
  t.diagnostic(`nearest-class-mean accuracy ${acc}`);
  assert.ok(acc >= 0.5, `accuracy ${acc}, chance is 0.1`);
});

test('shapes: bad options and indices are ArgumentErrors', () => {
  assert.throws(() => shapes({ numClasses: 13 }), (e: Error) => e instanceof ArgumentError && /numClasses .*got 13/.test(e.message));
  assert.throws(() => shapes({ size: 4 }), ArgumentError);
  assert.throws(() => shapes({ split: 'dev' as 'val' }), /split must be/);
  assert.throws(() => shapes({ length: 3 }).get(3), (e: Error) => e instanceof ArgumentError && /index 3 .* 3 samples/.test(e.message));
  assert.throws(() => shapes({ numClasses: 6, firstClass: 7 }), (e: Error) => e instanceof ArgumentError && /firstClass 7 with 6 classes/.test(e.message));
});

test('shapes: firstClass selects a later, disjoint run of kinds', () => {
  const later = shapes({ numClasses: 4, firstClass: 8, length: 8 });
  assert.deepEqual(later.classes, ['semicircle', 'crescent', 'hexagon', 'bar']);
  assert.equal(later.get(5).label, 1);
  assert.deepEqual(shapes({ numClasses: 4, length: 4 }).classes, ['circle', 'square', 'triangle', 'star']);
});

// ---- ImageFolder -----------------------------------------------------------

async function makeFolder(): Promise<string> {
  const dir = join(root, 'folder');
  for (const d of ['dog/nested', 'cat', 'ant']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'dog', 'b.png'), await png(10));
  writeFileSync(join(dir, 'dog', 'A.PNG'), await png(20));
  writeFileSync(join(dir, 'dog', 'nested', 'a.png'), await png(30));
  writeFileSync(join(dir, 'dog', 'notes.txt'), 'not an image');
  writeFileSync(join(dir, 'cat', 'x.png'), await png(40));
  writeFileSync(join(dir, 'cat', 'y.jpg'), Buffer.from('this is not a jpeg'));
  writeFileSync(join(dir, 'ant', 'z.png'), await png(50));
  writeFileSync(join(dir, 'README'), 'top-level files are not classes');
  return dir;
}

test('ImageFolder: sorted classes, torchvision file order, extensions', async () => {
  const dir = await makeFolder();
  const ds = new ImageFolder(dir);
  assert.deepEqual(ds.classes, ['ant', 'cat', 'dog']);
  assert.deepEqual(ds.samples.map(([p, l]) => [p.slice(dir.length + 1), l]), [
    ['ant/z.png', 0], ['cat/x.png', 1], ['cat/y.jpg', 1], ['dog/A.PNG', 2], ['dog/b.png', 2], ['dog/nested/a.png', 2],
  ]);
  const s = await ds.get(5);
  assert.ok(s);
  assert.deepEqual(s.image.shape, [6, 6, 3]);
  assert.equal(s.label, 2);
  assert.equal((s.image.toArray() as Uint8Array)[0], 30);
});

test("ImageFolder: a corrupt file fails with its path under 'fail', is reported and skipped under 'skip'", async () => {
  const dir = join(root, 'folder');
  const failing = new ImageFolder(dir);
  await assert.rejects(failing.get(2), (e: Error) => e instanceof DatasetError && e.message.includes(join(dir, 'cat', 'y.jpg')));
  const reports: SampleError[] = [];
  const skipping = new ImageFolder(dir, { onError: 'skip', onSkip: (e) => reports.push(e) });
  assert.equal(await skipping.get(2), null);
  assert.equal(reports.length, 1);
  assert.equal(reports[0].path, join(dir, 'cat', 'y.jpg'));
  assert.match(reports[0].message, /not an image/);
  assert.deepEqual(skipping.skipped, reports);
  assert.ok(await skipping.get(1));
  assert.throws(() => new ImageFolder(dir, { onError: 'ignore' as 'skip' }), ArgumentError);
  assert.throws(() => new ImageFolder(join(root, 'missing')), (e: Error) => e instanceof DatasetError && e.message.includes('missing'));
});

// ---- CIFAR -----------------------------------------------------------------

function cifarRecords(labels: number[][], pixelBase: number): Buffer {
  return Buffer.concat(labels.map((ls, r) => {
    const pixels = Buffer.alloc(3072);
    for (let c = 0; c < 3; c++) pixels.fill(pixelBase + 10 * r + c, c * 1024, (c + 1) * 1024);
    pixels[1] = 200; // R plane, row 0, column 1
    return Buffer.concat([Buffer.from(ls), pixels]);
  }));
}

test('cifar10: train batches and test batch, planar RGB to [32, 32, 3]', () => {
  const dir = join(root, 'cifar10');
  mkdirSync(dir);
  for (let k = 1; k <= 5; k++) writeFileSync(join(dir, `data_batch_${k}.bin`), cifarRecords([[k], [9]], k));
  writeFileSync(join(dir, 'test_batch.bin'), cifarRecords([[3], [4], [5]], 100));
  const train = cifar10(dir);
  assert.equal(train.length, 10);
  assert.deepEqual(train.classes, [...CIFAR10_CLASSES]);
  assert.deepEqual(Array.from(train.targets()), [1, 9, 2, 9, 3, 9, 4, 9, 5, 9]);
  const s = train.get(3); // batch 2, record 1
  assert.deepEqual(s.image.shape, [32, 32, 3]);
  assert.equal(s.label, 9);
  const px = s.image.toArray() as Uint8Array;
  assert.deepEqual([px[0], px[1], px[2]], [12, 13, 14]);
  assert.deepEqual([px[3], px[4], px[5]], [200, 13, 14]);
  const testSet = cifar10(dir, { train: false });
  assert.equal(testSet.length, 3);
  assert.equal(testSet.get(2).label, 5);
  assert.deepEqual(testSet.images().shape, [3, 32, 32, 3]);
});

test('cifar10: wrong file size, missing file and bad label are DatasetErrors', () => {
  const dir = join(root, 'cifar10-bad');
  mkdirSync(dir);
  writeFileSync(join(dir, 'test_batch.bin'), Buffer.concat([cifarRecords([[1]], 0), Buffer.alloc(5)]));
  assert.throws(() => cifar10(dir, { train: false }), (e: Error) => e instanceof DatasetError && /test_batch\.bin has 3078 bytes, expected a positive multiple of the 3073-byte record/.test(e.message));
  assert.throws(() => cifar10(dir), (e: Error) => e instanceof DatasetError && /missing file .*data_batch_1\.bin/.test(e.message));
  writeFileSync(join(dir, 'test_batch.bin'), cifarRecords([[1], [10]], 0));
  assert.throws(() => cifar10(dir, { train: false }), /record 1 has label 10, expected < 10/);
  writeFileSync(join(dir, 'test_batch.bin'), Buffer.alloc(0));
  assert.throws(() => cifar10(dir, { train: false }), /has 0 bytes/);
});

test('cifar100: coarse and fine labels, names files, record size', () => {
  const dir = join(root, 'cifar100');
  mkdirSync(dir);
  writeFileSync(join(dir, 'train.bin'), cifarRecords([[3, 77], [19, 99]], 0));
  writeFileSync(join(dir, 'test.bin'), cifarRecords([[0, 5]], 0));
  writeFileSync(join(dir, 'coarse_label_names.txt'), `${Array.from({ length: 20 }, (_, k) => `super${k}`).join('\n')}\n`);
  const fine = cifar100(dir);
  assert.deepEqual([fine.get(0).label, fine.get(1).label], [77, 99]);
  assert.equal(fine.classes.length, 100);
  assert.equal(fine.classes[77], 'class_77');
  const coarse = cifar100(dir, { labelType: 'coarse' });
  assert.deepEqual([coarse.get(0).label, coarse.get(1).label], [3, 19]);
  assert.equal(coarse.classes[19], 'super19');
  assert.equal(cifar100(dir, { train: false }).get(0).label, 5);
  writeFileSync(join(dir, 'test.bin'), cifarRecords([[0]], 0).subarray(0, 3073));
  assert.throws(() => cifar100(dir, { train: false }), /3073 bytes, expected a positive multiple of the 3074-byte record \(2 label bytes/);
  assert.throws(() => cifar100(dir, { labelType: 'mid' as 'fine' }), ArgumentError);
});

// ---- WebDataset ------------------------------------------------------------

async function makeShards(): Promise<string[]> {
  const dir = join(root, 'wds');
  mkdirSync(dir);
  const shards: string[] = [];
  for (let s = 0; s < 3; s++) {
    const files: [string, Buffer][] = [];
    for (let k = 0; k < 4; k++) {
      const n = 4 * s + k;
      files.push([`train/s${n}.png`, await png(n * 10, 4)]);
      files.push(n % 2 === 0 ? [`train/s${n}.cls`, Buffer.from(`${n % 3}\n`)] : [`train/s${n}.json`, Buffer.from(JSON.stringify({ label: n % 3 }))]);
    }
    const path = join(dir, `shard-${s}.tar`);
    writeFileSync(path, tar(files));
    shards.push(path);
  }
  return shards;
}

const collect = async (ds: WebDataset, epoch: number) => {
  const out: [number, number][] = [];
  for await (const s of ds.iterate(epoch)) out.push([(s.image.toArray() as Uint8Array)[0] / 10, s.label]);
  return out;
};

test('WebDataset: tar members grouped by key into samples, labels from .cls and .json', async () => {
  const shards = await makeShards();
  assert.deepEqual(splitKey('a/b.c/img001.seg.png'), ['a/b.c/img001', 'seg.png']);
  const entries = [];
  for await (const e of readTar(shards[0])) entries.push(e.name);
  assert.deepEqual(entries.slice(0, 3), ['train/s0.png', 'train/s0.cls', 'train/s1.png']);
  const ds = new WebDataset(shards, { numClasses: 3 });
  const samples = await collect(ds, 0);
  assert.deepEqual(samples, Array.from({ length: 12 }, (_, n) => [n, n % 3]));
});

test('readTar: GNU long names and pax paths name the next member; directories are skipped', async () => {
  const long = `${'d'.repeat(120)}/sample.png`;
  const pax = (key: string, value: string) => {
    const body = ` ${key}=${value}\n`;
    let len = body.length + 1; // the record length counts its own decimal digits
    while (String(len).length + body.length !== len) len++;
    return Buffer.from(`${len}${body}`);
  };
  const path = join(root, 'names.tar');
  writeFileSync(path, tar([
    ['dir/', Buffer.alloc(0), '5'],
    ['././@LongLink', Buffer.from(`${long}\0`), 'L'],
    ['truncated-name', Buffer.from('1')],
    ['PaxHeaders/x', pax('path', 'p/a x.cls'), 'x'],
    ['short', Buffer.from('2')],
    ['plain.cls', Buffer.from('3')],
  ]));
  const entries: [string, string][] = [];
  for await (const e of readTar(path)) entries.push([e.name, e.data.toString()]);
  assert.deepEqual(entries, [[long, '1'], ['p/a x.cls', '2'], ['plain.cls', '3']]);
});

test('WebDataset: seeded shard + buffer shuffle is reproducible per epoch and a permutation', async () => {
  const shards = await makeShards().catch(() => [0, 1, 2].map((s) => join(root, 'wds', `shard-${s}.tar`)));
  const ds = new WebDataset(shards, { shuffle: true, shuffleBuffer: 5, seed: 11 });
  const e0 = await collect(ds, 0);
  assert.deepEqual(await collect(new WebDataset(shards, { shuffle: true, shuffleBuffer: 5, seed: 11 }), 0), e0);
  const e1 = await collect(ds, 1);
  assert.notDeepEqual(e1, e0);
  for (const e of [e0, e1]) assert.deepEqual(e.map(([n]) => n).sort((a, b) => a - b), Array.from({ length: 12 }, (_, n) => n));
  assert.notDeepEqual(e0.map(([n]) => n), Array.from({ length: 12 }, (_, n) => n));
});

test('WebDataset: malformed and truncated shards fail with the shard path, or are skipped', async () => {
  const dir = join(root, 'wds-bad');
  mkdirSync(dir);
  const good = tar([['a.png', await png(7, 4)], ['a.cls', Buffer.from('1')], ['b.png', await png(8, 4)], ['b.cls', Buffer.from('0')]]);
  const corrupt = Buffer.from(good);
  corrupt[1024 + 3] ^= 0xff; // header of the second member: checksum no longer matches
  const paths = { good: join(dir, 'good.tar'), corrupt: join(dir, 'corrupt.tar'), truncated: join(dir, 'truncated.tar'), junk: join(dir, 'junk.tar'), nolabel: join(dir, 'nolabel.tar') };
  writeFileSync(paths.good, good);
  writeFileSync(paths.corrupt, corrupt);
  writeFileSync(paths.truncated, good.subarray(0, 700));
  writeFileSync(paths.junk, Buffer.alloc(600, 0x41));
  writeFileSync(paths.nolabel, tar([['c.png', await png(9, 4)]]));
  const drain = async (ds: WebDataset) => { const out = []; for await (const s of ds.iterate(0)) out.push(s.label); return out; };
  await assert.rejects(drain(new WebDataset([paths.corrupt])), (e: Error) => e instanceof DatasetError && e.message.includes(paths.corrupt) && /checksum/.test(e.message));
  await assert.rejects(drain(new WebDataset([paths.truncated])), (e: Error) => e instanceof DatasetError && /truncated entry/.test(e.message));
  await assert.rejects(drain(new WebDataset([paths.junk])), (e: Error) => e instanceof DatasetError && e.message.includes(paths.junk));
  await assert.rejects(drain(new WebDataset([paths.nolabel])), /sample 'c': no \.cls or \.json label/);
  const reports: SampleError[] = [];
  const skipping = new WebDataset([paths.corrupt, paths.junk, paths.nolabel, paths.good, paths.truncated], { onError: 'skip', onSkip: (e) => reports.push(e) });
  assert.deepEqual(await drain(skipping), [1, 0]); // good.tar only: sample 'a' of corrupt.tar was still being assembled at the bad header
  assert.deepEqual(reports.map((r) => r.path), [paths.corrupt, paths.junk, `${paths.nolabel} sample 'c'`, paths.truncated]);
  assert.throws(() => new WebDataset([]), ArgumentError);
});
