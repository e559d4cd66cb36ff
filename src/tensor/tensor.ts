/**
 * Tensor: a dtype, a shape and strides over shared native storage, plus autograd state.
 * Views (reshape of contiguous data, permute, transpose, narrow, expand, ...) share
 * storage. Methods are thin forwards to the functional ops in ./ops/*.
 */
import { ArgumentError, DisposedError, DTypeError, formatShape } from '../errors.ts';
import { runBackward, type BackwardOptions, type GradNode } from './autograd.ts';
import { DTYPE_ID, DTYPE_SIZE, type DType } from './dtype.ts';
import { Storage } from './memory.ts';
import type { NativeTensor } from '../../native/index.d.ts';
import * as A from './ops/activation.ts';
import * as E from './ops/elementwise.ts';
import * as I from './ops/index.ts';
import * as L from './ops/linalg.ts';
import * as R from './ops/reduce.ts';
import * as S from './ops/shape.ts';

export { HUGE_PAGE_MIN_BYTES, Storage } from './memory.ts';

/** Row-major strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; --i) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

/** Number of elements of a shape. */
export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Element arrays a tensor's data can be read into or created from. */
export type TypedArray = Float32Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

/** Nested number arrays, as `tensor()` and `tolist()` use them. */
export type NestedArray = number | boolean | NestedArray[];

export class Tensor implements NativeTensor {
  readonly storage: Storage;
  /** Offset of element [0, ..., 0] in the storage, in elements. */
  readonly offset: number;
  readonly shape: readonly number[];
  /** Strides in elements. */
  readonly strides: readonly number[];
  readonly dtype: DType;
  /** Numeric dtype code shared with the addon. */
  readonly dtypeId: number;
  /** The view packed for the addon: [offset, dtypeId, ndim, ...shape, ...strides]. */
  readonly meta: Float64Array;
  /** Whether autograd records ops on this tensor. */
  requiresGrad = false;
  /** Accumulated gradient after backward (leaves, and non-leaves that retainGrad()). */
  grad: Tensor | null = null;
  /** The node that produced this tensor, null for leaves. */
  gradFn: GradNode | null = null;
  /** Set by retainGrad() on a non-leaf. */
  retainsGrad = false;

  constructor(storage: Storage, shape: readonly number[], strides: readonly number[], offset: number, dtype: DType) {
    this.storage = storage;
    this.shape = shape;
    this.strides = strides;
    this.offset = offset;
    this.dtype = dtype;
    this.dtypeId = DTYPE_ID[dtype];
    const nd = shape.length;
    const meta = new Float64Array(3 + 2 * nd);
    meta[0] = offset;
    meta[1] = this.dtypeId;
    meta[2] = nd;
    for (let i = 0; i < nd; ++i) {
      meta[3 + i] = shape[i];
      meta[3 + nd + i] = strides[i];
    }
    this.meta = meta;
  }

  /** A new contiguous tensor whose memory is not cleared: only for outputs a kernel overwrites entirely. */
  static uninitialized(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    return new Tensor(new Storage(numelOf(shape) * DTYPE_SIZE[dtype], false), [...shape], contiguousStrides(shape), 0, dtype);
  }

  /** A new contiguous tensor; its memory starts zeroed. */
  static empty(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new ArgumentError(`empty: shape ${formatShape(shape)} has an invalid size ${d}`);
    }
    const storage = new Storage(numelOf(shape) * DTYPE_SIZE[dtype]);
    return new Tensor(storage, [...shape], contiguousStrides(shape), 0, dtype);
  }

  /** The storage's buffer, read by the addon (a buffer of length 0 once the storage was released). */
  get buffer(): ArrayBuffer {
    return this.storage.buffer;
  }

  get ndim(): number {
    return this.shape.length;
  }

  get numel(): number {
    return numelOf(this.shape);
  }

  /** Leaves are tensors not produced by a recorded op. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  get disposed(): boolean {
    return this.storage.disposed;
  }

  /** size() is the shape; size(dim) one entry (negative dims count from the end). */
  size(): readonly number[];
  size(dim: number): number;
  size(dim?: number): number | readonly number[] {
    if (dim === undefined) return this.shape;
    return this.shape[S.normalizeDim('size', dim, this.ndim)];
  }

  /** True when the elements are laid out row-major without gaps. */
  isContiguous(): boolean {
    let expected = 1;
    for (let i = this.ndim - 1; i >= 0; --i) {
      if (this.shape[i] !== 1 && this.strides[i] !== expected) return false;
      expected *= this.shape[i];
    }
    return true;
  }

  /** Throws DisposedError if the storage was released. */
  assertAlive(op: string): void {
    if (this.storage.disposed) throw new DisposedError(`${op}: tensor of shape ${formatShape(this.shape)} was disposed`);
  }

  /** Releases the storage now (shared with every view of it). */
  dispose(): void {
    this.storage.release();
    this.grad = null;
    this.gradFn = null;
  }

  // ---- data access -------------------------------------------------------

  /** A copy of the elements in row-major order; bfloat16 reads as Float32Array. */
  toArray(): TypedArray {
    this.assertAlive('toArray');
    const src = this.dtype === 'bfloat16' ? S.contiguous(E.cast(this, 'float32')) : S.contiguous(this);
    const n = src.numel;
    const byteOffset = src.offset * DTYPE_SIZE[src.dtype];
    switch (src.dtype) {
      case 'float32':
        return new Float32Array(src.buffer, byteOffset, n).slice();
      case 'int32':
        return new Int32Array(src.buffer, byteOffset, n).slice();
      case 'int64':
        return new BigInt64Array(src.buffer, byteOffset, n).slice();
      default:
        return new Uint8Array(src.buffer, byteOffset, n).slice();
    }
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.numel !== 1) throw new ArgumentError(`item: tensor has ${this.numel} elements (shape ${formatShape(this.shape)}), expected 1`);
    const v = this.toArray()[0];
    return typeof v === 'bigint' ? Number(v) : v;
  }

  /** Nested arrays of numbers (booleans for bool). */
  tolist(): NestedArray {
    const flat = this.toArray();
    const isBool = this.dtype === 'bool';
    let pos = 0;
    const build = (dim: number): NestedArray => {
      if (dim === this.ndim) {
        const v = flat[pos++];
        const n = typeof v === 'bigint' ? Number(v) : v;
        return isBool ? n !== 0 : n;
      }
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[dim]; ++i) out.push(build(dim + 1));
      return out;
    };
    return build(0);
  }

  toString(): string {
    return `Tensor(shape=${formatShape(this.shape)}, dtype=${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }

  // ---- autograd ----------------------------------------------------------

  /** Computes grads of this tensor w.r.t. the leaves; `grad` is required unless it is a scalar. */
  backward(grad?: Tensor, options?: BackwardOptions): void {
    runBackward(this, grad, options);
  }

  /** Sets requiresGrad on a leaf and returns it. */
  requiresGrad_(flag = true): this {
    if (!this.isLeaf && !flag) throw new ArgumentError('requiresGrad_: only leaves can stop requiring grad; use detach()');
    if (flag && !(this.dtype === 'float32' || this.dtype === 'bfloat16')) {
      throw new DTypeError(`requiresGrad_: only float tensors can require grad, got ${this.dtype}`);
    }
    this.requiresGrad = flag;
    return this;
  }

  /** Keeps .grad on this non-leaf tensor after backward. */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  /**
   * Points this tensor at another tensor's data (storage, view and dtype), keeping its
   * identity and autograd flags: torch's `tensor.data = source`. Holders of this object
   * (module fields, optimizers) see the new data. Not recorded by autograd.
   */
  setData(source: Tensor): void {
    source.assertAlive('setData');
    const self = this as { -readonly [K in keyof Tensor]: Tensor[K] };
    self.storage = source.storage;
    self.shape = source.shape;
    self.strides = source.strides;
    self.offset = source.offset;
    self.dtype = source.dtype;
    self.dtypeId = source.dtypeId;
    self.meta = source.meta;
  }

  /** A view that shares storage but is cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset, this.dtype);
  }

  // ---- forwards to ops ---------------------------------------------------

  reshape(...shape: number[] | [readonly number[]]): Tensor { return S.reshape(this, S.shapeArg(shape)); }
  view(...shape: number[] | [readonly number[]]): Tensor { return S.view(this, S.shapeArg(shape)); }
  permute(...dims: number[] | [readonly number[]]): Tensor { return S.permute(this, S.shapeArg(dims)); }
  transpose(dim0: number, dim1: number): Tensor { return S.transpose(this, dim0, dim1); }
  /** Transpose of the last two dims. */
  get mT(): Tensor { return S.transpose(this, -2, -1); }
  flatten(startDim = 0, endDim = -1): Tensor { return S.flatten(this, startDim, endDim); }
  unflatten(dim: number, sizes: readonly number[]): Tensor { return S.unflatten(this, dim, sizes); }
  squeeze(dim?: number | readonly number[]): Tensor { return S.squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return S.unsqueeze(this, dim); }
  expand(...shape: number[] | [readonly number[]]): Tensor { return S.expand(this, S.shapeArg(shape)); }
  expandAs(other: Tensor): Tensor { return S.expand(this, other.shape); }
  narrow(dim: number, start: number, length: number): Tensor { return S.narrow(this, dim, start, length); }
  slice(dim: number, start?: number, end?: number, step?: number): Tensor { return S.slice(this, dim, start, end, step); }
  select(dim: number, index: number): Tensor { return S.select(this, dim, index); }
  contiguous(): Tensor { return S.contiguous(this); }
  clone(): Tensor { return S.clone(this); }
  split(sizeOrSections: number | readonly number[], dim = 0): Tensor[] { return S.split(this, sizeOrSections, dim); }
  chunk(chunks: number, dim = 0): Tensor[] { return S.chunk(this, chunks, dim); }
  repeat(...repeats: number[] | [readonly number[]]): Tensor { return S.repeat(this, S.shapeArg(repeats)); }
  roll(shifts: number | readonly number[], dims?: number | readonly number[]): Tensor { return S.roll(this, shifts, dims); }
  tril(diagonal = 0): Tensor { return S.tril(this, diagonal); }
  triu(diagonal = 0): Tensor { return S.triu(this, diagonal); }
  /** Converts to another dtype (a copy unless it already has it). */
  to(dtype: DType): Tensor { return E.cast(this, dtype); }
  float(): Tensor { return E.cast(this, 'float32'); }
  bfloat16(): Tensor { return E.cast(this, 'bfloat16'); }
  /** Copies src (broadcast, cast) into this tensor in place; not recorded by autograd. */
  copy_(src: Tensor): this { S.copyInto(this, src); return this; }
  /** Fills this tensor in place; not recorded by autograd. */
  fill_(value: number): this { S.fillInto(this, value); return this; }
  zero_(): this { return this.fill_(0); }

  add(other: Tensor | number, alpha?: number): Tensor { return E.add(this, other, alpha); }
  sub(other: Tensor | number, alpha?: number): Tensor { return E.sub(this, other, alpha); }
  mul(other: Tensor | number): Tensor { return E.mul(this, other); }
  div(other: Tensor | number): Tensor { return E.div(this, other); }
  pow(exponent: Tensor | number): Tensor { return E.pow(this, exponent); }
  maximum(other: Tensor | number): Tensor { return E.maximum(this, other); }
  minimum(other: Tensor | number): Tensor { return E.minimum(this, other); }
  eq(other: Tensor | number): Tensor { return E.eq(this, other); }
  ne(other: Tensor | number): Tensor { return E.ne(this, other); }
  lt(other: Tensor | number): Tensor { return E.lt(this, other); }
  le(other: Tensor | number): Tensor { return E.le(this, other); }
  gt(other: Tensor | number): Tensor { return E.gt(this, other); }
  ge(other: Tensor | number): Tensor { return E.ge(this, other); }
  neg(): Tensor { return E.neg(this); }
  exp(): Tensor { return E.exp(this); }
  log(): Tensor { return E.log(this); }
  sqrt(): Tensor { return E.sqrt(this); }
  rsqrt(): Tensor { return E.rsqrt(this); }
  abs(): Tensor { return E.abs(this); }
  sin(): Tensor { return E.sin(this); }
  cos(): Tensor { return E.cos(this); }
  erf(): Tensor { return E.erf(this); }
  square(): Tensor { return E.mul(this, this); }
  reciprocal(): Tensor { return E.reciprocal(this); }
  clamp(min?: number | null, max?: number | null): Tensor { return E.clamp(this, min, max); }
  maskedFill(mask: Tensor, value: number): Tensor { return I.maskedFill(this, mask, value); }
  indexSelect(dim: number, index: Tensor): Tensor { return I.indexSelect(this, dim, index); }
  gather(dim: number, index: Tensor): Tensor { return I.gather(this, dim, index); }

  sum(dim?: number | readonly number[] | null, keepdim = false): Tensor { return R.sum(this, dim, keepdim); }
  mean(dim?: number | readonly number[] | null, keepdim = false): Tensor { return R.mean(this, dim, keepdim); }
  amax(dim?: number | readonly number[] | null, keepdim = false): Tensor { return R.amax(this, dim, keepdim); }
  amin(dim?: number | readonly number[] | null, keepdim = false): Tensor { return R.amin(this, dim, keepdim); }
  argmax(dim?: number | null, keepdim = false): Tensor { return R.argmax(this, dim, keepdim); }
  argmin(dim?: number | null, keepdim = false): Tensor { return R.argmin(this, dim, keepdim); }
  var(dim?: number | readonly number[] | null, options?: R.VarOptions): Tensor { return R.variance(this, dim, options); }
  std(dim?: number | readonly number[] | null, options?: R.VarOptions): Tensor { return R.std(this, dim, options); }
  logsumexp(dim: number | readonly number[], keepdim = false): Tensor { return R.logsumexp(this, dim, keepdim); }
  norm(p: number = 2, dim?: number | readonly number[] | null, keepdim = false): Tensor { return R.norm(this, p, dim, keepdim); }

  matmul(other: Tensor): Tensor { return L.matmul(this, other); }

  relu(): Tensor { return A.relu(this); }
  sigmoid(): Tensor { return A.sigmoid(this); }
  tanh(): Tensor { return A.tanh(this); }
  softmax(dim: number): Tensor { return A.softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return A.logSoftmax(this, dim); }
}
