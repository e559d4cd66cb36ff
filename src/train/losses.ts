/**
 * Training losses, composed from tensor ops so autograd differentiates them: torch's
 * cross_entropy and binary_cross_entropy_with_logits (1.13 semantics), timm's label-smoothing,
 * soft-target and binary cross-entropies, DeiT's distillation loss and the CLIP contrastive
 * loss. Each is a function and a small Module. Logits are [N, C] (classes last); bfloat16
 * inputs are computed in float32 and the loss is returned in bfloat16.
 */
import { ArgumentError, DTypeError, formatShape, IndexError, ShapeError } from '../errors.ts';
import { Module } from '../nn/module.ts';
import { noGrad } from '../tensor/autograd.ts';
import { arange } from '../tensor/creation.ts';
import { isFloating } from '../tensor/dtype.ts';
import { logSoftmax } from '../tensor/ops/activation.ts';
import { add, cast, clamp, div, eq, exp, gt, log, mul, ne, neg, sub, where } from '../tensor/ops/elementwise.ts';
import { gather, indexSelect } from '../tensor/ops/index.ts';
import { matmul } from '../tensor/ops/linalg.ts';
import { amax, amin, argmax, l2Normalize, mean, sum } from '../tensor/ops/reduce.ts';
import { squeeze, transpose, unsqueeze } from '../tensor/ops/shape.ts';
import { Tensor } from '../tensor/tensor.ts';

/** How a per-sample loss is reduced: averaged, summed or returned as is. */
export type Reduction = 'mean' | 'sum' | 'none';

function checkReduction(op: string, r: string): Reduction {
  if (r !== 'mean' && r !== 'sum' && r !== 'none') throw new ArgumentError(`${op}: reduction must be 'mean', 'sum' or 'none', got '${String(r)}'`);
  return r;
}

function checkFloat(op: string, what: string, t: Tensor): void {
  if (!(t instanceof Tensor)) throw new ArgumentError(`${op}: ${what} must be a Tensor`);
  t.assertAlive(op);
  if (!isFloating(t.dtype)) throw new DTypeError(`${op}: ${what} has dtype ${t.dtype}, expected float32 or bfloat16`);
}

function checkLogits(op: string, logits: Tensor): [number, number] {
  checkFloat(op, 'logits', logits);
  if (logits.ndim !== 2) throw new ShapeError(`${op}: logits have shape ${formatShape(logits.shape)}, expected rank 2 [N, C]`);
  return [logits.shape[0], logits.shape[1]];
}

function checkSmoothing(op: string, name: string, v: number): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new ArgumentError(`${op}: ${name} must be in [0, 1], got ${String(v)}`);
  return v;
}

/** Runs `body` in float32 when an input is bfloat16 and returns its result in that dtype. */
function inFloat32(inputs: Tensor[], body: (xs: Tensor[]) => Tensor): Tensor {
  const low = inputs.some((t) => t.dtype === 'bfloat16');
  if (!low) return body(inputs);
  return cast(body(inputs.map((t) => (t.dtype === 'bfloat16' ? cast(t, 'float32') : t))), 'bfloat16');
}

function checkClassWeight(op: string, name: string, w: Tensor | null | undefined, c: number): Tensor | null {
  if (w == null) return null;
  checkFloat(op, name, w);
  if (w.ndim !== 1 || w.shape[0] !== c) throw new ShapeError(`${op}: ${name} has shape ${formatShape(w.shape)}, expected [C] = [${c}]`);
  return w.detach();
}

/** Checks an integer class-index target [N] against logits [N, C]; returns it as int64 with its valid mask. */
function checkIndexTarget(op: string, target: Tensor, n: number, c: number, ignoreIndex: number | null): { index: Tensor; valid: Tensor | null } {
  if (target.dtype !== 'int64' && target.dtype !== 'int32') {
    throw new DTypeError(`${op}: class-index target has dtype ${target.dtype}, expected int64 (or a float [N, C] probability target)`);
  }
  if (target.ndim !== 1 || target.shape[0] !== n) {
    throw new ShapeError(`${op}: class-index target has shape ${formatShape(target.shape)}, expected [N] = [${n}] for logits [${n}, ${c}]`);
  }
  const t = cast(target.detach(), 'int64');
  const valid = ignoreIndex === null ? null : ne(t, ignoreIndex);
  const index = valid ? where(valid, t, 0) : t;
  if (n > 0) {
    const lo = amin(index).item();
    const hi = amax(index).item();
    if (lo < 0 || hi >= c) {
      const bad = lo < 0 ? lo : hi;
      throw new IndexError(`${op}: target class ${bad} is out of range [0, ${c}) for logits [${n}, ${c}]${ignoreIndex === null ? '' : ` (ignoreIndex ${ignoreIndex})`}`);
    }
  }
  return { index, valid };
}

function reduce(per: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return per;
  return reduction === 'sum' ? sum(per) : mean(per);
}

/** Options of crossEntropy, as torch.nn.functional.cross_entropy. */
export interface CrossEntropyOptions {
  /** Per-class weights [C]. */
  weight?: Tensor | null;
  /** Class-index targets equal to this are skipped (default -100). */
  ignoreIndex?: number;
  reduction?: Reduction;
  /** Mixes the target with the uniform distribution: (1 − ε)·target + ε/C. */
  labelSmoothing?: number;
}

/**
 * Cross-entropy of logits [N, C] against class indices (int64 [N]) or class probabilities
 * (float [N, C]), with torch 1.13's weighting, ignoreIndex, label smoothing and reductions.
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  const [n, c] = checkLogits(op, logits);
  if (!(target instanceof Tensor)) throw new ArgumentError(`${op}: target must be a Tensor`);
  const reduction = checkReduction(op, options.reduction ?? 'mean');
  const eps = checkSmoothing(op, 'labelSmoothing', options.labelSmoothing ?? 0);
  const weight = checkClassWeight(op, 'weight', options.weight, c);
  if (isFloating(target.dtype)) {
    if (target.ndim !== 2 || target.shape[0] !== n || target.shape[1] !== c) {
      throw new ShapeError(`${op}: probability target has shape ${formatShape(target.shape)}, expected the logits' shape [${n}, ${c}]`);
    }
    return inFloat32(weight ? [logits, target, weight] : [logits, target], ([x, t, w]) => {
      const logp = logSoftmax(x, 1);
      const soft = eps > 0 ? add(mul(t, 1 - eps), eps / c) : t;
      const per = neg(sum(mul(w ? mul(logp, w) : logp, soft), 1));
      return reduce(per, reduction);
    });
  }
  const { index, valid } = checkIndexTarget(op, target, n, c, options.ignoreIndex ?? -100);
  return inFloat32(weight ? [logits, weight] : [logits], ([x, w]) => {
    const logp = logSoftmax(x, 1);
    const picked = squeeze(gather(logp, 1, unsqueeze(index, 1)), 1);
    const mask = cast(valid!, x.dtype);
    const wi = w ? mul(indexSelect(w, 0, index), mask) : mask;
    const nll = neg(mul(picked, wi));
    const smooth = eps > 0 ? mul(neg(sum(w ? mul(logp, w) : logp, 1)), mask) : null;
    if (reduction === 'none') return smooth ? add(mul(nll, 1 - eps), mul(smooth, eps / c)) : nll;
    if (reduction === 'sum') return smooth ? add(mul(sum(nll), 1 - eps), mul(sum(smooth), eps / c)) : sum(nll);
    const total = sum(wi);
    const nllMean = div(sum(nll), total);
    if (!smooth) return nllMean;
    // torch normalises the smoothing term like the NLL: by the summed weights of the non-ignored targets.
    return add(mul(nllMean, 1 - eps), mul(div(sum(smooth), total), eps / c));
  });
}

/** timm's LabelSmoothingCrossEntropy: mean over the batch of (1 − s)·NLL + s·mean(−log p). */
export function labelSmoothingCrossEntropy(logits: Tensor, target: Tensor, smoothing = 0.1): Tensor {
  const op = 'labelSmoothingCrossEntropy';
  const [n, c] = checkLogits(op, logits);
  const s = checkSmoothing(op, 'smoothing', smoothing);
  if (!(target instanceof Tensor)) throw new ArgumentError(`${op}: target must be a Tensor`);
  const { index } = checkIndexTarget(op, target, n, c, null);
  return inFloat32([logits], ([x]) => {
    const logp = logSoftmax(x, 1);
    const nll = neg(squeeze(gather(logp, 1, unsqueeze(index, 1)), 1));
    const smooth = neg(mean(logp, 1));
    return mean(add(mul(nll, 1 - s), mul(smooth, s)));
  });
}

/** timm's SoftTargetCrossEntropy (Mixup/CutMix targets): mean over the batch of Σ −target·log softmax(logits). */
export function softTargetCrossEntropy(logits: Tensor, target: Tensor): Tensor {
  const op = 'softTargetCrossEntropy';
  const [n, c] = checkLogits(op, logits);
  checkFloat(op, 'target', target);
  if (target.ndim !== 2 || target.shape[0] !== n || target.shape[1] !== c) {
    throw new ShapeError(`${op}: target has shape ${formatShape(target.shape)}, expected the logits' shape [${n}, ${c}]`);
  }
  return inFloat32([logits, target], ([x, t]) => mean(neg(sum(mul(t, logSoftmax(x, 1)), 1))));
}

/** Options of binaryCrossEntropyWithLogits, as torch's. */
export interface BCEWithLogitsOptions {
  /** Element weights, broadcast to the input's shape. */
  weight?: Tensor | null;
  /** Weight of positive examples per class, broadcast along the last dim. */
  posWeight?: Tensor | null;
  reduction?: Reduction;
}

function checkBroadcastTo(op: string, name: string, t: Tensor, shape: readonly number[]): void {
  checkFloat(op, name, t);
  const off = shape.length - t.ndim;
  const fits = off >= 0 && t.shape.every((d, i) => d === 1 || d === shape[off + i]);
  if (!fits) throw new ShapeError(`${op}: ${name} has shape ${formatShape(t.shape)}, which does not broadcast to the input's shape ${formatShape(shape)}`);
}

/** Binary cross-entropy on logits (torch's binary_cross_entropy_with_logits), numerically stable. */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: BCEWithLogitsOptions = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  checkFloat(op, 'input', input);
  checkFloat(op, 'target', target);
  if (target.ndim !== input.ndim || target.shape.some((d, i) => d !== input.shape[i])) {
    throw new ShapeError(`${op}: target has shape ${formatShape(target.shape)}, expected the input's shape ${formatShape(input.shape)}`);
  }
  const reduction = checkReduction(op, options.reduction ?? 'mean');
  const weight = options.weight ?? null;
  const posWeight = options.posWeight ?? null;
  if (weight) checkBroadcastTo(op, 'weight', weight, input.shape);
  if (posWeight) checkBroadcastTo(op, 'posWeight', posWeight, input.shape);
  const extras = [weight, posWeight].filter((t): t is Tensor => t !== null);
  return inFloat32([input, target, ...extras], ([x, y, ...rest]) => {
    const w = weight ? rest[0] : null;
    const pw = posWeight ? rest[weight ? 1 : 0] : null;
    // log(1 + exp(−x)) as torch writes it: m + log(exp(−m) + exp(−x − m)), m = max(−x, 0).
    const m = clamp(neg(x), 0);
    const softplusNeg = add(log(add(exp(neg(m)), exp(sub(neg(x), m)))), m);
    const linear = mul(sub(1, y), x);
    let loss = pw ? add(linear, mul(add(mul(sub(pw, 1), y), 1), softplusNeg)) : add(linear, softplusNeg);
    if (w) loss = mul(loss, w);
    return reduce(loss, reduction);
  });
}

/** Options of timm's BinaryCrossEntropy. */
export interface BinaryCrossEntropyOptions {
  /** Label smoothing for class-index targets: off = s/C, on = 1 − s + s/C (default 0.1). */
  smoothing?: number;
  /** If set, targets become 1 where target > threshold, else 0. */
  targetThreshold?: number | null;
  weight?: Tensor | null;
  posWeight?: Tensor | null;
  reduction?: Reduction;
  /** Sum over classes, then average over the batch (overrides reduction). */
  sumClasses?: boolean;
}

/** timm's BinaryCrossEntropy: BCE with logits on class-index targets (smoothed one-hot) or dense targets [N, C]. */
export function binaryCrossEntropy(logits: Tensor, target: Tensor, options: BinaryCrossEntropyOptions = {}): Tensor {
  const op = 'binaryCrossEntropy';
  const [n, c] = checkLogits(op, logits);
  if (!(target instanceof Tensor)) throw new ArgumentError(`${op}: target must be a Tensor`);
  const s = checkSmoothing(op, 'smoothing', options.smoothing ?? 0.1);
  if (target.ndim < 1 || target.shape[0] !== n) {
    throw new ShapeError(`${op}: target has shape ${formatShape(target.shape)}, expected batch size ${n} to match logits [${n}, ${c}]`);
  }
  let dense: Tensor;
  if (target.ndim === 2 && target.shape[1] === c) {
    checkFloat(op, 'dense target', target);
    dense = target;
  } else {
    const { index } = checkIndexTarget(op, target, n, c, null);
    const off = s / c;
    const hot = eq(unsqueeze(index, 1), arange(c));
    dense = cast(where(hot, 1 - s + off, off), logits.dtype);
  }
  const threshold = options.targetThreshold ?? null;
  if (threshold !== null) dense = cast(gt(dense, threshold), dense.dtype);
  const sumClasses = options.sumClasses ?? false;
  const loss = binaryCrossEntropyWithLogits(logits, dense, {
    weight: options.weight,
    posWeight: options.posWeight,
    reduction: sumClasses ? 'none' : options.reduction ?? 'mean',
  });
  return sumClasses ? mean(sum(loss, -1)) : loss;
}

/** How DeiT distils: 'soft' (KL to the teacher's tempered softmax), 'hard' (CE to its argmax) or 'none'. */
export type DistillationType = 'none' | 'soft' | 'hard';

/** Options of distillationLoss, as DeiT's DistillationLoss. */
export interface DistillationOptions {
  type: DistillationType;
  /** Weight of the distillation term; the base loss gets 1 − alpha (default 0.5). */
  alpha?: number;
  /** Temperature of the soft distillation (default 1). */
  tau?: number;
  /** Loss of the class-token output against labels (default crossEntropy). */
  baseCriterion?: (outputs: Tensor, labels: Tensor) => Tensor;
}

/**
 * DeiT's distillation loss. `outputs` is the student's (cls, dist) pair (a single tensor only
 * with type 'none'); `teacherOutputs` are the teacher's logits (not differentiated).
 */
export function distillationLoss(outputs: Tensor | readonly [Tensor, Tensor], teacherOutputs: Tensor | null, labels: Tensor, options: DistillationOptions): Tensor {
  const op = 'distillationLoss';
  const type = options.type;
  if (type !== 'none' && type !== 'soft' && type !== 'hard') throw new ArgumentError(`${op}: type must be 'none', 'soft' or 'hard', got '${String(type)}'`);
  const alpha = checkSmoothing(op, 'alpha', options.alpha ?? 0.5);
  const tau = options.tau ?? 1;
  if (!(typeof tau === 'number' && tau > 0 && Number.isFinite(tau))) throw new ArgumentError(`${op}: tau must be a positive number, got ${String(tau)}`);
  const base = options.baseCriterion ?? ((o: Tensor, l: Tensor) => crossEntropy(o, l));
  const [cls, dist] = outputs instanceof Tensor ? [outputs, null] : outputs;
  const baseLoss = base(cls, labels);
  if (type === 'none') return baseLoss;
  if (!dist) throw new ArgumentError(`${op}: type '${type}' needs the student's (cls, dist) output pair, got a single tensor`);
  const [n, c] = checkLogits(op, dist);
  if (!(teacherOutputs instanceof Tensor)) throw new ArgumentError(`${op}: type '${type}' needs the teacher's outputs`);
  checkFloat(op, 'teacherOutputs', teacherOutputs);
  if (teacherOutputs.ndim !== 2 || teacherOutputs.shape[0] !== n || teacherOutputs.shape[1] !== c) {
    throw new ShapeError(`${op}: teacherOutputs have shape ${formatShape(teacherOutputs.shape)}, expected the student's dist shape [${n}, ${c}]`);
  }
  const teacher = teacherOutputs.detach();
  let distLoss: Tensor;
  if (type === 'soft') {
    distLoss = inFloat32([dist, teacher], ([s, t]) => {
      const logS = logSoftmax(div(s, tau), 1);
      const logT = logSoftmax(div(t, tau), 1);
      return div(mul(sum(mul(exp(logT), sub(logT, logS))), tau * tau), n * c);
    });
  } else {
    distLoss = crossEntropy(dist, argmax(teacher, 1));
  }
  return add(mul(baseLoss, 1 - alpha), mul(cast(distLoss, baseLoss.dtype), alpha));
}

/**
 * CLIP's contrastive (InfoNCE) loss: logits = scale·img·txtᵀ over L2-normalised features, the
 * mean of the cross-entropies image→text and text→image with labels arange(N).
 * `logitScale` is the multiplier itself (exp of CLIP's learned log-scale), a number or a tensor.
 */
export function clipLoss(imageFeatures: Tensor, textFeatures: Tensor, logitScale: number | Tensor, options: { normalize?: boolean } = {}): Tensor {
  const op = 'clipLoss';
  checkFloat(op, 'imageFeatures', imageFeatures);
  checkFloat(op, 'textFeatures', textFeatures);
  if (imageFeatures.ndim !== 2 || textFeatures.ndim !== 2 || imageFeatures.shape[0] !== textFeatures.shape[0] || imageFeatures.shape[1] !== textFeatures.shape[1]) {
    throw new ShapeError(`${op}: image features ${formatShape(imageFeatures.shape)} and text features ${formatShape(textFeatures.shape)} must both be [N, D] with the same N and D`);
  }
  if (logitScale instanceof Tensor) {
    checkFloat(op, 'logitScale', logitScale);
    if (logitScale.numel !== 1) throw new ShapeError(`${op}: logitScale has shape ${formatShape(logitScale.shape)}, expected a single element`);
  }
  const normalize = options.normalize ?? true;
  const img = normalize ? l2Normalize(imageFeatures) : imageFeatures;
  const txt = normalize ? l2Normalize(textFeatures) : textFeatures;
  const perImage = mul(matmul(img, transpose(txt, 0, 1)), logitScale);
  const labels = arange(imageFeatures.shape[0]);
  return div(add(crossEntropy(perImage, labels), crossEntropy(transpose(perImage, 0, 1), labels)), 2);
}

/** Cross-entropy as a Module (torch.nn.CrossEntropyLoss); the class weight is a buffer. */
export class CrossEntropyLoss extends Module {
  readonly weight: Tensor | null;
  readonly ignoreIndex: number;
  readonly reduction: Reduction;
  readonly labelSmoothing: number;

  constructor(options: CrossEntropyOptions = {}) {
    super();
    this.weight = options.weight ? this.registerBuffer('weight', options.weight) : null;
    this.ignoreIndex = options.ignoreIndex ?? -100;
    this.reduction = checkReduction('CrossEntropyLoss', options.reduction ?? 'mean');
    this.labelSmoothing = checkSmoothing('CrossEntropyLoss', 'labelSmoothing', options.labelSmoothing ?? 0);
  }

  override forward(logits: Tensor, target: Tensor): Tensor {
    return crossEntropy(logits, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction, labelSmoothing: this.labelSmoothing });
  }
}

/** timm's LabelSmoothingCrossEntropy as a Module. */
export class LabelSmoothingCrossEntropy extends Module {
  constructor(readonly smoothing = 0.1) {
    super();
    checkSmoothing('LabelSmoothingCrossEntropy', 'smoothing', smoothing);
  }

  override forward(logits: Tensor, target: Tensor): Tensor {
    return labelSmoothingCrossEntropy(logits, target, this.smoothing);
  }
}

/** timm's SoftTargetCrossEntropy as a Module. */
export class SoftTargetCrossEntropy extends Module {
  override forward(logits: Tensor, target: Tensor): Tensor {
    return softTargetCrossEntropy(logits, target);
  }
}

/** torch.nn.BCEWithLogitsLoss; weight and posWeight are buffers. */
export class BCEWithLogitsLoss extends Module {
  readonly weight: Tensor | null;
  readonly posWeight: Tensor | null;
  readonly reduction: Reduction;

  constructor(options: BCEWithLogitsOptions = {}) {
    super();
    this.weight = options.weight ? this.registerBuffer('weight', options.weight) : null;
    this.posWeight = options.posWeight ? this.registerBuffer('pos_weight', options.posWeight) : null;
    this.reduction = checkReduction('BCEWithLogitsLoss', options.reduction ?? 'mean');
  }

  override forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, { weight: this.weight, posWeight: this.posWeight, reduction: this.reduction });
  }
}

/** timm's BinaryCrossEntropy as a Module. */
export class BinaryCrossEntropy extends Module {
  readonly options: BinaryCrossEntropyOptions;

  constructor(options: BinaryCrossEntropyOptions = {}) {
    super();
    checkSmoothing('BinaryCrossEntropy', 'smoothing', options.smoothing ?? 0.1);
    checkReduction('BinaryCrossEntropy', options.reduction ?? 'mean');
    const weight = options.weight ? this.registerBuffer('weight', options.weight) : null;
    const posWeight = options.posWeight ? this.registerBuffer('pos_weight', options.posWeight) : null;
    this.options = { ...options, weight, posWeight };
  }

  override forward(logits: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(logits, target, this.options);
  }
}

/** DeiT's DistillationLoss: runs the teacher (without grad) on the inputs and mixes its loss with the base loss. */
export class DistillationLoss extends Module {
  constructor(
    readonly teacher: (inputs: Tensor) => Tensor,
    readonly options: DistillationOptions,
  ) {
    super();
    if (typeof teacher !== 'function') throw new ArgumentError('DistillationLoss: teacher must be a function of the inputs (e.g. x => model.forward(x))');
  }

  override forward(inputs: Tensor, outputs: Tensor | readonly [Tensor, Tensor], labels: Tensor): Tensor {
    const teacherOutputs = this.options.type === 'none' ? null : noGrad(() => this.teacher(inputs));
    return distillationLoss(outputs, teacherOutputs, labels, this.options);
  }
}

/** CLIP's contrastive loss as a Module (the logit scale is passed per call, as the model owns it). */
export class ClipLoss extends Module {
  override forward(imageFeatures: Tensor, textFeatures: Tensor, logitScale: number | Tensor): Tensor {
    return clipLoss(imageFeatures, textFeatures, logitScale);
  }
}
