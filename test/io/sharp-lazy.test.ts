/**
 * sharp (libvips) is loaded on first use only: importing the package leaves it out of the process
 * (it slows tensor kernels there), and decoding an image brings it in.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { loadSharp } from '../../src/io/sharp.ts';

const probe = `
import { readFileSync } from 'node:fs';
const libvipsMapped = () => readFileSync('/proc/self/maps', 'utf8').includes('libvips');
const T = await import('./src/index.ts');
const before = libvipsMapped();
const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC', 'base64');
const image = await T.decodeImage(png);
console.log(JSON.stringify({ before, after: libvipsMapped(), shape: image.image.shape }));
`;

test('importing the package does not load sharp; decoding an image does', { skip: process.platform !== 'linux' && 'reads /proc/self/maps' }, () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { before: boolean; after: boolean; shape: number[] };
  assert.deepEqual(result, { before: false, after: true, shape: [1, 1, 3] });
});

test('loadSharp resolves to sharp, the same module on every call', async () => {
  const sharp = await loadSharp();
  assert.equal(typeof sharp, 'function');
  assert.equal(await loadSharp(), sharp);
});
