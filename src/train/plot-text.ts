/**
 * Text for plots as SVG outlines, laid out glyph by glyph from the DejaVu Sans font that the
 * @fontsource/dejavu-sans package ships. librsvg then draws only paths, so a plot's labels
 * render the same on any machine, with or without system fonts and fontconfig. No shaping or
 * kerning is applied: plot labels are short Latin strings where neither matters, and
 * opentype.js's shaper rejects DejaVu's contextual substitution tables.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as opentype from 'opentype.js';

type Font = opentype.Font;

/** Where a text's anchor point sits on it horizontally and vertically. */
export interface TextAlign {
  anchor?: 'start' | 'middle' | 'end';
  /** 'baseline' (default), 'middle' (capital letters centred on y) or 'top' (capital tops at y). */
  baseline?: 'baseline' | 'middle' | 'top';
  /** Degrees clockwise about the anchor point (−90 for a y-axis label). */
  rotate?: number;
}

type PathCommand = opentype.PathCommand;

function num(v: number): string {
  return (Math.round(v * 100) / 100 + 0).toString();
}

/**
 * SVG path data with a space between all numbers: opentype.js's own toPathData drops the
 * separator before a small negative value that rounds to 0 ("7.330"), which breaks the path.
 */
function pathData(commands: readonly PathCommand[]): string {
  return commands.map((c) => {
    switch (c.type) {
      case 'M': case 'L': return `${c.type}${num(c.x)} ${num(c.y)}`;
      case 'Q': return `Q${num(c.x1)} ${num(c.y1)} ${num(c.x)} ${num(c.y)}`;
      case 'C': return `C${num(c.x1)} ${num(c.y1)} ${num(c.x2)} ${num(c.y2)} ${num(c.x)} ${num(c.y)}`;
      case 'Z': return 'Z';
    }
  }).join('');
}

const FONT_FILE = '@fontsource/dejavu-sans/files/dejavu-sans-latin-400-normal.woff';

/** Measures and draws text in one font. */
export class PlotText {
  readonly #font: Font;
  readonly #capHeight: number;

  constructor(font: Font) {
    this.#font = font;
    const os2 = font.tables.os2 as { sCapHeight?: number } | undefined;
    this.#capHeight = (os2?.sCapHeight || 0.73 * font.unitsPerEm) / font.unitsPerEm;
  }

  /** The advance width of `text` at `size` pixels. */
  width(text: string, size: number): number {
    let w = 0;
    for (const ch of text) w += this.#font.charToGlyph(ch).advanceWidth ?? 0;
    return (w * size) / this.#font.unitsPerEm;
  }

  /** The height of a capital letter at `size` pixels (what 'middle' and 'top' align). */
  capHeight(size: number): number {
    return this.#capHeight * size;
  }

  /** An SVG `<path>` element drawing `text` at (x, y) in `fill`. */
  path(text: string, x: number, y: number, size: number, fill: string, align: TextAlign = {}): string {
    const width = this.width(text, size);
    let pen = align.anchor === 'middle' ? -width / 2 : align.anchor === 'end' ? -width : 0;
    const base = align.baseline === 'middle' ? this.capHeight(size) / 2 : align.baseline === 'top' ? this.capHeight(size) : 0;
    const parts: string[] = [];
    for (const ch of text) {
      const glyph = this.#font.charToGlyph(ch);
      parts.push(pathData(glyph.getPath(pen, base, size).commands));
      pen += ((glyph.advanceWidth ?? 0) * size) / this.#font.unitsPerEm;
    }
    const transform = `translate(${x.toFixed(2)} ${y.toFixed(2)})${align.rotate ? ` rotate(${align.rotate})` : ''}`;
    return `<path transform="${transform}" fill="${fill}" d="${parts.join('')}"/>`;
  }
}

let loading: Promise<PlotText> | undefined;

/** The plot font, parsed once on first use (opentype.js and the font file load only when a plot is drawn). */
export function loadPlotText(): Promise<PlotText> {
  loading ??= import('opentype.js').then(({ default: { parse } }) => {
    const bytes = readFileSync(createRequire(import.meta.url).resolve(FONT_FILE));
    return new PlotText(parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
  });
  return loading;
}
