/**
 * How a chain of blocks runs, so model files need not know: without autograd each step runs
 * under `tidy` (what it makes and does not return is released when it returns) and its input is
 * released once the next step has run. The runner also knows which input is dead once its step
 * returns (every one but the chain's own input), which residual blocks use to let their last
 * fused kernel write over the skip tensor (src/nn/blocks/residual.ts).
 */
import { isGradEnabled, tidySequence } from '../tensor/autograd.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Module } from './module.ts';

/** One step of a chain: a module whose forward maps a tensor to a tensor, or a function. */
export type BlockStep = (Module & { forward(x: Tensor): Tensor }) | ((x: Tensor) => Tensor);

// The input of the step running now when nothing reads it after that step.
let deadInput: Tensor | null = null;

/** Runs x through steps in order; a step must not keep its input or output beyond its call. */
export function runBlocks(x: Tensor, steps: Iterable<BlockStep>): Tensor {
  const input = x;
  return tidySequence(x, steps, (step, x) => {
    const outer = deadInput;
    deadInput = x !== input ? x : null;
    try {
      return typeof step === 'function' ? step(x) : step.forward(x);
    } finally {
      deadInput = outer;
    }
  });
}

/** True when x is the input of the step running now, nothing reads it afterwards, and no gradient is recorded. */
export function isDeadInput(x: Tensor): boolean {
  return x === deadInput && !isGradEnabled();
}
