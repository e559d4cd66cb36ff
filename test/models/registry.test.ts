/** Generic checks over the whole registry (timm's test_models.py): counts, forward, backward, errors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/index.ts';

const full = process.env.TSVISION_FULL === '1';
// Building, running and differentiating every variant takes minutes on 2 cores: CI covers those up
// to 30M parameters; npm run test:full covers all (larger CI parity cases check their counts too).
const LARGE = 30_000_000;

for (const name of T.listModels()) {
  const entry = T.getModelEntry(name);
  const skip = entry.paramCount > LARGE && !full ? 'extended suite (npm run test:full)' : false;
  test(`${name}: declared parameter count, finite forward, a grad for every parameter`, { skip }, () => {
    const model = T.buildModel(name);
    assert.equal(model.numParameters(), entry.paramCount, 'parameter count');
    const [c, h, w] = model.pretrainedCfg.inputSize;
    const x = T.randn([1, c, h, w], { generator: new T.Generator(0) });
    model.train();
    const logits = model.forward(x);
    assert.deepEqual([...logits.shape], [1, model.numClasses > 0 ? model.numClasses : model.numFeatures]);
    assert.ok(Number.isFinite(T.sum(logits).item()), 'finite logits');
    T.sum(logits).backward();
    const missing = model.namedParameters().filter(([, p]) => !p.grad).map(([n]) => n);
    assert.deepEqual(missing, [], 'parameters without a grad');
  });
}

test('unknown model names suggest close names', () => {
  assert.throws(() => T.buildModel('resnet5'), (e: unknown) => e instanceof T.UnknownModelError && e.suggestions.includes('resnet50') && /resnet50/.test(e.message));
  assert.throws(() => T.buildModel('resnet50.nope'), (e: unknown) => e instanceof T.TsvisionError && /a1_in1k/.test((e as Error).message));
});

test('listModels filters by glob and substring', () => {
  assert.ok(T.listModels('resnet*').includes('resnet152'));
  assert.deepEqual(T.listModels('resnet1*'), ['resnet101', 'resnet152', 'resnet18']);
  assert.ok(T.listModels('net5').includes('resnet50'));
});

test('resetClassifier and numClasses 0 give a headless model', () => {
  const model = T.buildModel('resnet18', { numClasses: 0 });
  const x = T.randn([1, 3, 64, 64]);
  assert.deepEqual([...T.noGrad(() => model.forward(x)).shape], [1, 512]);
  model.resetClassifier(7);
  assert.deepEqual([...T.noGrad(() => model.forward(x)).shape], [1, 7]);
  assert.ok(model.stateDict().has('fc.weight'));
});

test('createModel loads a checkpoint strictly and names mismatched keys', async () => {
  const os = await import('node:os');
  const path = await import('node:path');
  const fs = await import('node:fs');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-create-'));
  try {
    const src = T.buildModel('resnet18');
    const file = path.join(dir, 'model.safetensors');
    T.writeSafetensors(file, src.stateDict());
    const loaded = await T.createModel('resnet18', { weights: file });
    const x = T.randn([1, 3, 64, 64]);
    src.eval();
    assert.deepEqual(T.noGrad(() => loaded.forward(x)).toArray(), T.noGrad(() => src.forward(x)).toArray());
    await assert.rejects(T.createModel('resnet34', { weights: file }), (e: unknown) => e instanceof T.StateDictError && /layer1\.2/.test((e as Error).message));
    const wrongShape = T.buildModel('resnet18', { numClasses: 10 });
    T.writeSafetensors(file, wrongShape.stateDict());
    await assert.rejects(T.createModel('resnet18', { weights: file, numClasses: 1000 }), (e: unknown) => e instanceof T.StateDictError && /fc\.weight/.test((e as Error).message) && /\[10, 512\]/.test((e as Error).message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
