/**
 * Define-by-run autograd. An op that produced a tensor from inputs that require grad
 * attaches a GradNode holding its backward rule; `backward()` walks those nodes in
 * reverse topological order. Rules live beside their forward ops and are written in
 * tensor ops; they run with grad recording off. (The ops imported below import this module
 * too; ES modules resolve the cycle because neither side uses the other at load time.) Broadcast reduction and dtype casting
 * of input grads happen here once, so a rule may return a grad of the broadcast shape.
 */
import { AutogradError, formatShape } from '../errors.ts';
import type { Tensor } from './tensor.ts';
import { onesLike } from './creation.ts';
import { add, cast } from './ops/elementwise.ts';
import { sumToShape } from './ops/reduce.ts';
import { contiguous, shapeEquals } from './ops/shape.ts';
import { withAllocationScope } from './memory.ts';

/** A recorded op: its inputs and the rule mapping the output grad to input grads. */
export interface GradNode {
  readonly name: string;
  /** Inputs in op order; null where the input does not need a grad. */
  inputs: (Tensor | null)[];
  /** null once the graph has been freed by a backward pass. */
  backward: ((grad: Tensor) => (Tensor | null | undefined)[]) | null;
}

let gradEnabled = true;

/** Whether ops currently record autograd nodes. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn with grad recording off (torch.no_grad). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Runs fn; when autograd is not recording, the tensors fn created that its result does not
 * hold are released as soon as it returns, their memory reused by later tensors (tf.tidy).
 * Models run each block so at inference: V8 would otherwise free an intermediate only at a
 * garbage collection. A tensor fn creates and keeps elsewhere must be made under `persistent`.
 */
export function tidy<T>(fn: () => T): T {
  return gradEnabled ? fn() : withAllocationScope(fn);
}

/**
 * Runs x through steps in order (a stage's blocks), each under `tidy`. Without autograd, each
 * step's input that an earlier step made is released once the next step has returned, unless
 * its output shares that memory: a step must not keep its input or output beyond the call.
 */
export function tidySequence<S>(x: Tensor, steps: Iterable<S>, run: (step: S, x: Tensor) => Tensor): Tensor {
  if (gradEnabled) {
    for (const step of steps) x = run(step, x);
    return x;
  }
  const input = x;
  for (const step of steps) {
    const prev = x;
    x = withAllocationScope(() => run(step, prev));
    if (prev !== input && x.storage !== prev.storage) prev.dispose();
  }
  return x;
}

/** Runs fn with grad recording on, even inside noGrad (torch.enable_grad). */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** True when an op over these inputs must record a node. */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}

/**
 * Attaches a backward rule to `out` when any input requires grad and recording is on.
 * The rule returns one grad per input (null/undefined for none). Returns `out`.
 */
export function record(
  out: Tensor,
  name: string,
  inputs: readonly (Tensor | null | undefined)[],
  backward: (grad: Tensor) => (Tensor | null | undefined)[],
): Tensor {
  if (!needsGrad(...inputs)) return out;
  out.requiresGrad = true;
  out.gradFn = { name, inputs: inputs.map((t) => (t && t.requiresGrad ? t : null)), backward };
  return out;
}

/** Options of Tensor.backward. */
export interface BackwardOptions {
  /** Keep the graph so backward can run through it again. */
  retainGraph?: boolean;
}

/** Computes grads of `root` w.r.t. every leaf that requires grad; see Tensor.backward. */
export function runBackward(root: Tensor, grad: Tensor | undefined, options: BackwardOptions = {}): void {
  if (!root.requiresGrad) {
    throw new AutogradError(
      'backward: the tensor does not require grad (no input of the ops that made it has requiresGrad=true, or it was made under noGrad)',
    );
  }
  let seed: Tensor;
  if (grad === undefined) {
    if (root.numel !== 1) {
      throw new AutogradError(`backward: grad can be implied only for a scalar output, got shape ${formatShape(root.shape)}; pass a grad`);
    }
    seed = onesLike(root);
  } else {
    if (!shapeEquals(grad.shape, root.shape)) {
      throw new AutogradError(`backward: grad has shape ${formatShape(grad.shape)}, expected ${formatShape(root.shape)}`);
    }
    seed = grad;
  }

  // Post-order DFS over tensors that carry a node gives a topological order.
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const node = t.gradFn;
    if (node && i < node.inputs.length) {
      top[1] = i + 1;
      const child = node.inputs[i];
      if (child && child.gradFn && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      if (node) order.push(t);
    }
  }

  const grads = new Map<Tensor, Tensor>([[root, seed]]);
  const accumulate = (t: Tensor, g: Tensor) => {
    if (!shapeEquals(g.shape, t.shape)) g = sumToShape(g, t.shape);
    if (g.dtype !== t.dtype) g = cast(g, t.dtype);
    if (t.gradFn) {
      const prev = grads.get(t);
      grads.set(t, prev ? add(prev, g) : g);
    } else {
      // A leaf's .grad is user-facing: give it its own row-major memory, never a broadcast view.
      if (!t.grad && !g.isContiguous()) g = contiguous(g);
      t.grad = t.grad ? add(t.grad, g) : g;
    }
  };

  noGrad(() => {
    if (!root.gradFn) accumulate(root, seed);
    for (let k = order.length - 1; k >= 0; --k) {
      const t = order[k];
      const node = t.gradFn!;
      const g = grads.get(t);
      grads.delete(t);
      if (!g) continue;
      if (t.retainsGrad) t.grad = t.grad ? add(t.grad, g) : g;
      if (!node.backward) {
        throw new AutogradError(
          `backward: the graph through '${node.name}' was already freed by an earlier backward; pass {retainGraph: true} to the first call to go through it twice`,
        );
      }
      const inputGrads = node.backward(g);
      for (let i = 0; i < node.inputs.length; ++i) {
        const input = node.inputs[i];
        const gi = inputGrads[i];
        if (input && gi) accumulate(input, gi);
      }
    }
  });

  if (!options.retainGraph) {
    for (const t of order) {
      const node = t.gradFn!;
      node.backward = null;
      node.inputs = node.inputs.map(() => null);
    }
  }
}
