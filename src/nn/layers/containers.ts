/** Containers (torch.nn.Sequential, ModuleList, ModuleDict): children named like torch's. */
import { ArgumentError, IndexError } from '../../errors.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { Module } from '../module.ts';
import { runBlocks } from '../run-blocks.ts';

/** A module mapping one tensor to one tensor, as Sequential chains them. */
export interface UnaryModule extends Module {
  forward(x: Tensor): Tensor;
}

function resolveIndex(op: string, index: number, length: number): number {
  if (!Number.isInteger(index) || index < -length || index >= length) {
    throw new IndexError(`${op}: index ${index} is out of range for ${length} modules`);
  }
  return index < 0 ? index + length : index;
}

/**
 * Runs its modules in order. Children are named '0', '1', ... (or by the names given to
 * `Sequential.named`), which is where their checkpoint keys come from. The modules run as a
 * chain of blocks (runBlocks): without autograd what each makes and does not return, and its
 * input once the next module has run, are released then, so a module must not keep those tensors.
 */
export class Sequential extends Module {
  readonly #layers: UnaryModule[] = [];

  constructor(...layers: UnaryModule[]) {
    super();
    for (const layer of layers) this.append(layer);
  }

  /** A Sequential whose children have the given names (torch's OrderedDict form). */
  static named(entries: Record<string, UnaryModule> | Iterable<[string, UnaryModule]>): Sequential {
    const seq = new Sequential();
    const list = Symbol.iterator in entries ? [...(entries as Iterable<[string, UnaryModule]>)] : Object.entries(entries);
    for (const [name, layer] of list) {
      seq.registerModule(name, layer);
      seq.#layers.push(layer);
    }
    return seq;
  }

  /** Adds a module at the end, named by its position. */
  append(layer: UnaryModule): this {
    this.registerModule(String(this.#layers.length), layer);
    this.#layers.push(layer);
    return this;
  }

  get length(): number {
    return this.#layers.length;
  }

  /** The module at a position (negative counts from the end). */
  at(index: number): UnaryModule {
    return this.#layers[resolveIndex('Sequential.at', index, this.#layers.length)];
  }

  [Symbol.iterator](): Iterator<UnaryModule> {
    return this.#layers[Symbol.iterator]();
  }

  override forward(x: Tensor): Tensor {
    return runBlocks(x, this.#layers);
  }
}

/** A list of modules whose children are named '0', '1', ...; it has no forward of its own. */
export class ModuleList<M extends Module = Module> extends Module {
  readonly #items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  /** Adds a module at the end. */
  append(module: M): this {
    this.registerModule(String(this.#items.length), module);
    this.#items.push(module);
    return this;
  }

  /** Adds several modules at the end. */
  extend(modules: Iterable<M>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  get length(): number {
    return this.#items.length;
  }

  /** The module at a position (negative counts from the end). */
  at(index: number): M {
    return this.#items[resolveIndex('ModuleList.at', index, this.#items.length)];
  }

  [Symbol.iterator](): Iterator<M> {
    return this.#items[Symbol.iterator]();
  }

  /** ModuleList only holds modules: iterate it and call their forward. */
  override forward(): never {
    throw new ArgumentError('ModuleList: has no forward; iterate it and call the forward of its modules');
  }
}

/** Modules by name, in insertion order; it has no forward of its own. */
export class ModuleDict<M extends Module = Module> extends Module {
  readonly #items = new Map<string, M>();

  constructor(entries: Record<string, M> | Iterable<[string, M]> = []) {
    super();
    const list = Symbol.iterator in entries ? [...(entries as Iterable<[string, M]>)] : Object.entries(entries);
    for (const [name, m] of list) this.set(name, m);
  }

  /** Adds or replaces the module under a name. */
  set(name: string, module: M): this {
    this.registerModule(name, module);
    this.#items.set(name, module);
    return this;
  }

  /** The module under a name. */
  get(name: string): M {
    const m = this.#items.get(name);
    if (!m) throw new ArgumentError(`ModuleDict.get: no module named '${name}' (have ${[...this.#items.keys()].join(', ') || 'none'})`);
    return m;
  }

  has(name: string): boolean {
    return this.#items.has(name);
  }

  get size(): number {
    return this.#items.size;
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  values(): M[] {
    return [...this.#items.values()];
  }

  entries(): [string, M][] {
    return [...this.#items.entries()];
  }

  /** ModuleDict only holds modules: look them up and call their forward. */
  override forward(): never {
    throw new ArgumentError('ModuleDict: has no forward; look up its modules and call their forward');
  }
}
