/**
 * DataLoader: batching and dtypes, drop_last, seeded per-epoch shuffling, resume from a saved
 * state, the batch transform hook, skipped samples, streaming datasets, and worker threads
 * producing exactly the batches of the main thread for the same seed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { shapes, type Dataset, type IterableDataset, type Sample } from '../../src/data/datasets/index.ts';
import { DataLoader, epochOrder, type Batch, type BatchTransform, type LoaderOptions, type PipelineSpec, type SampleTransform } from '../../src/data/loader.ts';
import { toTensor } from '../../src/data/transforms.ts';
import { ArgumentError, ShapeError } from '../../src/errors.ts';
import { add, full, mul, rand, roll } from '../../src/tensor/index.ts';

const root = mkdtempSync(join(tmpdir(), 'tsvision-loader-'));
after(() => rmSync(root, { recursive: true, force: true }));

const noisy: SampleTransform = (img, rng) => {
  const x = toTensor(img);
  return add(x, mul(rand(x.shape, { generator: rng }), 0.1));
};
const mixHalf: BatchTransform = (b, rng) => {
  const lam = rand([1], { generator: rng });
  return { ...b, images: add(mul(b.images, lam), mul(roll(b.images, 1, 0), add(mul(lam, -1), 1))) };
};

async function run(loader: DataLoader, limit = Infinity): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of loader) {
    out.push(b);
    if (out.length >= limit) break;
  }
  return out;
}
const pixels = (b: Batch) => Buffer.from((b.images.toArray() as Float32Array).buffer);
const labels = (b: Batch) => Array.from(b.labels.toArray() as BigInt64Array, Number);

test('DataLoader: float32 [N, C, H, W] batches with int64 labels; drop_last', async () => {
  const ds = shapes({ size: 16, length: 10 });
  const batches = await run(new DataLoader(ds, { batchSize: 4 }));
  assert.deepEqual(batches.map((b) => b.images.shape), [[4, 3, 16, 16], [4, 3, 16, 16], [2, 3, 16, 16]]);
  assert.equal(batches[0].images.dtype, 'float32');
  assert.equal(batches[0].labels.dtype, 'int64');
  assert.deepEqual(batches.flatMap(labels), Array.from({ length: 10 }, (_, i) => i % 10));
  assert.deepEqual(batches.flatMap((b) => b.indices), Array.from({ length: 10 }, (_, i) => i));
  const first = Buffer.from((toTensor(ds.get(0).image).contiguous().toArray() as Float32Array).buffer);
  assert.deepEqual(pixels(batches[0]).subarray(0, first.length), first);
  const dropped = new DataLoader(ds, { batchSize: 4, dropLast: true });
  assert.equal(dropped.length, 2);
  assert.deepEqual((await run(dropped)).map((b) => b.images.shape[0]), [4, 4]);
  assert.equal(new DataLoader(ds, { batchSize: 4 }).length, 3);
});

test('epochOrder: a seeded permutation, different per epoch, identity without shuffle', () => {
  const a = epochOrder(50, 3, 0, true);
  assert.deepEqual(a, epochOrder(50, 3, 0, true));
  assert.notDeepEqual(a, epochOrder(50, 3, 1, true));
  assert.notDeepEqual(a, epochOrder(50, 4, 0, true));
  assert.deepEqual(Array.from(a).sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(Array.from(epochOrder(5, 3, 0, false)), [0, 1, 2, 3, 4]);
});

test('DataLoader: shuffling is reproducible from the seed and changes per epoch', async () => {
  const ds = shapes({ size: 8, length: 12 });
  const options: LoaderOptions = { batchSize: 5, shuffle: true, seed: 9, transform: noisy };
  const loader = new DataLoader(ds, options);
  const e0 = await run(loader);
  assert.deepEqual(loader.stateDict(), { epoch: 1, position: 0, seed: 9 });
  const e1 = await run(loader);
  assert.notDeepEqual(e0.flatMap((b) => b.indices), e1.flatMap((b) => b.indices));
  const again = await run(new DataLoader(ds, options));
  assert.deepEqual(again.flatMap((b) => b.indices), e0.flatMap((b) => b.indices));
  again.forEach((b, k) => assert.deepEqual(pixels(b), pixels(e0[k])));
  const otherSeed = await run(new DataLoader(ds, { ...options, seed: 10 }));
  assert.notDeepEqual(otherSeed.flatMap((b) => b.indices), e0.flatMap((b) => b.indices));
});

test('DataLoader: a saved {epoch, position, seed} resumes the same batches', async () => {
  const ds = shapes({ size: 8, length: 23 });
  const options: LoaderOptions = { batchSize: 4, shuffle: true, seed: 21, transform: noisy, batchTransform: mixHalf };
  const reference = new DataLoader(ds, options);
  await run(reference);
  const full = await run(reference); // epoch 1, uninterrupted

  const first = new DataLoader(ds, options);
  await run(first);
  await run(first, 2); // two batches of epoch 1, then stop
  const state = first.stateDict();
  assert.deepEqual(state, { epoch: 1, position: 2, seed: 21 });

  const resumed = new DataLoader(ds, { ...options, seed: 0 });
  resumed.loadStateDict(JSON.parse(JSON.stringify(state)));
  const rest = await run(resumed);
  assert.equal(rest.length, full.length - 2);
  rest.forEach((b, k) => {
    assert.deepEqual(b.indices, full[k + 2].indices);
    assert.deepEqual(pixels(b), pixels(full[k + 2]));
  });
  assert.deepEqual(resumed.stateDict(), { epoch: 2, position: 0, seed: 21 });
  assert.throws(() => resumed.loadStateDict({ epoch: -1, position: 0, seed: 0 }), (e: Error) => e instanceof ArgumentError && /epoch .*got -1/.test(e.message));
});

test('DataLoader: the batch transform gets the batch and a per-batch generator; may return soft labels', async () => {
  const ds = shapes({ size: 8, length: 6 });
  const seen: number[] = [];
  const soft: BatchTransform = (b, rng) => {
    seen.push(rng.seed);
    return { ...b, labels: full([b.images.shape[0], 10], 0.1) };
  };
  const batches = await run(new DataLoader(ds, { batchSize: 4, batchTransform: soft }));
  assert.deepEqual(batches.map((b) => b.labels.shape), [[4, 10], [2, 10]]);
  assert.equal(new Set(seen).size, 2);
});

test('DataLoader: skipped (null) samples are left out of their batch; mismatched shapes are ShapeErrors', async () => {
  const base = shapes({ size: 8, length: 6 });
  const holes: Dataset = { length: 6, classes: base.classes, get: (i) => (i === 1 || i === 4 || i === 5 ? null : base.get(i)) };
  const batches = await run(new DataLoader(holes, { batchSize: 3 }));
  assert.deepEqual(batches.map((b) => b.indices), [[0, 2], [3]]);
  const ragged: Dataset = { length: 2, classes: ['a'], get: (i) => shapes({ size: 8 + i, length: 2 }).get(i) };
  await assert.rejects(run(new DataLoader(ragged, { batchSize: 2 })), (e: Error) => e instanceof ShapeError && /sample 1 has shape \[3, 9, 9\], expected \[3, 8, 8\]/.test(e.message));
});

test('DataLoader: streaming datasets batch in order, drop_last and resume by position', async () => {
  const base = shapes({ size: 8, length: 10 });
  const stream: IterableDataset = {
    classes: base.classes,
    async *iterate(epoch: number): AsyncGenerator<Sample> {
      for (let i = 0; i < 10; i++) yield base.get((i + epoch) % 10);
    },
  };
  const loader = new DataLoader(stream, { batchSize: 4, transform: noisy });
  assert.equal(loader.length, undefined);
  const e0 = await run(loader);
  assert.deepEqual(e0.map((b) => b.indices), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  assert.deepEqual(labels(e0[0]), [0, 1, 2, 3]);
  const e1 = await run(loader);
  assert.deepEqual(labels(e1[0]), [1, 2, 3, 4]);
  assert.deepEqual((await run(new DataLoader(stream, { batchSize: 4, dropLast: true }))).length, 2);
  const resumed = new DataLoader(stream, { batchSize: 4, transform: noisy });
  resumed.loadStateDict({ epoch: 0, position: 1, seed: 0 });
  const rest = await run(resumed);
  assert.deepEqual(rest.map((b) => b.indices), [[4, 5, 6, 7], [8, 9]]);
  assert.deepEqual(pixels(rest[0]), pixels(e0[1]));
});

test('DataLoader: worker threads produce exactly the main-thread batches for the same seed', async () => {
  const src = (p: string) => pathToFileURL(join(import.meta.dirname, '..', '..', 'src', p)).href;
  const module = join(root, 'pipeline.mts');
  writeFileSync(module, [
    `import { shapes } from ${JSON.stringify(src('data/datasets/index.ts'))};`,
    `import { toTensor } from ${JSON.stringify(src('data/transforms.ts'))};`,
    `import { add, mul, rand } from ${JSON.stringify(src('tensor/index.ts'))};`,
    'export function createPipeline(o) {',
    '  return { dataset: shapes({ size: o.size, length: o.length, seed: 5 }),',
    '    transform: (img, rng) => { const x = toTensor(img); return add(x, mul(rand(x.shape, { generator: rng }), 0.1)); } };',
    '}',
  ].join('\n'));
  const spec: PipelineSpec = { module: pathToFileURL(module).href, options: { size: 16, length: 19 } };
  const options: LoaderOptions = { batchSize: 4, shuffle: true, seed: 77, batchTransform: mixHalf, dropLast: true };
  const main = new DataLoader(spec, options);
  assert.equal(main.length, undefined);
  const pooled = new DataLoader(spec, { ...options, workers: 2, prefetch: 1 });
  try {
    for (let epoch = 0; epoch < 2; epoch++) {
      const [a, b] = [await run(main), await run(pooled)];
      assert.equal(a.length, 4);
      assert.equal(b.length, a.length);
      a.forEach((batch, k) => {
        assert.deepEqual(b[k].indices, batch.indices);
        assert.deepEqual(labels(b[k]), labels(batch));
        assert.deepEqual(pixels(b[k]), pixels(batch), `epoch ${epoch} batch ${k}`);
      });
    }
    assert.deepEqual(pooled.stateDict(), { epoch: 2, position: 0, seed: 77 });
    assert.equal(pooled.length, 4);
  } finally {
    await pooled.close();
  }
});

test('DataLoader: prefetch keeps a bounded window of batches ahead of the consumer', async () => {
  const base = shapes({ size: 8, length: 40 });
  let gets = 0;
  const counted: Dataset = { length: 40, classes: base.classes, get: (i) => (gets++, base.get(i)) };
  const loader = new DataLoader(counted, { batchSize: 2, prefetch: 3 });
  let consumed = 0;
  let maxAhead = 0;
  for await (const b of loader) {
    consumed += b.indices.length;
    maxAhead = Math.max(maxAhead, gets - consumed);
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.equal(gets, 40);
  assert.ok(maxAhead <= 2 * 3, `${maxAhead} samples fetched ahead, expected at most prefetch × batchSize = 6`);
});

test('DataLoader: an error in a worker rejects the iteration with its message', async () => {
  const src = (p: string) => pathToFileURL(join(import.meta.dirname, '..', '..', 'src', p)).href;
  const module = join(root, 'failing.mts');
  writeFileSync(module, [
    `import { shapes, DatasetError } from ${JSON.stringify(src('data/datasets/index.ts'))};`,
    'export function createPipeline() {',
    '  const base = shapes({ size: 8, length: 8 });',
    "  return { dataset: { length: 8, classes: base.classes, get: (i) => { if (i === 5) throw new DatasetError('cannot decode /data/five.jpg'); return base.get(i); } } };",
    '}',
  ].join('\n'));
  const loader = new DataLoader({ module: pathToFileURL(module).href }, { batchSize: 2, workers: 1 });
  try {
    await assert.rejects(run(loader), (e: Error) => e.name === 'DatasetError' && e.message === 'cannot decode /data/five.jpg');
  } finally {
    await loader.close();
  }
  const missing = new DataLoader({ module: pathToFileURL(module).href, export: 'nothing' }, { batchSize: 2, workers: 1 });
  try {
    await assert.rejects(run(missing), /has no function export 'nothing'/);
  } finally {
    await missing.close();
  }
});

test('DataLoader: bad options are ArgumentErrors', () => {
  const ds = shapes({ size: 8, length: 4 });
  assert.throws(() => new DataLoader(ds, { batchSize: 0 }), (e: Error) => e instanceof ArgumentError && /batchSize .*got 0/.test(e.message));
  assert.throws(() => new DataLoader(ds, { batchSize: 2, workers: 2 }), /workers need a PipelineSpec/);
  assert.throws(() => new DataLoader(ds, { batchSize: 2, prefetch: -1 }), ArgumentError);
  assert.throws(() => new DataLoader({ module: 'x' }, { batchSize: 2, transform: noisy }), /transform comes from the pipeline/);
});

test('DataLoader: captions (Sample.text) come through collate and worker threads as Batch.texts', async () => {
  const src = (p: string) => pathToFileURL(join(import.meta.dirname, '..', '..', 'src', p)).href;
  const module = join(root, 'caption-pipeline.mts');
  writeFileSync(module, [
    `import { CaptionPairs, shapesCaptions } from ${JSON.stringify(src('data/datasets/index.ts'))};`,
    'export function createPipeline(o) { return { dataset: new CaptionPairs(shapesCaptions({ size: 16, length: o.length })) }; }',
  ].join('\n'));
  const spec: PipelineSpec = { module: pathToFileURL(module).href, options: { length: 6 } };
  const main = new DataLoader(spec, { batchSize: 3 });
  const pooled = new DataLoader(spec, { batchSize: 3, workers: 1 });
  try {
    const [a, b] = [await run(main), await run(pooled)];
    const captions = (await import('../../src/data/datasets/index.ts')).shapesCaptions({ size: 16, length: 6 });
    assert.deepEqual(a.map((x) => x.texts), [[0, 1, 2], [3, 4, 5]].map((ix) => ix.map((i) => captions.get(i).caption)));
    assert.deepEqual(b.map((x) => x.texts), a.map((x) => x.texts));
  } finally {
    await pooled.close();
  }
});
