/** The one progress display: a bar string and a self-rewriting terminal line, shared by downloads and training. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, progressBar, StatusLine } from '../../src/io/progress.ts';
import { ProgressLogger } from '../../src/train/callbacks/progress.ts';

class FakeTerminal {
  isTTY = true;
  columns = 40;
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

test('progressBar fills its cells in proportion and clamps out-of-range fractions', () => {
  assert.equal(progressBar(0.5, 8), '[####    ]');
  assert.equal(progressBar(0, 4), '[    ]');
  assert.equal(progressBar(1.7, 4), '[####]');
  assert.equal(progressBar(-1, 3), '[   ]');
});

test('StatusLine redraws one line, cut to the terminal width, and end() starts a new one', () => {
  const term = new FakeTerminal();
  const line = new StatusLine(term);
  line.draw('short');
  line.draw('x'.repeat(60));
  line.end();
  assert.equal(term.text, `\rshort\x1b[K\r${'x'.repeat(39)}\x1b[K\n`);
  assert.equal(formatDuration(125), '2m05s');
});

test('training progress on a terminal draws the shared bar and ends the line at the epoch\'s last update', () => {
  const term = new FakeTerminal();
  term.columns = 200;
  const logger = new ProgressLogger({ stream: term, epochs: 2 });
  const step = { epoch: 0, position: 2, total: 4, images: 64, epochLoss: 1.5, lr: 1e-3, epochStarted: performance.now() - 1000 };
  logger.onStepEnd({} as never, step as never);
  logger.onStepEnd({} as never, { ...step, position: 4 } as never);
  assert.match(term.text, /^\repoch 1\/2 \[#{12} {12}\] 2\/4 loss 1\.5000/);
  assert.match(term.text, /\[#{24}\] 4\/4 .*\x1b\[K\n$/);
});
