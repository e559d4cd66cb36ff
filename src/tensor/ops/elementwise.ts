/**
 * Elementwise ops: broadcasting binary arithmetic and comparisons (native/src/binary.cc),
 * dtype casts, and the unary math of ./unary.ts re-exported so the family has one entry.
 */
import { DTypeError } from '../../errors.ts';
import { record } from '../autograd.ts';
import { isFloating, promoteTypes, type DType } from '../dtype.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';
import { scalarTensor } from '../creation.ts';
import { broadcastShapes, expand, shapeEquals } from './shape.ts';
import { emptyActivation, isChannelsLast } from './spatial.ts';
import { log, neg, where } from './unary.ts';

export * from './unary.ts';

/** Binary op codes shared with native/src/binary.cc. */
export const BINARY_OP = {
  add: 0, sub: 1, mul: 2, div: 3, maximum: 4, minimum: 5, pow: 6,
  eq: 7, ne: 8, lt: 9, le: 10, gt: 11, ge: 12, logicalAnd: 13, logicalOr: 14, logicalXor: 15, atan2: 16,
} as const;

type BinaryName = keyof typeof BINARY_OP;

/** cast: converts to a dtype (x itself when it already has it). Differentiable between float dtypes. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  x.assertAlive('to');
  const out = Tensor.uninitialized(x.shape, dtype);
  native.copy(x, out);
  if (!isFloating(dtype) || !isFloating(x.dtype)) return out;
  return record(out, 'cast', [x], (g) => [cast(g, x.dtype)]);
}

// A JS number takes the tensor's dtype when that represents it (as torch's wrapped scalars do),
// else float32.
function asOperand(v: Tensor | number, like: Tensor): Tensor {
  if (v instanceof Tensor) return v;
  const dtype = isFloating(like.dtype) || Number.isInteger(v) ? like.dtype : 'float32';
  return scalarTensor(v, dtype === 'bool' && typeof v === 'number' && v !== 0 && v !== 1 ? 'int64' : dtype);
}

function operands(name: string, a: Tensor | number, b: Tensor | number, floatOnly = false): [Tensor, Tensor, number[]] {
  if (!(a instanceof Tensor) && !(b instanceof Tensor)) throw new DTypeError(`${name}: at least one operand must be a tensor`);
  let x = asOperand(a, b instanceof Tensor ? b : (a as Tensor));
  let y = asOperand(b, x);
  x.assertAlive(name);
  y.assertAlive(name);
  // A 0-d operand does not decide the result dtype unless both are of one kind (torch's rule).
  let dtype: DType;
  if (x.ndim === 0 && y.ndim > 0 && isFloating(x.dtype) === isFloating(y.dtype)) dtype = y.dtype;
  else if (y.ndim === 0 && x.ndim > 0 && isFloating(x.dtype) === isFloating(y.dtype)) dtype = x.dtype;
  else dtype = promoteTypes(x.dtype, y.dtype);
  if (floatOnly && !isFloating(dtype)) dtype = 'float32';
  x = cast(x, dtype);
  y = cast(y, dtype);
  return [x, y, broadcastShapes(name, x.shape, y.shape)];
}

// A channels-last activation keeps its layout through a binary op whose other operand is
// channels-last too or broadcast (a residual add, a per-channel scale), as torch's memory-format
// propagation does, so the convolutions after it run without reorders; otherwise row-major.
function channelsLastResult(x: Tensor, y: Tensor, shape: number[]): boolean {
  const full = (t: Tensor) => shapeEquals(t.shape, shape);
  if (full(x) && isChannelsLast(x)) return !full(y) || isChannelsLast(y);
  return !full(x) && full(y) && isChannelsLast(y);
}

function runBinary(op: BinaryName, x: Tensor, y: Tensor, shape: number[], outDtype: DType): Tensor {
  const out = emptyActivation(shape, outDtype, channelsLastResult(x, y, shape));
  const xe = shapeEquals(x.shape, shape) ? x : expand(x.detach(), shape);
  const ye = shapeEquals(y.shape, shape) ? y : expand(y.detach(), shape);
  native.binary(BINARY_OP[op], xe, ye, out);
  return out;
}

function arith(op: BinaryName, a: Tensor | number, b: Tensor | number, backward: (g: Tensor, x: Tensor, y: Tensor, out: Tensor) => (Tensor | null)[], floatOnly = false): Tensor {
  const [x, y, shape] = operands(op, a, b, floatOnly);
  const out = runBinary(op, x, y, shape, x.dtype);
  return record(out, op, [x, y], (g) => backward(g, x, y, out));
}

/** a + alpha·b, broadcasting. */
export function add(a: Tensor | number, b: Tensor | number, alpha = 1): Tensor {
  if (alpha !== 1) b = mul(b, alpha);
  return arith('add', a, b, (g) => [g, g]);
}

/** a − alpha·b, broadcasting. */
export function sub(a: Tensor | number, b: Tensor | number, alpha = 1): Tensor {
  if (alpha !== 1) b = mul(b, alpha);
  return arith('sub', a, b, (g) => [g, neg(g)]);
}

/** a · b, broadcasting. */
export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  return arith('mul', a, b, (g, x, y) => [mul(g, y), mul(g, x)]);
}

/** a / b, broadcasting; integer operands give float32 (true division). */
export function div(a: Tensor | number, b: Tensor | number): Tensor {
  return arith('div', a, b, (g, _x, y, out) => [div(g, y), neg(div(mul(g, out), y))], true);
}

/** a ** b, broadcasting. */
export function pow(a: Tensor | number, b: Tensor | number): Tensor {
  return arith('pow', a, b, (g, x, y, out) => {
    const gx = mul(mul(g, y), pow(x, sub(y, 1)));
    // d/dy x^y = x^y·ln x; where x == 0 torch defines it as 0 (avoids 0·-inf).
    const gy = y.requiresGrad ? where(x.eq(0), 0, mul(mul(g, out), log(x))) : null;
    return [gx, gy];
  });
}

// maximum/minimum send the grad to the chosen operand and split it on ties (as torch does).
function extremum(op: 'maximum' | 'minimum', a: Tensor | number, b: Tensor | number): Tensor {
  return arith(op, a, b, (g, x, y) => {
    const xWins = op === 'maximum' ? x.gt(y) : x.lt(y);
    const tie = x.eq(y);
    const half = mul(g, 0.5);
    return [where(xWins, g, where(tie, half, 0)), where(xWins, 0, where(tie, half, g))];
  });
}

/** Elementwise maximum (NaN propagates). */
export function maximum(a: Tensor | number, b: Tensor | number): Tensor {
  return extremum('maximum', a, b);
}

/** Elementwise minimum (NaN propagates). */
export function minimum(a: Tensor | number, b: Tensor | number): Tensor {
  return extremum('minimum', a, b);
}

function compare(op: BinaryName, a: Tensor | number, b: Tensor | number): Tensor {
  const [x, y, shape] = operands(op, a, b);
  return runBinary(op, x, y, shape, 'bool');
}

/** a == b (bool). */
export const eq = (a: Tensor | number, b: Tensor | number): Tensor => compare('eq', a, b);
/** a != b (bool). */
export const ne = (a: Tensor | number, b: Tensor | number): Tensor => compare('ne', a, b);
/** a < b (bool). */
export const lt = (a: Tensor | number, b: Tensor | number): Tensor => compare('lt', a, b);
/** a <= b (bool). */
export const le = (a: Tensor | number, b: Tensor | number): Tensor => compare('le', a, b);
/** a > b (bool). */
export const gt = (a: Tensor | number, b: Tensor | number): Tensor => compare('gt', a, b);
/** a >= b (bool). */
export const ge = (a: Tensor | number, b: Tensor | number): Tensor => compare('ge', a, b);
/** Logical and of truthiness (bool). */
export const logicalAnd = (a: Tensor | number, b: Tensor | number): Tensor => compare('logicalAnd', a, b);
/** Logical or of truthiness (bool). */
export const logicalOr = (a: Tensor | number, b: Tensor | number): Tensor => compare('logicalOr', a, b);
/** Logical exclusive or of truthiness (bool). */
export const logicalXor = (a: Tensor | number, b: Tensor | number): Tensor => compare('logicalXor', a, b);
