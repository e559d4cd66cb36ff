/**
 * Convolutions on oneDNN (native/src/conv.cc): conv1d/2d/3d and transposed conv1d/2d/3d,
 * forward and backward (input, weight and bias grads from oneDNN's backward primitives).
 * Inputs may be row-major or channels-last; the output (and the input grad) keep that layout.
 */
import type { NativeConvGeometry } from '../../../native/index.d.ts';
import { ArgumentError, DTypeError, formatShape, ShapeError } from '../../errors.ts';
import { needsGrad, record } from '../autograd.ts';
import { zerosLike } from '../creation.ts';
import { isFloating } from '../dtype.ts';
import { native } from '../native.ts';
import { Tensor } from '../tensor.ts';
import { relu } from './activation.ts';
import { add, cast, mul } from './elementwise.ts';
import { sum } from './reduce.ts';
import { contiguous, copyInto, narrow, pad, reshape, squeeze, unsqueeze } from './shape.ts';
import { packedWeightsOf } from './packed.ts';
import { emptyActivation, isChannelsLast, spatialList, withLayout, type SpatialArg } from './spatial.ts';

export type { SpatialArg } from './spatial.ts';

/** Options of convNd (torch.nn.functional.convNd). */
export interface ConvOptions {
  stride?: SpatialArg;
  /** Zero padding per side, or 'valid' (none) / 'same' (output size = input size, stride 1). */
  padding?: SpatialArg | 'valid' | 'same';
  dilation?: SpatialArg;
  groups?: number;
  /** At inference, this conv's Winograd choice instead of the process's (configure's convWinograd); absent or null: the process's. */
  winograd?: ConvWinograd | null;
}

/** When 3×3 inference convs may run as Winograd: true where measured faster (CPUs without AVX-512), 'always', or false. */
export type ConvWinograd = boolean | 'always';

const WINOGRAD_MODE = { false: 0, true: 1, always: 2 } as const;

/** Options of convTransposeNd. */
export interface ConvTransposeOptions {
  stride?: SpatialArg;
  padding?: SpatialArg;
  outputPadding?: SpatialArg;
  dilation?: SpatialArg;
  groups?: number;
}

/**
 * What runs on a convolution's output inside the same kernel: y = act(y * scale + shift + residual).
 * scale and shift are per output channel (an eval-mode batch norm folded in), residual has the
 * output's shape (a skip connection).
 */
export interface ConvEpilogue {
  scale?: Tensor | null;
  shift?: Tensor | null;
  residual?: Tensor | null;
  relu?: boolean;
  /**
   * Let the fused kernel write its output over `residual` (same shape, channels-last) instead of
   * a new tensor, as inference engines reuse a dead skip tensor; only for a residual nothing
   * reads afterwards. Ignored on the recorded (gradient) path.
   */
  overwriteResidual?: boolean;
}

// What the kernels take: per-dim stride, left/right padding and dilation (torch's, 1 = none).
type Geometry = NativeConvGeometry;

// Checks ranks and dtypes; returns x with a batch dim (torch accepts unbatched input too).
function checkOperands(op: string, nd: number, x: Tensor, weight: Tensor, bias: Tensor | null | undefined): { xb: Tensor; unbatched: boolean } {
  x.assertAlive(op);
  weight.assertAlive(op);
  bias?.assertAlive(op);
  if (x.ndim !== nd + 1 && x.ndim !== nd + 2) {
    throw new ShapeError(`${op}: expected a ${nd + 1}-D (unbatched) or ${nd + 2}-D (batched) input, got shape ${formatShape(x.shape)}`);
  }
  if (weight.ndim !== nd + 2) throw new ShapeError(`${op}: weight has shape ${formatShape(weight.shape)}, expected rank ${nd + 2}`);
  if (!isFloating(x.dtype)) throw new DTypeError(`${op}: expected a float input, got ${x.dtype}`);
  if (weight.dtype !== x.dtype) throw new DTypeError(`${op}: input dtype ${x.dtype} and weight dtype ${weight.dtype} differ`);
  if (bias && bias.dtype !== x.dtype) throw new DTypeError(`${op}: input dtype ${x.dtype} and bias dtype ${bias.dtype} differ`);
  const unbatched = x.ndim === nd + 1;
  return { xb: unbatched ? unsqueeze(x, 0) : x, unbatched };
}

function checkGroups(op: string, groups: number): number {
  if (!Number.isInteger(groups) || groups < 1) throw new ArgumentError(`${op}: groups must be a positive integer, got ${groups}`);
  return groups;
}

function checkBias(op: string, bias: Tensor | null | undefined, channels: number): void {
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== channels)) {
    throw new ShapeError(`${op}: bias has shape ${formatShape(bias.shape)}, expected [${channels}]`);
  }
}

// oneDNN reads any strides except broadcast (zero) ones.
function kernelReady(t: Tensor): Tensor {
  return t.shape.some((s, i) => s > 1 && t.strides[i] === 0) ? contiguous(t) : t;
}

// The epilogue composed from recorded ops, for when a gradient must flow through it.
function composeEpilogue(y: Tensor, e: ConvEpilogue): Tensor {
  const perChannel = [1, y.shape[1], ...y.shape.slice(2).map(() => 1)];
  if (e.scale) y = mul(y, reshape(e.scale, perChannel));
  if (e.shift) y = add(y, reshape(e.shift, perChannel));
  if (e.residual) y = add(y, e.residual);
  return e.relu ? relu(y) : y;
}

// Runs conv + epilogue as one oneDNN primitive; nothing is recorded (the caller checked no grad is
// needed). A channels-last output takes the residual as its initial contents (oneDNN's sum post-op).
function fusedConv(x: Tensor, weight: Tensor, bias: Tensor | null, g: Geometry, outShape: number[], e: ConvEpilogue, winograd: ConvWinograd | null): Tensor {
  const channelsLast = isChannelsLast(x);
  const channelVector = (t: Tensor | null | undefined) => (t ? contiguous(cast(t.detach(), 'float32')) : null);
  const accumulate = channelsLast && !!e.residual;
  const reuse = accumulate && e.overwriteResidual === true && isChannelsLast(e.residual!) && e.residual!.dtype === x.dtype;
  const out = reuse ? e.residual!.detach() : emptyActivation(outShape, x.dtype, channelsLast);
  if (accumulate && !reuse) native.copy(e.residual!.detach(), out);
  if (reuse) out.storage.version++;
  const residual = e.residual && !accumulate ? kernelReady(e.residual.detach()) : null;
  const { stride, padLeft, padRight, dilation, groups } = g;
  native.convForward({
    x: kernelReady(x.detach()), weight: kernelReady(weight.detach()), bias: bias ? contiguous(bias.detach()) : null, out,
    stride, padLeft, padRight, dilation, groups, transposed: false,
    scale: channelVector(e.scale), shift: channelVector(e.shift), residual, relu: e.relu ?? false, accumulate, inference: true,
    winograd: winograd === null ? null : WINOGRAD_MODE[`${winograd}`], packedWeights: packedWeightsOf(weight),
  });
  return out;
}

// The conv op proper: x [N, C, ...] (weight in torch's layout for `g.transposed`) -> outShape.
function convCore(
  op: string, x: Tensor, weight: Tensor, bias: Tensor | null, g: Geometry, outShape: number[], epilogue?: ConvEpilogue, winograd: ConvWinograd | null = null,
): Tensor {
  // At inference every plain conv takes the fused kernel's path, epilogue or not: its weight is packed once.
  const fusable = outShape.every((s) => s > 0) && x.numel > 0 && weight.numel > 0 && !g.transposed;
  if (fusable && !needsGrad(x, weight, bias, epilogue?.scale, epilogue?.shift, epilogue?.residual)) {
    return fusedConv(x, weight, bias, g, outShape, epilogue ?? {}, winograd);
  }
  if (epilogue) return composeEpilogue(convCore(op, x, weight, bias, g, outShape), epilogue);
  const channelsLast = isChannelsLast(x);
  const xd = kernelReady(x.detach());
  const wd = kernelReady(weight.detach());
  const bd = bias ? contiguous(bias.detach()) : null;
  const out = emptyActivation(outShape, x.dtype, channelsLast);
  const nonChannelDims = outShape.map((_, i) => i).filter((i) => i !== 1);
  const degenerate = out.numel === 0 || xd.numel === 0 || wd.numel === 0;
  // Each call's options are one literal: spreading the geometry into a new object costs a microsecond.
  const { stride, padLeft, padRight, dilation, groups, transposed } = g;
  if (degenerate) {
    if (out.numel > 0) copyInto(out, bd ? reshape(bd, [1, outShape[1], ...outShape.slice(2).map(() => 1)]) : zerosLike(out));
  } else {
    native.convForward({ x: xd, weight: wd, bias: bd, out, stride, padLeft, padRight, dilation, groups, transposed });
  }
  return record(out, op, [x, weight, bias], (grad) => {
    if (degenerate) return [zerosLike(x), zerosLike(weight), bias ? sum(grad, nonChannelDims) : null];
    const gy = withLayout(grad, channelsLast);
    let gx: Tensor | null = null;
    if (x.requiresGrad) {
      gx = emptyActivation(x.shape, x.dtype, channelsLast);
      native.convBackwardData({ gradOut: gy, weight: wd, gradIn: gx, stride, padLeft, padRight, dilation, groups, transposed });
    }
    let gw: Tensor | null = null;
    let gb: Tensor | null = null;
    if (weight.requiresGrad) {
      gw = Tensor.empty(weight.shape, weight.dtype);
      gb = bias?.requiresGrad ? Tensor.empty(bias.shape, bias.dtype) : null;
      native.convBackwardWeights({ x: xd, gradOut: gy, gradWeight: gw, gradBias: gb, stride, padLeft, padRight, dilation, groups, transposed });
    } else if (bias?.requiresGrad) {
      gb = sum(grad, nonChannelDims);
    }
    return [gx, gw, gb];
  });
}

function convNd(
  op: string, nd: number, x: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: ConvOptions = {}, epilogue?: ConvEpilogue,
): Tensor {
  const { xb, unbatched } = checkOperands(op, nd, x, weight, bias);
  const groups = checkGroups(op, options.groups ?? 1);
  const stride = spatialList(op, 'stride', options.stride ?? 1, nd, 1);
  const dilation = spatialList(op, 'dilation', options.dilation ?? 1, nd, 1);
  const [N, C] = xb.shape;
  const O = weight.shape[0];
  const kernel = weight.shape.slice(2);
  if (C !== weight.shape[1] * groups) {
    throw new ShapeError(
      `${op}: input ${formatShape(xb.shape)} has ${C} channels, expected ${weight.shape[1] * groups} (weight ${formatShape(weight.shape)}, groups ${groups})`,
    );
  }
  if (O % groups !== 0) throw new ShapeError(`${op}: weight ${formatShape(weight.shape)} has ${O} output channels, not divisible by groups ${groups}`);
  checkBias(op, bias, O);
  const span = kernel.map((k, i) => dilation[i] * (k - 1) + 1);
  let padL: number[];
  let padR: number[];
  const padding = options.padding ?? 0;
  if (padding === 'valid') {
    padL = padR = new Array<number>(nd).fill(0);
  } else if (padding === 'same') {
    if (stride.some((s) => s !== 1)) throw new ArgumentError(`${op}: padding 'same' needs stride 1, got stride ${formatShape(stride)}`);
    // torch puts the odd unit of an even span's padding on the right.
    padL = span.map((s) => Math.floor((s - 1) / 2));
    padR = span.map((s, i) => s - 1 - padL[i]);
  } else if (typeof padding === 'string') {
    throw new ArgumentError(`${op}: padding '${padding as string}' is not one of 'valid', 'same' or a size`);
  } else {
    padL = padR = spatialList(op, 'padding', padding, nd, 0);
  }
  const size = xb.shape.slice(2);
  const padded = size.map((s, i) => s + padL[i] + padR[i]);
  if (padded.some((p, i) => p < span[i])) {
    throw new ShapeError(`${op}: input spatial size ${formatShape(size)} padded to ${formatShape(padded)} is smaller than the (dilated) kernel ${formatShape(span)}`);
  }
  const outSize = padded.map((p, i) => Math.floor((p - span[i]) / stride[i]) + 1);
  if (epilogue) checkEpilogue(op, epilogue, [N, O, ...outSize], unbatched);
  const batchedEpilogue = epilogue?.residual && unbatched ? { ...epilogue, residual: unsqueeze(epilogue.residual, 0) } : epilogue;
  const single = singleTap(size, outSize, padL, dilation, kernel);
  const geometry: Geometry = single
    ? { stride: single.map(() => 1), padLeft: single.map(() => 0), padRight: single.map(() => 0), dilation: single.map(() => 1), groups, transposed: false }
    : { stride, padLeft: padL, padRight: padR, dilation, groups, transposed: false };
  const taps = single ? single.reduce((w, tap, i) => narrow(w, i + 2, tap, 1), weight) : weight;
  const out = convCore(op, xb, taps, bias ?? null, geometry, [N, O, ...outSize], batchedEpilogue, options.winograd ?? null);
  return unbatched ? squeeze(out, 0) : out;
}

// On a 1-pixel input with a 1-pixel output, only the kernel tap over that pixel meets data (the rest
// is padding): the conv is a 1×1 conv with that tap. Returns the tap per spatial dim, or null. oneDNN
// has no jit kernel for a 3×3 conv on 1×1 inputs where the CPU lacks AVX-512 and its im2col fallback
// runs backward-weights at a few GFLOP/s (ResNet's last stage on 32 px images).
function singleTap(size: number[], outSize: number[], padL: number[], dilation: number[], kernel: number[]): number[] | null {
  if (!size.every((s, i) => s === 1 && outSize[i] === 1) || kernel.every((k) => k === 1)) return null;
  const taps = padL.map((p, i) => p / dilation[i]);
  return taps.every((t, i) => Number.isInteger(t) && t < kernel[i]) ? taps : null;
}

function checkEpilogue(op: string, e: ConvEpilogue, outShape: number[], unbatched: boolean): void {
  for (const [name, t] of [['scale', e.scale], ['shift', e.shift], ['residual', e.residual]] as const) {
    t?.assertAlive(op);
    if (t && !isFloating(t.dtype)) throw new DTypeError(`${op}: epilogue ${name} must be a float tensor, got ${t.dtype}`);
    if (t && name !== 'residual' && (t.ndim !== 1 || t.shape[0] !== outShape[1])) {
      throw new ShapeError(`${op}: epilogue ${name} has shape ${formatShape(t.shape)}, expected [${outShape[1]}] (one per output channel)`);
    }
  }
  if (e.residual) {
    const expected = unbatched ? outShape.slice(1) : outShape;
    if (e.residual.ndim !== expected.length || e.residual.shape.some((d, i) => d !== expected[i])) {
      throw new ShapeError(`${op}: residual has shape ${formatShape(e.residual.shape)}, expected the output's ${formatShape(expected)}`);
    }
  }
}

function convTransposeNd(
  op: string, nd: number, x: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: ConvTransposeOptions = {},
): Tensor {
  const { xb, unbatched } = checkOperands(op, nd, x, weight, bias);
  const groups = checkGroups(op, options.groups ?? 1);
  const stride = spatialList(op, 'stride', options.stride ?? 1, nd, 1);
  const dilation = spatialList(op, 'dilation', options.dilation ?? 1, nd, 1);
  const padding = spatialList(op, 'padding', options.padding ?? 0, nd, 0);
  const outputPadding = spatialList(op, 'outputPadding', options.outputPadding ?? 0, nd, 0);
  const [N, C] = xb.shape;
  if (C !== weight.shape[0]) {
    throw new ShapeError(`${op}: input ${formatShape(xb.shape)} has ${C} channels, expected ${weight.shape[0]} (weight ${formatShape(weight.shape)})`);
  }
  if (C % groups !== 0) throw new ShapeError(`${op}: input channels ${C} are not divisible by groups ${groups}`);
  const O = weight.shape[1] * groups;
  checkBias(op, bias, O);
  outputPadding.forEach((p, i) => {
    if (p >= stride[i] && p >= dilation[i]) {
      throw new ArgumentError(
        `${op}: outputPadding ${formatShape(outputPadding)} must be smaller than stride ${formatShape(stride)} or dilation ${formatShape(dilation)} in each dim`,
      );
    }
  });
  const size = xb.shape.slice(2);
  const kernel = weight.shape.slice(2);
  const outSize = size.map((s, i) => (s - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1) + outputPadding[i] + 1);
  if (outSize.some((s) => s < 1)) {
    throw new ShapeError(`${op}: input spatial size ${formatShape(size)} gives output size ${formatShape(outSize)} with kernel ${formatShape(kernel)}, padding ${formatShape(padding)}`);
  }
  const padR = padding.map((p, i) => p - outputPadding[i]);
  const g: Geometry = { stride, padLeft: padding, padRight: padR, dilation, groups, transposed: true };
  let out: Tensor;
  if (padR.every((p, i) => p + stride[i] > 0)) {
    out = convCore(op, xb, weight, bias ?? null, g, [N, O, ...outSize]);
  } else {
    // oneDNN needs padRight > -stride; the columns beyond that get no kernel tap, only bias.
    const clamped = padR.map((p, i) => (p + stride[i] > 0 ? p : 0));
    const short = outSize.map((s, i) => s - (clamped[i] - padR[i]));
    const core = convCore(op, xb, weight, null, { ...g, padRight: clamped }, [N, O, ...short]);
    const extra = outSize.flatMap((_, k) => [0, clamped[nd - 1 - k] - padR[nd - 1 - k]]);
    out = pad(core, extra);
    if (bias) out = add(out, reshape(bias, [1, O, ...new Array<number>(nd).fill(1)]));
  }
  return unbatched ? squeeze(out, 0) : out;
}

/** x [N, C, L], weight [O, C/groups, k]. */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvOptions): Tensor {
  return convNd('conv1d', 1, x, weight, bias, options);
}
/** x [N, C, H, W], weight [O, C/groups, kH, kW]. */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvOptions): Tensor {
  return convNd('conv2d', 2, x, weight, bias, options);
}
/** x [N, C, D, H, W], weight [O, C/groups, kD, kH, kW]. */
export function conv3d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvOptions): Tensor {
  return convNd('conv3d', 3, x, weight, bias, options);
}
/**
 * conv2d followed by `act(y * scale + shift + residual)`, run as one kernel when no gradient is
 * needed (eval-mode conv + batch norm + skip + ReLU); with gradients, the same ops recorded one by one.
 */
export function conv2dEpilogue(x: Tensor, weight: Tensor, bias: Tensor | null | undefined, options: ConvOptions, epilogue: ConvEpilogue): Tensor {
  return convNd('conv2d', 2, x, weight, bias, options, epilogue);
}

/** Whether inference 3×3 convolutions take the Winograd kernel now, on this CPU (see configure's convWinograd). */
export function isConvWinogradEnabled(): boolean {
  return native.convWinogradEnabled();
}

/** x [N, C, L], weight [C, O/groups, k]. */
export function convTranspose1d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvTransposeOptions): Tensor {
  return convTransposeNd('convTranspose1d', 1, x, weight, bias, options);
}
/** x [N, C, H, W], weight [C, O/groups, kH, kW]. */
export function convTranspose2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvTransposeOptions): Tensor {
  return convTransposeNd('convTranspose2d', 2, x, weight, bias, options);
}
/** x [N, C, D, H, W], weight [C, O/groups, kD, kH, kW]. */
export function convTranspose3d(x: Tensor, weight: Tensor, bias?: Tensor | null, options?: ConvTransposeOptions): Tensor {
  return convTransposeNd('convTranspose3d', 3, x, weight, bias, options);
}
