/**
 * Generates test/fixtures/models/mvitv2-extra.safetensors, the MViTv2 fixture beyond the generic
 * parity cases (test/models/mvitv2-cases.ts): decomposed relative positions on their own, table
 * resampling, other input and build sizes, forward_intermediates, pretrained cfgs. Weights and
 * inputs are seeded here and run by tools/reference/mvitv2_extra.py; only small outputs are kept.
 *
 * Usage: TIMM_PATH=/path/to/timm npx tsx tools/reference/mvitv2-fixtures.ts
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { buildModel, listModels, resolveModel } from '../../src/models/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { seedStateDict, seededInput } from '../../test/helpers/seeded.ts';
import { MVIT_EXTRA } from '../../test/models/mvitv2-cases.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvision-mvit-'));

const model = buildModel('mvitv2_tiny', { numClasses: MVIT_EXTRA.numClasses });
seedStateDict(model, MVIT_EXTRA.seed);
const weights = path.join(tmp, 'weights.safetensors');
writeSafetensors(weights, model.stateDict());
const inputs: Record<string, Tensor> = {
  resized: seededInput(MVIT_EXTRA.resized.shape, MVIT_EXTRA.resized.seed),
  intermediates: seededInput(MVIT_EXTRA.intermediates.shape, MVIT_EXTRA.intermediates.seed),
};
for (const s of MVIT_EXTRA.sizes) inputs[`sizes/${s.name}`] = seededInput(s.shape, s.seed);
const inputFile = path.join(tmp, 'inputs.safetensors');
writeSafetensors(inputFile, inputs);

const job = {
  weights, inputs: inputFile, ...MVIT_EXTRA,
  names: listModels().filter((n) => resolveModel(n).entry.family === 'mvitv2'),
  output: path.join(root, 'test', 'fixtures', 'models', 'mvitv2-extra.safetensors'),
};
const jobFile = path.join(tmp, 'job.json');
fs.writeFileSync(jobFile, JSON.stringify(job));
try {
  execFileSync('/usr/bin/python3', [path.join(root, 'tools', 'reference', 'mvitv2_extra.py'), jobFile], { stdio: 'inherit' });
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
