/**
 * Tokenizer parity with openai/CLIP: for every string of test/fixtures/text/clip-corpus.json
 * (tools/reference/clip_corpus.py), the ids equal SimpleTokenizer.encode's and the padded row
 * equals clip.tokenize(truncate=True)'s, with the vocabulary read from OpenAI's gz file and from
 * the Hugging Face vocab.json + merges.txt pair; decode equals SimpleTokenizer.decode.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fixturesDir } from '../helpers/opcheck.ts';
import { ClipBpeTokenizer, readHfBpe, readOpenAiBpe, type TruncationWarning } from '../../src/text/index.ts';
import { SHARED_BPE_GZ, writeHfVocab } from './hf-vocab-files.ts';

type IdsRecord = number[] | { length: number; head: number[]; sha256: string };
interface Corpus {
  contextLength: number;
  hfVocabSha256: Record<'vocab.json' | 'merges.txt', string>;
  texts: string[];
  ids: IdsRecord[];
  rows: number[][];
  decodes: [number[], string][];
}

const corpus = JSON.parse(fs.readFileSync(path.join(fixturesDir, 'text', 'clip-corpus.json'), 'utf8')) as Corpus;
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function assertIds(actual: number[], expected: IdsRecord, i: number): void {
  const where = `text ${i}: ${JSON.stringify(corpus.texts[i].slice(0, 80))}`;
  if (Array.isArray(expected)) return assert.deepEqual(actual, expected, where);
  assert.equal(actual.length, expected.length, where);
  assert.deepEqual(actual.slice(0, expected.head.length), expected.head, where);
  assert.equal(sha256(actual.join(',')), expected.sha256, where);
}

function checkCorpus(tokenizer: ClipBpeTokenizer): void {
  corpus.texts.forEach((text, i) => assertIds(tokenizer.encode(text), corpus.ids[i], i));
  const warned: TruncationWarning[] = [];
  const batch = tokenizer.encodeBatch(corpus.texts, { onTruncate: (w) => warned.push(w) });
  assert.deepEqual([...batch.inputIds.shape], [corpus.texts.length, corpus.contextLength]);
  const flat = batch.inputIds.toArray() as BigInt64Array;
  const L = corpus.contextLength;
  corpus.rows.forEach((row, i) => {
    const padded = [...row, ...new Array<number>(L - row.length).fill(0)];
    assert.deepEqual(Array.from(flat.subarray(i * L, (i + 1) * L), Number), padded, `row ${i}: ${JSON.stringify(corpus.texts[i].slice(0, 80))}`);
    const fullLength = Array.isArray(corpus.ids[i]) ? (corpus.ids[i] as number[]).length : (corpus.ids[i] as { length: number }).length;
    assert.equal(batch.truncated[i], fullLength + 2 > L, `truncated flag of row ${i}`);
  });
  assert.deepEqual(warned.map((w) => w.row), batch.truncated.flatMap((cut, i) => (cut ? [i] : [])));
}

describe('CLIP tokenizer parity with openai/CLIP on the corpus', () => {
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-clip-tok-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the corpus is the one the issue asks for: >= 2000 strings, long and empty ones included', () => {
    assert.ok(corpus.texts.length >= 2000, `${corpus.texts.length} strings`);
    assert.ok(corpus.texts.includes(''));
    assert.ok(corpus.texts.some((t) => t.split(' ').length >= 3000));
    assert.ok(corpus.rows.some((r) => r.length === corpus.contextLength), 'some rows are truncated');
  });

  test("OpenAI's bpe_simple_vocab_16e6.txt.gz: ids and 77-token rows equal the reference's for every string", () => {
    checkCorpus(new ClipBpeTokenizer(readOpenAiBpe(SHARED_BPE_GZ)));
  });

  test('HF vocab.json + merges.txt written as CLIPTokenizer.save_vocabulary does: same bytes as the oracle, same ids', () => {
    const gz = readOpenAiBpe(SHARED_BPE_GZ);
    const { vocabFile, mergesFile } = writeHfVocab(gz, dir);
    assert.equal(sha256(fs.readFileSync(vocabFile)), corpus.hfVocabSha256['vocab.json']);
    assert.equal(sha256(fs.readFileSync(mergesFile)), corpus.hfVocabSha256['merges.txt']);
    const hf = readHfBpe(vocabFile, mergesFile);
    assert.deepEqual([...hf.encoder].sort(), [...gz.encoder].sort());
    checkCorpus(new ClipBpeTokenizer(hf));
  });

  test('decode equals SimpleTokenizer.decode (round trips and random ids with broken UTF-8)', () => {
    const tokenizer = new ClipBpeTokenizer(readOpenAiBpe(SHARED_BPE_GZ));
    for (const [ids, text] of corpus.decodes) assert.equal(tokenizer.decode(ids), text, JSON.stringify(ids));
  });
});
