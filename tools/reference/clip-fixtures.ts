/**
 * Generates CLIP parity fixtures. For each case of test/models/clip-cases.ts: build the registry
 * model, overwrite its weights with seeded values (test/helpers/seeded.ts), write weights and the
 * seeded inputs (pixels, token ids, cotangent) to a temp folder, then run
 * tools/reference/clip_model.py (openai/CLIP) on them; the small outputs land in
 * test/fixtures/clip/<case>.safetensors. Tests regenerate the same weights. One case at a time, so
 * the largest (RN50x64) never holds two copies of its weights.
 *
 * Usage: CLIP_PATH=/path/to/openai/CLIP npx tsx tools/reference/clip-fixtures.ts [case-filter...]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { buildModel, type CLIP } from '../../src/models/index.ts';
import { seedStateDict, seededInput } from '../../test/helpers/seeded.ts';
import {
  CLIP_COTANGENT_SEED_OFFSET, CLIP_GRAD_CROP, CLIP_GRAD_ELEMENTS, CLIP_IDS_SEED_OFFSET, CLIP_PARITY_CASES, RESAMPLE_CASE, clipTextIds,
} from '../../test/models/clip-cases.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const outDir = path.join(root, 'test', 'fixtures', 'clip');
const script = path.join(root, 'tools', 'reference', 'clip_model.py');
const filters = process.argv.slice(2);
const wanted = (id: string) => filters.length === 0 || filters.some((f) => id.includes(f));
fs.mkdirSync(outDir, { recursive: true });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvision-clip-ref-'));

function runJobs(jobs: object[]): void {
  const jobsFile = path.join(tmp, 'jobs.json');
  fs.writeFileSync(jobsFile, JSON.stringify(jobs));
  execFileSync('/usr/bin/python3', [script, jobsFile], { stdio: 'inherit' });
}

try {
  if (wanted(RESAMPLE_CASE.id)) {
    const input = path.join(tmp, 'resample.input.safetensors');
    writeSafetensors(input, { table: seededInput([RESAMPLE_CASE.rows, RESAMPLE_CASE.width], RESAMPLE_CASE.seed) });
    runJobs([{ kind: 'resample', case: RESAMPLE_CASE.id, input, grids: RESAMPLE_CASE.grids, output: path.join(outDir, `${RESAMPLE_CASE.id}.safetensors`) }]);
  }
  for (const c of CLIP_PARITY_CASES) {
    if (!wanted(c.id)) continue;
    const model = buildModel<CLIP>(c.name);
    seedStateDict(model, c.seed);
    const weights = path.join(tmp, `${c.id}.weights.safetensors`);
    const input = path.join(tmp, `${c.id}.input.safetensors`);
    writeSafetensors(weights, model.stateDict());
    const size = model.imageSize;
    writeSafetensors(input, {
      pixel_values: seededInput([c.images, 3, size, size], c.inputSeed),
      input_ids: clipTextIds(c.textLengths, c.inputSeed + CLIP_IDS_SEED_OFFSET),
      cotangent: seededInput([c.images, c.textLengths.length], c.inputSeed + CLIP_COTANGENT_SEED_OFFSET),
    });
    runJobs([{
      case: c.id, name: c.name, seed: c.seed, inputSeed: c.inputSeed, weights, input, gradParams: c.gradParams,
      gradCrop: CLIP_GRAD_CROP, gradElements: CLIP_GRAD_ELEMENTS, output: path.join(outDir, `${c.id}.safetensors`),
    }]);
    fs.rmSync(weights);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
