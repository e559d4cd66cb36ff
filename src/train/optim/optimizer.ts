/**
 * Optimizer base: parameter groups, per-parameter state, zeroGrad, and a checkpointable state dict.
 *
 * Semantics follow torch.optim.Optimizer. A group is `{ params, lr, weightDecay, ...hyper }`;
 * hyper-parameters missing from a group come from the optimizer's defaults, and `lr` may be set
 * per group at any time (schedulers do). Updates run under noGrad and write parameters in place
 * (`copy_`), so every holder of a parameter sees the new value.
 *
 * Gradient accumulation needs nothing here: backward adds into `.grad`, so call backward on k
 * micro-batches (each loss scaled by 1/k) and then `step()` and `zeroGrad()` once.
 *
 * bfloat16 parameters: the optimizer keeps an f32 master copy in the state (`master`), applies
 * every update to it, and writes the rounded value back into the bf16 parameter, so small updates
 * are not lost to bf16 rounding. float32 parameters are updated directly (no copy).
 *
 * State dict format (exact resume): `{ tensors, meta }` where
 * - `tensors`: Map `state.<index>.<name>` -> f32 Tensor (a copy), `<index>` the parameter's
 *   position counting through the groups in order (torch's numbering), `<name>` the state
 *   entry (`momentum_buffer`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`, `exp_avg_sq_row`,
 *   `exp_avg_sq_col`, `master`);
 * - `meta`: JSON-able `{ format: 'tsvision.optimizer/1', optimizer, groups, scalars }`: each group's
 *   hyper-parameters with `params` as the list of indices, and per-parameter numbers (`step`, ...)
 *   keyed by index.
 * Write it with `writeSafetensors(file, sd.tensors, { optimizer: JSON.stringify(sd.meta) })`;
 * JSON keeps JS numbers exactly, so a resumed run is bitwise equal to an uninterrupted one.
 */
import { Tensor } from '../../tensor/tensor.ts';
import { noGrad } from '../../tensor/autograd.ts';
import { ArgumentError, formatShape, ShapeError } from '../../errors.ts';

/** Hyper-parameters every group has. */
export interface BaseHyper {
  lr: number;
  weightDecay: number;
}

/** A parameter group: its parameters and hyper-parameters. */
export type ParamGroup<H extends BaseHyper = BaseHyper> = H & { params: Tensor[] };

/** What a caller passes: plain parameters, or groups with some hyper-parameters overridden. */
export type ParamsInput<H extends BaseHyper = BaseHyper> = readonly Tensor[] | readonly ({ params: readonly Tensor[] } & Partial<H>)[];

/** Per-parameter state: tensors (saved as safetensors) and numbers (saved in JSON). */
export interface ParamState {
  tensors: Record<string, Tensor>;
  scalars: Record<string, number>;
}

/** JSON part of an optimizer state dict. */
export interface OptimizerStateMeta {
  format: 'tsvision.optimizer/1';
  optimizer: string;
  groups: Record<string, unknown>[];
  scalars: Record<string, Record<string, number>>;
}

/** An optimizer's checkpointable state: tensors for safetensors plus a JSON-able part. */
export interface OptimizerStateDict {
  tensors: Map<string, Tensor>;
  meta: OptimizerStateMeta;
}

export abstract class Optimizer<H extends BaseHyper = BaseHyper> {
  readonly paramGroups: ParamGroup<H>[];
  readonly defaults: H;
  protected readonly state = new Map<Tensor, ParamState>();
  /** Name written into state dicts and checked on load. */
  abstract readonly name: string;

  constructor(params: ParamsInput<H>, defaults: H) {
    this.defaults = defaults;
    const list = params as readonly (Tensor | { params: readonly Tensor[] })[];
    if (list.length === 0) throw new ArgumentError('Optimizer: got an empty parameter list');
    const specs = list[0] instanceof Tensor ? [{ params: list as Tensor[] }] : (list as { params: readonly Tensor[] }[]);
    const seen = new Set<Tensor>();
    this.paramGroups = specs.map((spec, gi) => {
      for (const p of spec.params) {
        if (!(p instanceof Tensor)) throw new ArgumentError(`Optimizer: group ${gi} holds a non-tensor parameter`);
        if (seen.has(p)) throw new ArgumentError(`Optimizer: a parameter appears in more than one group (group ${gi})`);
        if (p.dtype !== 'float32' && p.dtype !== 'bfloat16') throw new ArgumentError(`Optimizer: parameters must be float32 or bfloat16, got ${p.dtype}`);
        seen.add(p);
      }
      return { ...defaults, ...spec, params: [...spec.params] } as ParamGroup<H>;
    });
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    noGrad(() => this.update());
  }

  protected abstract update(): void;

  /** Clears gradients (set to null, torch's default set_to_none=True, or zeroed in place). */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const setToNone = options.setToNone ?? true;
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        if (p.grad === null) continue;
        if (setToNone) p.grad = null;
        else p.grad.zero_();
      }
    }
  }

  /** Sets the learning rate of one group (or of all groups when index is omitted). */
  setLr(lr: number, index?: number): void {
    for (const [i, g] of this.paramGroups.entries()) if (index === undefined || i === index) g.lr = lr;
  }

  /** The state of a parameter, created empty on first use. */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (!s) {
      s = { tensors: {}, scalars: {} };
      this.state.set(p, s);
    }
    return s;
  }

  /** The f32 value a parameter is updated on: the parameter itself, or its f32 master copy when bf16. */
  protected masterOf(p: Tensor, s: ParamState): Tensor {
    if (p.dtype === 'float32') return p;
    s.tensors.master ??= p.detach().to('float32').clone();
    return s.tensors.master;
  }

  /** Writes a new f32 value into the parameter (and its master copy). */
  protected commit(p: Tensor, s: ParamState, value: Tensor): void {
    if (p.dtype !== 'float32') this.masterOf(p, s).copy_(value);
    p.copy_(value);
  }

  /** A parameter's gradient in f32. */
  protected gradOf(p: Tensor): Tensor {
    const g = p.grad as Tensor;
    return g.dtype === 'float32' ? g.detach() : g.to('float32');
  }

  /** Hyper-parameters of a group without its params (what a state dict keeps). */
  private hyperOf(g: ParamGroup<H>): Record<string, unknown> {
    const { params: _params, ...hyper } = g;
    return hyper;
  }

  /** The checkpointable state (see the file header for the format). */
  stateDict(): OptimizerStateDict {
    const tensors = new Map<string, Tensor>();
    const scalars: Record<string, Record<string, number>> = {};
    const groups: Record<string, unknown>[] = [];
    let index = 0;
    for (const g of this.paramGroups) {
      const ids: number[] = [];
      for (const p of g.params) {
        const s = this.state.get(p);
        if (s) {
          for (const [k, t] of Object.entries(s.tensors)) tensors.set(`state.${index}.${k}`, t.detach().clone());
          scalars[index] = { ...s.scalars };
        }
        ids.push(index++);
      }
      groups.push({ ...this.hyperOf(g), params: ids });
    }
    return { tensors, meta: { format: 'tsvision.optimizer/1', optimizer: this.name, groups: structuredClone(groups), scalars } };
  }

  /** Restores a state dict saved by the same optimizer over the same parameter layout. */
  loadStateDict(sd: OptimizerStateDict): void {
    const { meta, tensors } = sd;
    if (meta.format !== 'tsvision.optimizer/1') throw new ArgumentError(`loadStateDict: unknown format ${String(meta.format)}, expected tsvision.optimizer/1`);
    if (meta.optimizer !== this.name) throw new ArgumentError(`loadStateDict: state is for ${meta.optimizer}, expected ${this.name}`);
    if (meta.groups.length !== this.paramGroups.length) {
      throw new ArgumentError(`loadStateDict: state has ${meta.groups.length} parameter groups, expected ${this.paramGroups.length}`);
    }
    const params: Tensor[] = [];
    for (const [gi, g] of this.paramGroups.entries()) {
      const ids = meta.groups[gi].params as number[];
      if (ids.length !== g.params.length) throw new ArgumentError(`loadStateDict: group ${gi} has ${ids.length} parameters in the state, expected ${g.params.length}`);
      params.push(...g.params);
    }
    const restored = new Map<Tensor, ParamState>();
    for (const [index, p] of params.entries()) {
      const prefix = `state.${index}.`;
      const s: ParamState = { tensors: {}, scalars: { ...(meta.scalars[index] ?? {}) } };
      for (const [key, t] of tensors) {
        if (!key.startsWith(prefix)) continue;
        const name = key.slice(prefix.length);
        if (name === 'master' && t.shape.join() !== p.shape.join()) {
          throw new ShapeError(`loadStateDict: ${key} has shape ${formatShape(t.shape)}, expected ${formatShape(p.shape)}`);
        }
        s.tensors[name] = t.detach().to('float32').clone();
      }
      if (meta.scalars[index] !== undefined || Object.keys(s.tensors).length > 0) restored.set(p, s);
    }
    this.state.clear();
    for (const [p, s] of restored) this.state.set(p, s);
    for (const [gi, g] of this.paramGroups.entries()) {
      const { params: _ids, ...hyper } = meta.groups[gi];
      Object.assign(g, structuredClone(hyper));
    }
  }
}
