/** CLIP's BPE tokenizer beyond the parity corpus: the merge loop against the reference rule, linear time, batches, truncation, bad input. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ArgumentError } from '../../src/errors.ts';
import { bpeMerge, ClipBpeTokenizer, readOpenAiBpe, TruncationWarning, type MergeRanks } from '../../src/text/index.ts';
import { SHARED_BPE_GZ } from './hf-vocab-files.ts';

const vocab = readOpenAiBpe(SHARED_BPE_GZ);
const tokenizer = new ClipBpeTokenizer(vocab);

function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

// The reference's rule written plainly (quadratic): merge every occurrence of the lowest-ranked
// adjacent pair in one left-to-right pass, until no adjacent pair has a rank.
function referenceMerge(word: string[], ranks: MergeRanks): string[] {
  for (;;) {
    let best: number | undefined;
    for (let i = 0; i + 1 < word.length; ++i) {
      const r = ranks.rank(word[i], word[i + 1]);
      if (r !== undefined && (best === undefined || r < best)) best = r;
    }
    if (best === undefined) return word;
    const [a, b] = ranks.pair(best);
    const out: string[] = [];
    for (let i = 0; i < word.length; ) {
      if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
        out.push(a + b);
        i += 2;
      } else out.push(word[i++]);
    }
    word = out;
  }
}

function randomRanks(random: () => number, alphabet: string[], count: number): MergeRanks {
  const symbols = [...alphabet];
  const merges: [string, string][] = [];
  const seen = new Set<string>();
  while (merges.length < count) {
    const a = symbols[Math.floor(random() * symbols.length)];
    const b = symbols[Math.floor(random() * symbols.length)];
    if (seen.has(`${a} ${b}`)) continue;
    seen.add(`${a} ${b}`);
    merges.push([a, b]);
    symbols.push(a + b);
  }
  return { rank: (l, r) => { const i = merges.findIndex(([a, b]) => a === l && b === r); return i < 0 ? undefined : i; }, pair: (r) => merges[r] };
}

function bestOfThree(run: () => void): number {
  let best = Infinity;
  for (let k = 0; k < 3; ++k) {
    const t0 = performance.now();
    run();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

describe('bpeMerge', () => {
  test('equals the reference merge rule on random words and merge tables (repeats and overlaps included)', () => {
    const random = lcg(7);
    for (let trial = 0; trial < 300; ++trial) {
      const alphabet = ['a', 'b', 'c', 'd'].slice(0, 2 + (trial % 3));
      const ranks = randomRanks(random, alphabet, 3 + Math.floor(random() * 12));
      const word = Array.from({ length: 1 + Math.floor(random() * 24) }, () => alphabet[Math.floor(random() * alphabet.length)]);
      assert.deepEqual(bpeMerge(word, ranks), referenceMerge(word, ranks), `word ${word.join('')}`);
    }
  });

  test("a run of one symbol merges pairwise from the left, as the reference's pass does", () => {
    const ranks: MergeRanks = { rank: (l, r) => (l === 'a' && r === 'a' ? 0 : undefined), pair: () => ['a', 'a'] };
    assert.deepEqual(bpeMerge(['a', 'a', 'a'], ranks), ['aa', 'a']);
    assert.deepEqual(bpeMerge(['a', 'a', 'a', 'a', 'a'], ranks), ['aa', 'aa', 'a']);
  });
});

describe('ClipBpeTokenizer', () => {
  test('a 100,000-character word takes well under a second, and 4x the length takes far less than 16x the time', () => {
    const random = lcg(3);
    const words = {
      letters: (n: number) => Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyz'[Math.floor(random() * 26)]).join(''),
      repeated: (n: number) => 'a'.repeat(n),
      twoByte: (n: number) => 'é'.repeat(n),
    };
    for (const [name, make] of Object.entries(words)) {
      const small = make(25_000);
      const large = make(100_000);
      // A fresh tokenizer each time, so the word cache does not answer.
      const tSmall = bestOfThree(() => new ClipBpeTokenizer(vocab, { cacheEntries: 1 }).encode(small));
      const tLarge = bestOfThree(() => new ClipBpeTokenizer(vocab, { cacheEntries: 1 }).encode(large));
      assert.ok(tLarge < 1000, `${name}: 100,000 characters took ${tLarge.toFixed(0)} ms`);
      assert.ok(tLarge < 10 * Math.max(tSmall, 10), `${name}: 25,000 characters ${tSmall.toFixed(0)} ms, 100,000 ${tLarge.toFixed(0)} ms (a quadratic loop takes ~16x)`);
    }
  });

  test('a text of several MB gives its first 77 tokens without keeping every id', () => {
    const text = 'a photo of a cat on the beach. '.repeat(100_000);
    const batch = tokenizer.encodeBatch([text], { onTruncate: () => {} });
    const ids = tokenizer.encode('a photo of a cat on the beach. '.repeat(20));
    assert.deepEqual(batch.rows[0], [tokenizer.sotId, ...ids.slice(0, 75), tokenizer.eotId]);
    assert.deepEqual(batch.truncated, [true]);
  });

  test('encodeBatch: int64 input_ids [B, 77] padded with 0, attention_mask 1 on tokens, rows and truncated flags', () => {
    const batch = tokenizer.encodeBatch(['a photo of a cat', '']);
    assert.equal(batch.inputIds.dtype, 'int64');
    assert.equal(batch.attentionMask.dtype, 'int64');
    assert.deepEqual([...batch.inputIds.shape], [2, 77]);
    const ids = Array.from(batch.inputIds.toArray() as BigInt64Array, Number);
    const mask = Array.from(batch.attentionMask.toArray() as BigInt64Array, Number);
    assert.deepEqual(ids.slice(0, 8), [49406, 320, 1125, 539, 320, 2368, 49407, 0]);
    assert.deepEqual(ids.slice(77, 80), [49406, 49407, 0]);
    assert.deepEqual(mask.slice(0, 8), [1, 1, 1, 1, 1, 1, 1, 0]);
    assert.equal(mask.reduce((a, b) => a + b, 0), 7 + 2);
    assert.deepEqual(batch.rows, [[49406, 320, 1125, 539, 320, 2368, 49407], [49406, 49407]]);
    assert.deepEqual(batch.truncated, [false, false]);
  });

  test('context length and padding id options (HF pads with the end token)', () => {
    const batch = tokenizer.encodeBatch(['a cat'], { contextLength: 6, padId: tokenizer.eotId });
    assert.deepEqual(Array.from(batch.inputIds.toArray() as BigInt64Array, Number), [49406, 320, 2368, 49407, 49407, 49407]);
    assert.throws(() => tokenizer.encodeBatch(['a'], { contextLength: 1 }), ArgumentError);
    assert.throws(() => new ClipBpeTokenizer(vocab, { contextLength: 1.5 }), /context length must be an integer >= 2/);
  });

  test('a text longer than the context is cut as clip.tokenize(truncate=True) does, and reported', () => {
    const text = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ');
    const warnings: TruncationWarning[] = [];
    const batch = tokenizer.encodeBatch(['short', text], { onTruncate: (w) => warnings.push(w) });
    const full = [tokenizer.sotId, ...tokenizer.encode(text), tokenizer.eotId];
    assert.deepEqual(batch.rows[1], [...full.slice(0, 76), tokenizer.eotId]);
    assert.deepEqual(batch.truncated, [false, true]);
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0] instanceof TruncationWarning);
    assert.equal(warnings[0].row, 1);
    assert.match(warnings[0].message, /text 1 \("w0 w1 .*context length 77/);
  });

  test('without a callback the cut is a process warning; truncate: false throws as the reference does', async () => {
    const seen: Error[] = [];
    const listener = (w: Error) => seen.push(w);
    process.on('warning', listener);
    try {
      tokenizer.encodeBatch(['x '.repeat(100)]);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listener);
    }
    assert.equal(seen.length, 1);
    assert.equal(seen[0].name, 'TruncationWarning');
    assert.throws(() => tokenizer.encodeBatch(['x '.repeat(100)], { truncate: false }), (e: unknown) => e instanceof ArgumentError && /text 0 has more than 77 tokens/.test(e.message));
  });

  test('bad input: a lone surrogate (no UTF-8), a non-string, an unknown id are typed errors', () => {
    assert.throws(() => tokenizer.encode('ab\ud800c'), (e: unknown) => e instanceof ArgumentError && /lone surrogate U\+D800 at index 2/.test(e.message));
    assert.throws(() => tokenizer.encode(42 as unknown as string), /expected a string, got number/);
    assert.throws(() => tokenizer.decode([320, 49408]), (e: unknown) => e instanceof ArgumentError && /id 49408 is not in the vocabulary/.test(e.message));
    assert.equal(tokenizer.encode('a \ud83d\ude00 b').length > 2, true, 'a surrogate pair is one character');
  });

  test('a small word cache gives the same ids as a large one', () => {
    const text = Array.from({ length: 300 }, (_, i) => `word${i % 37} tok${i}`).join(' ');
    assert.deepEqual(new ClipBpeTokenizer(vocab, { cacheEntries: 4 }).encode(text), tokenizer.encode(text));
  });
});
