/** tsvision tokenize as a user runs it (bin/tsvision.js): ids as JSON lines, --pad, truncation warnings, typed errors for a missing vocabulary. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { readOpenAiBpe } from '../../src/text/index.ts';
import { SHARED_BPE_GZ, writeHfVocab } from '../text/hf-vocab-files.ts';
import { cli } from './run-cli.ts';

let dir = '';
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-cli-tok-'));
  writeHfVocab(readOpenAiBpe(SHARED_BPE_GZ), path.join(dir, 'model'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('prints one JSON array of ids per text with SOT/EOT, unpadded; a model folder and --vocab agree', () => {
  const byFolder = cli('tokenize', '--model', path.join(dir, 'model'), 'a photo of a cat', 'Hello &amp; World', '--', '-dash');
  assert.equal(byFolder.code, 0, byFolder.stderr);
  assert.deepEqual(byFolder.stdout.trim().split('\n').map((l) => JSON.parse(l)), [
    [49406, 320, 1125, 539, 320, 2368, 49407],
    [49406, 3306, 261, 1002, 49407],
    [49406, 268, 10206, 49407],
  ]);
  assert.equal(byFolder.stderr, '');
  const byVocab = cli('tokenize', '--vocab', SHARED_BPE_GZ, 'a photo of a cat', 'Hello &amp; World', '--', '-dash');
  assert.equal(byVocab.stdout, byFolder.stdout);
});

test('--pad fills to the context length with 0; a text too long is cut with a warning on stderr', () => {
  const r = cli('tokenize', '--vocab', SHARED_BPE_GZ, '--context-length', '6', '--pad', 'a cat', 'a photo of a cat');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').map((l) => JSON.parse(l)), [
    [49406, 320, 2368, 49407, 0, 0],
    [49406, 320, 1125, 539, 320, 49407],
  ]);
  assert.match(r.stderr, /warning: text 1 \("a photo of a cat"\) has more tokens than the context length 6/);
});

test('a missing or corrupt vocabulary, no source at all, a model without text: actionable errors', () => {
  const empty = path.join(dir, 'empty');
  fs.mkdirSync(empty);
  let r = cli('tokenize', '--model', empty, 'x');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /VocabularyError \(E_VOCAB\): .*empty: holds no tokenizer vocabulary: expected vocab.json \+ merges.txt or bpe_simple_vocab_16e6.txt.gz/);
  const corrupt = path.join(dir, 'corrupt.txt.gz');
  fs.writeFileSync(corrupt, fs.readFileSync(SHARED_BPE_GZ).subarray(0, 1000));
  r = cli('tokenize', '--vocab', corrupt, 'x');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /corrupt.txt.gz: is not a complete gzip file/);
  r = cli('tokenize', '--vocab', path.join(dir, 'nope.gz'), 'x');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--vocab: no such file or folder/);
  r = cli('tokenize', 'x');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /give --model .* or --vocab/);
  r = cli('tokenize', '--model', 'resnet18', 'x');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /model 'resnet18' reads no text/);
});

test('tokenize is listed in the global help and has its own help', () => {
  assert.match(cli('--help').stdout, /^ {2}tokenize\s+print the token ids/m);
  const r = cli('tokenize', '--help');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: tsvision tokenize TEXT\.\.\. \[options\]/);
  assert.match(r.stdout, /--context-length <n>/);
});
