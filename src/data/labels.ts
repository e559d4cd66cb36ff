/** Class labels: the built-in ImageNet-1k set, or a user file with one label per line. */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TsvisionError } from '../errors.ts';

/** Label sets shipped with the package. */
export const BUILTIN_LABEL_SETS = ['imagenet-1k'] as const;

/** One class: its display name (the first of its names) and all names as listed. */
export interface ClassLabel {
  name: string;
  names: string;
  /** WordNet synset id for ImageNet classes. */
  synset?: string;
}

function parseLines(text: string): ClassLabel[] {
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim().length > 0)
    .map((line) => {
      const [first, second] = line.split('\t');
      const names = (second ?? first).trim();
      return { name: names.split(',')[0].trim(), names, synset: second !== undefined ? first : undefined };
    });
}

/**
 * Loads a label set: a built-in name ('imagenet-1k') or a text file with one label per line
 * (`name` or `id<TAB>names`). Throws if a file is unreadable or empty.
 */
export function loadLabels(source: string): ClassLabel[] {
  const file = (BUILTIN_LABEL_SETS as readonly string[]).includes(source)
    ? fileURLToPath(new URL(`./labels/${source}.txt`, import.meta.url))
    : source;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new TsvisionError('E_LABELS', `cannot read labels from '${source}': ${(e as Error).message}`);
  }
  const labels = parseLines(text);
  if (labels.length === 0) throw new TsvisionError('E_LABELS', `label file '${source}' has no labels`);
  return labels;
}
