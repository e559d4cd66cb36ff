/**
 * Unary elementwise math and where/clamp, plus the helpers the activations share. Float math
 * runs over contiguous data on oneDNN eltwise (native/src/eltwise.cc) with oneDNN's backward,
 * or on the addon's own loops (MATH_OP) where oneDNN lacks the function or differs from torch.
 * Integer inputs of the float functions are promoted to float32, as torch does; neg, abs and
 * clamp keep integer dtypes.
 */
import { ArgumentError, DTypeError } from '../../errors.ts';
import { record } from '../autograd.ts';
import { isFloating, promoteTypes, type DType } from '../dtype.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';
import { scalarTensor } from '../creation.ts';
import { cast, div, ge, le, logicalAnd, lt, maximum, minimum, mul } from './elementwise.ts';
import { broadcastShapes, contiguous, expand, shapeEquals } from './shape.ts';
import { emptyActivation, isChannelsLast, withLayout } from './spatial.ts';

/** oneDNN eltwise algorithm codes shared with native/src/eltwise.cc. The *Dst forms differentiate from the output. */
export const ELTWISE_ALG = {
  relu: 0, geluErf: 1, geluTanh: 2, logistic: 3, tanh: 4, exp: 5, log: 6, sqrt: 7, abs: 8, swish: 9,
  clip: 10, linear: 11, pow: 12, square: 13, reluDst: 14, logisticDst: 15, tanhDst: 16, expDst: 17, sqrtDst: 18,
} as const;

/**
 * Codes of the addon's own loops (native/src/eltwise.cc, MathOp): functions oneDNN lacks, and
 * those where oneDNN's jit differs from torch at special values (its relu and clip turn NaN
 * into a number, its exp maps NaN to inf, its log is off by ~1e-6 near 1).
 */
export const MATH_OP = { erf: 0, sin: 1, cos: 2, log: 3, clamp: 4, relu: 5, exp: 6, rsqrt: 7 } as const;

/** A oneDNN eltwise algorithm with its parameters (alpha, beta as oneDNN defines them). */
export interface EltwiseSpec {
  alg: keyof typeof ELTWISE_ALG;
  alpha?: number;
  beta?: number;
}

/** A backward rule of a unary map: the output grad, the dense (contiguous or channels-last) input and the output to input grad. */
type MapGrad = (g: Tensor, src: Tensor, out: Tensor) => Tensor;

// The memory of a dense tensor (contiguous or channels-last) as a flat contiguous view.
function flat(t: Tensor): Tensor {
  return new Tensor(t.storage, [t.numel], [1], t.offset, t.dtype);
}

// Runs a same-shape kernel on x's memory and records `grad`. A channels-last x keeps its layout
// (a CNN's activations stay channels-last through ReLU in training too); anything else not
// contiguous is copied first.
function mapOp(name: string, x: Tensor, run: (src: Tensor, out: Tensor) => void, grad: MapGrad): Tensor {
  x.assertAlive(name);
  const channelsLast = isChannelsLast(x);
  const src = channelsLast ? x.detach() : contiguous(x.detach());
  const out = emptyActivation(src.shape, src.dtype, channelsLast);
  run(flat(src), flat(out));
  return record(out, name, [x], (g) => [grad(g, src, out)]);
}

/** The input grad of a oneDNN eltwise algorithm: `data` is the forward's output for the *Dst algorithms, else its input. */
export function eltwiseGrad(spec: EltwiseSpec, data: Tensor, g: Tensor): Tensor {
  const channelsLast = isChannelsLast(data);
  const dense = channelsLast ? data : contiguous(data);
  const gx = emptyActivation(data.shape, data.dtype, channelsLast);
  native.eltwiseBackward(ELTWISE_ALG[spec.alg], spec.alpha ?? 0, spec.beta ?? 0, flat(dense), flat(withLayout(cast(g, data.dtype), channelsLast)), flat(gx));
  return gx;
}

/** Applies a oneDNN eltwise algorithm to a float tensor, differentiated by oneDNN's eltwise backward unless `grad` is given. */
export function eltwiseOp(name: string, x: Tensor, spec: EltwiseSpec, grad?: MapGrad): Tensor {
  const useDst = ELTWISE_ALG[spec.alg] >= ELTWISE_ALG.reluDst;
  return mapOp(
    name,
    x,
    (src, out) => native.eltwise(ELTWISE_ALG[spec.alg], spec.alpha ?? 0, spec.beta ?? 0, src, out),
    grad ?? ((g, src, out) => eltwiseGrad(spec, useDst ? out : src, g)),
  );
}

/** Applies one of the addon's own loops (MATH_OP) to a float tensor; clamp reads its bounds from alpha and beta. */
export function mathOp(name: keyof typeof MATH_OP, x: Tensor, grad: MapGrad, alpha = 0, beta = 0): Tensor {
  return mapOp(name, x, (src, out) => native.unaryMath(MATH_OP[name], alpha, beta, src, out), grad);
}

// The float functions take integer and bool inputs as float32 (torch's promotion for them).
function promoteToFloat(op: string, x: Tensor): Tensor {
  x.assertAlive(op);
  return isFloating(x.dtype) ? x : cast(x, 'float32');
}

function rejectBool(op: string, x: Tensor): void {
  if (x.dtype === 'bool') throw new DTypeError(`${op}: input has dtype bool, expected a numeric dtype`);
}

/** −x */
export function neg(x: Tensor): Tensor {
  rejectBool('neg', x);
  if (!isFloating(x.dtype)) return mul(x, -1);
  return eltwiseOp('neg', x, { alg: 'linear', alpha: -1 }, (g) => neg(g));
}

/** eˣ */
export function exp(x: Tensor): Tensor {
  return mathOp('exp', promoteToFloat('exp', x), (g, _src, out) => eltwiseGrad({ alg: 'expDst' }, out, g));
}

/** Natural log. */
export function log(x: Tensor): Tensor {
  return mathOp('log', promoteToFloat('log', x), (g, src) => div(g, src));
}

/** √x */
export function sqrt(x: Tensor): Tensor {
  return eltwiseOp('sqrt', promoteToFloat('sqrt', x), { alg: 'sqrtDst' });
}

/** 1/√x */
export function rsqrt(x: Tensor): Tensor {
  return mathOp('rsqrt', promoteToFloat('rsqrt', x), (g, src) => eltwiseGrad({ alg: 'pow', alpha: 1, beta: -0.5 }, src, g));
}

/** |x|; the grad at 0 is 0, as in torch. */
export function abs(x: Tensor): Tensor {
  rejectBool('abs', x);
  if (!isFloating(x.dtype)) return where(lt(x, 0), neg(x), x);
  return eltwiseOp('abs', x, { alg: 'abs' });
}

/** sin x */
export function sin(x: Tensor): Tensor {
  return mathOp('sin', promoteToFloat('sin', x), (g, src) => mul(g, cos(src)));
}

/** cos x */
export function cos(x: Tensor): Tensor {
  return mathOp('cos', promoteToFloat('cos', x), (g, src) => neg(mul(g, sin(src))));
}

/** The Gauss error function. */
export function erf(x: Tensor): Tensor {
  // d/dx erf(x) = 2/√π · e^(−x²)
  return mathOp('erf', promoteToFloat('erf', x), (g, src) => mul(g, mul(exp(neg(mul(src, src))), 2 / Math.sqrt(Math.PI))));
}

/** 1/x */
export function reciprocal(x: Tensor): Tensor {
  return eltwiseOp('reciprocal', promoteToFloat('reciprocal', x), { alg: 'pow', alpha: 1, beta: -1 });
}

/**
 * Clamps into [min, max]; either bound may be omitted (not both). If min > max every element
 * becomes max, and the grad passes where min <= x <= max, as in torch. Integer tensors stay
 * integer unless a bound is fractional.
 */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  x.assertAlive('clamp');
  const lo = min ?? null;
  const hi = max ?? null;
  if (lo === null && hi === null) throw new ArgumentError('clamp: at least one of min and max must be given');
  rejectBool('clamp', x);
  if (!isFloating(x.dtype)) {
    if ((lo === null || Number.isInteger(lo)) && (hi === null || Number.isInteger(hi))) {
      const low = lo === null ? x : maximum(x, lo);
      return hi === null ? low : minimum(low, hi);
    }
    x = cast(x, 'float32');
  }
  const grad = (g: Tensor, src: Tensor) => {
    let inside: Tensor | null = null;
    if (lo !== null) inside = ge(src, lo);
    if (hi !== null) inside = inside ? logicalAnd(inside, le(src, hi)) : le(src, hi);
    return where(inside!, g, 0);
  };
  return mathOp('clamp', x, grad, lo ?? -Infinity, hi ?? Infinity);
}

// Operands of where as tensors of one dtype, with the promotion rule of the binary ops:
// a number takes the other operand's dtype when that can hold it, and a 0-d operand does not
// decide the dtype unless both operands are of one kind (float or not).
function whereOperands(a: Tensor | number, b: Tensor | number): [Tensor, Tensor] {
  const numberDtype = (v: number, like: Tensor | null): DType => {
    if (like === null) return Number.isInteger(v) ? 'int64' : 'float32';
    if (isFloating(like.dtype)) return like.dtype;
    if (!Number.isInteger(v)) return 'float32';
    return like.dtype === 'bool' && v !== 0 && v !== 1 ? 'int64' : like.dtype;
  };
  const x = a instanceof Tensor ? a : scalarTensor(a, numberDtype(a, b instanceof Tensor ? b : null));
  const y = b instanceof Tensor ? b : scalarTensor(b, numberDtype(b, x));
  x.assertAlive('where');
  y.assertAlive('where');
  let dtype: DType;
  if (x.ndim === 0 && y.ndim > 0 && isFloating(x.dtype) === isFloating(y.dtype)) dtype = y.dtype;
  else if (y.ndim === 0 && x.ndim > 0 && isFloating(x.dtype) === isFloating(y.dtype)) dtype = x.dtype;
  else dtype = promoteTypes(x.dtype, y.dtype);
  return [cast(x, dtype), cast(y, dtype)];
}

/** cond ? a : b elementwise, broadcasting all three; a or b may be numbers. cond must be bool. */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  cond.assertAlive('where');
  if (cond.dtype !== 'bool') throw new DTypeError(`where: cond has dtype ${cond.dtype}, expected bool`);
  const [x, y] = whereOperands(a, b);
  const shape = broadcastShapes('where', cond.shape, x.shape, y.shape);
  const spread = (t: Tensor) => (shapeEquals(t.shape, shape) ? t.detach() : expand(t.detach(), shape));
  const out = Tensor.empty(shape, x.dtype);
  native.where(spread(cond), spread(x), spread(y), out);
  return record(out, 'where', [x, y], (g) => [
    x.requiresGrad ? where(cond, g, 0) : null,
    y.requiresGrad ? where(cond, 0, g) : null,
  ]);
}
