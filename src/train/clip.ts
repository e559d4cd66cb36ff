/**
 * Gradient clipping, torch.nn.utils semantics. Parameters without a gradient are skipped.
 * With gradient accumulation, clip once after the last micro-batch's backward, before step().
 */
import type { Tensor } from '../tensor/tensor.ts';
import { noGrad } from '../tensor/autograd.ts';
import { ArgumentError } from '../errors.ts';

export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or infinite (the grads are then left unchanged). */
  errorIfNonfinite?: boolean;
}

function withGrads(params: Iterable<Tensor>): Tensor[] {
  return [...params].filter((p) => p.grad !== null).map((p) => p.grad as Tensor);
}

/**
 * Scales all gradients together so their total `normType`-norm is at most maxNorm
 * (coefficient `maxNorm / (total + 1e-6)`, capped at 1); returns the total norm before clipping.
 */
export function clipGradNorm_(params: Iterable<Tensor>, maxNorm: number, normType: number = 2, options: ClipGradNormOptions = {}): number {
  if (!(normType > 0)) throw new ArgumentError(`clipGradNorm_: normType must be > 0 or Infinity, got ${normType}`);
  const grads = withGrads(params);
  if (grads.length === 0) return 0;
  return noGrad(() => {
    const norms = grads.map((g) => (normType === Infinity ? g.abs().amax().item() : g.float().norm(normType).item()));
    const total = normType === Infinity ? Math.max(...norms) : norms.reduce((a, n) => a + n ** normType, 0) ** (1 / normType);
    if (options.errorIfNonfinite && !Number.isFinite(total)) {
      throw new ArgumentError(`clipGradNorm_: the total ${normType}-norm of the gradients is ${total}, expected a finite value`);
    }
    const coef = Math.min(maxNorm / (total + 1e-6), 1);
    for (const g of grads) g.copy_(g.mul(coef));
    return total;
  });
}

/** Clamps every gradient element into [-clipValue, clipValue]. */
export function clipGradValue_(params: Iterable<Tensor>, clipValue: number): void {
  if (!(clipValue >= 0)) throw new ArgumentError(`clipGradValue_: clipValue must be >= 0, got ${clipValue}`);
  noGrad(() => {
    for (const g of withGrads(params)) g.copy_(g.clamp(-clipValue, clipValue));
  });
}
