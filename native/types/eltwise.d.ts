import type { NativeTensor } from './core.d.ts';

export interface NativeEltwise {
  /**
   * dst = f(src) with oneDNN eltwise algorithm `alg` (ELTWISE_ALG in src/tensor/ops/unary.ts)
   * and its alpha/beta. src and dst: contiguous, one shape, one float dtype; dst may be src.
   */
  eltwise(alg: number, alpha: number, beta: number, src: NativeTensor, dst: NativeTensor): void;
  /**
   * diffSrc = f'(·)·diffDst for the same algorithm; data is the forward's dst for the
   * *Dst algorithms, else its src. All contiguous, one shape, one float dtype.
   */
  eltwiseBackward(alg: number, alpha: number, beta: number, data: NativeTensor, diffDst: NativeTensor, diffSrc: NativeTensor): void;
  /**
   * dst = f(src) for the addon's own loops (MATH_OP in src/tensor/ops/unary.ts: erf, sin, cos,
   * log, clamp to [alpha, beta]); contiguous, one shape, one float dtype.
   */
  unaryMath(op: number, alpha: number, beta: number, src: NativeTensor, dst: NativeTensor): void;
  /**
   * out = cond ? a : b over out's shape. cond is bool; a, b and out share any dtype; cond, a
   * and b have out's shape and may broadcast through zero strides.
   */
  where(cond: NativeTensor, a: NativeTensor, b: NativeTensor, out: NativeTensor): void;
  /** dst = softmax (or log-softmax) of src along axis; contiguous, one shape, one float dtype. */
  softmax(src: NativeTensor, dst: NativeTensor, axis: number, isLog: boolean): void;
  /** diffSrc of softmax (or log-softmax) along axis from its output dst and diffDst; contiguous, one float dtype. */
  softmaxBackward(dst: NativeTensor, diffDst: NativeTensor, diffSrc: NativeTensor, axis: number, isLog: boolean): void;
}
