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
import { ArgumentError } from '../errors.ts';
import { DataLoader, epochOrder, type Pipeline, type PipelineSpec, type SampleTransform } from '../data/loader.ts';
import { createTrainTransform } from '../data/augment.ts';
import { createMixup } from '../data/mixup.ts';
import { evalTransform, normalize, toTensor } from '../data/transforms.ts';
import { ImageFolder, SHAPES_DEFAULT_SIDE, cifar10, cifar100, shapes, type OnError, type Dataset, type Sample } from '../data/datasets/index.ts';
import { buildModel, imagePreprocess, resolveModel, type ImagePreprocessCfg, type Model } from '../models/index.ts';
import { createModel, loadPretrained } from './pretrained.ts';
import { createOptimizer, type OptimizerName } from '../train/optim/create.ts';
import type { Optimizer } from '../train/optim/optimizer.ts';
import { paramGroupsWeightDecay } from '../train/optim/param-groups.ts';
import { createScheduler, type SchedulerName } from '../train/scheduler.ts';
import { listCheckpoints } from '../train/checkpoint.ts';
import { evaluate, type EvalResult } from '../train/evaluate.ts';
import { Trainer, type FitResult, type TeacherOptions } from '../train/trainer.ts';
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
export function dataTransforms(data: DataSpec, inputSize: [number, number, number], mean: readonly number[], std: readonly number[], modelCfg: ImagePreprocessCfg): { train: SampleTransform; eval: SampleTransform } {
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
  const transforms = dataTransforms(data, o.inputSize, o.mean, o.std, modelImageCfg(o.model));
  return { dataset: o.indices ? new Subset(split, o.indices) : split, transform: o.split === 'train' ? transforms.train : transforms.eval };
}

/** The image preprocessing of a registry model, or a typed error when it reads no images. */
function modelImageCfg(name: string): ImagePreprocessCfg {
  const image = imagePreprocess(resolveModel(name).cfg);
  if (!image) throw new ArgumentError(`${name} reads no images; training and evaluation here take image datasets`);
  return image;
}

/**
 * The model's input for a data spec: [3, H, W] from --img-size, else the data's own image size,
 * else the model's; and the build options for the data's classes at that size.
 */
function modelInput(o: { model: string; imgSize?: number }, data: DataSpec): { image: ImagePreprocessCfg; inputSize: [number, number, number]; buildOptions: { numClasses: number; imgSize?: number } } {
  const image = modelImageCfg(o.model);
  const side = o.imgSize ?? (data.imageSize ? data.imageSize[0] : image.inputSize[1]);
  const inputSize: [number, number, number] = [3, side, o.imgSize ?? (data.imageSize ? data.imageSize[1] : image.inputSize[2])];
  return { image, inputSize, buildOptions: { numClasses: data.classes.length, ...(side !== image.inputSize[1] ? { imgSize: side } : {}) } };
}

/** How a training run is watched and bounded: checkpoints, failures, logs (train and train-clip). */
export interface RunControlOptions {
  /** Also checkpoint every n updates. */
  checkpointEvery?: number;
  onNonFinite?: 'stop' | 'skip';
  /** An image file that cannot be decoded: 'fail' (default) stops naming it, 'skip' reports it and leaves it out of its batch. */
  onCorrupt?: OnError;
  maxSteps?: number;
  log?: (line: string) => void;
  progressStream?: NodeJS.WriteStream | null;
}

/** Options of runTraining (the CLI's flags). */
export interface TrainTaskOptions extends RunControlOptions {
  model: string;
  data: string;
  output: string;
  pretrained?: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  opt?: OptimizerName;
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
}

/** Trains a model as the CLI's `train` command does; returns the fit result. */
export async function runTraining(o: TrainTaskOptions): Promise<FitResult> {
  const log = o.log ?? ((line: string) => console.error(line));
  const data = openData(o.data, o.onCorrupt);
  const numClasses = data.classes.length;
  const seed = o.seed ?? 0;
  // As timm seeds torch: the initial weights (and dropout) follow --seed, also for a second run in one process.
  manualSeed(seed);
  const { model, inputSize, twinOptions } = await trainModel(o, data, log);
  const trainSet = o.fewShot ? await fewShot(data.train, numClasses, o.fewShot, seed) : data.train;
  const batchSize = o.batchSize ?? 64;
  const epochs = o.epochs ?? 10;
  const mixing = (o.mixup ?? 0) > 0 || (o.cutmix ?? 0) > 0;
  const { trainLoader, evalLoader, batchesPerEpoch } = trainLoaders(o, data, trainSet, inputSize, batchSize);
  const lr = o.lr ?? (2.5e-4 * batchSize * (o.accum ?? 1)) / 64;
  const optimizer = trainOptimizer(o.opt ?? 'adamw', model, lr, o.weightDecay ?? 0.05);
  const { scheduler } = createScheduler(o.sched ?? 'cosine', optimizer, {
    numEpochs: epochs,
    warmupEpochs: o.warmupEpochs ?? Math.min(5, epochs / 10),
    minLr: o.minLr ?? lr * 1e-2,
    stepOnEpochs: false,
    updatesPerEpoch: Math.ceil(batchesPerEpoch / (o.accum ?? 1)),
  });
  // The teacher and the EMA's twin draw their initial weights from the seeded generator, in this order.
  const teacher = o.teacher ? await loadTeacher(o.teacher, o.distillType ?? 'hard', numClasses) : null;
  // The twin is built before the Trainer, which casts the model itself to bf16 under --amp: the average stays f32.
  const modelEma = o.modelEma ? new ModelEma(model, { decay: o.modelEmaDecay ?? 0.9998, useWarmup: o.modelEmaWarmup ?? false, module: buildModel(o.model, twinOptions) }) : null;
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
    smoothing: mixing ? 0 : (o.smoothing ?? 0.1),
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
  if (o.resume) resumeTraining(trainer, o.resume === true ? o.output : o.resume, o.resume === true, log);
  const workers = o.workers ?? 0;
  const extras = [workers > 0 ? `${workers} loader worker${workers > 1 ? 's' : ''}` : '', modelEma ? `EMA decay ${modelEma.decay}${modelEma.useWarmup ? ' with warm-up' : ''}` : ''].filter(Boolean);
  log(`training ${model.modelName} on ${o.data}: ${trainSet.length} images, ${numClasses} classes, input ${inputSize.slice(1).join('x')}, ${epochs} epochs, batch ${batchSize}, lr ${lr}${extras.map((e) => `, ${e}`).join('')}`);
  try {
    return await trainer.fit();
  } finally {
    await trainLoader.close();
    await evalLoader?.close();
  }
}

/** The model to train: built for the data's classes and input side, pretrained weights loaded, the backbone frozen for a linear probe. */
async function trainModel(o: TrainTaskOptions, data: DataSpec, log: (line: string) => void): Promise<{ model: Model; inputSize: [number, number, number]; twinOptions: { numClasses: number; imgSize?: number } }> {
  const numClasses = data.classes.length;
  const { inputSize, buildOptions: twinOptions } = modelInput(o, data);
  const model = buildModel(o.model, { ...twinOptions, dropPathRate: o.dropPath ?? 0 });
  if (o.pretrained) {
    const { headReplaced: replaced } = await loadPretrained(model, o.pretrained, { numClasses });
    log(`loaded ${o.pretrained}${replaced ? `; the classifier was replaced for ${numClasses} classes` : ''}`);
  }
  if (o.linearProbe) {
    const before = new Set(model.parameters());
    model.resetClassifier(numClasses);
    model.requiresGrad_(false);
    for (const p of model.parameters()) if (!before.has(p)) p.requiresGrad = true;
  }
  if (!model.parameters().some((p) => p.requiresGrad)) throw new ArgumentError(`train: ${o.model} has no trainable parameters`);
  return { model, inputSize, twinOptions };
}

/** The train and eval loaders (with workers, each thread loads its split's pipeline from this module by name). */
function trainLoaders(o: TrainTaskOptions, data: DataSpec, trainSet: Dataset, inputSize: [number, number, number], batchSize: number): { trainLoader: DataLoader; evalLoader: DataLoader | null; batchesPerEpoch: number } {
  const numClasses = data.classes.length;
  const image = modelImageCfg(o.model);
  const { mean, std } = image;
  const dropLast = trainSet.length >= batchSize * 2;
  const workers = o.workers ?? 0;
  const mixing = (o.mixup ?? 0) > 0 || (o.cutmix ?? 0) > 0;
  const spec = (split: 'train' | 'val'): PipelineSpec => ({
    module: import.meta.url,
    export: 'createTrainPipeline',
    options: { data: o.data, onCorrupt: o.onCorrupt, split, model: o.model, inputSize, mean: [...mean], std: [...std], ...(split === 'train' && trainSet instanceof Subset ? { indices: [...trainSet.indices] } : {}) } satisfies TrainPipelineOptions,
  });
  const transforms = dataTransforms(data, inputSize, mean, std, image);
  const trainLoader = new DataLoader(workers > 0 ? spec('train') : trainSet, {
    batchSize,
    shuffle: true,
    seed: o.seed ?? 0,
    dropLast,
    workers,
    transform: workers > 0 ? undefined : transforms.train,
    batchTransform: mixing ? createMixup({ mixupAlpha: o.mixup ?? 0, cutmixAlpha: o.cutmix ?? 0, labelSmoothing: o.smoothing ?? 0.1, numClasses }) : undefined,
  });
  const evalLoader = data.val ? new DataLoader(workers > 0 ? spec('val') : data.val, { batchSize, workers, transform: workers > 0 ? undefined : transforms.eval }) : null;
  const batchesPerEpoch = dropLast ? Math.floor(trainSet.length / batchSize) : Math.ceil(trainSet.length / batchSize);
  return { trainLoader, evalLoader, batchesPerEpoch };
}

/** The --opt optimizer over timm's weight-decay groups (no decay for norms, biases and the model's noWeightDecay list). */
function trainOptimizer(name: OptimizerName, model: Model, lr: number, weightDecay: number): Optimizer {
  const groups = paramGroupsWeightDecay(model, weightDecay);
  // timm's --opt sgd is SGD with momentum 0.9; Adafactor takes the given (scheduled) lr, not its relative step.
  return name === 'sgd' ? createOptimizer('sgd', groups, { lr, weightDecay, momentum: 0.9 }) : createOptimizer(name, groups, { lr, weightDecay });
}

/** A DeiT teacher from 'NAME+WEIGHTS', in eval mode, checked against the data's class count. */
async function loadTeacher(spec: string, type: 'hard' | 'soft', numClasses: number): Promise<TeacherOptions> {
  const plus = spec.indexOf('+');
  if (plus <= 0) throw new ArgumentError(`--teacher: expected NAME+WEIGHTS, got '${spec}'`);
  const model = await createModel(spec.slice(0, plus), { weights: spec.slice(plus + 1) });
  if (model.numClasses !== numClasses) throw new ArgumentError(`--teacher: ${spec} has ${model.numClasses} classes, the data has ${numClasses}`);
  model.eval();
  return { model, type };
}

/**
 * Continues from `from` (see Trainer.resume: newer unreadable checkpoints are skipped and named,
 * none readable is a CheckpointError). `--resume` without a path names the output directory,
 * which has no checkpoint before the first run: then training starts from step 0, and says so.
 */
function resumeTraining(trainer: Trainer, from: string, optional: boolean, log: (line: string) => void): void {
  if (optional && !existsSync(join(from, 'state.json')) && listCheckpoints(from).length === 0) {
    log(`--resume: no checkpoint in ${from} yet; training from step 0`);
    return;
  }
  trainer.resume(from);
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
  const { image, inputSize, buildOptions } = modelInput(o, data);
  const model = buildModel(o.model, buildOptions);
  const { file, checkpointClasses } = await loadPretrained(model, o.weights);
  if (checkpointClasses !== numClasses) throw new ArgumentError(`eval: ${file} has a ${checkpointClasses}-class head, but ${o.data} has ${numClasses} classes`);
  const loader = new DataLoader(dataset, { batchSize: o.batchSize ?? 64, transform: dataTransforms(data, inputSize, image.mean, image.std, image).eval });
  return { ...(await evaluate(model, loader, numClasses)), classes: data.classes };
}
