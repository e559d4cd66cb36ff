/**
 * Adam and AdamW: torch.optim.Adam / AdamW (bias correction, eps outside the sqrt, amsgrad).
 * Adam adds `weightDecay * p` to the gradient; AdamW decays the weights directly,
 * `p -= lr * weightDecay * p`, before the Adam step.
 */
import { Optimizer, type BaseHyper, type ParamsInput } from './optimizer.ts';
import { ArgumentError } from '../../errors.ts';
import { zeros } from '../../tensor/creation.ts';
import { native } from '../../tensor/native.ts';

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

  // One fused native pass per parameter (native/src/optim.cc) on its f32 value (the parameter, or
  // its master copy when bf16) and f32 moments, in place.
  protected update(): void {
    for (const g of this.paramGroups) {
      const [b1, b2] = g.betas;
      for (const p of g.params) {
        if (p.grad === null) continue;
        const s = this.stateOf(p);
        const step = (s.scalars.step ?? 0) + 1;
        s.scalars.step = step;
        const master = this.masterOf(p, s);
        const w = master.isContiguous() ? master : master.contiguous();
        const grad = p.grad.detach().contiguous(); // f32 or bf16, read as is by the kernel
        const m = (s.tensors.exp_avg ??= zeros(p.shape));
        const v = (s.tensors.exp_avg_sq ??= zeros(p.shape));
        const vmax = g.amsgrad ? (s.tensors.max_exp_avg_sq ??= zeros(p.shape)) : null;
        const decay = this.decoupled ? 1 - g.lr * g.weightDecay : 1;
        const gradDecay = this.decoupled ? 0 : g.weightDecay;
        native.adamStep({
          param: w, grad, expAvg: m, expAvgSq: v, maxExpAvgSq: vmax, gradSign: g.maximize ? -1 : 1, decay, gradDecay,
          beta1: b1, beta2: b2, bc2Sqrt: Math.sqrt(1 - b2 ** step), eps: g.eps, stepSize: g.lr / (1 - b1 ** step),
        });
        for (const t of [w, m, v, vmax]) if (t) t.storage.version++;
        if (w !== master) master.copy_(w);
        if (p !== master) p.copy_(w);
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
