/**
 * CIFAR-10 and CIFAR-100 in their binary formats (the "binary version" archives):
 * CIFAR-10 records are 1 label byte + 3072 pixel bytes (R, G, B planes of 32×32) in
 * data_batch_1..5.bin (train) and test_batch.bin; CIFAR-100 records are coarse + fine label
 * bytes + 3072 pixels in train.bin and test.bin. Files are read whole into memory (~150 MB for
 * the 50k training images) and samples are uint8 [32, 32, 3] views turned contiguous on get.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError } from '../../errors.ts';
import { Tensor, contiguous, fromTypedArray, permute } from '../../tensor/index.ts';
import { DatasetError } from './image-folder.ts';
import { checkIndex, type Dataset, type Sample } from './types.ts';

const PIXELS = 3 * 32 * 32;

/** CIFAR-10 class names, in label order. */
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;

export interface CifarOptions {
  /** Training files (default) or the test file. */
  train?: boolean;
}

export interface Cifar100Options extends CifarOptions {
  /** Which label byte is the class: 'fine' (100 classes, default) or 'coarse' (20 superclasses). */
  labelType?: 'fine' | 'coarse';
}

/** A CIFAR binary dataset held in memory. */
export class CifarDataset implements Dataset {
  readonly classes: readonly string[];
  readonly length: number;
  private readonly pixels: Uint8Array; // [N, 3, 32, 32]
  private readonly labels: Uint8Array; // [N]

  constructor(files: readonly string[], labelBytes: 1 | 2, labelByte: number, classes: readonly string[]) {
    const record = labelBytes + PIXELS;
    const chunks = files.map((path) => {
      if (!existsSync(path)) throw new DatasetError(`cifar: missing file ${path}`);
      const size = statSync(path).size;
      if (size === 0 || size % record !== 0) {
        throw new DatasetError(`cifar: ${path} has ${size} bytes, expected a positive multiple of the ${record}-byte record (${labelBytes} label byte${labelBytes > 1 ? 's' : ''} + ${PIXELS} pixels)`);
      }
      return readFileSync(path);
    });
    const n = chunks.reduce((acc, c) => acc + c.length / record, 0);
    this.pixels = new Uint8Array(n * PIXELS);
    this.labels = new Uint8Array(n);
    let at = 0;
    chunks.forEach((buf, f) => {
      const count = buf.length / record;
      // One row per record: copy the label byte and the pixel block (a small per-record table, not per pixel).
      for (let r = 0; r < count; r++, at++) {
        const label = buf[r * record + labelByte];
        if (label >= classes.length) throw new DatasetError(`cifar: ${files[f]} record ${r} has label ${label}, expected < ${classes.length}`);
        this.labels[at] = label;
        this.pixels.set(buf.subarray(r * record + labelBytes, (r + 1) * record), at * PIXELS);
      }
    });
    this.length = n;
    this.classes = classes;
  }

  /** Sample `index` as a uint8 [32, 32, 3] image and its label. */
  get(index: number): Sample {
    checkIndex('cifar.get', index, this.length);
    const chw = fromTypedArray(this.pixels.subarray(index * PIXELS, (index + 1) * PIXELS), [3, 32, 32]);
    return { image: contiguous(permute(chw, [1, 2, 0])), label: this.labels[index] };
  }

  /** All labels, in sample order. */
  targets(): Uint8Array {
    return this.labels.slice();
  }

  /** Every image as one uint8 [N, 32, 32, 3] tensor. */
  images(): Tensor {
    return contiguous(permute(fromTypedArray(this.pixels, [this.length, 3, 32, 32]), [0, 2, 3, 1]));
  }
}

/** CIFAR-10 from a folder holding data_batch_1..5.bin and test_batch.bin (cifar-10-batches-bin). */
export function cifar10(root: string, options: CifarOptions = {}): CifarDataset {
  const files = (options.train ?? true) ? [1, 2, 3, 4, 5].map((k) => join(root, `data_batch_${k}.bin`)) : [join(root, 'test_batch.bin')];
  return new CifarDataset(files, 1, 0, CIFAR10_CLASSES);
}

/**
 * CIFAR-100 from a folder holding train.bin and test.bin (cifar-100-binary). Class names come
 * from fine_label_names.txt / coarse_label_names.txt when present, else class_<k>.
 */
export function cifar100(root: string, options: Cifar100Options = {}): CifarDataset {
  const labelType = options.labelType ?? 'fine';
  if (labelType !== 'fine' && labelType !== 'coarse') throw new ArgumentError(`cifar100: labelType must be 'fine' or 'coarse', got '${labelType}'`);
  const count = labelType === 'fine' ? 100 : 20;
  const namesFile = join(root, `${labelType}_label_names.txt`);
  const names = existsSync(namesFile) ? readFileSync(namesFile, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l.length > 0) : [];
  if (names.length > 0 && names.length !== count) throw new DatasetError(`cifar100: ${namesFile} lists ${names.length} names, expected ${count}`);
  const classes = names.length > 0 ? names : Array.from({ length: count }, (_, k) => `class_${k}`);
  return new CifarDataset([join(root, (options.train ?? true) ? 'train.bin' : 'test.bin')], 2, labelType === 'coarse' ? 0 : 1, classes);
}
