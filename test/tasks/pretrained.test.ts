/** loadPretrained / createModel: every source kind, head sizing and swapping, first-conv adaptation, wrong architectures. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import * as T from '../../src/index.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-pretrained-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
const fixtures = path.join(import.meta.dirname, '..', 'fixtures', 'models');

function save(name: string, model: T.nn.Module): string {
  const file = path.join(root, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  T.writeSafetensors(file, model.stateDict());
  return file;
}

const x = T.randn([1, 3, 64, 64], { generator: new T.Generator(1) });
const logits = (m: T.ImageClassifier) => T.noGrad(() => m.eval().forward(x)).toArray();

test('a hub-layout folder: config.json and model.safetensors, the head sized from the checkpoint', async () => {
  const src = T.buildModel('resnet18', { numClasses: 10 });
  save('folder/model.safetensors', src);
  fs.writeFileSync(path.join(root, 'folder', 'config.json'), JSON.stringify({ architecture: 'resnet18', num_classes: 10 }));
  const loaded = await T.createModel('resnet18', { weights: path.join(root, 'folder') });
  assert.equal(loaded.numClasses, 10);
  assert.deepEqual(logits(loaded), logits(src));
});

test('a file whose head differs from the default tag: the head takes the checkpoint\'s class count', async () => {
  const src = T.buildModel('vit_tiny_patch16_224', { numClasses: 1000 });
  const file = save('vit-1k.safetensors', src);
  const loaded = await T.createModel('vit_tiny_patch16_224.augreg_in21k', { weights: file });
  assert.equal(loaded.numClasses, 1000);
  assert.deepEqual(loaded.spec.outputs.find((o) => o.name === 'logits')?.shape, [1000]);
  const y = T.randn([1, 3, 224, 224], { generator: new T.Generator(2) });
  assert.deepEqual(T.noGrad(() => loaded.forward(y)).toArray(), T.noGrad(() => src.eval().forward(y)).toArray());
});

test('a train --output directory: the newest complete checkpoint, in the native key layout', async () => {
  const older = T.buildModel('resnet18', { numClasses: 3 });
  const newer = T.buildModel('resnet18', { numClasses: 3 });
  const run = path.join(root, 'run');
  for (const [step, model] of [[4, older], [8, newer]] as const) {
    save(`run/checkpoint-${step}/model.safetensors`, model);
    fs.writeFileSync(path.join(run, `checkpoint-${step}`, 'state.json'), '{}');
  }
  fs.mkdirSync(path.join(run, 'checkpoint-9'));
  T.writeSafetensors(path.join(run, 'checkpoint-9', 'model.safetensors'), older.stateDict());
  const model = T.buildModel('resnet18', { numClasses: 3 });
  const load = await T.loadPretrained(model, run);
  assert.equal(load.file, path.join(run, 'checkpoint-8', 'model.safetensors'), 'checkpoint-9 has no state.json: incomplete');
  assert.deepEqual(logits(model), logits(newer));
  const direct = T.buildModel('resnet18', { numClasses: 3 });
  await T.loadPretrained(direct, path.join(run, 'checkpoint-4'));
  assert.deepEqual(logits(direct), logits(older));
});

test('head swap: another class count keeps the model\'s fresh head and loads everything else', async () => {
  const src = T.buildModel<T.ResNet>('resnet18');
  const file = save('r18-1k.safetensors', src);
  const model = T.buildModel<T.ResNet>('resnet18', { numClasses: 5 });
  const head = model.fc!.weight.clone();
  const load = await T.loadPretrained(model, file, { numClasses: 5 });
  assert.deepEqual([load.headReplaced, load.checkpointClasses, model.numClasses], [true, 1000, 5]);
  assert.deepEqual(model.fc!.weight.toArray(), head.toArray(), 'the new head is left as built');
  assert.deepEqual(model.conv1.weight.toArray(), src.conv1.weight.toArray());
  const features = (m: T.ImageClassifier) => T.noGrad(() => m.eval().forwardHead(m.forwardFeatures(x), { preLogits: true })).toArray();
  assert.deepEqual(features(model), features(src));
  const headless = T.buildModel('resnet18');
  await T.loadPretrained(headless, file, { numClasses: 0 });
  assert.equal(headless.stateDict().has('fc.weight'), false);
});

test('adaptInputConv matches timm\'s adapt_input_conv for 1, 2, 4, 5 and 7 channels and a 6-input conv', () => {
  const ref = T.readSafetensors(path.join(fixtures, 'adapt-input-conv.safetensors')).tensors;
  for (const c of [1, 2, 4, 5, 7]) {
    const ours = T.adaptInputConv(c, ref.get('rgb')!);
    const theirs = ref.get(`rgb_to_${c}`)!;
    assert.deepEqual([...ours.shape], [...theirs.shape], `${c} channels shape`);
    const err = T.amax(T.abs(T.sub(ours, theirs))).item();
    assert.ok(err <= 1e-6, `${c} channels: max abs error ${err}`);
  }
  const six = T.adaptInputConv(1, ref.get('six')!);
  assert.ok(T.amax(T.abs(T.sub(six, ref.get('six_to_1')!))).item() <= 1e-6, '6 inputs summed per RGB group');
  assert.throws(() => T.adaptInputConv(4, ref.get('six')!), (e: unknown) => e instanceof T.ShapeError && /only an RGB first conv/.test((e as Error).message));
});

test('inChans 1 and 4: createModel adapts the checkpoint\'s first conv as timm does', async () => {
  const src = T.buildModel<T.ResNet>('resnet18');
  const file = save('r18-rgb.safetensors', src);
  for (const inChans of [1, 4]) {
    const model = await T.createModel<T.ResNet>('resnet18', { weights: file, inChans });
    assert.deepEqual([...model.conv1.weight.shape], [64, inChans, 7, 7]);
    assert.deepEqual(model.conv1.weight.toArray(), T.adaptInputConv(inChans, src.conv1.weight).toArray());
    assert.deepEqual(model.stateDict().get('layer1.0.conv1.weight')!.toArray(), src.stateDict().get('layer1.0.conv1.weight')!.toArray());
    const y = T.noGrad(() => model.forward(T.randn([1, inChans, 32, 32])));
    assert.deepEqual([...y.shape], [1, 1000]);
  }
  const rgbModel = T.buildModel('resnet18');
  await assert.rejects(T.loadPretrained(rgbModel, file, { inChans: 4 }), (e: unknown) => e instanceof T.ArgumentError && /build the model with inChans 4/.test((e as Error).message));
});

test('a wrong-architecture checkpoint: a StateDictError naming the file and the first mismatched, missing and unexpected keys', async () => {
  const file = save('r18-arch.safetensors', T.buildModel('resnet18'));
  await assert.rejects(T.createModel('resnet50', { weights: file }), (e: unknown) => {
    assert.ok(e instanceof T.StateDictError);
    const message = (e as Error).message;
    assert.match(message, /r18-arch\.safetensors does not fit resnet50\.a1_in1k/);
    assert.match(message, /shape mismatch layer1\.0\.conv1\.weight \[64, 64, 3, 3\] vs model \[64, 64, 1, 1\]/);
    assert.match(message, /missing layer1\.0\.conv3\.weight, layer1\.0\.bn3\.weight/);
    assert.ok(e.mismatchedKeys.length > 3 && e.missingKeys.length > 0);
    return true;
  });
  await assert.rejects(T.createModel('resnet34', { weights: file }), (e: unknown) => e instanceof T.StateDictError && /missing layer1\.2\.conv1\.weight/.test((e as Error).message));
});
