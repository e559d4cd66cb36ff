/** Matrix products on oneDNN matmul (native/src/matmul.cc): matmul, bmm, linear. */
import { ArgumentError, DTypeError, formatShape, ShapeError } from '../../errors.ts';
import { needsGrad, record } from '../autograd.ts';
import { isFloating, promoteTypes } from '../dtype.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';
import { gelu, relu } from './activation.ts';
import { add, cast, mul } from './elementwise.ts';
import { packedWeightsOf } from './packed.ts';
import { sum } from './reduce.ts';
import { broadcastShapes, contiguous, reshape, squeeze, transpose, unsqueeze } from './shape.ts';

// oneDNN reads any strides, but its fast paths need one of the two matrix dims to be
// unit-stride and no broadcast (zero-stride) dims of size > 1.
function kernelReady(t: Tensor): Tensor {
  const n = t.ndim;
  const unitInner = t.strides[n - 1] === 1 || t.strides[n - 2] === 1 || t.shape[n - 1] === 1 || t.shape[n - 2] === 1;
  const broadcast = t.shape.some((s, i) => s > 1 && t.strides[i] === 0);
  return unitInner && !broadcast ? t : contiguous(t.detach());
}

function floatPair(op: string, a: Tensor, b: Tensor): [Tensor, Tensor] {
  if (!isFloating(a.dtype) || !isFloating(b.dtype)) throw new DTypeError(`${op}: expected float tensors, got ${a.dtype} and ${b.dtype}`);
  const dtype = promoteTypes(a.dtype, b.dtype);
  return [cast(a, dtype), cast(b, dtype)];
}

// a[..., M, K] · b[..., K, N] for rank >= 2 with broadcast batch dims.
function matmulNd(a: Tensor, b: Tensor, scale = 1): Tensor {
  const M = a.shape[a.ndim - 2];
  const K = a.shape[a.ndim - 1];
  const N = b.shape[b.ndim - 1];
  if (b.shape[b.ndim - 2] !== K) throw new ShapeError(`matmul: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} cannot be multiplied (${K} vs ${b.shape[b.ndim - 2]})`);
  const batch = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const rank = batch.length + 2;
  const pad = (t: Tensor) => (t.ndim === rank ? t : reshape(t.detach(), [...new Array<number>(rank - t.ndim).fill(1), ...t.shape]));
  const out = Tensor.uninitialized([...batch, M, N], a.dtype);
  if (out.numel > 0) {
    if (K === 0) out.zero_();
    else native.matmul({ a: kernelReady(pad(a)), b: kernelReady(pad(b)), out, scale });
  }
  return record(out, 'matmul', [a, b], (g) => [matmul(g, transpose(b, -1, -2)), matmul(transpose(a, -1, -2), g)]);
}

/**
 * matmul(a, b)·scale for operands of rank >= 2 (attention scores): one kernel when no gradient
 * is needed, matmul(a·scale, b) recorded otherwise.
 */
export function scaledMatmul(a: Tensor, b: Tensor, scale: number): Tensor {
  a.assertAlive('scaledMatmul');
  b.assertAlive('scaledMatmul');
  if (a.ndim < 2 || b.ndim < 2) throw new ShapeError(`scaledMatmul: both operands need rank >= 2, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new ArgumentError(`scaledMatmul: scale must be a finite number, got ${scale}`);
  if (needsGrad(a, b)) return matmul(mul(a, scale), b);
  [a, b] = floatPair('matmul', a, b);
  return matmulNd(a, b, scale);
}

/** What runs on a linear layer's output inside the matmul kernel: act(y), then + residual. */
export interface LinearEpilogue {
  activation?: 'geluErf' | 'geluTanh' | 'relu' | null;
  /** A tensor of the output's shape added last (a skip connection). */
  residual?: Tensor | null;
}

/**
 * linear followed by an activation and a residual add: one kernel (oneDNN post-ops) when no
 * gradient is needed, the same ops recorded one by one otherwise.
 */
export function linearEpilogue(x: Tensor, weight: Tensor, bias: Tensor | null | undefined, epilogue: LinearEpilogue): Tensor {
  const { activation = null, residual = null } = epilogue;
  if (needsGrad(x, weight, bias, residual) || weight.shape[1] === 0) {
    let y = linear(x, weight, bias);
    if (activation === 'relu') y = relu(y);
    else if (activation) y = gelu(y, activation === 'geluTanh' ? 'tanh' : 'none');
    return residual ? add(y, residual) : y;
  }
  return linearKernel(x, weight, bias, activation, residual).out;
}

/** Matrix product with torch.matmul semantics (1-D operands, batch broadcasting). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  a.assertAlive('matmul');
  b.assertAlive('matmul');
  if (a.ndim === 0 || b.ndim === 0) throw new ShapeError(`matmul: both operands need rank >= 1, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  [a, b] = floatPair('matmul', a, b);
  if (a.ndim === 1 && b.ndim === 1) return reshape(matmulNd(unsqueeze(a, 0), unsqueeze(b, 1)), []);
  if (a.ndim === 1) return squeeze(matmulNd(unsqueeze(a, 0), b), -2);
  if (b.ndim === 1) return squeeze(matmulNd(a, unsqueeze(b, 1)), -1);
  return matmulNd(a, b);
}

/** Batched matrix product of two rank-3 tensors [B, M, K] · [B, K, N]. */
export function bmm(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 3 || b.ndim !== 3 || a.shape[0] !== b.shape[0]) throw new ShapeError(`bmm: expected [B, M, K] and [B, K, N], got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  return matmul(a, b);
}

// Checks and runs out = act(x · weightᵀ + bias) + residual as one matmul (post-ops), unrecorded;
// returns the float-promoted operands the backward needs.
function linearKernel(
  x: Tensor, weight: Tensor, bias: Tensor | null | undefined, activation: LinearEpilogue['activation'], residual: Tensor | null,
): { out: Tensor; x: Tensor; weight: Tensor; b: Tensor | null; rows: number } {
  x.assertAlive('linear');
  if (weight.ndim !== 2) throw new ShapeError(`linear: weight must be [out, in], got ${formatShape(weight.shape)}`);
  const [outF, inF] = weight.shape;
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inF) throw new ShapeError(`linear: input ${formatShape(x.shape)} does not end in ${inF} features (weight ${formatShape(weight.shape)})`);
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== outF)) throw new ShapeError(`linear: bias must be [${outF}], got ${formatShape(bias.shape)}`);
  const outShape = [...x.shape.slice(0, -1), outF];
  if (residual && (residual.ndim !== outShape.length || outShape.some((d, i) => residual.shape[i] !== d))) {
    throw new ShapeError(`linear: residual has shape ${formatShape(residual.shape)}, expected the output's ${formatShape(outShape)}`);
  }
  const original = weight;
  [x, weight] = floatPair('linear', x, weight);
  const b = bias ? cast(bias, x.dtype) : null;
  // At inference the weight is read in the kernel's own layout, packed once (training changes it every step).
  const packed = weight === original && !needsGrad(x, weight, bias, residual) ? packedWeightsOf(weight) : null;
  const rows = x.shape.slice(0, -1).reduce((p, q) => p * q, 1);
  const out = inF === 0 ? Tensor.empty(outShape, x.dtype) : Tensor.uninitialized(outShape, x.dtype);
  if (out.numel > 0) {
    native.matmul({
      a: kernelReady(reshape(x.detach(), [rows, inF])), b: transpose(weight.detach(), 0, 1), bias: b ? reshape(b.detach(), [1, outF]) : null,
      out: reshape(out, [rows, outF]), activation, residual: residual ? reshape(contiguous(cast(residual, x.dtype).detach()), [rows, outF]) : null,
      packedWeights: packed,
    });
  }
  return { out, x, weight, b, rows };
}

/** y = x · weightᵀ + bias, over the last dim of x (torch.nn.functional.linear). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const k = linearKernel(x, weight, bias, null, null);
  const [outF, inF] = k.weight.shape;
  return record(k.out, 'linear', [k.x, k.weight, k.b], (g) => {
    const g2 = reshape(g, [k.rows, outF]);
    return [
      reshape(matmul(g2, k.weight), k.x.shape),
      matmul(transpose(g2, 0, 1), reshape(k.x, [k.rows, inF])),
      k.b ? sum(g2, 0) : null,
    ];
  });
}
