/**
 * Generates the ViT/DeiT fixtures beyond the generic parity cases (test/models/vit-cases.ts):
 * test/fixtures/models/vit-extra.safetensors (pos-embed resampling, dynamic and resized image
 * sizes, average pooling, distilled training output, gradients, pretrained cfgs) and
 * test/fixtures/models/vit-torchvision-<name>.safetensors (torchvision's ViTs run by torchvision
 * on checkpoints in torchvision's key layout). Weights are seeded here and run by
 * tools/reference/vit_extra.py; only small outputs are kept.
 *
 * Usage: TIMM_PATH=/path/to/timm npx tsx tools/reference/vit-fixtures.ts [extra] [vit_b_16 ...]
 * (no arguments: extra and every torchvision case)
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { buildModel, listModels, resolveModel, VisionTransformer, VIT_VARIANTS, TORCHVISION_VIT_VARIANTS } from '../../src/models/index.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { seedStateDict, seededInput } from '../../test/helpers/seeded.ts';
import { TORCHVISION_VIT_CASES, VIT_EXTRA, torchvisionVitCheckpoint } from '../../test/models/vit-cases.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const args = process.argv.slice(2);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvision-vit-'));
const out = (file: string) => path.join(root, 'test', 'fixtures', 'models', file);
const job: Record<string, unknown> = {};

function save(name: string, tensors: Map<string, Tensor> | Record<string, Tensor>): string {
  const file = path.join(tmp, `${name}.safetensors`);
  writeSafetensors(file, tensors);
  return file;
}

if (args.length === 0 || args.includes('extra')) {
  const { numClasses } = VIT_EXTRA;
  const tiny = buildModel('vit_tiny_patch16_224', { numClasses });
  seedStateDict(tiny, VIT_EXTRA.seed);
  const tinyAvg = new VisionTransformer(VIT_VARIANTS.vit_tiny_patch16_224, { numClasses, globalPool: 'avg' });
  seedStateDict(tinyAvg, VIT_EXTRA.seed);
  const distilled = buildModel('deit_tiny_distilled_patch16_224', { numClasses });
  seedStateDict(distilled, VIT_EXTRA.seed);
  const inputs = Object.fromEntries((['input', 'dynamicInput', 'resizedInput', 'gradInput', 'cotangent'] as const)
    .map((k) => [k, seededInput(VIT_EXTRA[k].shape, VIT_EXTRA[k].seed)]));
  const names = listModels().filter((n) => ['vit', 'deit'].includes(resolveModel(n).entry.family));
  job.extra = {
    tiny: save('tiny', tiny.stateDict()), tinyAvg: save('tiny-avg', tinyAvg.stateDict()), distilled: save('distilled', distilled.stateDict()),
    inputs: save('inputs', inputs), numClasses, imgSize: VIT_EXTRA.imgSize, gradParams: VIT_EXTRA.gradParams, gradRows: VIT_EXTRA.gradRows,
    timmNames: names.filter((n) => !(n in TORCHVISION_VIT_VARIANTS)), torchvisionNames: Object.keys(TORCHVISION_VIT_VARIANTS),
    output: out('vit-extra.safetensors'),
  };
}

job.torchvision = TORCHVISION_VIT_CASES.filter((c) => args.length === 0 || args.includes(c.name)).map((c) => ({
  name: c.name,
  weights: save(`tv-${c.name}`, torchvisionVitCheckpoint(TORCHVISION_VIT_VARIANTS[c.name], 1000, c.seed)),
  input: save(`tv-${c.name}-input`, { pixel_values: seededInput(c.inputShape, c.inputSeed) }),
  numClasses: 1000, seed: c.seed, inputSeed: c.inputSeed,
  output: out(`vit-torchvision-${c.name}.safetensors`),
}));

const jobFile = path.join(tmp, 'job.json');
fs.writeFileSync(jobFile, JSON.stringify(job));
try {
  execFileSync('/usr/bin/python3', [path.join(root, 'tools', 'reference', 'vit_extra.py'), jobFile], { stdio: 'inherit' });
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
