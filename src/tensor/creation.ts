/** Tensor creation: constants, ranges, data from arrays, random tensors. */
import { ArgumentError, DTypeError, formatShape, ShapeError } from '../errors.ts';
import { DTYPE_SIZE, isFloating, type DType } from './dtype.ts';
import { native } from './native.ts';
import { defaultGenerator, type Generator } from './random.ts';
import { Tensor, type NestedArray, type TypedArray } from './tensor.ts';

/** Options shared by creation functions. */
export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

/** Options of random creation functions. */
export interface RandomOptions extends CreateOptions {
  generator?: Generator;
}

function finish(t: Tensor, options: CreateOptions | undefined): Tensor {
  if (options?.requiresGrad) t.requiresGrad_(true);
  return t;
}

function shapeOf(shape: number | readonly number[]): readonly number[] {
  return typeof shape === 'number' ? [shape] : shape;
}

/** A new tensor (its memory starts zeroed, but do not rely on it: use zeros()). */
export function empty(shape: number | readonly number[], options?: CreateOptions): Tensor {
  return finish(Tensor.empty(shapeOf(shape), options?.dtype ?? 'float32'), options);
}

/** A tensor filled with `value`. */
export function full(shape: number | readonly number[], value: number, options?: CreateOptions): Tensor {
  const t = Tensor.empty(shapeOf(shape), options?.dtype ?? 'float32');
  native.fill(t, value);
  return finish(t, options);
}

/** A tensor of zeros. */
export function zeros(shape: number | readonly number[], options?: CreateOptions): Tensor {
  return finish(Tensor.empty(shapeOf(shape), options?.dtype ?? 'float32'), options);
}

/** A tensor of ones. */
export function ones(shape: number | readonly number[], options?: CreateOptions): Tensor {
  return full(shape, 1, options);
}

/** zeros/ones/full/empty with another tensor's shape and (by default) dtype. */
export function zerosLike(t: Tensor, options?: CreateOptions): Tensor {
  return zeros(t.shape, { dtype: t.dtype, ...options });
}
export function onesLike(t: Tensor, options?: CreateOptions): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, ...options });
}
export function fullLike(t: Tensor, value: number, options?: CreateOptions): Tensor {
  return full(t.shape, value, { dtype: t.dtype, ...options });
}
export function emptyLike(t: Tensor, options?: CreateOptions): Tensor {
  return empty(t.shape, { dtype: t.dtype, ...options });
}

/** A 0-d tensor holding one value. */
export function scalarTensor(value: number, dtype: DType = 'float32'): Tensor {
  const t = Tensor.empty([], dtype);
  native.fill(t, value);
  return t;
}

/** arange(end) or arange(start, end, step): values start, start+step, ... below end. int64 unless a value is fractional. */
export function arange(start: number, end?: number, step = 1, options?: CreateOptions): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step)) throw new ArgumentError(`arange: step must be finite and non-zero, got ${step}`);
  const n = Math.max(0, Math.ceil((end - start) / step));
  const integral = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dtype = options?.dtype ?? (integral ? 'int64' : 'float32');
  const values = new Float64Array(n);
  for (let i = 0; i < n; ++i) values[i] = start + i * step;
  return finish(fromFloat64(values, [n], dtype), options);
}

/** `steps` evenly spaced values from start to end inclusive. */
export function linspace(start: number, end: number, steps: number, options?: CreateOptions): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new ArgumentError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const values = new Float64Array(steps);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  // Same split as torch: the second half counts back from end, so both ends are exact.
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; ++i) values[i] = i < half ? start + step * i : end - step * (steps - 1 - i);
  return finish(fromFloat64(values, [steps], options?.dtype ?? 'float32'), options);
}

/** An identity matrix n×m (m defaults to n). */
export function eye(n: number, m = n, options?: CreateOptions): Tensor {
  const values = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); ++i) values[i * m + i] = 1;
  return finish(fromFloat64(values, [n, m], options?.dtype ?? 'float32'), options);
}

function fromFloat64(values: Float64Array, shape: readonly number[], dtype: DType): Tensor {
  const src = Tensor.empty(shape, 'float32');
  if (dtype === 'int64' || dtype === 'int32') {
    // Integers beyond 2^24 lose precision through float32; write them directly.
    const t = Tensor.empty(shape, dtype);
    if (dtype === 'int64') {
      const view = new BigInt64Array(t.buffer, 0, values.length);
      for (let i = 0; i < values.length; ++i) view[i] = BigInt(Math.trunc(values[i]));
    } else new Int32Array(t.buffer, 0, values.length).set(values);
    return t;
  }
  new Float32Array(src.buffer, 0, values.length).set(values);
  if (dtype === 'float32') return src;
  const t = Tensor.empty(shape, dtype);
  native.copy(src, t);
  return t;
}

const TYPED_DTYPE: [new (...args: never[]) => TypedArray, DType][] = [
  [Float32Array, 'float32'],
  [Int32Array, 'int32'],
  [BigInt64Array, 'int64'],
  [Uint8Array, 'uint8'],
];

/** Creates a tensor from an existing typed array (copied) with a shape. */
export function fromTypedArray(data: TypedArray, shape: readonly number[], options?: CreateOptions): Tensor {
  const n = shape.reduce((p, q) => p * q, 1);
  if (data.length !== n) throw new ShapeError(`fromTypedArray: ${data.length} values do not fill shape ${formatShape(shape)} (${n} elements)`);
  let srcDtype: DType | undefined = TYPED_DTYPE.find(([ctor]) => data instanceof ctor)?.[1];
  if (data instanceof Uint16Array) srcDtype = 'bfloat16';
  if (!srcDtype) throw new DTypeError('fromTypedArray: unsupported array type');
  const src = Tensor.empty(shape, srcDtype);
  new Uint8Array(src.buffer, 0, n * DTYPE_SIZE[srcDtype]).set(new Uint8Array(data.buffer, data.byteOffset, n * DTYPE_SIZE[srcDtype]));
  const dtype = options?.dtype ?? srcDtype;
  if (dtype === srcDtype) return finish(src, options);
  const t = Tensor.empty(shape, dtype);
  native.copy(src, t);
  return finish(t, options);
}

/**
 * Creates a tensor from nested arrays, a number, or a typed array (shape inferred as 1-D).
 * The default dtype is float32, or bool for booleans.
 */
export function tensor(data: NestedArray | TypedArray, options?: CreateOptions): Tensor {
  if (ArrayBuffer.isView(data)) return fromTypedArray(data as TypedArray, [(data as TypedArray).length], options);
  const shape: number[] = [];
  let probe: NestedArray = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const isBool = typeof probe === 'boolean';
  const flat: number[] = [];
  const walk = (v: NestedArray, dim: number) => {
    if (dim === shape.length) {
      if (Array.isArray(v)) throw new ShapeError(`tensor: nested arrays are ragged (expected shape ${formatShape(shape)})`);
      flat.push(typeof v === 'boolean' ? (v ? 1 : 0) : v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) throw new ShapeError(`tensor: nested arrays are ragged at depth ${dim} (expected shape ${formatShape(shape)})`);
    for (const e of v) walk(e, dim + 1);
  };
  walk(data, 0);
  const dtype = options?.dtype ?? (isBool ? 'bool' : 'float32');
  return finish(fromFloat64(Float64Array.from(flat), shape, dtype === 'bool' ? 'uint8' : dtype), options).to(dtype);
}

function randomTensor(shape: number | readonly number[], options: RandomOptions | undefined, kind: 'uniform' | 'normal', a: number, b: number): Tensor {
  const dtype = options?.dtype ?? 'float32';
  if (!isFloating(dtype)) throw new DTypeError(`random: expected a float dtype, got ${dtype}`);
  const t = Tensor.empty(shapeOf(shape), dtype);
  (options?.generator ?? defaultGenerator).fill(t, kind, a, b);
  return finish(t, options);
}

/** Uniform samples in [0, 1). */
export function rand(shape: number | readonly number[], options?: RandomOptions): Tensor {
  return randomTensor(shape, options, 'uniform', 0, 1);
}

/** Standard normal samples. */
export function randn(shape: number | readonly number[], options?: RandomOptions): Tensor {
  return randomTensor(shape, options, 'normal', 0, 1);
}

/** Uniform integers in [low, high); int64 by default. */
export function randint(low: number, high: number, shape: number | readonly number[], options?: RandomOptions): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) throw new ArgumentError(`randint: need integers low < high, got ${low}, ${high}`);
  const t = Tensor.empty(shapeOf(shape), options?.dtype ?? 'int64');
  (options?.generator ?? defaultGenerator).fill(t, 'integer', low, high);
  return t;
}
