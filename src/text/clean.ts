/**
 * Text cleaning with Python's notions of whitespace, which differ from JavaScript's `\s` and
 * `trim()`: `str.strip()` also strips U+001C..U+001F, the `regex` module's `\s` (Unicode
 * White_Space) does not match them, both match U+0085, and neither matches U+FEFF (which JS does).
 */
import { htmlUnescape } from './html-unescape.ts';

/** The characters of Python `regex`'s `\s` (Unicode White_Space), as the body of a regex character class. */
export const PY_REGEX_SPACE = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const SPACE_RUNS = new RegExp(`[${PY_REGEX_SPACE}]+`, 'gu');

// str.isspace(): White_Space plus the information separators U+001C..U+001F (bidi class B/S); all in the BMP.
const PY_ISSPACE = new Set<number>([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000]);
for (let c = 0x2000; c <= 0x200a; ++c) PY_ISSPACE.add(c);

/** Python's `s.strip()`: leading and trailing characters for which `str.isspace()` holds removed. */
export function pyStrip(s: string): string {
  // A scan from both ends: a `[...]+$` regex would backtrack quadratically over long interior runs.
  let start = 0;
  let end = s.length;
  while (start < end && PY_ISSPACE.has(s.charCodeAt(start))) ++start;
  while (end > start && PY_ISSPACE.has(s.charCodeAt(end - 1))) --end;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** CLIP's `whitespace_clean`: every run of `regex` `\s` becomes one space, then Python's strip. */
export function whitespaceClean(s: string): string {
  return pyStrip(s.replace(SPACE_RUNS, ' '));
}

/** CLIP's `basic_clean` without ftfy (the reference with ftfy absent): `html.unescape` twice, then Python's strip. */
export function basicClean(s: string): string {
  return pyStrip(htmlUnescape(htmlUnescape(s)));
}
