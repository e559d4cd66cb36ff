/**
 * Generates test/fixtures/models/xcit-extra.safetensors, the XCiT checks beyond the generic
 * parity cases (test/models/xcit-cases.ts): the Fourier encoding and XCA on their own (with
 * gradients), other image sizes, average pooling, training mode, forward_intermediates, a
 * checkpoint in the official layout through timm's checkpoint_filter_fn, and timm's pretrained
 * cfgs. Weights are seeded here and run by tools/reference/xcit_extra.py; only small outputs
 * are kept.
 *
 * Usage: TIMM_PATH=/path/to/timm npx tsx tools/reference/xcit-fixtures.ts
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeSafetensors } from '../../src/io/safetensors.ts';
import { buildModel, listModels, resolveModel } from '../../src/models/index.ts';
import { PositionalEncodingFourier } from '../../src/nn/blocks/fourier-pos-embed.ts';
import { XCA } from '../../src/nn/blocks/xca.ts';
import type { StateDict } from '../../src/nn/module.ts';
import { seedStateDict, seededInput } from '../../test/helpers/seeded.ts';
import { XCIT_EXTRA, officialXcitCheckpoint } from '../../test/models/xcit-cases.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvision-xcit-'));

function save(name: string, tensors: StateDict | Record<string, ReturnType<typeof seededInput>>): string {
  const file = path.join(tmp, `${name}.safetensors`);
  writeSafetensors(file, tensors);
  return file;
}

const { seed, numClasses } = XCIT_EXTRA;
const fourier = new PositionalEncodingFourier(XCIT_EXTRA.fourier.dim);
seedStateDict(fourier, seed);
const xca = new XCA(XCIT_EXTRA.xca.dim, XCIT_EXTRA.xca.heads, { qkvBias: true });
seedStateDict(xca, seed);
const nano = buildModel('xcit_nano_12_p16_224', { numClasses });
seedStateDict(nano, seed);
const nanoP8 = buildModel('xcit_nano_12_p8_224', { numClasses });
seedStateDict(nanoP8, seed);
const inputs = {
  input: seededInput(XCIT_EXTRA.input.shape, XCIT_EXTRA.input.seed),
  otherSize: seededInput(XCIT_EXTRA.otherSize.shape, XCIT_EXTRA.otherSize.seed),
  xcaInput: seededInput(XCIT_EXTRA.xca.input.shape, XCIT_EXTRA.xca.input.seed),
  xcaCotangent: seededInput(XCIT_EXTRA.xca.cotangent.shape, XCIT_EXTRA.xca.cotangent.seed),
};
const job = {
  fourier: save('fourier', fourier.stateDict()), fourierDim: XCIT_EXTRA.fourier.dim, grids: XCIT_EXTRA.fourier.grids,
  xca: save('xca', xca.stateDict()), xcaDim: XCIT_EXTRA.xca.dim, xcaHeads: XCIT_EXTRA.xca.heads,
  nano: save('nano', nano.stateDict()), nanoP8: save('nano-p8', nanoP8.stateDict()), official: save('official', officialXcitCheckpoint(nano.stateDict())),
  inputs: save('inputs', inputs), numClasses, intermediates: XCIT_EXTRA.intermediates,
  names: listModels().filter((n) => resolveModel(n).entry.family === 'xcit'),
  output: path.join(root, 'test', 'fixtures', 'models', 'xcit-extra.safetensors'),
};
const jobFile = path.join(tmp, 'job.json');
fs.writeFileSync(jobFile, JSON.stringify(job));
try {
  execFileSync('/usr/bin/python3', [path.join(root, 'tools', 'reference', 'xcit_extra.py'), jobFile], { stdio: 'inherit' });
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
