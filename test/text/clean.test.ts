/** Python's html.unescape and whitespace rules as CLIP's cleaning applies them (the parity corpus covers them end to end). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basicClean, htmlUnescape, pyStrip, whitespaceClean } from '../../src/text/index.ts';

test('htmlUnescape: named with and without ;, longest legacy prefix, numeric forms', () => {
  assert.equal(htmlUnescape('&lt;b&gt; &amp &AMP; &eacute;'), '<b> & & é');
  assert.equal(htmlUnescape('&notit; &notin; &hellip &copy2024'), '¬it; ∉ &hellip ©2024');
  assert.equal(htmlUnescape('&#65;&#x42;&#X43;&#68&#x1F600;'), 'ABCD😀');
  assert.equal(htmlUnescape('&#; &#x; & amp; &;'), '&#; &#x; & amp; &;');
  assert.equal(htmlUnescape('&amp;lt;'), '&lt;', 'one level per call');
});

test('htmlUnescape: invalid numeric references as the HTML5 tokenizer and CPython treat them', () => {
  assert.equal(htmlUnescape('&#0;&#13;&#x80;&#x9F;'), '\ufffd\r€Ÿ');
  assert.equal(htmlUnescape('[&#1;&#x0B;&#x7F;&#xFDD0;&#xFFFE;&#x10FFFF;]'), '[]');
  assert.equal(htmlUnescape('&#xD800;&#x110000;&#99999999999999999999999;'), '\ufffd\ufffd\ufffd');
  assert.equal(htmlUnescape(`&#${'0'.repeat(5000)}65;`), 'A', 'leading zeros do not count');
  assert.equal(htmlUnescape(`&${'a'.repeat(40)};`), `&${'a'.repeat(40)};`, 'names are at most 32 characters');
});

test("Python's whitespace: strip takes U+001C..U+001F, \\s does not; both take U+0085; neither takes U+FEFF", () => {
  assert.equal(pyStrip('\x1c\x85 a b\u3000\x1f'), 'a b');
  assert.equal(pyStrip('\ufeffa\ufeff'), '\ufeffa\ufeff');
  assert.equal(whitespaceClean('a\x1c\x1db \x85\u2003 c\t\n'), 'a\x1c\x1db c');
  assert.equal(basicClean(' &nbsp;x&#x1c; '), 'x');
});

test('pyStrip and whitespaceClean are linear on long runs of whitespace', () => {
  const text = `a${' '.repeat(1_000_000)}b${'\x1c'.repeat(1_000_000)}c`;
  const t0 = performance.now();
  // The spaces collapse to one; the separators stay (not `\s`), and are not at an end to strip.
  assert.equal(whitespaceClean(text).length, 1_000_004);
  assert.ok(performance.now() - t0 < 1000);
});
