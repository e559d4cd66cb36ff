/** SGD with momentum, dampening, Nesterov and (coupled) weight decay: torch.optim.SGD. */
import { Optimizer, type BaseHyper, type ParamsInput } from './optimizer.ts';
import { ArgumentError } from '../../errors.ts';

export interface SGDOptions extends BaseHyper {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  /** Ascend instead of descend (torch's `maximize`). */
  maximize: boolean;
}

export class SGD extends Optimizer<SGDOptions> {
  readonly name = 'sgd';

  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    const defaults: SGDOptions = { weightDecay: 0, momentum: 0, dampening: 0, nesterov: false, maximize: false, ...options };
    if (!(defaults.lr >= 0)) throw new ArgumentError(`SGD: invalid lr ${defaults.lr}, expected >= 0`);
    if (!(defaults.momentum >= 0)) throw new ArgumentError(`SGD: invalid momentum ${defaults.momentum}, expected >= 0`);
    if (defaults.nesterov && (defaults.momentum <= 0 || defaults.dampening !== 0)) {
      throw new ArgumentError(`SGD: nesterov needs momentum > 0 and dampening 0, got momentum ${defaults.momentum}, dampening ${defaults.dampening}`);
    }
    super(params, defaults);
  }

  protected update(): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (p.grad === null) continue;
        const s = this.stateOf(p);
        const w = this.masterOf(p, s);
        let d = this.gradOf(p);
        if (g.maximize) d = d.neg();
        if (g.weightDecay !== 0) d = d.add(w, g.weightDecay);
        if (g.momentum !== 0) {
          const prev = s.tensors.momentum_buffer;
          const buf = prev === undefined ? d.clone() : prev.mul(g.momentum).add(d, 1 - g.dampening);
          s.tensors.momentum_buffer = buf;
          d = g.nesterov ? d.add(buf, g.momentum) : buf;
        }
        this.commit(p, s, w.add(d, -g.lr));
      }
    }
  }
}
