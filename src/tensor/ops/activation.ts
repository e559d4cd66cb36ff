/**
 * Activations, softmax and dropout. Activations are oneDNN eltwise algorithms with
 * oneDNN's backward (see eltwiseOp in ./unary.ts); softmax and log-softmax are oneDNN
 * softmax_v2 forward and backward (native/src/eltwise.cc).
 */
import { ArgumentError, DTypeError } from '../../errors.ts';
import { record } from '../autograd.ts';
import { isFloating } from '../dtype.ts';
import { native } from '../native.ts';
import { defaultGenerator, type Generator } from '../random.ts';
import { Tensor } from '../tensor.ts';
import { cast, mul, sub } from './elementwise.ts';
import { sum } from './reduce.ts';
import { contiguous, normalizeDim } from './shape.ts';
import { clamp, ELTWISE_ALG, eltwiseGrad, eltwiseOp, exp, mathOp } from './unary.ts';

function floatInput(op: string, x: Tensor): Tensor {
  x.assertAlive(op);
  if (!isFloating(x.dtype)) throw new DTypeError(`${op}: input has dtype ${x.dtype}, expected float32 or bfloat16`);
  return x;
}

/** max(x, 0); NaN stays NaN and the grad at 0 is 0, as in torch. Integer tensors stay integer. */
export function relu(x: Tensor): Tensor {
  x.assertAlive('relu');
  if (!isFloating(x.dtype)) return clamp(x, 0);
  return mathOp('relu', x, (g, _src, out) => eltwiseGrad({ alg: 'reluDst' }, out, g));
}

/** x for x > 0, slope·x otherwise. */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  return eltwiseOp('leakyRelu', floatInput('leakyRelu', x), { alg: 'relu', alpha: negativeSlope });
}

/** GELU, exact (erf) by default or the tanh approximation. */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new ArgumentError(`gelu: approximate must be 'none' or 'tanh', got '${String(approximate)}'`);
  }
  return eltwiseOp('gelu', floatInput('gelu', x), { alg: approximate === 'none' ? 'geluErf' : 'geluTanh' });
}

/** x·sigmoid(1.702x), as in OpenAI CLIP. */
export function quickGelu(x: Tensor): Tensor {
  return eltwiseOp('quickGelu', floatInput('quickGelu', x), { alg: 'swish', alpha: 1.702 });
}

/** x·sigmoid(x) */
export function silu(x: Tensor): Tensor {
  return eltwiseOp('silu', floatInput('silu', x), { alg: 'swish', alpha: 1 });
}

/** 1/(1+e⁻ˣ); integer inputs give float32. */
export function sigmoid(x: Tensor): Tensor {
  x.assertAlive('sigmoid');
  return eltwiseOp('sigmoid', isFloating(x.dtype) ? x : cast(x, 'float32'), { alg: 'logisticDst' });
}

/** tanh x; integer inputs give float32. */
export function tanh(x: Tensor): Tensor {
  x.assertAlive('tanh');
  return eltwiseOp('tanh', isFloating(x.dtype) ? x : cast(x, 'float32'), { alg: 'tanhDst' });
}

function softmaxOp(op: string, x: Tensor, dim: number, isLog: boolean): Tensor {
  floatInput(op, x);
  const axis = normalizeDim(op, dim, x.ndim);
  const src = contiguous(x.detach());
  const out = Tensor.uninitialized(src.shape, src.dtype);
  native.softmax(src, out, axis, isLog);
  return record(out, op, [x], (g) => {
    // oneDNN's log-softmax backward turns a NaN row (all −inf input) into ±inf; torch keeps NaN.
    // Its inputs are class scores, small next to attention maps, so composing costs little.
    if (isLog) return [sub(g, mul(exp(out), sum(g, axis, true)))];
    const gx = Tensor.uninitialized(out.shape, out.dtype);
    native.softmaxBackward(out, contiguous(cast(g, out.dtype)), gx, axis, false);
    return [gx];
  });
}

/** Softmax along dim. A row that is all −inf gives NaN, as in torch. */
export function softmax(x: Tensor, dim: number): Tensor {
  return softmaxOp('softmax', x, dim, false);
}

/** log(softmax(x)) along dim, computed stably. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return softmaxOp('logSoftmax', x, dim, true);
}

/**
 * Zeroes elements with probability p and scales the rest by 1/(1-p) when training; the mask
 * is drawn from `generator` (the default generator if none). Eval mode or p = 0 returns x.
 */
export function dropout(x: Tensor, p = 0.5, training = true, generator?: Generator): Tensor {
  floatInput('dropout', x);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new ArgumentError(`dropout: p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  if (p === 1) return mul(x, 0);
  const mask = Tensor.empty(x.shape, x.dtype);
  (generator ?? defaultGenerator).fill(mask, 'bernoulli', 1 - p, 0);
  // Kept entries become 1/(1-p) in x's dtype, so one multiply applies mask and scale.
  native.eltwise(ELTWISE_ALG.linear, 1 / (1 - p), 0, mask, mask);
  return mul(x, mask);
}
