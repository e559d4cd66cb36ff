/** Vocabulary files and loaders: OpenAI's gz and HF's vocab.json + merges.txt, model folders, registry models via the hub cache, and typed errors for missing or corrupt files. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { ArgumentError, VocabularyError } from '../../src/errors.ts';
import { registerModels, unregisterModel, type ModelEntry } from '../../src/models/index.ts';
import { Module } from '../../src/nn/module.ts';
import { ClipBpeTokenizer, loadTokenizer, OPENAI_BPE_FILE, readHfBpe, readOpenAiBpe } from '../../src/text/index.ts';
import { FakeHub } from '../helpers/fake-hub.ts';
import { SHARED_BPE_GZ, writeHfVocab } from './hf-vocab-files.ts';

const CAT = [49406, 320, 1125, 539, 320, 2368, 49407];
const gzVocab = readOpenAiBpe(SHARED_BPE_GZ);
let root = '';
let hfDir = '';
let hub: FakeHub;

function isVocabError(file: string, ...fragments: RegExp[]) {
  return (e: unknown) => {
    assert.ok(e instanceof VocabularyError, `expected VocabularyError, got ${e}`);
    assert.equal(e.code, 'E_VOCAB');
    assert.equal(e.file, file);
    assert.ok(e.message.startsWith(file), e.message);
    for (const f of fragments) assert.match(e.message, f);
    return true;
  };
}

// A copy of the HF pair with one file's text changed.
function brokenHf(name: string, edit: (text: string) => string): string {
  const dir = fs.mkdtempSync(path.join(root, 'broken-'));
  for (const f of ['vocab.json', 'merges.txt']) fs.copyFileSync(path.join(hfDir, f), path.join(dir, f));
  const file = path.join(dir, name);
  fs.writeFileSync(file, edit(fs.readFileSync(file, 'utf8')));
  return dir;
}

// A model with no parameters: only its pretrained cfg matters here.
class NoWeights extends Module {
  forward(): null {
    return null;
  }
}

function textEntry(name: string, hubId: string | undefined, text = true): ModelEntry {
  return {
    name, family: 'test', paramCount: 0, create: () => new NoWeights(),
    pretrained: { fake: { hubId, numClasses: 0, preprocess: text ? { text: { tokenizer: 'clip-bpe', contextLength: 16 } } : {} } },
    contract: { task: 'image-text-embedding', spec: () => ({ task: 'image-text-embedding', inputs: [], outputs: [], sizes: {} }), forwardNamed: () => new Map() },
  };
}

before(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-vocab-'));
  hfDir = path.join(root, 'hf');
  writeHfVocab(gzVocab, hfDir);
  hub = await FakeHub.start();
  hub.commit('org/clip-tok', { 'vocab.json': fs.readFileSync(path.join(hfDir, 'vocab.json')), 'merges.txt': fs.readFileSync(path.join(hfDir, 'merges.txt')), 'model.safetensors': Buffer.alloc(8) });
  registerModels([textEntry('tok_test_clip', 'org/clip-tok'), textEntry('tok_test_nohub', undefined), textEntry('tok_test_image', 'org/clip-tok', false), textEntry('tok_test_missing', 'org/absent')]);
});

after(async () => {
  for (const name of ['tok_test_clip', 'tok_test_nohub', 'tok_test_image', 'tok_test_missing']) unregisterModel(name);
  await hub.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('vocabulary files', () => {
  test("OpenAI's gz: 49408 ids laid out as the reference builds them (bytes, bytes+</w>, merges, SOT, EOT)", () => {
    assert.equal(gzVocab.encoder.size, 49408);
    assert.equal(gzVocab.merges.length, 48894);
    assert.equal(gzVocab.encoder.get('!'), 0);
    assert.equal(gzVocab.encoder.get('!</w>'), 256);
    assert.equal(gzVocab.encoder.get('in'), 512);
    // The space byte is the 33rd of the 68 unprintable bytes, after the 188 printable ones: U+0120 at id 188 + 32.
    assert.equal(gzVocab.encoder.get('\u0120'), 220);
    assert.equal(gzVocab.encoder.get('<|startoftext|>'), 49406);
    assert.equal(gzVocab.encoder.get('<|endoftext|>'), 49407);
  });

  test('a truncated or corrupt gz, a gz with too few merges, a bad merge line, a missing file: VocabularyError naming the file', () => {
    const bytes = fs.readFileSync(SHARED_BPE_GZ);
    const truncated = path.join(root, 'truncated.txt.gz');
    fs.writeFileSync(truncated, bytes.subarray(0, bytes.length >> 1));
    assert.throws(() => readOpenAiBpe(truncated), isVocabError(truncated, /not a complete gzip file/));
    const notGzip = path.join(root, 'plain.txt.gz');
    fs.writeFileSync(notGzip, 'i n\nt h\n');
    assert.throws(() => readOpenAiBpe(notGzip), isVocabError(notGzip, /not a complete gzip file/));
    const short = path.join(root, 'short.txt.gz');
    fs.writeFileSync(short, gzipSync('#version: 0.2\ni n\nt h\n'));
    assert.throws(() => readOpenAiBpe(short), isVocabError(short, /holds 3 merge lines after its header; CLIP needs 48894/));
    const badLine = path.join(root, 'bad-line.txt.gz');
    const lines = gzVocab.merges.map(([a, b]) => `${a} ${b}`);
    lines[9] = 'three parts here';
    fs.writeFileSync(badLine, gzipSync(`#version: 0.2\n${lines.join('\n')}\n`));
    assert.throws(() => readOpenAiBpe(badLine), isVocabError(badLine, /line 11: expected a merge 'left right', got "three parts here"/));
    const missing = path.join(root, 'nope.txt.gz');
    assert.throws(() => readOpenAiBpe(missing), isVocabError(missing, /no such file/));
  });

  test('HF vocab.json that is not JSON, not an object, or has a bad id: VocabularyError naming vocab.json', () => {
    const truncatedJson = brokenHf('vocab.json', (t) => t.slice(0, 1000));
    assert.throws(() => readHfBpe(path.join(truncatedJson, 'vocab.json'), path.join(truncatedJson, 'merges.txt')), isVocabError(path.join(truncatedJson, 'vocab.json'), /is not valid JSON/));
    const array = brokenHf('vocab.json', () => '["a", "b"]');
    assert.throws(() => readHfBpe(path.join(array, 'vocab.json'), path.join(array, 'merges.txt')), isVocabError(path.join(array, 'vocab.json'), /expected a JSON object of token: id, got an array/));
    const badId = brokenHf('vocab.json', (t) => t.replace('"!": 0', '"!": -3'));
    assert.throws(() => readHfBpe(path.join(badId, 'vocab.json'), path.join(badId, 'merges.txt')), isVocabError(path.join(badId, 'vocab.json'), /token "!" has id -3/));
    const noEot = brokenHf('vocab.json', (t) => t.replace('"<|endoftext|>"', '"<|end|>"'));
    assert.throws(() => readHfBpe(path.join(noEot, 'vocab.json'), path.join(noEot, 'merges.txt')), isVocabError(path.join(noEot, 'vocab.json'), /lacks the special token <\|endoftext\|>/));
  });

  test('HF merges.txt with a wrong line, or a merge whose token vocab.json lacks: VocabularyError naming merges.txt', () => {
    const wrong = brokenHf('merges.txt', (t) => t.replace('\nt h\n', '\nth\n'));
    assert.throws(() => readHfBpe(path.join(wrong, 'vocab.json'), path.join(wrong, 'merges.txt')), isVocabError(path.join(wrong, 'merges.txt'), /line 3: expected a merge 'left right', got "th"/));
    const absent = brokenHf('vocab.json', (t) => t.replace(/\n {2}"in": 512,/, ''));
    assert.throws(() => readHfBpe(path.join(absent, 'vocab.json'), path.join(absent, 'merges.txt')), isVocabError(path.join(absent, 'merges.txt'), /merge 1 'i n' makes 'in', which .*vocab\.json lacks/));
  });
});

describe('loadTokenizer', () => {
  test('from a folder with vocab.json + merges.txt, a folder with the OpenAI gz, and either file: the same ids', async () => {
    const gzDir = path.join(root, 'gz-model');
    fs.mkdirSync(gzDir);
    fs.copyFileSync(SHARED_BPE_GZ, path.join(gzDir, OPENAI_BPE_FILE));
    for (const spec of [hfDir, gzDir, path.join(hfDir, 'vocab.json'), path.join(hfDir, 'merges.txt'), SHARED_BPE_GZ]) {
      const tokenizer = await loadTokenizer(spec);
      assert.ok(tokenizer instanceof ClipBpeTokenizer);
      assert.equal(tokenizer.contextLength, 77);
      assert.deepEqual(tokenizer.encodeBatch(['a photo of a cat']).rows[0], CAT, spec);
    }
  });

  test('a folder without a vocabulary, a lone vocab.json, a missing path, an unknown kind of file: VocabularyError', async () => {
    const empty = fs.mkdtempSync(path.join(root, 'empty-'));
    fs.writeFileSync(path.join(empty, 'config.json'), '{}');
    await assert.rejects(loadTokenizer(empty), isVocabError(empty, /holds no tokenizer vocabulary: expected vocab.json \+ merges.txt or bpe_simple_vocab_16e6.txt.gz \(it holds: config.json\)/));
    fs.copyFileSync(path.join(hfDir, 'vocab.json'), path.join(empty, 'vocab.json'));
    await assert.rejects(loadTokenizer(path.join(empty, 'vocab.json')), isVocabError(path.join(empty, 'merges.txt'), /no such file; .*vocab.json needs it beside it/));
    await assert.rejects(loadTokenizer(path.join(root, 'missing-dir', 'x')), isVocabError(path.join(root, 'missing-dir', 'x'), /no such file or folder/));
    await assert.rejects(loadTokenizer(path.join(empty, 'config.json')), isVocabError(path.join(empty, 'config.json'), /is not a tokenizer vocabulary/));
  });

  test("from a registry model: vocab.json + merges.txt of its hub repo into the hub cache, then offline from the cache; the model's context length", async () => {
    const cacheDir = path.join(root, 'cache');
    const online = await loadTokenizer('tok_test_clip', { endpoint: hub.endpoint, cacheDir });
    assert.equal(online.contextLength, 16);
    assert.deepEqual(online.encodeBatch(['a photo of a cat']).rows[0], CAT);
    assert.ok(fs.existsSync(path.join(cacheDir, 'models--org--clip-tok', 'refs', 'main')));
    assert.equal(hub.requestsTo('model.safetensors').length, 0, 'only the tokenizer files are fetched');
    const offline = await loadTokenizer('tok_test_clip', { cacheDir, offline: true, contextLength: 77 });
    assert.equal(offline.contextLength, 77);
    assert.deepEqual(offline.encode('a photo of a cat'), CAT.slice(1, -1));
  });

  test('registry models without text, without a hub repo, or whose repo lacks the files; unknown names: typed errors', async () => {
    const cacheDir = path.join(root, 'cache-2');
    await assert.rejects(loadTokenizer('tok_test_image'), (e: unknown) => e instanceof ArgumentError && /reads no text/.test(e.message));
    await assert.rejects(loadTokenizer('tok_test_nohub'), (e: unknown) => e instanceof ArgumentError && /names no hub repo/.test(e.message));
    await assert.rejects(loadTokenizer('tok_test_missing', { endpoint: hub.endpoint, cacheDir }), isVocabError('hub repo org/absent', /could not be fetched .*give a local vocab.json \+ merges.txt or bpe_simple_vocab_16e6.txt.gz instead/));
    await assert.rejects(loadTokenizer('tok_test_clip', { cacheDir, offline: true }), isVocabError('hub repo org/clip-tok', /not in the cache/));
    await assert.rejects(loadTokenizer('tok_test_clpi'), /unknown model 'tok_test_clpi'; did you mean 'tok_test_clip'/);
  });
});
