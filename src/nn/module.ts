/**
 * Module: the base class of every layer and model, mirroring torch.nn.Module so that
 * PyTorch checkpoints load by name.
 *
 * Registration is explicit (no Proxy): a subclass constructor writes
 *
 *     this.weight = this.param('weight', empty([out, inF]));
 *     this.norm = this.module('norm', new LayerNorm(dim));
 *     this.runningMean = this.buffer('running_mean', zeros([c]));
 *
 * and keeps a typed field for use in `forward`. The registry (not the fields) is what
 * `stateDict`, `namedParameters`, `train`, `to` and friends walk; registration order is key
 * order. Registering a name again with the same kind replaces the entry in place (how a
 * classifier head is swapped); a field must then be reassigned by the caller too.
 *
 * Running a module is calling its typed `forward` directly: `model.forward(x)`. There are
 * no hooks, so there is no `__call__` layer in between.
 */
import { ArgumentError, DTypeError, formatShape, StateDictError, type StateDictShapeMismatch } from '../errors.ts';
import { noGrad } from '../tensor/autograd.ts';
import { isFloating, type DType } from '../tensor/dtype.ts';
import { cast } from '../tensor/ops/elementwise.ts';
import { shapeEquals } from '../tensor/ops/shape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Parameter, replaceData } from './parameter.ts';

/** An ordered map from dotted names to tensors, as torch's state_dict. */
export type StateDict = Map<string, Tensor>;

/** What loadStateDict reports when strict is false. */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Options of registerBuffer. */
export interface BufferOptions {
  /** Persistent buffers are part of the state dict (default true). */
  persistent?: boolean;
}

type Kind = 'parameter' | 'buffer' | 'submodule';


export abstract class Module {
  /** Whether the module is in training mode; change it with train() / eval(). */
  training = true;
  readonly #parameters = new Map<string, Parameter>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #nonPersistent = new Set<string>();
  readonly #modules = new Map<string, Module>();

  /** Runs the module. Subclasses declare their own typed signature. */
  abstract forward(...args: never[]): unknown;

  // ---- registration ------------------------------------------------------

  #checkName(op: string, name: string, kind: Kind): void {
    if (typeof name !== 'string' || name.length === 0) throw new ArgumentError(`${op}: name must be a non-empty string, got ${JSON.stringify(name)}`);
    if (name.includes('.')) throw new ArgumentError(`${op}: name '${name}' must not contain '.'`);
    const owners: [Kind, Map<string, unknown>][] = [['parameter', this.#parameters], ['buffer', this.#buffers], ['submodule', this.#modules]];
    for (const [other, map] of owners) {
      if (other !== kind && map.has(name)) throw new ArgumentError(`${op}: '${name}' is already registered as a ${other} of ${this.constructor.name}`);
    }
  }

  /** Registers a parameter under `name` (wrapping a plain tensor in a Parameter) and returns it. */
  registerParameter(name: string, value: Tensor): Parameter {
    this.#checkName('registerParameter', name, 'parameter');
    const p = value instanceof Parameter ? value : new Parameter(value);
    this.#parameters.set(name, p);
    return p;
  }

  /** Registers a buffer (state that is not learned, e.g. running stats) and returns it. */
  registerBuffer<T extends Tensor>(name: string, value: T, options: BufferOptions = {}): T {
    this.#checkName('registerBuffer', name, 'buffer');
    value.assertAlive('registerBuffer');
    this.#buffers.set(name, value);
    if (options.persistent ?? true) this.#nonPersistent.delete(name);
    else this.#nonPersistent.add(name);
    return value;
  }

  /** Registers a child module and returns it. */
  registerModule<M extends Module>(name: string, module: M): M {
    this.#checkName('registerModule', name, 'submodule');
    if (!(module instanceof Module)) throw new ArgumentError(`registerModule: '${name}' is not a Module`);
    this.#modules.set(name, module);
    return module;
  }

  /** Shorthand of registerParameter for constructors: `this.weight = this.param('weight', t)`. */
  protected param(name: string, value: Tensor): Parameter {
    return this.registerParameter(name, value);
  }

  /** Shorthand of registerBuffer for constructors. */
  protected buffer<T extends Tensor>(name: string, value: T, options?: BufferOptions): T {
    return this.registerBuffer(name, value, options);
  }

  /** Shorthand of registerModule for constructors: `this.fc1 = this.module('fc1', new Linear(...))`. */
  protected module<M extends Module>(name: string, module: M): M {
    return this.registerModule(name, module);
  }

  // ---- traversal ---------------------------------------------------------

  /** Direct children with their names (each module once). */
  namedChildren(): [string, Module][] {
    const seen = new Set<Module>();
    const out: [string, Module][] = [];
    for (const [name, m] of this.#modules) {
      if (seen.has(m)) continue;
      seen.add(m);
      out.push([name, m]);
    }
    return out;
  }

  /** Direct children (each module once). */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and all descendants, pre-order, with dotted names ('' for this one); each module once. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (m: Module, name: string) => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([name, m]);
      for (const [child, c] of m.#modules) visit(c, name ? `${name}.${child}` : child);
    };
    visit(this, prefix);
    return out;
  }

  /** This module and all descendants, pre-order; each module once. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  #namedMembers<T extends Tensor>(pick: (m: Module) => Iterable<[string, T]>, recurse: boolean): [string, T][] {
    const out: [string, T][] = [];
    const seen = new Set<Tensor>();
    const mods: [string, Module][] = recurse ? this.namedModules() : [['', this]];
    for (const [prefix, m] of mods) {
      for (const [name, t] of pick(m)) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([prefix ? `${prefix}.${name}` : name, t]);
      }
    }
    return out;
  }

  /** Parameters with dotted names (torch order); a parameter shared by several modules appears once. */
  namedParameters(options: { recurse?: boolean } = {}): [string, Parameter][] {
    return this.#namedMembers((m) => m.#parameters, options.recurse ?? true);
  }

  /** Unique parameters in torch order. */
  parameters(options: { recurse?: boolean } = {}): Parameter[] {
    return this.namedParameters(options).map(([, p]) => p);
  }

  /** Buffers (persistent or not) with dotted names; a shared buffer appears once. */
  namedBuffers(options: { recurse?: boolean } = {}): [string, Tensor][] {
    return this.#namedMembers((m) => m.#buffers, options.recurse ?? true);
  }

  /** Unique buffers in torch order. */
  buffers(options: { recurse?: boolean } = {}): Tensor[] {
    return this.namedBuffers(options).map(([, b]) => b);
  }

  /** The descendant at a dotted path ('' is this module). */
  getSubmodule(target: string): Module {
    let m: Module = this;
    if (target === '') return m;
    for (const part of target.split('.')) {
      const next = m.#modules.get(part);
      if (!next) throw new ArgumentError(`getSubmodule: ${m.constructor.name} has no submodule '${part}' (path '${target}')`);
      m = next;
    }
    return m;
  }

  /** Number of elements over unique parameters (timm's parameter count). */
  numParameters(options: { trainableOnly?: boolean } = {}): number {
    let n = 0;
    for (const p of this.parameters()) if (!options.trainableOnly || p.requiresGrad) n += p.numel;
    return n;
  }

  // ---- modes and bulk updates --------------------------------------------

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    this.training = mode;
    for (const m of this.#modules.values()) m.train(mode);
    return this;
  }

  /** Evaluation mode: train(false). */
  eval(): this {
    return this.train(false);
  }

  /** Calls fn on every descendant (children first) and then on this module, as torch's apply. */
  apply(fn: (m: Module) => void): this {
    for (const m of this.children()) m.apply(fn);
    fn(this);
    return this;
  }

  /** Clears parameter grads: sets them to null (default) or zeroes them in place. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    for (const p of this.parameters()) {
      if (!p.grad) continue;
      if (options.setToNone ?? true) p.grad = null;
      else p.grad = p.grad.detach().zero_();
    }
  }

  /** Sets requiresGrad on every parameter (freezing with false). */
  requiresGrad_(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad_(flag);
    return this;
  }

  /**
   * Converts float parameters and buffers (and their grads) to a float dtype, in place:
   * the Parameter and buffer objects stay the same, as with torch's module.to(dtype).
   */
  to(dtype: DType): this {
    if (!isFloating(dtype)) throw new DTypeError(`Module.to: expected a float dtype (float32, bfloat16), got ${dtype}`);
    noGrad(() => {
      for (const t of [...this.parameters(), ...this.buffers()]) {
        if (!isFloating(t.dtype) || t.dtype === dtype) continue;
        replaceData(t, cast(t.detach(), dtype));
        if (t.grad) t.grad = cast(t.grad, dtype);
      }
    });
    return this;
  }

  // ---- state dict --------------------------------------------------------

  #visitState(prefix: string, fn: (key: string, value: Tensor, owner: Module, name: string) => void): void {
    for (const [name, p] of this.#parameters) fn(prefix + name, p, this, name);
    for (const [name, b] of this.#buffers) if (!this.#nonPersistent.has(name)) fn(prefix + name, b, this, name);
    for (const [name, m] of this.#modules) m.#visitState(`${prefix}${name}.`, fn);
  }

  /**
   * Parameters and persistent buffers by dotted name, in torch's order (each module's own
   * parameters, then its buffers, then its children). Values are detached views sharing
   * storage; a shared parameter appears under every name, as in torch.
   */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    this.#visitState('', (key, value) => out.set(key, value.detach()));
    return out;
  }

  /**
   * A value to load in place of a missing key, or null to report it missing. Overridden by
   * modules whose old checkpoints lack some state (BatchNorm's num_batches_tracked).
   */
  protected missingStateDefault(_name: string): Tensor | null {
    return null;
  }

  /**
   * Copies a state dict into this module's parameters and buffers in place (values are cast
   * to each tensor's dtype). Everything is checked before anything is copied: with strict
   * (default) any missing key, unexpected key or shape mismatch throws one StateDictError
   * listing all of them; with strict false missing and unexpected keys are returned instead,
   * but shape mismatches still throw.
   */
  loadStateDict(stateDict: StateDict | Record<string, Tensor>, options: { strict?: boolean } = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const source = stateDict instanceof Map ? stateDict : new Map(Object.entries(stateDict));
    const expected = new Set<string>();
    const missingKeys: string[] = [];
    const mismatchedKeys: StateDictShapeMismatch[] = [];
    const copies: [Tensor, Tensor][] = [];
    this.#visitState('', (key, target, owner, name) => {
      expected.add(key);
      const value = source.get(key) ?? owner.missingStateDefault(name);
      if (!value) missingKeys.push(key);
      else if (!shapeEquals(value.shape, target.shape)) mismatchedKeys.push({ key, checkpointShape: [...value.shape], modelShape: [...target.shape] });
      else copies.push([target, value]);
    });
    const unexpectedKeys = [...source.keys()].filter((k) => !expected.has(k));
    if (mismatchedKeys.length > 0 || (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0))) {
      const lines = [`Error(s) in loading state_dict for ${this.constructor.name}:`];
      const quoted = (keys: string[]) => keys.map((k) => `"${k}"`).join(', ');
      if (strict && missingKeys.length > 0) lines.push(`\tMissing key(s) in state_dict: ${quoted(missingKeys)}.`);
      if (strict && unexpectedKeys.length > 0) lines.push(`\tUnexpected key(s) in state_dict: ${quoted(unexpectedKeys)}.`);
      for (const m of mismatchedKeys) {
        lines.push(`\tsize mismatch for ${m.key}: copying a param with shape ${formatShape(m.checkpointShape)} from checkpoint, the shape in current model is ${formatShape(m.modelShape)}.`);
      }
      throw new StateDictError(lines.join('\n'), { missingKeys, unexpectedKeys, mismatchedKeys });
    }
    noGrad(() => {
      for (const [target, value] of copies) target.copy_(value);
    });
    return { missingKeys, unexpectedKeys };
  }

  // ---- printing ----------------------------------------------------------

  /** The settings shown between the parentheses of toString (torch's extra_repr). */
  extraRepr(): string {
    return '';
  }

  /** A tree like torch's module repr. */
  toString(): string {
    const extra = this.extraRepr();
    if (this.#modules.size === 0) return `${this.constructor.name}(${extra})`;
    const children = [...this.#modules].map(([name, m]) => `(${name}): ${m.toString().split('\n').join('\n  ')}`);
    const lines = extra ? [...extra.split('\n'), ...children] : children;
    return `${this.constructor.name}(\n  ${lines.join('\n  ')}\n)`;
  }
}
