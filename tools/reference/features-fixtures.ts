/**
 * Generates feature-extractor parity fixtures (test/models/features-cases.ts): seeds each
 * registry model's weights (test/helpers/seeded.ts), writes them and a seeded input to a temp
 * folder, and runs tools/reference/features.py (timm's features_only) on them.
 *
 * Usage: TIMM_PATH=/path/to/timm npx tsx tools/reference/features-fixtures.ts [id-filter...]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { buildModel } from '../../src/models/index.ts';
import { seedStateDict, seededInput } from '../../test/helpers/seeded.ts';
import { FEATURE_CHANNELS_KEPT, FEATURE_PARITY_CASES } from '../../test/models/features-cases.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const filters = process.argv.slice(2);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvision-features-'));
const outDir = path.join(root, 'test', 'fixtures', 'features');
fs.mkdirSync(outDir, { recursive: true });
const jobs = [];
for (const c of FEATURE_PARITY_CASES) {
  if (filters.length > 0 && !filters.some((f) => c.id.includes(f))) continue;
  const model = buildModel(c.name);
  seedStateDict(model, c.seed);
  const weights = path.join(tmp, `${c.id}.weights.safetensors`);
  const input = path.join(tmp, `${c.id}.input.safetensors`);
  writeSafetensors(weights, model.stateDict());
  writeSafetensors(input, { pixel_values: seededInput(c.inputShape, c.inputSeed) });
  jobs.push({ id: c.id, name: c.name, part: c.part ?? null, outIndices: c.outIndices ?? null, channels: FEATURE_CHANNELS_KEPT, weights, input, output: path.join(outDir, `${c.id}.safetensors`) });
}
const jobsFile = path.join(tmp, 'jobs.json');
fs.writeFileSync(jobsFile, JSON.stringify(jobs));
execFileSync('/usr/bin/python3', [path.join(root, 'tools', 'reference', 'features.py'), jobsFile], { stdio: 'inherit' });
fs.rmSync(tmp, { recursive: true, force: true });
