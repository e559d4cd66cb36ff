/**
 * Pooling on oneDNN (native/src/pool.cc): max/avg pool 1d/2d/3d and adaptive average
 * pooling, forward and backward. Output sizes, ceil mode and padding limits follow torch;
 * inputs may be row-major or channels-last and the output keeps the layout.
 */
import { ArgumentError, DTypeError, formatShape, ShapeError } from '../../errors.ts';
import { needsGrad, record } from '../autograd.ts';
import { tensor } from '../creation.ts';
import { isFloating } from '../dtype.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';
import { cast, mul } from './elementwise.ts';
import { contiguous, reshape, squeeze, unsqueeze } from './shape.ts';
import { emptyActivation, isChannelsLast, spatialList, withLayout, type SpatialArg } from './spatial.ts';

/** Pooling algorithm codes shared with native/src/pool.cc. */
export const POOL_ALG = { max: 0, avgIncludePad: 1, avgExcludePad: 2 } as const;

/** Options of maxPoolNd. */
export interface MaxPoolOptions {
  kernelSize: SpatialArg;
  /** Defaults to kernelSize. */
  stride?: SpatialArg;
  padding?: SpatialArg;
  dilation?: SpatialArg;
  ceilMode?: boolean;
}

/** Options of avgPoolNd. */
export interface AvgPoolOptions {
  kernelSize: SpatialArg;
  stride?: SpatialArg;
  padding?: SpatialArg;
  ceilMode?: boolean;
  /** Count padded zeros in the divisor (torch default true). */
  countIncludePad?: boolean;
  divisorOverride?: number;
}

// What the kernels take, with the right padding grown to cover ceil mode's last window.
interface PoolGeometry {
  kernel: number[];
  stride: number[];
  padLeft: number[];
  padRight: number[];
  dilation: number[];
  outSize: number[];
}

// Checks x and returns it with a batch dim (torch accepts unbatched input too).
function checkInput(op: string, nd: number, x: Tensor): { xb: Tensor; unbatched: boolean } {
  x.assertAlive(op);
  if (x.ndim !== nd + 1 && x.ndim !== nd + 2) {
    throw new ShapeError(`${op}: expected a ${nd + 1}-D (unbatched) or ${nd + 2}-D (batched) input, got shape ${formatShape(x.shape)}`);
  }
  if (!isFloating(x.dtype)) throw new DTypeError(`${op}: expected a float input, got ${x.dtype}`);
  const unbatched = x.ndim === nd + 1;
  const xb = unbatched ? unsqueeze(x, 0) : x;
  if (xb.shape.slice(1).some((s) => s === 0)) {
    throw new ShapeError(`${op}: input ${formatShape(x.shape)} has an empty channel or spatial dim (only the batch may be empty)`);
  }
  return { xb, unbatched };
}

// torch's pooling_output_shape: floor or ceil division, and in ceil mode the last window must start inside the input or left padding.
function poolGeometry(
  op: string, nd: number, size: readonly number[], kernelSize: SpatialArg, strideArg: SpatialArg | undefined,
  paddingArg: SpatialArg, dilationArg: SpatialArg, ceilMode: boolean,
): PoolGeometry {
  const kernel = spatialList(op, 'kernelSize', kernelSize, nd, 1);
  const stride = strideArg === undefined || (Array.isArray(strideArg) && strideArg.length === 0) ? kernel : spatialList(op, 'stride', strideArg, nd, 1);
  const padding = spatialList(op, 'padding', paddingArg, nd, 0);
  const dilation = spatialList(op, 'dilation', dilationArg, nd, 1);
  padding.forEach((p, i) => {
    if (p > Math.floor(kernel[i] / 2)) {
      throw new ArgumentError(`${op}: padding ${formatShape(padding)} must be at most half of kernelSize ${formatShape(kernel)}`);
    }
  });
  const span = kernel.map((k, i) => dilation[i] * (k - 1) + 1);
  const outSize = size.map((L, i) => {
    let out = Math.floor((L + 2 * padding[i] - span[i] + (ceilMode ? stride[i] - 1 : 0)) / stride[i]) + 1;
    if (ceilMode && (out - 1) * stride[i] >= L + padding[i]) --out;
    return out;
  });
  if (outSize.some((s) => s < 1)) {
    throw new ShapeError(
      `${op}: input spatial size ${formatShape(size)} gives output size ${formatShape(outSize)} (kernel ${formatShape(kernel)}, stride ${formatShape(stride)}, padding ${formatShape(padding)}, dilation ${formatShape(dilation)}); output size is too small`,
    );
  }
  const padR = outSize.map((o, i) => Math.max(padding[i], (o - 1) * stride[i] + span[i] - size[i] - padding[i]));
  return { kernel, stride, padLeft: padding, padRight: padR, dilation, outSize };
}

// One oneDNN pooling over xb [N, C, ...] with its backward recorded.
function poolCore(op: string, alg: number, xb: Tensor, g: PoolGeometry): Tensor {
  const channelsLast = isChannelsLast(xb);
  const xd = withLayout(xb.detach(), channelsLast);
  const out = emptyActivation([xb.shape[0], xb.shape[1], ...g.outSize], xb.dtype, channelsLast);
  const empty = out.numel === 0;
  // Each call's options are one literal: spreading the geometry into a new object costs microseconds.
  const { kernel, stride, padLeft, padRight, dilation } = g;
  const workspace = empty ? null : native.poolForward({ alg, kernel, stride, padLeft, padRight, dilation, x: xd, out, training: needsGrad(xb) });
  return record(out, op, [xb], (grad) => {
    const gx = emptyActivation(xb.shape, xb.dtype, channelsLast);
    if (!empty) native.poolBackward({ alg, kernel, stride, padLeft, padRight, dilation, gradOut: withLayout(grad, channelsLast), gradIn: gx, workspace });
    return [gx];
  });
}

function maxPoolNd(op: string, nd: number, x: Tensor, options: MaxPoolOptions): Tensor {
  const { xb, unbatched } = checkInput(op, nd, x);
  const g = poolGeometry(op, nd, xb.shape.slice(2), options.kernelSize, options.stride, options.padding ?? 0, options.dilation ?? 1, options.ceilMode ?? false);
  const out = poolCore(op, POOL_ALG.max, xb, g);
  return unbatched ? squeeze(out, 0) : out;
}

// Per-dim factor that turns oneDNN's include-pad average (sum / kernel) into sum / divisor
// where torch clips a ceil-mode window at the end of the right padding.
function clippedScale(size: number, g: PoolGeometry, i: number): number[] {
  return Array.from({ length: g.outSize[i] }, (_, o) => {
    const start = o * g.stride[i] - g.padLeft[i];
    const end = Math.min(start + g.kernel[i], size + g.padLeft[i]);
    return g.kernel[i] / (end - start);
  });
}

function avgPoolNd(op: string, nd: number, x: Tensor, options: AvgPoolOptions): Tensor {
  const { xb, unbatched } = checkInput(op, nd, x);
  const size = xb.shape.slice(2);
  const g = poolGeometry(op, nd, size, options.kernelSize, options.stride, options.padding ?? 0, 1, options.ceilMode ?? false);
  const includePad = options.countIncludePad ?? true;
  const override = options.divisorOverride;
  if (override !== undefined && (!Number.isInteger(override) || override === 0)) {
    throw new ArgumentError(`${op}: divisorOverride must be a non-zero integer, got ${override}`);
  }
  const overhang = g.padRight.some((p, i) => p > g.padLeft[i]);
  let out: Tensor;
  if (override !== undefined) {
    const volume = g.kernel.reduce((a, b) => a * b, 1);
    out = mul(poolCore(op, POOL_ALG.avgIncludePad, xb, g), volume / override);
  } else if (includePad && overhang) {
    let scale: Tensor | null = null;
    for (let i = 0; i < nd; ++i) {
      const shape = [1, 1, ...size.map((_, j) => (j === i ? g.outSize[i] : 1))];
      const factor = reshape(tensor(clippedScale(size[i], g, i)), shape);
      scale = scale ? mul(scale, factor) : factor;
    }
    out = mul(poolCore(op, POOL_ALG.avgIncludePad, xb, g), cast(scale!, xb.dtype));
  } else {
    out = poolCore(op, includePad ? POOL_ALG.avgIncludePad : POOL_ALG.avgExcludePad, xb, g);
  }
  return unbatched ? squeeze(out, 0) : out;
}

function adaptiveAvgPoolNd(op: string, nd: number, x: Tensor, outputSize: SpatialArg): Tensor {
  const { xb, unbatched } = checkInput(op, nd, x);
  const size = xb.shape.slice(2);
  const outSize = spatialList(op, 'outputSize', outputSize, nd, 1);
  let out: Tensor;
  if (size.every((s, i) => s % outSize[i] === 0)) {
    // Even bins: a plain average pool with kernel = stride = size / outSize.
    const kernel = size.map((s, i) => s / outSize[i]);
    const zeros = new Array<number>(nd).fill(0);
    const ones = new Array<number>(nd).fill(1);
    out = poolCore(op, POOL_ALG.avgIncludePad, xb, { kernel, stride: kernel, padLeft: zeros, padRight: zeros, dilation: ones, outSize });
  } else {
    const xd = contiguous(xb.detach());
    const raw = Tensor.empty([xb.shape[0], xb.shape[1], ...outSize], xb.dtype);
    if (raw.numel > 0) native.adaptiveAvgPool(xd, raw);
    out = record(raw, op, [xb], (grad) => {
      const gx = Tensor.empty(xb.shape, xb.dtype);
      if (raw.numel > 0) native.adaptiveAvgPoolBackward(contiguous(grad), gx);
      return [gx];
    });
  }
  return unbatched ? squeeze(out, 0) : out;
}

/** Max pooling over x [N, C, L] (torch.nn.functional.max_pool1d). */
export function maxPool1d(x: Tensor, options: MaxPoolOptions): Tensor {
  return maxPoolNd('maxPool1d', 1, x, options);
}
/** Max pooling over x [N, C, H, W]. */
export function maxPool2d(x: Tensor, options: MaxPoolOptions): Tensor {
  return maxPoolNd('maxPool2d', 2, x, options);
}
/** Max pooling over x [N, C, D, H, W]. */
export function maxPool3d(x: Tensor, options: MaxPoolOptions): Tensor {
  return maxPoolNd('maxPool3d', 3, x, options);
}
/** Average pooling over x [N, C, L] (torch.nn.functional.avg_pool1d). */
export function avgPool1d(x: Tensor, options: AvgPoolOptions): Tensor {
  return avgPoolNd('avgPool1d', 1, x, options);
}
/** Average pooling over x [N, C, H, W]. */
export function avgPool2d(x: Tensor, options: AvgPoolOptions): Tensor {
  return avgPoolNd('avgPool2d', 2, x, options);
}
/** Average pooling over x [N, C, D, H, W]. */
export function avgPool3d(x: Tensor, options: AvgPoolOptions): Tensor {
  return avgPoolNd('avgPool3d', 3, x, options);
}
/** Average pooling of x [N, C, L] to a fixed output size (torch's bin edges floor(i·L/out)..ceil((i+1)·L/out)). */
export function adaptiveAvgPool1d(x: Tensor, outputSize: SpatialArg): Tensor {
  return adaptiveAvgPoolNd('adaptiveAvgPool1d', 1, x, outputSize);
}
/** Average pooling of x [N, C, H, W] to a fixed output size. */
export function adaptiveAvgPool2d(x: Tensor, outputSize: SpatialArg): Tensor {
  return adaptiveAvgPoolNd('adaptiveAvgPool2d', 2, x, outputSize);
}
/** Average pooling of x [N, C, D, H, W] to a fixed output size. */
export function adaptiveAvgPool3d(x: Tensor, outputSize: SpatialArg): Tensor {
  return adaptiveAvgPoolNd('adaptiveAvgPool3d', 3, x, outputSize);
}
