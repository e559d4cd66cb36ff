/**
 * Generates test/fixtures/models/mixer-extra.safetensors: writes the seeded weights and inputs
 * of the runs in test/models/mixer-cases.ts to a temp folder, then runs
 * tools/reference/mixer_extra.py (timm) on them. Tests regenerate the same weights and inputs.
 *
 * Usage: TIMM_PATH=/path/to/timm npx tsx tools/reference/mixer-fixtures.ts
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import type { Module } from '../../src/nn/module.ts';
import { seedStateDict, seededInput } from '../../test/helpers/seeded.ts';
import { MIXER_EXTRA, buildExtraConvMixer, buildExtraFull, buildExtraMixer } from '../../test/models/mixer-cases.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvision-mixer-'));

// Each run's seeded weights and inputs as files; returns the job entry for the Python side.
function write(id: string, model: Module, seed: number, inputs: Record<string, { shape: readonly number[]; seed: number }>) {
  seedStateDict(model, seed);
  const weights = path.join(tmp, `${id}.weights.safetensors`);
  const input = path.join(tmp, `${id}.inputs.safetensors`);
  writeSafetensors(weights, model.stateDict());
  writeSafetensors(input, Object.fromEntries(Object.entries(inputs).map(([name, s]) => [name, seededInput(s.shape, s.seed)])));
  return { weights, input };
}

const { mixer, convmixer, convmixerTrain, full } = MIXER_EXTRA;
const train = convmixerTrain;
const jobs = {
  mixer: { ...mixer, ...write('mixer', buildExtraMixer(), mixer.seed, { x: mixer.input }) },
  convmixer: { ...convmixer, ...write('convmixer', buildExtraConvMixer('convmixer'), convmixer.seed, { x: convmixer.input }) },
  convmixerTrain: {
    ...train,
    ...write('convmixer-train', buildExtraConvMixer('convmixerTrain'), train.seed, {
      x: train.input, cotangent: { shape: [train.input.shape[0], train.numClasses], seed: train.cotangentSeed },
    }),
  },
  full: { ...full, ...write('full', buildExtraFull(), full.seed, { x: full.input }) },
  output: path.join(root, 'test', 'fixtures', 'models', 'mixer-extra.safetensors'),
};
const jobsFile = path.join(tmp, 'jobs.json');
fs.writeFileSync(jobsFile, JSON.stringify(jobs));
try {
  execFileSync('/usr/bin/python3', [path.join(root, 'tools', 'reference', 'mixer_extra.py'), jobsFile], { stdio: 'inherit' });
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
