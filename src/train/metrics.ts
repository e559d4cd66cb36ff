/**
 * Classification metrics: top-k accuracy, a confusion matrix and running averages.
 * They accumulate batch by batch, so evaluation never holds all logits at once.
 */
import { ArgumentError, formatShape, ShapeError } from '../errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { noGrad } from '../tensor/autograd.ts';
import { argmax, cast, gather, gt, reshape, sum } from '../tensor/index.ts';

function checkLogitsLabels(op: string, logits: Tensor, labels: Tensor): [number, number] {
  if (logits.ndim !== 2) throw new ShapeError(`${op}: logits must be [N, C], got ${formatShape(logits.shape)}`);
  const [n, c] = logits.shape;
  if (labels.ndim !== 1 || labels.shape[0] !== n) throw new ShapeError(`${op}: labels must be [${n}], got ${formatShape(labels.shape)}`);
  if (labels.dtype !== 'int64' && labels.dtype !== 'int32') throw new ArgumentError(`${op}: labels must be int64 or int32 class indices, got ${labels.dtype}`);
  return [n, c];
}

/**
 * Per sample, the number of classes scoring strictly higher than the true class: the sample is
 * correct at k when its rank is below k (ties count in the sample's favour, as torch.topk would
 * order equal values arbitrarily).
 */
export function targetRanks(logits: Tensor, labels: Tensor): Int32Array {
  checkLogitsLabels('targetRanks', logits, labels);
  return noGrad(() => {
    const scores = cast(logits, 'float32');
    const index = reshape(cast(labels, 'int64'), [labels.shape[0], 1]);
    const own = gather(scores, 1, index);
    return new Int32Array(cast(sum(gt(scores, own), 1), 'int32').toArray() as Int32Array);
  });
}

/** Fraction of samples whose true class is among the k highest logits, for each k. */
export function topkAccuracy(logits: Tensor, labels: Tensor, ks: readonly number[] = [1, 5]): number[] {
  const ranks = targetRanks(logits, labels);
  return ks.map((k) => (ranks.length === 0 ? 0 : ranks.filter((r) => r < k).length / ranks.length));
}

/** A running mean of a value reported per batch with its sample count (timm's AverageMeter). */
export class RunningAverage {
  sum = 0;
  count = 0;
  last = 0;

  /** Adds a batch value that averages `n` samples. */
  update(value: number, n = 1): void {
    this.last = value;
    this.sum += value * n;
    this.count += n;
  }

  get average(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  reset(): void {
    this.sum = 0;
    this.count = 0;
    this.last = 0;
  }
}

/** A confusion matrix: rows are true classes, columns predicted classes. */
export class ConfusionMatrix {
  readonly numClasses: number;
  readonly counts: Float64Array;

  constructor(numClasses: number) {
    if (!Number.isInteger(numClasses) || numClasses < 1) throw new ArgumentError(`ConfusionMatrix: numClasses must be a positive integer, got ${numClasses}`);
    this.numClasses = numClasses;
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /** Adds a batch of logits [N, C] (predictions are their argmax) and labels [N]. */
  update(logits: Tensor, labels: Tensor): void {
    const [, c] = checkLogitsLabels('ConfusionMatrix.update', logits, labels);
    if (c !== this.numClasses) throw new ShapeError(`ConfusionMatrix.update: logits have ${c} classes, expected ${this.numClasses}`);
    const predicted = noGrad(() => cast(argmax(logits, 1), 'int32').toArray());
    const truth = noGrad(() => cast(labels, 'int32').toArray());
    truth.forEach((t, i) => {
      if (t < 0 || t >= c) throw new ArgumentError(`ConfusionMatrix.update: label ${t} at ${i} is outside [0, ${c})`);
      this.counts[Number(t) * c + Number(predicted[i])] += 1;
    });
  }

  /** The matrix as rows of counts. */
  rows(): number[][] {
    const c = this.numClasses;
    return Array.from({ length: c }, (_, i) => Array.from(this.counts.subarray(i * c, (i + 1) * c)));
  }

  /** Per-class recall (diagonal over row sums); NaN for a class with no samples. */
  recall(): number[] {
    return this.rows().map((row, i) => row[i] / row.reduce((a, b) => a + b, 0));
  }

  /** The matrix as text, one row per true class, with optional class names. */
  format(names?: readonly string[]): string {
    const label = (i: number) => names?.[i] ?? String(i);
    const width = Math.max(4, ...Array.from({ length: this.numClasses }, (_, i) => label(i).length), ...Array.from(this.counts, (v) => String(v).length));
    const first = Math.max(9, width);
    const header = `${'true\\pred'.padEnd(first)} ${Array.from({ length: this.numClasses }, (_, i) => label(i).padStart(width)).join(' ')}`;
    return [header, ...this.rows().map((row, i) => `${label(i).padEnd(first)} ${row.map((v) => String(v).padStart(width)).join(' ')}`)].join('\n');
  }
}
