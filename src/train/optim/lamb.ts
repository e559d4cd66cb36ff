/**
 * LAMB (You et al., 2019) as timm's `Lamb`: optional global gradient-norm clipping before the
 * step (`maxGradNorm`; timm divides the `.grad` tensors themselves, and so does this), Adam
 * moments with optional bias correction and grad averaging, L2 (or decoupled) weight decay, and
 * the layer-wise trust ratio `|w| / |update|` (1 when either is 0, clipped at 1 with `trustClip`)
 * applied to parameters with weight decay, or to all with `alwaysAdapt`. The step count is per
 * group, as in timm.
 */
import { Optimizer, type BaseHyper, type ParamsInput } from './optimizer.ts';
import { ArgumentError } from '../../errors.ts';

export interface LambOptions extends BaseHyper {
  biasCorrection: boolean;
  betas: [number, number];
  eps: number;
  gradAveraging: boolean;
  maxGradNorm: number | null;
  trustClip: boolean;
  alwaysAdapt: boolean;
  decoupledDecay: boolean;
  /** Per-group step count (kept with the group, as timm does). */
  step: number;
}

export class Lamb extends Optimizer<LambOptions> {
  readonly name = 'lamb';

  constructor(params: ParamsInput<LambOptions>, options: Partial<Omit<LambOptions, 'step'>> = {}) {
    const defaults: LambOptions = {
      lr: 1e-3, biasCorrection: true, betas: [0.9, 0.999], eps: 1e-6, weightDecay: 0.01, gradAveraging: true,
      maxGradNorm: 1.0, trustClip: false, alwaysAdapt: false, decoupledDecay: false, ...options, step: 0,
    };
    if (!(defaults.lr >= 0)) throw new ArgumentError(`Lamb: invalid lr ${defaults.lr}, expected >= 0`);
    super(params, defaults);
  }

  /** timm's global clip divisor: max(1, |all grads| / maxGradNorm), null when disabled. */
  private clipDivisor(): number | null {
    const maxNorm = this.defaults.maxGradNorm;
    if (maxNorm === null) return null;
    let sumSq = 0;
    for (const g of this.paramGroups) {
      for (const p of g.params) if (p.grad !== null) sumSq += p.grad.norm(2).item() ** 2;
    }
    return Math.max(Math.sqrt(sumSq) / maxNorm, 1);
  }

  protected update(): void {
    const divisor = this.clipDivisor();
    for (const g of this.paramGroups) {
      const [b1, b2] = g.betas;
      const beta3 = g.gradAveraging ? 1 - b1 : 1;
      g.step += 1;
      const bc1 = g.biasCorrection ? 1 - b1 ** g.step : 1;
      const bc2 = g.biasCorrection ? 1 - b2 ** g.step : 1;
      for (const p of g.params) {
        if (p.grad === null) continue;
        if (divisor !== null) p.grad.copy_(p.grad.div(divisor));
        const s = this.stateOf(p);
        let w = this.masterOf(p, s);
        const grad = this.gradOf(p);
        const m = s.tensors.exp_avg === undefined ? grad.mul(beta3) : s.tensors.exp_avg.mul(b1).add(grad, beta3);
        const v = s.tensors.exp_avg_sq === undefined ? grad.mul(grad).mul(1 - b2) : s.tensors.exp_avg_sq.mul(b2).add(grad.mul(grad), 1 - b2);
        s.tensors.exp_avg = m;
        s.tensors.exp_avg_sq = v;
        const denom = v.sqrt().div(Math.sqrt(bc2)).add(g.eps);
        let upd = m.div(bc1).div(denom);
        if (g.weightDecay !== 0) {
          if (g.decoupledDecay) w = w.add(w, -g.lr * g.weightDecay);
          else upd = upd.add(w, g.weightDecay);
        }
        if (g.weightDecay !== 0 || g.alwaysAdapt) {
          const wNorm = w.norm(2).item();
          const uNorm = upd.norm(2).item();
          let trust = wNorm > 0 && uNorm > 0 ? wNorm / uNorm : 1;
          if (g.trustClip) trust = Math.min(trust, 1);
          upd = upd.mul(trust);
        }
        this.commit(p, s, w.add(upd, -g.lr));
      }
    }
  }
}
