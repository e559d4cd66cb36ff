/** Activations, softmax and dropout. */
import type { Tensor } from '../tensor.ts';
import type { Generator } from '../random.ts';
import { pending } from './pending.ts';

/** max(x, 0) */
export function relu(x: Tensor): Tensor { return pending('relu'); }
/** x for x > 0, slope·x otherwise. */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor { return pending('leakyRelu'); }
/** GELU, exact (erf) by default or the tanh approximation. */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor { return pending('gelu'); }
/** x·sigmoid(1.702x), as in OpenAI CLIP. */
export function quickGelu(x: Tensor): Tensor { return pending('quickGelu'); }
/** x·sigmoid(x) */
export function silu(x: Tensor): Tensor { return pending('silu'); }
/** 1/(1+e⁻ˣ) */
export function sigmoid(x: Tensor): Tensor { return pending('sigmoid'); }
/** tanh x */
export function tanh(x: Tensor): Tensor { return pending('tanh'); }
/** Softmax along dim. */
export function softmax(x: Tensor, dim: number): Tensor { return pending('softmax'); }
/** log(softmax(x)) along dim, computed stably. */
export function logSoftmax(x: Tensor, dim: number): Tensor { return pending('logSoftmax'); }
/** Zeroes elements with probability p and scales the rest by 1/(1-p) when training. */
export function dropout(x: Tensor, p = 0.5, training = true, generator?: Generator): Tensor { return pending('dropout'); }
