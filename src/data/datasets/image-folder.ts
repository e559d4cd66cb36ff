/**
 * ImageFolder (torchvision layout): root/<class>/.../<image>. Class names are the sorted
 * sub-folder names; files are found recursively in sorted order, with the extensions
 * jpg/jpeg/png/webp/gif (case-insensitive). Images decode PIL-exact through decodeImage.
 */
import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ArgumentError, TsvisionError } from '../../errors.ts';
import { decodeImage } from '../../io/image.ts';
import { checkIndex, type Dataset, type OnError, type Sample } from './types.ts';

/** File extensions ImageFolder accepts, lower-case. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.gif'] as const;

/** A sample that could not be read: the file and why. */
export interface SampleError {
  path: string;
  message: string;
}

/** Raised under `onError: 'fail'` when a file cannot be decoded; names the file. */
export class DatasetError extends TsvisionError {
  constructor(message: string) {
    super('E_DATASET', message);
  }
}

export interface ImageFolderOptions {
  /** 'fail' (default) throws a DatasetError naming the file; 'skip' reports it and returns null. */
  onError?: OnError;
  /** Called for each skipped file under 'skip'; the default emits a process warning. */
  onSkip?: (error: SampleError) => void;
  /** Accepted extensions, lower-case with the dot. */
  extensions?: readonly string[];
}

/** A dataset over root/<class>/... image files. */
export class ImageFolder implements Dataset {
  readonly root: string;
  readonly classes: readonly string[];
  readonly classToIndex: ReadonlyMap<string, number>;
  /** [path, label] per sample, in class then sorted-path order. */
  readonly samples: readonly (readonly [string, number])[];
  readonly onError: OnError;
  /** Files skipped so far (under 'skip'). */
  readonly skipped: SampleError[] = [];
  private readonly onSkip: (error: SampleError) => void;

  constructor(root: string, options: ImageFolderOptions = {}) {
    const onError = options.onError ?? 'fail';
    if (onError !== 'skip' && onError !== 'fail') throw new ArgumentError(`ImageFolder: onError must be 'skip' or 'fail', got '${onError}'`);
    let entries;
    try {
      entries = readdirSync(root, { withFileTypes: true });
    } catch (e) {
      throw new DatasetError(`ImageFolder: cannot read root folder ${root}: ${(e as Error).message}`);
    }
    const classes = entries.filter((e) => e.isDirectory() || (e.isSymbolicLink() && statSync(join(root, e.name)).isDirectory())).map((e) => e.name).sort();
    if (classes.length === 0) throw new DatasetError(`ImageFolder: no class folders in ${root}, expected root/<class>/<image>`);
    const extensions = new Set(options.extensions ?? IMAGE_EXTENSIONS);
    const samples: [string, number][] = [];
    classes.forEach((name, label) => {
      for (const path of walk(join(root, name))) if (extensions.has(extname(path).toLowerCase())) samples.push([path, label]);
    });
    if (samples.length === 0) throw new DatasetError(`ImageFolder: no images with extensions ${[...extensions].join(', ')} under ${root}`);
    this.root = root;
    this.classes = classes;
    this.classToIndex = new Map(classes.map((c, i) => [c, i]));
    this.samples = samples;
    this.onError = onError;
    this.onSkip = options.onSkip ?? ((e) => process.emitWarning(`ImageFolder: skipped ${e.path}: ${e.message}`, 'DatasetWarning'));
  }

  get length(): number {
    return this.samples.length;
  }

  /** Decodes sample `index` to a uint8 [H, W, 3] RGB image, or null if it is corrupt under 'skip'. */
  async get(index: number): Promise<Sample | null> {
    const [path, label] = this.samples[checkIndex('ImageFolder.get', index, this.samples.length)];
    try {
      return { image: (await decodeImage(path, { mode: 'RGB' })).image, label };
    } catch (e) {
      // The decoder's messages usually start with the path already.
      const message = (e as Error).message.startsWith(`${path}: `) ? (e as Error).message.slice(path.length + 2) : (e as Error).message;
      if (this.onError === 'fail') throw new DatasetError(`ImageFolder: cannot decode ${path}: ${message}`);
      const error = { path, message };
      this.skipped.push(error);
      this.onSkip(error);
      return null;
    }
  }
}

// Files under dir, recursively, following links, ordered as torchvision's sorted(os.walk(...)) then sorted(files).
function walk(dir: string): string[] {
  const folders: [string, string[]][] = [];
  const visit = (d: string) => {
    const files: string[] = [];
    folders.push([d, files]);
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const isDir = e.isDirectory() || (e.isSymbolicLink() && statSync(p, { throwIfNoEntry: false })?.isDirectory());
      if (isDir) visit(p);
      else files.push(e.name);
    }
  };
  visit(dir);
  const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return folders.sort((a, b) => byName(a[0], b[0])).flatMap(([d, files]) => files.sort(byName).map((f) => join(d, f)));
}
