/**
 * Generates the Swin fixtures beyond the generic parity cases (test/models/swin-cases.ts):
 * test/fixtures/models/swin-extra.safetensors (relative position index, shifted-window masks,
 * window gathers, table resampling, padded / resized-window / dynamic sizes, the unpooled head,
 * intermediates, gradients, pretrained cfgs) and test/fixtures/models/swin-torchvision-<id>.safetensors
 * (torchvision's Swins run by torchvision on checkpoints in torchvision's key layout). Weights
 * are seeded here and run by tools/reference/swin_extra.py; only small outputs are kept.
 *
 * Usage: TIMM_PATH=/path/to/timm npx tsx tools/reference/swin-fixtures.ts [extra] [swin_t ...]
 * (no arguments: extra and every torchvision case)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { buildModel, listModels, resolveModel, TORCHVISION_SWIN_VARIANTS } from '../../src/models/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { seedStateDict, seededInput } from '../../test/helpers/seeded.ts';
import { SWIN_EXTRA, TORCHVISION_SWIN_CASES, torchvisionSwinCheckpoint } from '../../test/models/swin-cases.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const args = process.argv.slice(2);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvision-swin-'));
const out = (file: string) => path.join(root, 'test', 'fixtures', 'models', file);
const job: Record<string, unknown> = {};

function save(name: string, tensors: Map<string, Tensor> | Record<string, Tensor>): string {
  const file = path.join(tmp, `${name}.safetensors`);
  writeSafetensors(file, tensors);
  return file;
}

if (args.length === 0 || args.includes('extra')) {
  const { numClasses } = SWIN_EXTRA;
  const tiny = buildModel('swin_tiny_patch4_window7_224', { numClasses });
  seedStateDict(tiny, SWIN_EXTRA.seed);
  const seeded = (s: { shape: readonly number[]; seed: number }) => seededInput(s.shape, s.seed);
  const inputs = {
    input: seeded(SWIN_EXTRA.input), paddedInput: seeded(SWIN_EXTRA.padded.input), cotangent: seeded(SWIN_EXTRA.padded.cotangent),
    resizedInput: seeded(SWIN_EXTRA.resized.input), dynamicInput: seeded(SWIN_EXTRA.dynamic.input),
  };
  const names = listModels().filter((n) => resolveModel(n).entry.family === 'swin');
  job.extra = {
    tiny: save('tiny', tiny.stateDict()), inputs: save('inputs', inputs), numClasses,
    indexWindows: SWIN_EXTRA.indexWindows, maskCases: SWIN_EXTRA.maskCases, gather: SWIN_EXTRA.gather, resizeCases: SWIN_EXTRA.resizeCases,
    paddedImgSize: SWIN_EXTRA.padded.imgSize, gradCrop: SWIN_EXTRA.padded.gradCrop, resizedWindow: SWIN_EXTRA.resized.windowSize,
    intermediateChannels: SWIN_EXTRA.intermediateChannels, preLogitChannels: SWIN_EXTRA.preLogitChannels,
    gradParams: SWIN_EXTRA.gradParams, gradRows: SWIN_EXTRA.gradRows,
    timmNames: names.filter((n) => !(n in TORCHVISION_SWIN_VARIANTS)), torchvisionNames: Object.keys(TORCHVISION_SWIN_VARIANTS),
    output: out('swin-extra.safetensors'),
  };
}

job.torchvision = TORCHVISION_SWIN_CASES.filter((c) => args.length === 0 || args.includes(c.id)).map((c) => ({
  id: c.id, name: c.name,
  weights: save(`tv-${c.id}`, torchvisionSwinCheckpoint(TORCHVISION_SWIN_VARIANTS[c.name], 1000, c.seed)),
  input: save(`tv-${c.id}-input`, { pixel_values: seededInput(c.inputShape, c.inputSeed) }),
  numClasses: 1000, seed: c.seed, inputSeed: c.inputSeed,
  output: out(`swin-torchvision-${c.id}.safetensors`),
}));

const jobFile = path.join(tmp, 'job.json');
fs.writeFileSync(jobFile, JSON.stringify(job));
try {
  execFileSync('/usr/bin/python3', [path.join(root, 'tools', 'reference', 'swin_extra.py'), jobFile], { stdio: 'inherit' });
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
