/**
 * Generates test/fixtures/models/hybrid-extra.safetensors: writes the seeded weights of the
 * hybrid's ResNetV2 backbone and of hybrids run off their native image size, plus seeded
 * inputs, to a temp folder, then runs tools/reference/hybrid_extra.py (timm) on them. The
 * job descriptions (seeds, shapes) are stored in the fixture so the test regenerates the same
 * weights and inputs.
 *
 * Usage: TIMM_PATH=/path/to/timm npx tsx tools/reference/hybrid-fixtures.ts
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { ResNetV2 } from '../../src/models/resnetv2.ts';
import { seedStateDict, seededInput } from '../../test/helpers/seeded.ts';
import { HYBRID_BACKBONE_JOB, HYBRID_MODEL_JOBS, buildHybridForJob } from '../../test/models/hybrid-jobs.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvision-hybrid-'));

const bb = HYBRID_BACKBONE_JOB;
const backbone = new ResNetV2({ layers: bb.layers });
seedStateDict(backbone, bb.seed);
const backboneWeights = path.join(tmp, 'backbone.weights.safetensors');
const backboneInputs = path.join(tmp, 'backbone.inputs.safetensors');
writeSafetensors(backboneWeights, backbone.stateDict());
writeSafetensors(backboneInputs, Object.fromEntries(Object.entries(bb.inputs).map(([name, { shape, seed }]) => [name, seededInput(shape, seed)])));

const hybridJobs = HYBRID_MODEL_JOBS.map((job) => {
  const model = buildHybridForJob(job);
  seedStateDict(model, job.seed);
  const weights = path.join(tmp, `hybrid-${job.id}.weights.safetensors`);
  const inputs = path.join(tmp, `hybrid-${job.id}.inputs.safetensors`);
  writeSafetensors(weights, model.stateDict());
  writeSafetensors(inputs, { pixel_values: seededInput(job.inputShape, job.inputSeed) });
  return { ...job, weights, inputs };
});

const jobs = { backbone: { ...bb, weights: backboneWeights, inputs: backboneInputs }, hybrid: hybridJobs };
const jobsFile = path.join(tmp, 'jobs.json');
fs.writeFileSync(jobsFile, JSON.stringify(jobs));
try {
  execFileSync('/usr/bin/python3', [path.join(root, 'tools', 'reference', 'hybrid_extra.py'), jobsFile], { stdio: 'inherit' });
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
