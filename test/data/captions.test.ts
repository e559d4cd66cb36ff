/** Image–caption pairs from captions tables (CSV, TSV, JSON Lines) and WebDataset shards; corrupt and malformed input. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import sharp from 'sharp';
import { DatasetError, ImageCaptionTable, WebDataset, webDatasetCaptions, type CaptionSample, type SampleError } from '../../src/data/datasets/index.ts';
import { tar } from '../helpers/tar.ts';

const root = mkdtempSync(join(tmpdir(), 'tsvision-captions-'));
after(() => rmSync(root, { recursive: true, force: true }));

const png = (value: number) => sharp(Buffer.alloc(4 * 4 * 3, value), { raw: { width: 4, height: 4, channels: 3 } }).png().toBuffer();
const firstPixel = (s: CaptionSample | null) => (s!.image.toArray() as Uint8Array)[0];

test('captions table: CSV (open_clip column names, quoted commas), TSV and JSONL give the same pairs', async () => {
  writeFileSync(join(root, 'a.png'), await png(10));
  writeFileSync(join(root, 'b.png'), await png(200));
  writeFileSync(join(root, 'pairs.csv'), 'filepath,title\na.png,"a dark square, small"\nb.png,a bright square\n');
  writeFileSync(join(root, 'pairs.tsv'), 'image\tcaption\na.png\ta dark square, small\nb.png\ta bright square\n');
  writeFileSync(join(root, 'pairs.jsonl'), '{"file":"a.png","text":"a dark square, small"}\n\n{"file":"b.png","text":"a bright square"}\n');
  for (const name of ['pairs.csv', 'pairs.tsv', 'pairs.jsonl']) {
    const d = new ImageCaptionTable(join(root, name));
    assert.equal(d.length, 2);
    const [a, b] = [await d.get(0), await d.get(1)];
    assert.equal(a!.caption, 'a dark square, small', name);
    assert.equal(b!.caption, 'a bright square', name);
    assert.deepEqual([firstPixel(a), firstPixel(b)], [10, 200], name);
    assert.deepEqual([...a!.image.shape], [4, 4, 3]);
  }
  const chosen = new ImageCaptionTable(join(root, 'pairs.tsv'), { imageKey: 'image', captionKey: 'caption' });
  assert.equal(chosen.pairs[1][0], join(root, 'b.png'));
});

test('captions table: a corrupt image fails naming the file, or is skipped and reported', async () => {
  writeFileSync(join(root, 'ok.png'), await png(50));
  writeFileSync(join(root, 'bad.png'), Buffer.from('not a png'));
  writeFileSync(join(root, 'mixed.csv'), 'filepath,title\nok.png,fine\nbad.png,broken\n');
  await assert.rejects(new ImageCaptionTable(join(root, 'mixed.csv')).get(1), (e: unknown) => e instanceof DatasetError && e.message.includes(join(root, 'bad.png')));
  const reported: SampleError[] = [];
  const d = new ImageCaptionTable(join(root, 'mixed.csv'), { onError: 'skip', onSkip: (e) => reported.push(e) });
  assert.equal((await d.get(0))!.caption, 'fine');
  assert.equal(await d.get(1), null);
  assert.deepEqual(reported.map((e) => e.path), [join(root, 'bad.png')]);
  assert.deepEqual(d.skipped, reported);
});

test('captions table: malformed tables are typed errors naming the file and what was wrong', () => {
  const write = (name: string, text: string) => {
    writeFileSync(join(root, name), text);
    return join(root, name);
  };
  const fails = (file: string, pattern: RegExp, options = {}) => assert.throws(() => new ImageCaptionTable(file, options), (e: unknown) => e instanceof DatasetError && pattern.test(e.message) && e.message.includes(file));
  fails(write('nocol.csv', 'name,label\na.png,x\n'), /no image path column \(looked for filepath, image, file, path, filename\); its columns are name, label/);
  fails(write('nocap.csv', 'filepath,label\na.png,x\n'), /no caption column/);
  fails(write('given.csv', 'filepath,title\na.png,x\n'), /no caption column 'caption'/, { captionKey: 'caption' });
  fails(write('empty.csv', 'filepath,title\n'), /has no rows/);
  fails(write('bad.jsonl', '{"file":"a.png","text":"x"}\n[1, 2]\n'), /line 2 is not a JSON object/);
  fails(write('quote.csv', 'filepath,title\na.png,"unterminated\n'), /cannot parse/);
  fails(write('blank.jsonl', '{"file":"","text":"x"}\n'), /row 1 needs a non-empty 'file'/);
  fails(write('pairs.txt', 'a.png x\n'), /must be \.csv, \.tsv or \.jsonl, got '\.txt'/);
  fails(join(root, 'missing.csv'), /cannot read/);
});

test('webDatasetCaptions: .txt and .json captions; samples without image or caption fail or are skipped', async () => {
  const shard = join(root, 'shard.tar');
  writeFileSync(shard, tar([
    ['s0.png', await png(1)], ['s0.txt', Buffer.from(' first caption \n')],
    ['s1.png', await png(2)], ['s1.json', Buffer.from('{"caption":"second"}')],
    ['s2.png', await png(3)], ['s2.cls', Buffer.from('4')],
    ['s3.txt', Buffer.from('no image')],
    ['s4.png', Buffer.from('corrupt')], ['s4.txt', Buffer.from('broken')],
  ]));
  const reported: SampleError[] = [];
  const got: CaptionSample[] = [];
  for await (const s of webDatasetCaptions(new WebDataset([shard], { onError: 'skip', onSkip: (e) => reported.push(e) }))) got.push(s);
  assert.deepEqual(got.map((s) => [s.caption, firstPixel(s)]), [['first caption', 1], ['second', 2]]);
  assert.equal(reported.length, 3);
  assert.match(reported[0].message, /no caption \(\.txt, or \.json with "caption"\) among \[png, cls\]/);
  assert.match(reported[1].message, /no image/);
  assert.ok(reported[2].path.includes("sample 's4'"));
  await assert.rejects(async () => {
    for await (const _ of webDatasetCaptions(new WebDataset([shard]))) void _;
  }, (e: unknown) => e instanceof DatasetError && /sample 's2'.*no caption/.test(e.message));
});
