/**
 * Adam and AdamW: torch.optim.Adam / AdamW (bias correction, eps outside the sqrt, amsgrad).
 * Adam adds `weightDecay * p` to the gradient; AdamW decays the weights directly,
 * `p -= lr * weightDecay * p`, before the Adam step.
 */
import { Optimizer, type BaseHyper, type ParamsInput } from './optimizer.ts';
import { ArgumentError } from '../../errors.ts';
import { maximum } from '../../tensor/ops/elementwise.ts';

export interface AdamOptions extends BaseHyper {
  betas: [number, number];
  eps: number;
  amsgrad: boolean;
  maximize: boolean;
}

abstract class AdamBase extends Optimizer<AdamOptions> {
  protected abstract readonly decoupled: boolean;

  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions>, weightDecay: number) {
    const defaults: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay, amsgrad: false, maximize: false, ...options };
    const [b1, b2] = defaults.betas;
    if (!(defaults.lr >= 0)) throw new ArgumentError(`Adam: invalid lr ${defaults.lr}, expected >= 0`);
    if (!(defaults.eps >= 0)) throw new ArgumentError(`Adam: invalid eps ${defaults.eps}, expected >= 0`);
    if (!(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1)) throw new ArgumentError(`Adam: invalid betas [${b1}, ${b2}], expected each in [0, 1)`);
    super(params, defaults);
  }

  protected update(): void {
    for (const g of this.paramGroups) {
      const [b1, b2] = g.betas;
      for (const p of g.params) {
        if (p.grad === null) continue;
        const s = this.stateOf(p);
        let w = this.masterOf(p, s);
        let grad = this.gradOf(p);
        if (g.maximize) grad = grad.neg();
        const step = (s.scalars.step ?? 0) + 1;
        s.scalars.step = step;
        if (g.weightDecay !== 0) {
          if (this.decoupled) w = w.mul(1 - g.lr * g.weightDecay);
          else grad = grad.add(w, g.weightDecay);
        }
        const m = s.tensors.exp_avg === undefined ? grad.mul(1 - b1) : s.tensors.exp_avg.mul(b1).add(grad, 1 - b1);
        const sq = grad.mul(grad);
        const v = s.tensors.exp_avg_sq === undefined ? sq.mul(1 - b2) : s.tensors.exp_avg_sq.mul(b2).add(sq, 1 - b2);
        s.tensors.exp_avg = m;
        s.tensors.exp_avg_sq = v;
        const bc1 = 1 - b1 ** step;
        const bc2Sqrt = Math.sqrt(1 - b2 ** step);
        let second = v;
        if (g.amsgrad) {
          second = s.tensors.max_exp_avg_sq === undefined ? v.clone() : maximum(s.tensors.max_exp_avg_sq, v);
          s.tensors.max_exp_avg_sq = second;
        }
        const denom = second.sqrt().div(bc2Sqrt).add(g.eps);
        this.commit(p, s, w.sub(m.div(denom), g.lr / bc1));
      }
    }
  }
}

/** Adam (L2 penalty added to the gradient). */
export class Adam extends AdamBase {
  readonly name = 'adam';
  protected readonly decoupled = false;
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, options, 0);
  }
}

/** AdamW (decoupled weight decay, default 1e-2 as torch). */
export class AdamW extends AdamBase {
  readonly name = 'adamw';
  protected readonly decoupled = true;
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, options, 1e-2);
  }
}
