/** classify, infer and models as a user runs them (bin/tsvision.js), on a local checkpoint. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as T from '../../src/index.ts';
import { fixturesDir } from '../helpers/opcheck.ts';
import { cli } from './run-cli.ts';

let dir = '';
let weights = '';
let model: T.Model;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-cli-'));
  model = T.buildModel('resnet18.tv_in1k');
  model.eval();
  weights = path.join(dir, 'resnet18.safetensors');
  T.writeSafetensors(weights, model.stateDict());
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('models lists the registry with parameter counts; --filter narrows it', () => {
  const r = cli('models', '--filter', 'resnet5*');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^resnet50\s+25\.56M\s+224x224\s+a1_in1k$/m);
  assert.doesNotMatch(r.stdout, /resnet18/);
});

test('infer writes the same logits as an in-process forward', () => {
  const input = path.join(dir, 'in.safetensors');
  const output = path.join(dir, 'out.safetensors');
  const x = T.randn([2, 3, 64, 64], { generator: new T.Generator(5) });
  T.writeSafetensors(input, { pixel_values: x });
  const r = cli('infer', '--model', 'resnet18.tv_in1k', '--weights', weights, '--input', input, '--output', output);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /logits: \[2, 1000\] float32/);
  const { tensors, metadata } = T.readSafetensors(output);
  assert.equal(metadata.model, 'resnet18.tv_in1k');
  assert.deepEqual(tensors.get('logits')!.toArray(), T.noGrad(() => model.forward(x)).toArray());
  assert.deepEqual([...tensors.get('pre_logits')!.shape], [2, 512]);
});

test('infer names the expected input when it is missing', () => {
  const input = path.join(dir, 'bad.safetensors');
  T.writeSafetensors(input, { images: T.zeros([1, 3, 8, 8]) });
  const r = cli('infer', '--model', 'resnet18', '--weights', weights, '--input', input, '--output', path.join(dir, 'x.safetensors'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /pixel_values/);
  assert.match(r.stderr, /'images'/);
});

test('classify prints top-k ImageNet labels whose probabilities match the model', async () => {
  const image = path.join(fixturesDir, 'image', 'rgb_landscape.png');
  const r = cli('classify', image, '--model', 'resnet18.tv_in1k', '--weights', weights, '--top', '3');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], image);
  assert.equal(lines.length, 4);
  const [expected] = await T.classify(model, [image], { topK: 3 });
  expected.forEach((p, i) => assert.ok(lines[i + 1].includes(`${p.label} (${p.index})`), lines[i + 1]));
});

test('classify: a missing image path and a non-image fail cleanly with exit 1; no images is a usage error', () => {
  const notImage = path.join(dir, 'page.jpg');
  fs.writeFileSync(notImage, '<html><body>not an image</body></html>');
  for (const file of [path.join(dir, 'missing.png'), notImage]) {
    const r = cli('classify', file, '--model', 'resnet18', '--weights', weights);
    assert.equal(r.code, 1, file);
    assert.match(r.stderr, /ImageError/);
  }
  assert.equal(cli('classify', '--model', 'resnet18').code, 2);
  const unknown = cli('classify', 'x.png', '--model', 'resnet5');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /did you mean 'resnet50'/);
});

test('an unknown model is reported without the random-weights warning; a known one without --weights gets it', () => {
  const image = path.join(fixturesDir, 'image', 'rgb_landscape.png');
  const unknown = cli('classify', image, '--model', 'resnet5');
  assert.equal(unknown.code, 1);
  assert.doesNotMatch(unknown.stderr, /no --weights given/);
  const random = cli('classify', image, '--model', 'resnet18', '--top', '1');
  assert.equal(random.code, 0, random.stderr);
  assert.match(random.stderr, /no --weights given: resnet18 has random weights/);
});

test('infer checks its --output before reading inputs or running the model', () => {
  const input = path.join(dir, 'wrong-name.safetensors');
  T.writeSafetensors(input, { images: T.zeros([1, 3, 8, 8]) });
  const cases = [
    [path.join(dir, 'no-such-folder', 'out.safetensors'), /out\.safetensors: cannot write here: the folder .*no-such-folder does not exist/],
    [dir, /: cannot write here: the path is a folder/],
  ] as const;
  for (const [output, message] of cases) {
    const r = cli('infer', '--model', 'resnet18', '--weights', weights, '--input', input, '--output', output);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /images|pixel_values/, 'the inputs were read before the output was checked');
  }
});

test('infer merges --input files by tensor name and refuses a name given twice, naming both files', () => {
  const a = path.join(dir, 'a.safetensors');
  const b = path.join(dir, 'b.safetensors');
  T.writeSafetensors(a, { pixel_values: T.zeros([1, 3, 8, 8]) });
  T.writeSafetensors(b, { pixel_values: T.zeros([1, 3, 8, 8]) });
  const r = cli('infer', '--model', 'resnet18', '--weights', weights, '--input', a, '--input', b, '--output', path.join(dir, 'o.safetensors'));
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(`the input 'pixel_values' is in both ${a} and ${b}`), r.stderr);
  const missing = cli('infer', '--model', 'resnet18', '--input', path.join(dir, 'nope.safetensors'), '--output', path.join(dir, 'o.safetensors'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--input: no such file '.*nope\.safetensors'/);
});
