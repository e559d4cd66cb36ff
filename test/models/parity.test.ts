/**
 * Model parity with timm/torchvision on seeded weights (fixtures: tools/reference/model-fixtures.ts):
 * f32 logits and pre-logits within 1e-4·max(1, max|ref|), gradients (input corner and named
 * parameters, where the case lists them) within the same rule,
 * an exact parameter count, and a bf16 run within 2e-2 relative with the same top-1.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readSafetensors } from '../../src/io/safetensors.ts';
import { buildModel } from '../../src/models/index.ts';
import { noGrad } from '../../src/tensor/autograd.ts';
import { argmax, sum } from '../../src/tensor/ops/reduce.ts';
import { cast, mul } from '../../src/tensor/ops/elementwise.ts';
import { BF16_TOL, F32_TOL, assertClose, fixturesDir } from '../helpers/opcheck.ts';
import { seedStateDict, seededInput } from '../helpers/seeded.ts';
import { flatten, narrow } from '../../src/tensor/ops/shape.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import type { Model } from '../../src/models/index.ts';
import { COTANGENT_SEED_OFFSET, GRAD_CROP, GRAD_ELEMENTS, MODEL_PARITY_CASES, type ModelParityCase } from './cases.ts';

const full = process.env.TSVISION_FULL === '1';

// d/d(input, params) of sum(logits · cotangent) against torch autograd, on the kept slices.
function checkGradients(c: ModelParityCase, model: Model, x: Tensor, ref: Map<string, Tensor>): void {
  const input = x.clone().requiresGrad_();
  const cotangent = seededInput([c.inputShape[0], c.numClasses], c.inputSeed + COTANGENT_SEED_OFFSET);
  sum(mul(model.forward(input), cotangent)).backward();
  const corner = narrow(narrow(input.grad!, 2, 0, GRAD_CROP), 3, 0, GRAD_CROP);
  assertClose(corner, ref.get('grad/input')!, F32_TOL, 'grad input');
  const params = new Map(model.namedParameters());
  for (const name of c.gradParams!) {
    const grad = params.get(name)?.grad;
    assert.ok(grad, `${name} has a grad`);
    const flat = flatten(grad);
    assertClose(narrow(flat, 0, 0, Math.min(GRAD_ELEMENTS, flat.numel)), ref.get(`grad/${name}`)!, F32_TOL, `grad ${name}`);
  }
  model.zeroGrad();
}

for (const c of MODEL_PARITY_CASES) {
  const file = path.join(fixturesDir, 'models', `${c.id}.safetensors`);
  test(`${c.id}: logits match ${c.source ?? 'timm'} ${c.reference ?? c.name}`, { skip: c.full && !full ? 'extended suite (npm run test:full)' : false }, () => {
    assert.ok(fs.existsSync(file), `missing fixture ${file}: run tools/reference/model-fixtures.ts ${c.id}`);
    const { tensors, metadata } = readSafetensors(file);
    const model = buildModel(c.name, { numClasses: c.numClasses });
    assert.equal(model.numParameters(), Number(metadata.param_count), 'parameter count');
    seedStateDict(model, c.seed);
    model.eval();
    const x = seededInput(c.inputShape, c.inputSeed);
    if (c.gradParams) checkGradients(c, model, x, tensors);
    noGrad(() => {
      const logits = model.forward(x);
      assertClose(logits, tensors.get('logits')!, F32_TOL, 'logits');
      if (tensors.has('pre_logits')) assertClose(model.forwardHead(model.forwardFeatures(x), { preLogits: true }), tensors.get('pre_logits')!, F32_TOL, 'pre-logits');
      model.to('bfloat16');
      const low = model.forward(cast(x, 'bfloat16'));
      assert.equal(low.dtype, 'bfloat16');
      assertClose(cast(low, 'float32'), tensors.get('logits')!, BF16_TOL, 'bf16 logits');
      assert.deepEqual(argmax(low, -1).tolist(), argmax(tensors.get('logits')!, -1).tolist(), 'bf16 top-1');
    });
  });
}
