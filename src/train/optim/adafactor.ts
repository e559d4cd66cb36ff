/**
 * Adafactor (Shazeer & Stern, 2018) as timm's `Adafactor`: second moments factored into row and
 * column means for parameters whose two factored dims both exceed `minDimSizeToFactor`, relative
 * step size `min(1e-2 | 1e-6·t, 1/sqrt(t))` scaled by the parameter RMS when `lr` is not given,
 * `beta2_t = 1 - t^decayRate`, update clipping by its RMS over `clipThreshold`, optional first
 * moment (`betas[0]`), and weight decay `p -= wd·lr_t·p`. With a relative step the group's `lr`
 * is overwritten by the step size used, as timm does.
 */
import { Optimizer, type BaseHyper, type ParamsInput } from './optimizer.ts';
import { ArgumentError } from '../../errors.ts';
import type { Tensor } from '../../tensor/tensor.ts';

export interface AdafactorOptions extends BaseHyper {
  eps: number;
  epsScale: number;
  clipThreshold: number;
  decayRate: number;
  /** `[beta1, beta2]`; beta1 enables the first moment, beta2 is unused (timm compatibility). */
  betas: [number, number] | null;
  scaleParameter: boolean;
  relativeStep: boolean;
  warmupInit: boolean;
  minDimSizeToFactor: number;
}

function rms(t: Tensor): number {
  return t.norm(2).item() / Math.sqrt(t.numel);
}

/** The pair of dims (col, row) whose means replace the full second moment, or null. */
function factoredDims(shape: readonly number[], minSize: number): [number, number] | null {
  const n = shape.length;
  if (n > 2 && shape[0] > minSize && shape[1] > minSize) return [0, 1];
  if (n >= 2 && shape[n - 2] > minSize && shape[n - 1] > minSize) return [n - 2, n - 1];
  return null;
}

export class Adafactor extends Optimizer<AdafactorOptions> {
  readonly name = 'adafactor';

  /** Omit `lr` (or pass 0) for the relative step size. */
  constructor(params: ParamsInput<AdafactorOptions>, options: Partial<AdafactorOptions> = {}) {
    const relativeStep = !options.lr;
    if (options.warmupInit && !relativeStep) throw new ArgumentError('Adafactor: warmupInit requires a relative step (no lr)');
    const defaults: AdafactorOptions = {
      eps: 1e-30, epsScale: 1e-3, clipThreshold: 1, decayRate: -0.8, betas: null, weightDecay: 0,
      scaleParameter: true, warmupInit: false, minDimSizeToFactor: 16, ...options, lr: options.lr ?? 0, relativeStep,
    };
    super(params, defaults);
  }

  protected update(): void {
    for (const g of this.paramGroups) {
      const beta1 = g.betas === null ? null : g.betas[0];
      for (const p of g.params) {
        if (p.grad === null) continue;
        const s = this.stateOf(p);
        const w = this.masterOf(p, s);
        const grad = this.gradOf(p);
        const dims = factoredDims(grad.shape, g.minDimSizeToFactor);
        const step = (s.scalars.step ?? 0) + 1;
        s.scalars.step = step;
        s.scalars.RMS = rms(w);
        if (g.relativeStep) {
          const minStep = g.warmupInit ? 1e-6 * step : 1e-2;
          const scale = g.scaleParameter ? Math.max(g.epsScale, s.scalars.RMS) : 1;
          g.lr = Math.min(minStep, 1 / Math.sqrt(step)) * scale;
        }
        const lrT = g.lr;
        const beta2t = 1 - step ** g.decayRate;
        const sq = grad.mul(grad).add(g.eps);
        let upd: Tensor;
        if (dims !== null) {
          const [col, row] = dims;
          const rowMean = sq.mean(row);
          const colMean = sq.mean(col);
          const r = s.tensors.exp_avg_sq_row === undefined ? rowMean.mul(1 - beta2t) : s.tensors.exp_avg_sq_row.mul(beta2t).add(rowMean, 1 - beta2t);
          const c = s.tensors.exp_avg_sq_col === undefined ? colMean.mul(1 - beta2t) : s.tensors.exp_avg_sq_col.mul(beta2t).add(colMean, 1 - beta2t);
          s.tensors.exp_avg_sq_row = r;
          s.tensors.exp_avg_sq_col = c;
          const rFactor = r.div(r.mean(col, true)).rsqrt().unsqueeze(row);
          const cFactor = c.unsqueeze(col).rsqrt();
          upd = rFactor.mul(cFactor).mul(grad);
        } else {
          const v = s.tensors.exp_avg_sq === undefined ? sq.mul(1 - beta2t) : s.tensors.exp_avg_sq.mul(beta2t).add(sq, 1 - beta2t);
          s.tensors.exp_avg_sq = v;
          upd = v.rsqrt().mul(grad);
        }
        upd = upd.div(Math.max(rms(upd) / g.clipThreshold, 1)).mul(lrT);
        if (beta1 !== null) {
          const m = s.tensors.exp_avg === undefined ? upd.mul(1 - beta1) : s.tensors.exp_avg.mul(beta1).add(upd, 1 - beta1);
          s.tensors.exp_avg = m;
          upd = m;
        }
        const decayed = g.weightDecay !== 0 ? w.add(w, -g.weightDecay * lrT) : w;
        this.commit(p, s, decayed.sub(upd));
      }
    }
  }
}
