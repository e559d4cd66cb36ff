/** plotRuns: overlays runs' metrics.jsonl curves into one PNG; bad run directories and logs are ArgumentErrors. */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { ArgumentError } from '../../src/errors.ts';
import { plotRuns, readRunMetrics } from '../../src/tasks/plot-runs.ts';
import { PALETTE, PANEL_SIZE } from '../../src/train/plot.ts';

const root = mkdtempSync(join(tmpdir(), 'tsv-plot-'));

function run(name: string, top1: number[]): string {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'metrics.jsonl'), top1.map((t, i) => JSON.stringify({ epoch: i + 1, trainLoss: 2 - t, top1: t })).join('\n') + '\n');
  return dir;
}

test('plotRuns writes one PNG with a curve per run, a title strip and the runs named in the legend', async () => {
  const a = run('scratch', [0.1, 0.3, 0.5]);
  const b = run('finetune', [0.4, 0.7, 0.9]);
  const out = join(root, 'cmp.png');
  const legend = await plotRuns([{ dir: a, name: 'scratch' }, { dir: b, name: 'finetune' }], out);
  assert.match(legend, /scratch=rgb\(31,119,180\) finetune=rgb\(255,127,14\)/);
  const { data, info } = await sharp(readFileSync(out)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.width, 2 * PANEL_SIZE.width);
  assert.ok(info.height > PANEL_SIZE.height, 'the run names go in a title above the panels');
  for (const color of PALETTE.slice(0, 2)) {
    let hits = 0;
    for (let o = 0; o < data.length; o += 3) if (data[o] === color[0] && data[o + 1] === color[1] && data[o + 2] === color[2]) hits++;
    assert.ok(hits > 100, `run colour rgb(${color.join(',')}) drawn ${hits} times`);
  }
  assert.equal(readRunMetrics(b).length, 3);
});

test('plotRuns rejects a directory without metrics.jsonl, a truncated log and an empty run list', async () => {
  await assert.rejects(plotRuns([{ dir: root, name: 'x' }], join(root, 'x.png')), (e: Error) => e instanceof ArgumentError && /has no metrics\.jsonl/.test(e.message));
  const cut = run('cut', [0.2, 0.4]);
  appendFileSync(join(cut, 'metrics.jsonl'), '{"epoch": 3, "trainLo');
  assert.throws(() => readRunMetrics(cut), (e: Error) => e instanceof ArgumentError && /metrics\.jsonl line 3 is not a JSON record/.test(e.message));
  await assert.rejects(plotRuns([], join(root, 'y.png')), ArgumentError);
});
