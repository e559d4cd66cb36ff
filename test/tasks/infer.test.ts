/**
 * infer reads each model's input spec: inputs are checked against it (typed errors that name the
 * spec), and a newly registered model with two inputs runs through `tsvision infer` unchanged.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import * as T from '../../src/index.ts';
import { main } from '../../src/cli/main.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-infer-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A toy vision-language model: pooled image features plus mean token embeddings, then a 2-way head. */
class ToyTwoInput extends T.nn.Module {
  readonly proj = this.module('proj', new T.nn.Conv2d(3, 8, 4, { stride: 4 }));
  readonly embed = this.module('embed', new T.nn.Embedding(100, 8));
  readonly head = this.module('head', new T.nn.Linear(8, 2));

  forward(pixels: T.Tensor, ids: T.Tensor): T.Tensor {
    const image = T.mean(this.proj.forward(pixels), [2, 3]); // (N, 8)
    const text = T.mean(this.embed.forward(ids), 1); // (N, 8)
    return this.head.forward(T.add(image, text)); // (N, 2)
  }
}

const TOY: T.ModelEntry<ToyTwoInput> = {
  name: 'toy_two_input',
  family: 'test',
  paramCount: 3 * 8 * 16 + 8 + 100 * 8 + 8 * 2 + 2,
  create: () => new ToyTwoInput(),
  pretrained: { untrained: { numClasses: 2, classifier: 'head', preprocess: { image: { inputSize: [3, 16, 16], cropPct: 1, interpolation: 'bilinear', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] } } } },
  contract: {
    task: 'vision-language',
    spec: () => ({
      task: 'vision-language',
      inputs: [
        { name: 'pixel_values', shape: [3, 'H', 'W'], dtype: 'float32', description: 'images' },
        { name: 'input_ids', shape: ['L'], dtype: 'int64', description: 'token ids', range: [0, 100] },
      ],
      outputs: [{ name: 'logits', shape: [2], dtype: 'float32', description: 'match scores' }],
      sizes: { H: 16, W: 16, L: 5 },
      multipleOf: { H: 4, W: 4 },
    }),
    forwardNamed: (model, inputs) => new Map([['logits', model.forward(inputs.get('pixel_values')!, inputs.get('input_ids')!)]]),
  },
};
T.registerModels([TOY]);
after(() => T.unregisterModel('toy_two_input'));

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  const errors: string[] = [];
  const original = console.error;
  console.error = (...parts: unknown[]) => errors.push(parts.join(' '));
  try {
    return { code: await main(args), stderr: errors.join('\n') };
  } finally {
    console.error = original;
  }
}

test('a registered two-input model (image + token ids) runs through `tsvision infer` with no other change', async () => {
  const model = T.buildModel<ToyTwoInput>('toy_two_input');
  const weights = path.join(dir, 'toy.safetensors');
  T.writeSafetensors(weights, model.stateDict());
  const g = new T.Generator(3);
  const pixels = T.randn([2, 3, 16, 12], { generator: g });
  const ids = T.randint(0, 100, [2, 5], { generator: g });
  const input = path.join(dir, 'in.safetensors');
  T.writeSafetensors(input, new Map([['pixel_values', pixels], ['input_ids', ids]]));
  const output = path.join(dir, 'out.safetensors');
  const { code, stderr } = await cli(['infer', '--model', 'toy_two_input', '--weights', weights, '--input', input, '--output', output]);
  assert.equal(code, 0, stderr);
  const logits = T.readSafetensors(output).tensors.get('logits')!;
  assert.deepEqual([...logits.shape], [2, 2]);
  assert.deepEqual(logits.toArray(), T.noGrad(() => model.eval().forward(pixels, ids)).toArray());

  T.writeSafetensors(input, new Map([['pixel_values', pixels]]));
  const missing = await cli(['infer', '--model', 'toy_two_input', '--weights', weights, '--input', input, '--output', output]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /missing input 'input_ids'.*inputs: pixel_values \[N, 3, H, W\] float32, input_ids \[N, L\] int64/);
});

test('inputs are checked against the spec: missing, unknown, mis-shaped, mistyped, out of range', () => {
  const model = T.buildModel<ToyTwoInput>('toy_two_input');
  const pixels = T.randn([1, 3, 16, 16]);
  const ids = T.randint(0, 100, [1, 5]);
  const rejects = (inputs: [string, T.Tensor][], pattern: RegExp) =>
    assert.throws(() => T.inferNamed(model, new Map(inputs)), (e: unknown) => e instanceof T.InputSpecError && pattern.test((e as Error).message) && /the model's inputs: pixel_values/.test((e as Error).message));
  rejects([['pixel_values', pixels]], /missing input 'input_ids'/);
  rejects([['pixel_values', pixels], ['input_ids', ids], ['pixel_mask', ids]], /unknown input 'pixel_mask'/);
  rejects([['pixel_values', T.randn([3, 16, 16])], ['input_ids', ids]], /pixel_values has shape \[3, 16, 16\] float32, expected 4 dims/);
  rejects([['pixel_values', T.randn([2, 3, 16, 16])], ['input_ids', ids]], /input_ids has N = 1 at dim 0, but another input has N = 2/);
  rejects([['pixel_values', T.randn([1, 3, 16, 14])], ['input_ids', ids]], /W = 14, which must be a multiple of 4/);
  rejects([['pixel_values', pixels], ['input_ids', T.randn([1, 5])]], /input_ids is float32, expected integers/);
  rejects([['pixel_values', pixels], ['input_ids', T.full([1, 5], 100, { dtype: 'int64' })]], /input_ids has values in \[100, 100\], expected \[0, 100\)/);
  const outputs = T.inferNamed(model, new Map([['pixel_values', pixels], ['input_ids', T.cast(ids, 'int32')]]));
  assert.deepEqual([...outputs.get('logits')!.shape], [1, 2]);
});

test('an image classifier\'s spec: a fixed-size ViT names its size, a ResNet takes any; infer writes logits and pre_logits', () => {
  const vit = T.buildModel('vit_tiny_patch16_224');
  assert.equal(T.formatSpec(vit.spec), 'inputs: pixel_values [N, 3, 224, 224] float32; outputs: logits [N, 1000] float32, pre_logits [N, 192] float32');
  assert.throws(() => T.inferNamed(vit, new Map([['pixel_values', T.randn([1, 3, 32, 32])]])), (e: unknown) => e instanceof T.InputSpecError && /dim 2 must be 224/.test((e as Error).message));
  const resnet = T.buildModel('resnet18', { numClasses: 4 });
  assert.equal(T.formatSpec(resnet.spec), 'inputs: pixel_values [N, 3, H, W] float32; outputs: logits [N, 4] float32, pre_logits [N, 512] float32');
  const x = T.randn([2, 3, 40, 48]);
  const out = T.inferNamed(resnet, new Map([['pixel_values', x]]));
  assert.deepEqual([...out.keys()], ['logits', 'pre_logits']);
  assert.deepEqual(out.get('logits')!.toArray(), T.noGrad(() => resnet.forward(x)).toArray());
  const dynamicOptions: T.VitOptions = { dynamicImgSize: true };
  const dynamic = T.buildModel('vit_tiny_patch16_224', dynamicOptions);
  assert.deepEqual(dynamic.spec.multipleOf, { H: 16, W: 16 });
});
