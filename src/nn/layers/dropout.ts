/** Dropout (torch.nn.Dropout) and DropPath (timm's stochastic depth). */
import { dropout } from '../../tensor/ops/activation.ts';
import { div, mul } from '../../tensor/ops/elementwise.ts';
import { defaultGenerator, type Generator } from '../../tensor/random.ts';
import { Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';
import { checkProbability } from './common.ts';

/** Options of Dropout and DropPath. */
export interface DropoutOptions {
  /** Generator of the masks (the default generator otherwise). */
  generator?: Generator;
}

/** In training, zeroes each element with probability p and scales the rest by 1/(1−p); identity in eval. */
export class Dropout extends Module {
  readonly p: number;
  generator: Generator | undefined;

  constructor(p = 0.5, options: DropoutOptions = {}) {
    super();
    checkProbability('Dropout', p);
    this.p = p;
    this.generator = options.generator;
  }

  override forward(x: Tensor): Tensor {
    return this.isIdentity ? x : dropout(x, this.p, true, this.generator);
  }

  /** True when forward returns its input (eval mode or p = 0): what comes before may fuse with what follows. */
  get isIdentity(): boolean {
    return !this.training || this.p === 0;
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** Options of DropPath. */
export interface DropPathOptions extends DropoutOptions {
  /** Divide kept samples by 1−p so the expectation is unchanged (default true, as timm). */
  scaleByKeep?: boolean;
}

/**
 * Stochastic depth (timm's drop_path): in training, drops the whole residual branch of each
 * sample (dim 0) with probability p and scales kept samples by 1/(1−p); identity in eval or when p is 0.
 */
export function dropPath(x: Tensor, p = 0, training = false, options: DropPathOptions = {}): Tensor {
  checkProbability('dropPath', p);
  if (p === 0 || !training) return x;
  const keep = 1 - p;
  // One Bernoulli draw per sample, broadcast over the other dims.
  const mask = Tensor.empty(x.shape.map((s, i) => (i === 0 ? s : 1)), x.dtype);
  (options.generator ?? defaultGenerator).fill(mask, 'bernoulli', keep, 0);
  return mul(x, keep > 0 && (options.scaleByKeep ?? true) ? div(mask, keep) : mask);
}

/** Module form of dropPath. */
export class DropPath extends Module {
  readonly p: number;
  readonly scaleByKeep: boolean;
  generator: Generator | undefined;

  constructor(p = 0, options: DropPathOptions = {}) {
    super();
    checkProbability('DropPath', p);
    this.p = p;
    this.scaleByKeep = options.scaleByKeep ?? true;
    this.generator = options.generator;
  }

  override forward(x: Tensor): Tensor {
    return dropPath(x, this.p, this.training, { scaleByKeep: this.scaleByKeep, generator: this.generator });
  }

  override extraRepr(): string {
    return `drop_prob=${this.p.toFixed(3)}`;
  }
}

/** timm's linear stochastic-depth schedule: rate i·r/(depth−1) for block i of depth. */
export function dropPathRates(rate: number, depth: number): number[] {
  return Array.from({ length: depth }, (_, i) => (depth > 1 ? (rate * i) / (depth - 1) : 0));
}
