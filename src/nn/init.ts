/**
 * Weight initialisation (torch.nn.init). Every function fills its tensor in place with
 * autograd off and returns it; random ones take an optional Generator (the default
 * generator otherwise), so a seeded generator reproduces a model's initial weights.
 */
import { ArgumentError, DTypeError } from '../errors.ts';
import { noGrad } from '../tensor/autograd.ts';
import { isFloating } from '../tensor/dtype.ts';
import { add, cast, div, erf, exp, gt, log, lt, maximum, minimum, mul, sqrt, sub } from '../tensor/ops/elementwise.ts';
import { defaultGenerator, type Generator } from '../tensor/random.ts';
import { Tensor } from '../tensor/tensor.ts';

/** Nonlinearities calculateGain knows (torch's names). */
export type Nonlinearity =
  | 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d'
  | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/** Which fan kaiming init preserves the variance of. */
export type FanMode = 'fan_in' | 'fan_out';

/** Options of kaimingUniform_ / kaimingNormal_. */
export interface KaimingOptions {
  /** Negative slope of the leaky_relu that follows (default 0). */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
  generator?: Generator;
}

/** The recommended gain for a nonlinearity (torch.nn.init.calculate_gain); `param` is leaky_relu's slope. */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'conv3d':
    case 'conv_transpose1d': case 'conv_transpose2d': case 'conv_transpose3d': case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      if (!Number.isFinite(slope)) throw new ArgumentError(`calculateGain: negative slope ${slope} is not a finite number`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new ArgumentError(`calculateGain: unsupported nonlinearity '${String(nonlinearity)}'`);
  }
}

/**
 * [fanIn, fanOut] of a weight (or its shape): dim 1 and dim 0 times the receptive field
 * (product of dims 2..), as torch computes them (so a transposed conv's fan_in uses its out/groups dim).
 */
export function calculateFanInAndFanOut(weight: Tensor | readonly number[]): [number, number] {
  const shape = weight instanceof Tensor ? weight.shape : weight;
  if (shape.length < 2) {
    throw new ArgumentError(`calculateFanInAndFanOut: fan in and fan out need a tensor of rank >= 2, got shape [${shape.join(', ')}]`);
  }
  const receptive = shape.slice(2).reduce((p, q) => p * q, 1);
  return [shape[1] * receptive, shape[0] * receptive];
}

function checkFloat(op: string, t: Tensor): void {
  t.assertAlive(op);
  if (!isFloating(t.dtype)) throw new DTypeError(`${op}: expected a float tensor, got ${t.dtype}`);
}

// Draws straight into contiguous tensors; others get a contiguous draw copied in.
function fillRandom(t: Tensor, kind: 'uniform' | 'normal', a: number, b: number, generator: Generator | undefined): Tensor {
  const gen = generator ?? defaultGenerator;
  noGrad(() => {
    if (t.isContiguous()) gen.fill(t, kind, a, b);
    else {
      const tmp = Tensor.empty(t.shape, t.dtype);
      gen.fill(tmp, kind, a, b);
      t.copy_(tmp);
    }
  });
  return t;
}

/** Fills with U(a, b). */
export function uniform_(t: Tensor, a = 0, b = 1, generator?: Generator): Tensor {
  checkFloat('uniform_', t);
  if (!(a <= b) || !Number.isFinite(a) || !Number.isFinite(b)) throw new ArgumentError(`uniform_: expected finite a <= b, got a=${a}, b=${b}`);
  return fillRandom(t, 'uniform', a, b, generator);
}

/** Fills with N(mean, std²). */
export function normal_(t: Tensor, mean = 0, std = 1, generator?: Generator): Tensor {
  checkFloat('normal_', t);
  if (!(std >= 0) || !Number.isFinite(mean) || !Number.isFinite(std)) throw new ArgumentError(`normal_: expected finite mean and std >= 0, got mean=${mean}, std=${std}`);
  return fillRandom(t, 'normal', mean, std, generator);
}

/** Fills with a value. */
export function constant_(t: Tensor, value: number): Tensor {
  t.assertAlive('constant_');
  noGrad(() => t.fill_(value));
  return t;
}

/** Fills with zeros. */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/** Fills with ones. */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

// Scalar erf (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7), for the truncation bounds only.
function erfScalar(x: number): number {
  const s = Math.sign(x);
  const z = Math.abs(x);
  const k = 1 / (1 + 0.3275911 * z);
  const poly = k * (0.254829592 + k * (-0.284496736 + k * (1.421413741 + k * (-1.453152027 + k * 1.061405429))));
  return s * (1 - poly * Math.exp(-z * z));
}

const normCdf = (x: number) => 0.5 * (1 + erfScalar(x / Math.SQRT2));

// erf⁻¹ on float32 tensors in (-1, 1): Winitzki's closed form (relative error < 2e-3) refined
// by two Newton steps on erf. Past |y| = 0.9999 float32 cannot resolve erf(x) − y, so the
// Newton step is masked off there and the closed form stands.
const WINITZKI_A = 0.147;
function erfinv(y: Tensor): Tensor {
  const w = log(sub(1, mul(y, y)));
  const t = add(mul(w, 0.5), 2 / (Math.PI * WINITZKI_A));
  const sign = sub(cast(gt(y, 0), 'float32'), cast(lt(y, 0), 'float32'));
  let x = mul(sign, sqrt(maximum(sub(sqrt(sub(mul(t, t), div(w, WINITZKI_A))), t), 0)));
  const refine = cast(lt(maximum(y, mul(y, -1)), 0.9999), 'float32');
  for (let step = 0; step < 2; ++step) {
    const slope = mul(exp(mul(mul(x, x), -1)), 2 / Math.sqrt(Math.PI));
    x = sub(x, mul(div(sub(erf(x), y), slope), refine));
  }
  return x;
}

/**
 * Fills with N(mean, std²) truncated to [a, b] (timm/torch trunc_normal_): a and b are
 * absolute values, not multiples of std. Sampled by inverting the normal CDF over the
 * uniform range the bounds map to, as torch does.
 */
export function truncNormal_(t: Tensor, mean = 0, std = 1, a = -2, b = 2, generator?: Generator): Tensor {
  checkFloat('truncNormal_', t);
  if (!Number.isFinite(mean) || !(std >= 0) || !Number.isFinite(std)) throw new ArgumentError(`truncNormal_: expected finite mean and std >= 0, got mean=${mean}, std=${std}`);
  if (!(a <= b)) throw new ArgumentError(`truncNormal_: expected bounds a <= b, got a=${a}, b=${b}`);
  if (t.numel === 0) return t;
  const lo = 2 * normCdf((a - mean) / std) - 1;
  const hi = 2 * normCdf((b - mean) / std) - 1;
  // Keep u strictly inside (-1, 1), where erfinv is finite, at float32 resolution.
  const edge = 1 - 2 ** -24;
  noGrad(() => {
    const u = Tensor.empty(t.shape, 'float32');
    (generator ?? defaultGenerator).fill(u, 'uniform', Math.max(lo, -edge), Math.min(hi, edge));
    const x = add(mul(erfinv(minimum(maximum(u, -edge), edge)), std * Math.SQRT2), mean);
    t.copy_(minimum(maximum(x, a), b));
  });
  return t;
}

/** He uniform init: U(−bound, bound) with bound = gain·√(3/fan) (torch.nn.init.kaiming_uniform_). */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  checkFloat('kaimingUniform_', t);
  if (t.numel === 0) return t;
  const bound = Math.sqrt(3) * kaimingStd(t, options);
  return fillRandom(t, 'uniform', -bound, bound, options.generator);
}

/** He normal init: N(0, std²) with std = gain/√fan (torch.nn.init.kaiming_normal_). */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  checkFloat('kaimingNormal_', t);
  if (t.numel === 0) return t;
  return fillRandom(t, 'normal', 0, kaimingStd(t, options), options.generator);
}

function kaimingStd(t: Tensor, options: KaimingOptions): number {
  const mode = options.mode ?? 'fan_in';
  if (mode !== 'fan_in' && mode !== 'fan_out') throw new ArgumentError(`kaiming init: mode must be 'fan_in' or 'fan_out', got '${String(mode)}'`);
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const fan = mode === 'fan_in' ? fanIn : fanOut;
  return calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0) / Math.sqrt(fan);
}

/** Glorot uniform init: U(−a, a) with a = gain·√(6/(fanIn + fanOut)). */
export function xavierUniform_(t: Tensor, gain = 1, generator?: Generator): Tensor {
  checkFloat('xavierUniform_', t);
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return t.numel === 0 ? t : fillRandom(t, 'uniform', -bound, bound, generator);
}

/** Glorot normal init: N(0, std²) with std = gain·√(2/(fanIn + fanOut)). */
export function xavierNormal_(t: Tensor, gain = 1, generator?: Generator): Tensor {
  checkFloat('xavierNormal_', t);
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const std = gain * Math.sqrt(2 / (fanIn + fanOut));
  return t.numel === 0 ? t : fillRandom(t, 'normal', 0, std, generator);
}

/**
 * timm's trunc_normal_(t, std=0.02), whose bounds ±2 lie at ±100σ: no float draw reaches
 * them, so it is exactly a normal draw, and sampling it directly avoids truncNormal_'s
 * inverse-CDF pass over every weight.
 */
export function truncNormal02_(t: Tensor): Tensor {
  return normal_(t, 0, 0.02);
}

/**
 * timm's lecun_normal_: N(0, 1/fanIn) truncated at ±2 of its standard deviations, the std
 * raised by 1/0.8796 (the std of a unit normal truncated there) so the variance is 1/fanIn.
 */
export function lecunNormal_(t: Tensor): Tensor {
  const [fanIn] = calculateFanInAndFanOut(t);
  const std = Math.sqrt(1 / fanIn) / 0.87962566103423978;
  return truncNormal_(t, 0, std, -2 * std, 2 * std);
}
