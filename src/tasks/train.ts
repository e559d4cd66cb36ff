/**
 * `tsvision train` / `tsvision eval` glue: data specs to loaders, a model (random, pretrained
 * with its head replaced when the class count differs, linear-probe), optimizer, schedule and
 * the Trainer.
 *
 * Defaults (timm's, scaled to short runs): AdamW, lr 2.5e-4 at batch 64 (scaled linearly with the
 * batch size; ResNet strikes back's 8e-3 at batch 2048, between DeiT's 5e-4 at 512 and the 1e-3 at
 * 64 often used for small runs, which was 15 points worse for vit_tiny on `shapes` after 750
 * updates), weight decay 0.05, cosine schedule stepped per update, warm-up of min(5, epochs / 10)
 * epochs, label smoothing 0.1, no Mixup/CutMix, 10 epochs. For `--data shapes` (12,000 training
 * images at 32×32), ten epochs take a resnet18 or vit_tiny under 10 minutes on two cores;
 * RandomResizedCrop scale [0.8, 1] at the shape's own aspect ratio with horizontal flips and no
 * colour jitter (colour carries no class information there and the shapes already vary it).
 *
 * `workers` > 0 builds batches in worker threads: each loads the pipeline from createTrainPipeline
 * (this module) with the same data spec and transform settings, and the loader's seeding makes
 * the batches exactly those of the main thread. `modelEma` keeps an EMA of the weights in a twin
 * of the model (timm's --model-ema, default decay 0.9998), evaluated after each epoch.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ArgumentError, TsvisionError } from '../errors.ts';
import { DataLoader, epochOrder, type Pipeline, type PipelineSpec, type SampleTransform } from '../data/loader.ts';
import { createTrainTransform } from '../data/augment.ts';
import { createMixup } from '../data/mixup.ts';
import { evalTransform, normalize, toTensor } from '../data/transforms.ts';
import { ImageFolder, SHAPES_DEFAULT_SIDE, cifar10, cifar100, shapes, type OnError, type Dataset, type Sample } from '../data/datasets/index.ts';
import { buildModel, resolveModel, type Model } from '../models/index.ts';
import type { PretrainedCfg } from '../models/registry.ts';
import { resolveWeights } from '../io/hub.ts';
import { readSafetensors } from '../io/safetensors.ts';
import { createModel } from '../io/pretrained.ts';
import { AdamW, Adam, Adafactor, SGD, Lamb, type Optimizer } from '../train/optim/index.ts';
import { paramGroupsWeightDecay } from '../train/optim/param-groups.ts';
import { createScheduler, type SchedulerName } from '../train/scheduler.ts';
import { loadCheckpoint, loadModelWeights } from '../train/checkpoint.ts';
import { Trainer, evaluate, type EvalResult, type FitResult, type TeacherOptions } from '../train/trainer.ts';
import { ModelEma } from '../train/ema.ts';
import { manualSeed } from '../tensor/random.ts';

/** A dataset pair parsed from a data spec. */
export interface DataSpec {
  train: Dataset;
  val: Dataset | null;
  classes: readonly string[];
  /** Native image size when every image has one ([H, W]); null for folders of arbitrary images. */
  imageSize: [number, number] | null;
  kind: 'shapes' | 'cifar' | 'folder';
}

/**
 * Parses a data spec: `shapes`, `shapes:N` (N classes) or `shapes:classes=N,first=K,size=S,train=L,val=L`
 * (the procedural dataset; defaults 10 classes, 32 px, 12000/1000 images), `cifar10:DIR`,
 * `cifar100:DIR`, or an ImageFolder root holding train/ (and val/) or the class folders directly;
 * `onCorrupt` says what an ImageFolder does with a file it cannot decode.
 */
export function openData(spec: string, onCorrupt: OnError = 'fail'): DataSpec {
  const shapesMatch = /^shapes(?::(.*))?$/.exec(spec);
  if (shapesMatch) {
    const settings: Record<string, number> = {};
    const body = shapesMatch[1] ?? '';
    for (const part of body ? body.split(',') : []) {
      const [key, value] = /^\d+$/.test(part) ? ['classes', part] : part.split('=');
      const n = Number(value);
      const min = key === 'first' ? 0 : 1;
      if (!['classes', 'first', 'size', 'train', 'val'].includes(key) || !Number.isInteger(n) || n < min) {
        throw new ArgumentError(`--data: bad shapes setting '${part}', expected classes=N, first=K, size=S, train=L or val=L with positive integers (first may be 0)`);
      }
      settings[key] = n;
    }
    const common = { numClasses: settings.classes ?? 10, firstClass: settings.first ?? 0, size: settings.size ?? SHAPES_DEFAULT_SIDE };
    const train = shapes({ split: 'train', ...common, length: settings.train });
    const val = shapes({ split: 'val', ...common, length: settings.val });
    return { train, val, classes: train.classes, imageSize: [train.height, train.width], kind: 'shapes' };
  }
  const cifar = /^(cifar10|cifar100):(.+)$/.exec(spec);
  if (cifar) {
    const make = cifar[1] === 'cifar10' ? cifar10 : cifar100;
    const train = make(cifar[2], { train: true });
    return { train, val: make(cifar[2], { train: false }), classes: train.classes, imageSize: [32, 32], kind: 'cifar' };
  }
  if (!existsSync(spec) || !statSync(spec).isDirectory()) {
    throw new ArgumentError(`--data: expected 'shapes', 'shapes:N', 'cifar10:DIR', 'cifar100:DIR' or an image folder, got '${spec}'`);
  }
  const hasSplits = existsSync(join(spec, 'train'));
  const train = new ImageFolder(hasSplits ? join(spec, 'train') : spec, { onError: onCorrupt });
  const valDir = ['val', 'validation', 'test'].map((d) => join(spec, d)).find((d) => hasSplits && existsSync(d));
  const val = valDir ? new ImageFolder(valDir, { onError: onCorrupt }) : null;
  if (val && val.classes.join('\n') !== train.classes.join('\n')) throw new ArgumentError(`--data: ${valDir} has classes different from ${join(spec, 'train')}`);
  return { train, val, classes: train.classes, imageSize: null, kind: 'folder' };
}

/** A dataset restricted to some indices. */
export class Subset implements Dataset {
  constructor(
    readonly base: Dataset,
    readonly indices: readonly number[],
  ) {}
  get length(): number {
    return this.indices.length;
  }
  get classes(): readonly string[] {
    return this.base.classes;
  }
  get(index: number): Sample | Promise<Sample | null> | null {
    return this.base.get(this.indices[index]) as Sample | Promise<Sample | null> | null;
  }
}

/** K samples per class, taken in a seeded random order (the scan stops once every class has K). */
export async function fewShot(dataset: Dataset, numClasses: number, k: number, seed: number): Promise<Subset> {
  const counts = new Array<number>(numClasses).fill(0);
  const chosen: number[] = [];
  const listed = (dataset as Dataset & { samples?: readonly (readonly [string, number])[] }).samples;
  for (const i of epochOrder(dataset.length, seed, 0, true)) {
    const label = listed ? listed[i][1] : (await dataset.get(i))?.label;
    if (label === undefined || counts[label] >= k) continue;
    counts[label]++;
    chosen.push(i);
    if (chosen.length === k * numClasses) break;
  }
  return new Subset(dataset, chosen);
}

/** The per-sample train and eval transforms for a model input size and normalization (cfg: the model's pretrained cfg). */
export function dataTransforms(data: DataSpec, inputSize: [number, number, number], mean: readonly number[], std: readonly number[], modelCfg: PretrainedCfg): { train: SampleTransform; eval: SampleTransform } {
  const native = data.imageSize && data.imageSize[0] === inputSize[1] && data.imageSize[1] === inputSize[2];
  const train = createTrainTransform({
    inputSize,
    mean,
    std,
    // A procedural shape's class is its geometry: a crop that stretches it (a circle into an
    // ellipse, a square into a bar) would change its class, so shapes keep their aspect ratio.
    scale: data.kind === 'folder' ? undefined : data.kind === 'shapes' ? [0.8, 1] : [0.5, 1],
    ratio: data.kind === 'shapes' ? [1, 1] : undefined,
    colorJitter: data.kind === 'shapes' ? null : 0.4,
    interpolation: 'bilinear',
  });
  const cfg = { ...modelCfg, inputSize, mean: [...mean] as [number, number, number], std: [...std] as [number, number, number], cropPct: native ? 1 : modelCfg.cropPct };
  const evalFn = native ? (img: Parameters<SampleTransform>[0]) => normalize(toTensor(img), mean, std) : evalTransform(cfg);
  return { train, eval: (img) => evalFn(img) };
}

/** What a worker needs to rebuild a split's dataset and transform (structured-cloneable). */
export interface TrainPipelineOptions {
  data: string;
  split: 'train' | 'val';
  model: string;
  inputSize: [number, number, number];
  mean: number[];
  std: number[];
  /** A subset of the split (few-shot), by index. */
  indices?: number[];
  onCorrupt?: OnError;
}

/** The loader pipeline of a training or validation split: DataLoader workers load it by this export. */
export function createTrainPipeline(o: TrainPipelineOptions): Pipeline {
  const data = openData(o.data, o.onCorrupt);
  const split = o.split === 'train' ? data.train : data.val;
  if (!split) throw new ArgumentError(`--data: ${o.data} has no validation split`);
  const transforms = dataTransforms(data, o.inputSize, o.mean, o.std, resolveModel(o.model).cfg);
  return { dataset: o.indices ? new Subset(split, o.indices) : split, transform: o.split === 'train' ? transforms.train : transforms.eval };
}

function classifierNames(model: Model): string[] {
  const c = model.pretrainedCfg.classifier;
  return Array.isArray(c) ? c : [c];
}

/** The weights file a --pretrained/--weights value names: a training output or checkpoint directory, a .safetensors file, a hub folder or repo id. */
async function weightsFile(spec: string): Promise<string> {
  if (existsSync(spec) && statSync(spec).isDirectory() && (existsSync(join(spec, 'state.json')) || !existsSync(join(spec, 'model.safetensors')))) {
    try {
      return join(loadCheckpoint(spec).path, 'model.safetensors');
    } catch {
      // not a training output: a hub-layout folder, resolved below
    }
  }
  return (await resolveWeights(spec)).weights;
}

/**
 * Loads pretrained weights for fine-tuning: every key must fit, except the classifier, which
 * is left freshly initialised when its shape differs (a different number of classes).
 * Returns whether the head was replaced.
 */
export async function loadPretrained(model: Model, spec: string): Promise<boolean> {
  const file = await weightsFile(spec);
  const { entry, cfg } = resolveModel(model.modelName);
  let sd = readSafetensors(file).tensors;
  if (cfg.keyLayout && entry.remappers?.[cfg.keyLayout] && !existsSync(join(file, '..', 'state.json'))) sd = entry.remappers[cfg.keyLayout]!(sd);
  const heads = classifierNames(model);
  const isHead = (k: string) => heads.some((h) => k === h || k.startsWith(`${h}.`));
  const own = model.stateDict();
  const replaced = [...sd].some(([k, t]) => isHead(k) && own.has(k) && own.get(k)!.shape.join() !== t.shape.join());
  if (replaced) for (const k of [...sd.keys()]) if (isHead(k)) sd.delete(k);
  if (replaced) for (const [k, t] of own) if (isHead(k)) sd.set(k, t);
  loadModelWeights(model, sd, file);
  return replaced;
}

/** Options of runTraining (the CLI's flags). */
export interface TrainTaskOptions {
  model: string;
  data: string;
  output: string;
  pretrained?: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  opt?: 'adamw' | 'adam' | 'sgd' | 'lamb' | 'adafactor';
  sched?: SchedulerName;
  warmupEpochs?: number;
  minLr?: number;
  mixup?: number;
  cutmix?: number;
  smoothing?: number;
  dropPath?: number;
  amp?: 'bf16' | null;
  accum?: number;
  clipGrad?: number | null;
  /** 'NAME+WEIGHTS' of a teacher for DeiT distillation. */
  teacher?: string;
  distillType?: 'hard' | 'soft';
  linearProbe?: boolean;
  fewShot?: number;
  seed?: number;
  /** DataLoader worker threads (default 0: batches are built on the main thread). */
  workers?: number;
  /** Keep an EMA of the weights and evaluate it each epoch. */
  modelEma?: boolean;
  /** EMA decay (default 0.9998, timm's). */
  modelEmaDecay?: number;
  /** EMA decay warm-up (timm's --model-ema-warmup). */
  modelEmaWarmup?: boolean;
  imgSize?: number;
  /** Resume from a checkpoint or output directory; true: the newest under `output`. */
  resume?: string | boolean;
  checkpointEvery?: number;
  onNonFinite?: 'stop' | 'skip';
  /** An image file that cannot be decoded: 'fail' (default) stops naming it, 'skip' reports it and leaves it out of its batch. */
  onCorrupt?: OnError;
  maxSteps?: number;
  log?: (line: string) => void;
  progressStream?: NodeJS.WriteStream | null;
}

// Adafactor takes the given (scheduled) lr, as timm's --opt adafactor with --lr; its relative step is for the API.
const OPTIMIZERS = { adamw: AdamW, adam: Adam, sgd: SGD, lamb: Lamb, adafactor: Adafactor } as const;

/** Trains a model as the CLI's `train` command does; returns the fit result. */
export async function runTraining(o: TrainTaskOptions): Promise<FitResult> {
  const log = o.log ?? ((line: string) => console.error(line));
  const data = openData(o.data, o.onCorrupt);
  const numClasses = data.classes.length;
  const seed = o.seed ?? 0;
  // As timm seeds torch: the initial weights (and dropout) follow --seed, also for a second run in one process.
  manualSeed(seed);
  const { cfg } = resolveModel(o.model);
  const side = o.imgSize ?? (data.imageSize ? data.imageSize[0] : cfg.inputSize[1]);
  const inputSize: [number, number, number] = [3, side, o.imgSize ?? (data.imageSize ? data.imageSize[1] : cfg.inputSize[2])];
  const model = buildModel(o.model, { numClasses, dropPathRate: o.dropPath ?? 0, ...(side !== cfg.inputSize[1] ? { imgSize: side } : {}) });
  if (o.pretrained) {
    const replaced = await loadPretrained(model, o.pretrained);
    log(`loaded ${o.pretrained}${replaced ? `; the classifier was replaced for ${numClasses} classes` : ''}`);
  }
  const { mean, std } = cfg;
  if (o.linearProbe) {
    const before = new Set(model.parameters());
    model.resetClassifier(numClasses);
    model.requiresGrad_(false);
    for (const p of model.parameters()) if (!before.has(p)) p.requiresGrad = true;
  }
  const trainable = model.parameters().filter((p) => p.requiresGrad).length;
  if (trainable === 0) throw new ArgumentError(`train: ${o.model} has no trainable parameters`);

  const trainSet = o.fewShot ? await fewShot(data.train, numClasses, o.fewShot, seed) : data.train;
  const batchSize = o.batchSize ?? 64;
  const epochs = o.epochs ?? 10;
  const mixing = (o.mixup ?? 0) > 0 || (o.cutmix ?? 0) > 0;
  const smoothing = o.smoothing ?? 0.1;
  const dropLast = trainSet.length >= batchSize * 2;
  const workers = o.workers ?? 0;
  // With workers, every thread loads the split's pipeline from this module by name.
  const spec = (split: 'train' | 'val'): PipelineSpec => ({
    module: import.meta.url,
    export: 'createTrainPipeline',
    options: { data: o.data, onCorrupt: o.onCorrupt, split, model: o.model, inputSize, mean: [...mean], std: [...std], ...(split === 'train' && trainSet instanceof Subset ? { indices: [...trainSet.indices] } : {}) } satisfies TrainPipelineOptions,
  });
  const transforms = dataTransforms(data, inputSize, mean, std, model.pretrainedCfg);
  const trainLoader = new DataLoader(workers > 0 ? spec('train') : trainSet, {
    batchSize,
    shuffle: true,
    seed,
    dropLast,
    workers,
    transform: workers > 0 ? undefined : transforms.train,
    batchTransform: mixing ? createMixup({ mixupAlpha: o.mixup ?? 0, cutmixAlpha: o.cutmix ?? 0, labelSmoothing: smoothing, numClasses }) : undefined,
  });
  const evalLoader = data.val ? new DataLoader(workers > 0 ? spec('val') : data.val, { batchSize, workers, transform: workers > 0 ? undefined : transforms.eval }) : null;

  const lr = o.lr ?? (2.5e-4 * batchSize * (o.accum ?? 1)) / 64;
  const wd = o.weightDecay ?? 0.05;
  const Opt = OPTIMIZERS[o.opt ?? 'adamw'];
  if (!Opt) throw new ArgumentError(`--opt: expected adamw, adam, sgd, lamb or adafactor, got '${String(o.opt)}'`);
  const optimizer: Optimizer = new (Opt as unknown as new (p: unknown, d: Record<string, number>) => Optimizer)(paramGroupsWeightDecay(model, wd), {
    lr,
    weightDecay: wd,
    ...(o.opt === 'sgd' ? { momentum: 0.9 } : {}),
  });
  const batchesPerEpoch = dropLast ? Math.floor(trainSet.length / batchSize) : Math.ceil(trainSet.length / batchSize);
  const updatesPerEpoch = Math.ceil(batchesPerEpoch / (o.accum ?? 1));
  const { scheduler } = createScheduler(o.sched ?? 'cosine', optimizer, {
    numEpochs: epochs,
    warmupEpochs: o.warmupEpochs ?? Math.min(5, epochs / 10),
    minLr: o.minLr ?? lr * 1e-2,
    stepOnEpochs: false,
    updatesPerEpoch,
  });

  let teacher: TeacherOptions | null = null;
  if (o.teacher) {
    const plus = o.teacher.indexOf('+');
    if (plus <= 0) throw new ArgumentError(`--teacher: expected NAME+WEIGHTS, got '${o.teacher}'`);
    const tModel = await createModel(o.teacher.slice(0, plus), { weights: o.teacher.slice(plus + 1) });
    if (tModel.numClasses !== numClasses) throw new ArgumentError(`--teacher: ${o.teacher} has ${tModel.numClasses} classes, the data has ${numClasses}`);
    tModel.eval();
    teacher = { model: tModel, type: o.distillType ?? 'hard' };
  }

  // The EMA's twin is built before the Trainer, which casts the model itself to bf16 under --amp: the average stays f32.
  const modelEma = o.modelEma
    ? new ModelEma(model, { decay: o.modelEmaDecay ?? 0.9998, useWarmup: o.modelEmaWarmup ?? false, module: buildModel(o.model, { numClasses, ...(side !== cfg.inputSize[1] ? { imgSize: side } : {}) }) })
    : null;
  const trainer = new Trainer({
    model,
    modelName: model.modelName,
    optimizer,
    scheduler,
    trainLoader,
    evalLoader,
    numClasses,
    epochs,
    accumSteps: o.accum ?? 1,
    clipGrad: o.clipGrad ?? null,
    amp: o.amp ?? null,
    smoothing: mixing ? 0 : smoothing,
    teacher,
    modelEma,
    onNonFinite: o.onNonFinite ?? 'stop',
    outputDir: o.output,
    checkpointEvery: o.checkpointEvery ?? null,
    maxSteps: o.maxSteps ?? null,
    frozenEval: o.linearProbe ?? false,
    args: { ...o, log: undefined, progressStream: undefined, classes: data.classes, inputSize, lr, batchSize, epochs },
    log,
    progressStream: o.progressStream === undefined ? process.stderr : o.progressStream,
  });
  if (o.resume) {
    const from = o.resume === true ? o.output : o.resume;
    if (o.resume !== true || loadCheckpointIfAny(from)) trainer.resume(from);
  }
  const extras = [workers > 0 ? `${workers} loader worker${workers > 1 ? 's' : ''}` : '', modelEma ? `EMA decay ${modelEma.decay}${modelEma.useWarmup ? ' with warm-up' : ''}` : ''].filter(Boolean);
  log(`training ${model.modelName} on ${o.data}: ${trainSet.length} images, ${numClasses} classes, input ${inputSize.slice(1).join('x')}, ${epochs} epochs, batch ${batchSize}, lr ${lr}${extras.map((e) => `, ${e}`).join('')}`);
  try {
    return await trainer.fit();
  } finally {
    await trainLoader.close();
    await evalLoader?.close();
  }
}

function loadCheckpointIfAny(dir: string): boolean {
  try {
    loadCheckpoint(dir);
    return true;
  } catch (e) {
    if (e instanceof TsvisionError) return false;
    throw e;
  }
}

/** Options of runEvaluation. */
export interface EvalTaskOptions {
  model: string;
  weights: string;
  data: string;
  batchSize?: number;
  imgSize?: number;
  /** As TrainTaskOptions.onCorrupt. */
  onCorrupt?: OnError;
}

/** Evaluates weights (a training output, a checkpoint, a .safetensors or hub id) on the validation split of a data spec. */
export async function runEvaluation(o: EvalTaskOptions): Promise<EvalResult & { classes: readonly string[] }> {
  const data = openData(o.data, o.onCorrupt);
  const dataset = data.val ?? data.train;
  const numClasses = data.classes.length;
  const { cfg } = resolveModel(o.model);
  const side = o.imgSize ?? (data.imageSize ? data.imageSize[0] : cfg.inputSize[1]);
  const inputSize: [number, number, number] = [3, side, o.imgSize ?? (data.imageSize ? data.imageSize[1] : cfg.inputSize[2])];
  const model = buildModel(o.model, { numClasses, ...(side !== cfg.inputSize[1] ? { imgSize: side } : {}) });
  const file = await weightsFile(o.weights);
  loadModelWeights(model, readSafetensors(file).tensors, file);
  const loader = new DataLoader(dataset, { batchSize: o.batchSize ?? 64, transform: dataTransforms(data, inputSize, cfg.mean, cfg.std, model.pretrainedCfg).eval });
  return { ...(await evaluate(model, loader, numClasses)), classes: data.classes };
}
