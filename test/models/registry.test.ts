/** Generic checks over the whole registry (timm's test_models.py): counts, forward, backward, errors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as T from '../../src/index.ts';
import { inputsFromSpec, specShape } from '../helpers/spec-inputs.ts';

const full = process.env.TSVISION_FULL === '1';
// Building, running and differentiating every variant takes minutes on 2 cores: CI covers those up
// to 30M parameters; npm run test:full covers all (larger CI parity cases check their counts too).
const LARGE = 30_000_000;

const isClassifier = (model: T.Model<T.nn.Module>): model is T.Model<T.ImageClassifier> => model.spec.task === 'image-classification';

for (const name of T.listModels()) {
  const entry = T.getModelEntry(name);
  const skip = entry.paramCount > LARGE && !full ? 'extended suite (npm run test:full)' : false;
  test(`${name}: declared parameter count, a forward from its input spec that fits its output spec, a grad for every parameter`, { skip }, () => {
    const model = T.buildModel<T.nn.Module>(name);
    assert.equal(model.numParameters(), entry.paramCount, 'parameter count');
    const spec = model.spec;
    assert.equal(spec.task, entry.contract.task, 'task');
    model.train();
    const outputs = entry.contract.forwardNamed(model, T.checkInputs(spec, model.modelName, inputsFromSpec(spec)));
    assert.deepEqual([...outputs.keys()].sort(), spec.outputs.map((o) => o.name).sort(), 'output names');
    let loss: T.Tensor | null = null;
    for (const out of spec.outputs) {
      const t = outputs.get(out.name)!;
      assert.deepEqual([...t.shape], specShape(spec, out.shape, 1), `${out.name} shape`);
      assert.equal(t.dtype, out.dtype, `${out.name} dtype`);
      const total = T.sum(t);
      assert.ok(Number.isFinite(total.item()), `finite ${out.name}`);
      loss = loss ? T.add(loss, total) : total;
    }
    loss!.backward();
    const missing = model.namedParameters().filter(([, p]) => !p.grad).map(([n]) => n);
    assert.deepEqual(missing, [], 'parameters without a grad');
    if (!isClassifier(model)) return;
    const x = inputsFromSpec(spec).get('pixel_values')!;
    const { features, intermediates } = T.noGrad(() => model.forwardIntermediates(x));
    assert.equal(intermediates.length, model.featureInfo.length, 'one intermediate per feature level');
    intermediates.forEach((t, i) => {
      const info = model.featureInfo[i];
      assert.equal(t.shape[1], info.numChannels, `level ${i} (${info.module}) channels`);
      assert.equal(t.shape[2], Math.ceil(x.shape[2] / info.reduction), `level ${i} (${info.module}) height at stride ${info.reduction}`);
    });
    assert.deepEqual([...features!.shape], [...T.noGrad(() => model.forwardFeatures(x)).shape], 'final features');
  });
  test(`${name}: resetClassifier(0) leaves no classifier parameters, resetClassifier(k) a k-class head`, { skip }, () => {
    const model = T.buildModel<T.nn.Module>(name);
    if (!isClassifier(model)) return;
    const heads = T.classifierNames(model.pretrainedCfg);
    const isHead = (key: string) => heads.some((h) => key === h || key.startsWith(`${h}.`));
    const headParams = model.namedParameters().filter(([key]) => isHead(key)).reduce((n, [, p]) => n + p.numel, 0);
    model.resetClassifier(0);
    assert.deepEqual([...model.stateDict().keys()].filter(isHead), [], 'classifier keys after resetClassifier(0)');
    assert.equal(model.numParameters(), entry.paramCount - headParams, 'parameters without the head');
    assert.deepEqual(model.spec.outputs.map((o) => o.name), ['pre_logits'], 'outputs without a head');
    model.resetClassifier(7);
    const weights = [...model.stateDict()].filter(([key]) => isHead(key) && key.endsWith('.weight'));
    assert.equal(weights.length, heads.length, 'one weight per classifier');
    for (const [key, w] of weights) assert.deepEqual([...w.shape], [7, model.numFeatures], key);
    assert.deepEqual(model.spec.outputs.find((o) => o.name === 'logits')?.shape, [7], 'logits spec');
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
  assert.ok(!model.stateDict().has('fc.weight'));
  model.resetClassifier(7);
  assert.deepEqual([...T.noGrad(() => model.forward(x)).shape], [1, 7]);
  assert.ok(model.stateDict().has('fc.weight'));
  model.resetClassifier(0);
  assert.ok(!model.stateDict().has('fc.weight'));
  assert.deepEqual([...T.noGrad(() => model.forward(x)).shape], [1, 512]);
});

test('createModel loads a checkpoint strictly, sizes the head from it, and names mismatched keys', async () => {
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
    const tenClasses = T.buildModel('resnet18', { numClasses: 10 });
    T.writeSafetensors(file, tenClasses.stateDict());
    assert.equal((await T.createModel('resnet18', { weights: file })).numClasses, 10, 'the head takes the checkpoint\'s class count');
    assert.equal((await T.createModel('resnet18', { weights: file, numClasses: 1000 })).numClasses, 1000, 'or a fresh head for the count asked for');
    const wide = new Map(tenClasses.stateDict());
    wide.set('fc.weight', T.randn([10, 600]));
    T.writeSafetensors(file, wide);
    await assert.rejects(T.createModel('resnet18', { weights: file }), (e: unknown) => e instanceof T.StateDictError && /fc\.weight \[10, 600\] vs model \[10, 512\]/.test((e as Error).message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('registerModels refuses a duplicate name, an entry without pretrained configs, and a key layout the entry cannot remap', () => {
  const resnet = T.getModelEntry('resnet18');
  const entry = (changes: Partial<T.ModelEntry>): T.ModelEntry => ({ ...resnet, name: 'resnet18_copy', ...changes });
  assert.throws(() => T.registerModels([resnet]), (e: unknown) => e instanceof T.TsvisionError && /registered twice/.test((e as Error).message));
  assert.throws(() => T.registerModels([entry({ pretrained: {} })]), (e: unknown) => e instanceof T.TsvisionError && /no pretrained config/.test((e as Error).message));
  const cfg = { ...resnet.pretrained.tv_in1k, keyLayout: 'torchvision' };
  assert.throws(() => T.registerModels([entry({ pretrained: { tv: cfg } })]), (e: unknown) => e instanceof T.TsvisionError && /names key layout 'torchvision', but the entry has none/.test((e as Error).message));
  assert.deepEqual(T.listModels('resnet18_copy'), []);
});
