/**
 * GPT-2's byte↔unicode table (CLIP's `bytes_to_unicode`): every byte gets a printable character, so a
 * byte string is a text string without spaces or control characters that BPE merges can work on.
 * The 188 printable Latin-1 bytes map to themselves; the other 68, in increasing order, map to
 * U+0100, U+0101, ... The table's order (printable bytes first, then the rest) is the order of
 * vocabulary ids 0..255.
 */

function isPrintableByte(b: number): boolean {
  return (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
}

function buildTable(): { order: number[]; charOf: string[] } {
  const order: number[] = [];
  const charOf: string[] = new Array(256);
  for (let b = 0; b < 256; ++b) {
    if (!isPrintableByte(b)) continue;
    order.push(b);
    charOf[b] = String.fromCharCode(b);
  }
  let next = 0;
  for (let b = 0; b < 256; ++b) {
    if (isPrintableByte(b)) continue;
    order.push(b);
    charOf[b] = String.fromCharCode(256 + next++);
  }
  return { order, charOf };
}

const TABLE = buildTable();

/** The character that stands for each byte value (index = byte). */
export const BYTE_TO_CHAR: readonly string[] = TABLE.charOf;

/** The 256 byte characters in vocabulary order: id i of a CLIP vocabulary is BYTE_CHARS_IN_VOCAB_ORDER[i]. */
export const BYTE_CHARS_IN_VOCAB_ORDER: readonly string[] = TABLE.order.map((b) => TABLE.charOf[b]);

const CHAR_TO_BYTE = new Map<string, number>(TABLE.charOf.map((c, b) => [c, b]));

/** The byte characters of a UTF-8 byte string, concatenated. */
export function bytesToChars(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += BYTE_TO_CHAR[b];
  return out;
}

/** The bytes a string of byte characters stands for; undefined at the first character that is not one. */
export function charsToBytes(chars: string): Uint8Array | undefined {
  const bytes = new Uint8Array(chars.length);
  for (let i = 0; i < chars.length; ++i) {
    const b = CHAR_TO_BYTE.get(chars[i]);
    if (b === undefined) return undefined;
    bytes[i] = b;
  }
  return bytes;
}
