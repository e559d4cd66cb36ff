/** plotRuns: overlays runs' metrics.jsonl curves into one PNG; bad run directories are ArgumentErrors. */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { ArgumentError } from '../../src/errors.ts';
import { plotRuns, readRunMetrics } from '../../src/tasks/plot-runs.ts';

const root = mkdtempSync(join(tmpdir(), 'tsv-plot-'));

function run(name: string, top1: number[]): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'metrics.jsonl'), top1.map((t, i) => JSON.stringify({ epoch: i + 1, trainLoss: 2 - t, top1: t })).join('\n') + '\n');
  return dir;
}

test('plotRuns writes one PNG with a curve per run and names them in the legend', async () => {
  const a = run('scratch', [0.1, 0.3, 0.5]);
  const b = run('finetune', [0.4, 0.7, 0.9]);
  const out = join(root, 'cmp.png');
  const legend = await plotRuns([{ dir: a, name: 'scratch' }, { dir: b, name: 'finetune' }], out);
  assert.match(legend, /scratch=rgb\(31,119,180\) finetune=rgb\(255,127,14\)/);
  const meta = await sharp(readFileSync(out)).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, 800);
  assert.equal(readRunMetrics(b).length, 3);
});

test('plotRuns rejects a directory without metrics.jsonl and an empty run list', async () => {
  await assert.rejects(plotRuns([{ dir: root, name: 'x' }], join(root, 'x.png')), (e: Error) => e instanceof ArgumentError && /has no metrics\.jsonl/.test(e.message));
  await assert.rejects(plotRuns([], join(root, 'y.png')), ArgumentError);
});
