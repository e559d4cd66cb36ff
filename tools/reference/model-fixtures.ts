/**
 * Generates model parity fixtures. For each model: build it, overwrite its weights with
 * seeded values (test/helpers/seeded.ts), write weights and a seeded input batch to a temp
 * folder, then run tools/reference/models.py (timm/torchvision) on them; the small outputs
 * land in test/fixtures/models/<name>.safetensors. Tests regenerate the same weights.
 *
 * Usage: TIMM_PATH=/path/to/timm npx tsx tools/reference/model-fixtures.ts [name-filter...]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { buildModel } from '../../src/models/index.ts';
import { seedStateDict, seededInput } from '../../test/helpers/seeded.ts';
import { COTANGENT_SEED_OFFSET, GRAD_CROP, GRAD_ELEMENTS, MODEL_PARITY_CASES } from '../../test/models/cases.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const filters = process.argv.slice(2);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvision-ref-'));
const jobs = [];
for (const c of MODEL_PARITY_CASES) {
  if (filters.length > 0 && !filters.some((f) => c.id.includes(f))) continue;
  const model = buildModel(c.name, { numClasses: c.numClasses });
  seedStateDict(model, c.seed);
  const weights = path.join(tmp, `${c.id}.weights.safetensors`);
  const input = path.join(tmp, `${c.id}.input.safetensors`);
  writeSafetensors(weights, model.stateDict());
  const inputs = { pixel_values: seededInput(c.inputShape, c.inputSeed) };
  const logitsShape = [c.inputShape[0], c.numClasses];
  writeSafetensors(input, c.gradParams ? { ...inputs, cotangent: seededInput(logitsShape, c.inputSeed + COTANGENT_SEED_OFFSET) } : inputs);
  jobs.push({
    name: c.id, reference: c.reference ?? c.name, source: c.source ?? 'timm', numClasses: c.numClasses,
    seed: c.seed, inputSeed: c.inputSeed, weights, input, gradParams: c.gradParams ?? [], gradCrop: GRAD_CROP, gradElements: GRAD_ELEMENTS, float64: c.referenceFloat64 ?? false,
    output: path.join(root, 'test', 'fixtures', 'models', `${c.id}.safetensors`),
  });
}
const jobsFile = path.join(tmp, 'jobs.json');
fs.writeFileSync(jobsFile, JSON.stringify(jobs));
execFileSync('/usr/bin/python3', [path.join(root, 'tools', 'reference', 'models.py'), jobsFile], { stdio: 'inherit' });
fs.rmSync(tmp, { recursive: true, force: true });
