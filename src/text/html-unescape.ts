/**
 * Python's `html.unescape` (CPython 3.11 Lib/html/__init__.py), which CLIP applies twice before
 * tokenizing. It differs from a browser's decoder in what it does with invalid references, so no
 * npm decoder matches it: numeric references to C0/C1 controls, U+000B and noncharacters become
 * nothing, 0x80-0x9F become their windows-1252 characters, surrogates and values past U+10FFFF
 * become U+FFFD; a name of up to 32 characters that is not an entity falls back to its longest
 * prefix that is (which is how the legacy names without ';' decode). The named-entity table is
 * the WHATWG list, from the character-entities packages (identical to Python's html5 dict).
 */
import { characterEntities } from 'character-entities';
import { characterEntitiesLegacy } from 'character-entities-legacy';

// Python's lookup keys: every name with its ';', plus the legacy names without one.
const HTML5 = new Map<string, string>();
for (const [name, value] of Object.entries(characterEntities)) HTML5.set(`${name};`, value);
for (const name of characterEntitiesLegacy) HTML5.set(name, characterEntities[name]);

// Numeric references the HTML tokenizer replaces (0x80-0x9F as windows-1252 would decode them).
const REPLACED_CHARREFS = new Map<number, string>([
  [0x00, '\ufffd'], [0x0d, '\r'],
  [0x80, '\u20ac'], [0x81, '\x81'], [0x82, '\u201a'], [0x83, '\u0192'], [0x84, '\u201e'], [0x85, '\u2026'],
  [0x86, '\u2020'], [0x87, '\u2021'], [0x88, '\u02c6'], [0x89, '\u2030'], [0x8a, '\u0160'], [0x8b, '\u2039'],
  [0x8c, '\u0152'], [0x8d, '\x8d'], [0x8e, '\u017d'], [0x8f, '\x8f'], [0x90, '\x90'], [0x91, '\u2018'],
  [0x92, '\u2019'], [0x93, '\u201c'], [0x94, '\u201d'], [0x95, '\u2022'], [0x96, '\u2013'], [0x97, '\u2014'],
  [0x98, '\u02dc'], [0x99, '\u2122'], [0x9a, '\u0161'], [0x9b, '\u203a'], [0x9c, '\u0153'], [0x9d, '\x9d'],
  [0x9e, '\u017e'], [0x9f, '\u0178'],
]);

// Code points a numeric reference decodes to nothing.
function isDroppedCodePoint(cp: number): boolean {
  return (
    (cp >= 0x01 && cp <= 0x08) || cp === 0x0b || (cp >= 0x0e && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe
  );
}

const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

// A numeric reference's value; anything past 7 significant digits is beyond U+10FFFF, which spares
// parsing the thousands of digits a hostile input may hold (Python's int() refuses past 4300).
function numericValue(digits: string, radix: 10 | 16): number {
  const significant = digits.replace(/^0+/, '');
  if (significant.length > 7) return Infinity;
  return significant === '' ? 0 : parseInt(significant, radix);
}

function decodeNumeric(body: string): string {
  const hex = body[1] === 'x' || body[1] === 'X';
  const digits = body.slice(hex ? 2 : 1).replace(/;$/, '');
  const cp = numericValue(digits, hex ? 16 : 10);
  const replaced = REPLACED_CHARREFS.get(cp);
  if (replaced !== undefined) return replaced;
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return '\ufffd';
  if (isDroppedCodePoint(cp)) return '';
  return String.fromCodePoint(cp);
}

function decodeNamed(body: string): string {
  const whole = HTML5.get(body);
  if (whole !== undefined) return whole;
  // Python slices by code point.
  const chars = Array.from(body);
  for (let n = chars.length - 1; n > 1; --n) {
    const prefix = chars.slice(0, n).join('');
    const value = HTML5.get(prefix);
    if (value !== undefined) return value + chars.slice(n).join('');
  }
  return `&${body}`;
}

/** Python's `html.unescape(s)`: named and numeric character references decoded as CPython does. */
export function htmlUnescape(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(CHARREF, (_, body: string) => (body[0] === '#' ? decodeNumeric(body) : decodeNamed(body)));
}
