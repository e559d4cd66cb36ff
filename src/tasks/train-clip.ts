/**
 * `tsvision train-clip` glue: image–caption data to loaders, a CLIP (random, or fine-tuned from
 * loaded weights), AdamW with open_clip's weight-decay groups, a cosine schedule, the contrastive
 * objective (gradient accumulation with embedding caching), logit_scale clamped at ln 100 after
 * every update, and an evaluation after each epoch: zero-shot top-1/top-5 on prompts (shapes-captions)
 * and text→image recall@1/5/10 on a held-out set of pairs.
 *
 * Data: `shapes-captions[:train=N,val=N,size=S,heldout=K,zeroshot=N]` (the built-in procedural set;
 * heldout=K colour–shape pairs never appear in training captions and form the zero-shot classes),
 * a captions table (.csv, .tsv or .jsonl: an image-path column and a caption column, as open_clip's
 * csv loader), or WebDataset shards (a .tar file, or a folder of them) with .jpg/.png and .txt.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ArgumentError } from '../errors.ts';
import { createTrainTransform } from '../data/augment.ts';
import { DataLoader, type SampleTransform } from '../data/loader.ts';
import { evalTransform, normalize, toTensor } from '../data/transforms.ts';
import {
  CaptionPairs, ImageCaptionTable, ShapesCaptions, ShapesZeroShot, WebDataset, webDatasetPairs,
  type CaptionDataset, type Dataset, type IterableDataset, type OnError,
} from '../data/datasets/index.ts';
import { checkIndex } from '../data/datasets/types.ts';
import { CLIP, buildModel, imagePreprocess, type ImagePreprocessCfg, type Model } from '../models/index.ts';
import { noGrad } from '../tensor/autograd.ts';
import { cast } from '../tensor/ops/elementwise.ts';
import { cat, transpose } from '../tensor/ops/shape.ts';
import { manualSeed } from '../tensor/random.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { loadTokenizer } from '../text/load.ts';
import type { Tokenizer } from '../text/tokenizer.ts';
import type { EpochRecord, TrainCallback } from '../train/callbacks/types.ts';
import { ContrastiveObjective, captionIds, logitScaleClamp } from '../train/contrastive.ts';
import { createOptimizer } from '../train/optim/create.ts';
import { paramGroupsWeightDecay } from '../train/optim/param-groups.ts';
import { createScheduler } from '../train/scheduler.ts';
import { Trainer, type FitResult } from '../train/trainer.ts';
import { loadPretrained } from './pretrained.ts';
import type { RunControlOptions } from './train.ts';
import { l2Normalize } from '../tensor/ops/reduce.ts';
import { matmul } from '../tensor/ops/linalg.ts';
import { zeroShotWeights } from './zero-shot.ts';

/** Prompt templates of the shapes-captions zero-shot evaluation: none is a caption's wording. */
export const SHAPES_PROMPTS: readonly string[] = ['a photo of a {}.', 'a picture showing a {}.', 'there is a {} in this image.', 'an image of one {}.'];

/** A zero-shot evaluation: images, and the class names their labels index into `classes` by `labelIndex`. */
export interface ZeroShotSet {
  images: Dataset;
  /** Every candidate class name (each goes into the prompt templates). */
  classes: readonly string[];
  /** Candidate index of each image label. */
  labelIndex: readonly number[];
}

/** Image–caption data parsed from a --data spec. */
export interface CaptionData {
  train: Dataset | IterableDataset;
  /** Held-out pairs for retrieval recall (shapes-captions: the val split's two-shape scenes; or a second table). */
  val: CaptionPairs | null;
  /** shapes-captions: images of the held-out colour–shape pairs, classified among all 64 colour–shape names. */
  zeroShot: ZeroShotSet | null;
  /** Native image size when every image has one; null for image files. */
  imageSize: [number, number] | null;
  kind: 'shapes-captions' | 'table' | 'webdataset';
}

const SHAPES_KEYS = ['train', 'val', 'size', 'heldout', 'zeroshot'] as const;

/**
 * Parses a train-clip data spec (see the module comment); `valSpec` is a captions table of
 * held-out pairs for the recall evaluation of table and shard data.
 */
export function openCaptionData(spec: string, options: { valSpec?: string; onCorrupt?: OnError; seed?: number } = {}): CaptionData {
  const onError = options.onCorrupt ?? 'fail';
  const val = options.valSpec ? new CaptionPairs(new ImageCaptionTable(options.valSpec, { onError })) : null;
  const shapes = /^shapes-captions(?::(.*))?$/.exec(spec);
  if (shapes) {
    const settings: Partial<Record<(typeof SHAPES_KEYS)[number], number>> = {};
    for (const part of shapes[1] ? shapes[1].split(',') : []) {
      const [key, value] = part.split('=');
      const n = Number(value);
      const min = key === 'heldout' ? 0 : 1;
      if (!(SHAPES_KEYS as readonly string[]).includes(key) || !Number.isInteger(n) || n < min) {
        throw new ArgumentError(`--data: bad shapes-captions setting '${part}', expected ${SHAPES_KEYS.map((k) => `${k}=N`).join(', ')} with positive integers (heldout may be 0)`);
      }
      settings[key as (typeof SHAPES_KEYS)[number]] = n;
    }
    const scene = { size: settings.size ?? 48, heldOutPairs: settings.heldout ?? 4 };
    const train = new ShapesCaptions({ ...scene, split: 'train', length: settings.train });
    const held = new CaptionPairs(twoShapeScenes(new ShapesCaptions({ ...scene, split: 'val', length: 2 * (settings.val ?? 1000) })));
    return { train: new CaptionPairs(train), val: val ?? held, zeroShot: heldOutZeroShot(scene, settings.zeroshot ?? 1000), imageSize: [train.side, train.side], kind: 'shapes-captions' };
  }
  if (!existsSync(spec)) throw new ArgumentError(`--data: expected 'shapes-captions[:...]', a captions table (.csv, .tsv, .jsonl), a WebDataset .tar or a folder of them; '${spec}' does not exist`);
  if (statSync(spec).isDirectory() || extname(spec).toLowerCase() === '.tar') {
    const shards = statSync(spec).isDirectory() ? readdirSync(spec).filter((f) => f.endsWith('.tar')).sort().map((f) => join(spec, f)) : [spec];
    if (shards.length === 0) throw new ArgumentError(`--data: the folder ${spec} holds no .tar shards`);
    return { train: webDatasetPairs(new WebDataset(shards, { shuffle: true, seed: options.seed ?? 0, onError })), val, zeroShot: null, imageSize: null, kind: 'webdataset' };
  }
  return { train: new CaptionPairs(new ImageCaptionTable(spec, { onError })), val, zeroShot: null, imageSize: null, kind: 'table' };
}

/**
 * The two-shape scenes of a shapes-captions split (its odd samples): their captions (two colours,
 * two shapes, sizes, a relation) tell one image from the others, which the single-shape captions
 * ("a red circle", shared by many images) cannot, so recall@K measures retrieval, not chance among twins.
 */
export function twoShapeScenes(split: ShapesCaptions): CaptionDataset {
  return { length: Math.floor(split.length / 2), get: (i: number) => split.get(2 * checkIndex('twoShapeScenes.get', i, Math.floor(split.length / 2)) + 1) };
}

// Single shapes of the held-out colour–shape pairs, to be told apart from every one of the 64 pairs:
// naming the colour or the shape alone is not enough, the model must compose both from captions that never paired them.
function heldOutZeroShot(scene: { size: number; heldOutPairs: number }, length: number): ZeroShotSet | null {
  if (scene.heldOutPairs < 2) return null;
  const images = new ShapesZeroShot({ ...scene, classes: 'held-out', length });
  const classes = new ShapesZeroShot({ ...scene, classes: 'all', length: 0 }).classes;
  return { images, classes, labelIndex: images.classes.map((c) => classes.indexOf(c)) };
}

/** The train (and eval) image transforms: native-size data is only normalised; files go through RandomResizedCrop(0.9-1), as open_clip, no flips. */
function clipTransforms(data: CaptionData, image: ImagePreprocessCfg): { train: SampleTransform; eval: SampleTransform } {
  const [, h, w] = image.inputSize;
  if (data.imageSize && data.imageSize[0] === h && data.imageSize[1] === w) {
    const plain: SampleTransform = (img) => normalize(toTensor(img), image.mean, image.std);
    return { train: plain, eval: plain };
  }
  const train = createTrainTransform({ inputSize: image.inputSize, mean: image.mean, std: image.std, scale: [0.9, 1], ratio: [3 / 4, 4 / 3], hflip: 0, colorJitter: null, interpolation: 'bicubic' });
  const evalFn = evalTransform(image);
  return { train, eval: (img) => evalFn(img) };
}

/** Options of runClipTraining (the CLI's flags). */
export interface ClipTrainOptions extends RunControlOptions {
  /** A registry CLIP (tsvision models clip). */
  model: string;
  data: string;
  output: string;
  /** A captions table of held-out pairs for the recall evaluation (table and shard data). */
  valData?: string;
  /** Weights to fine-tune from. */
  pretrained?: string;
  /** Tokenizer vocabulary file or folder (default: the model's). */
  vocab?: string;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  warmupEpochs?: number;
  minLr?: number;
  accum?: number;
  clipGrad?: number | null;
  amp?: 'bf16' | null;
  seed?: number;
  /** Zero-shot prompt templates (default SHAPES_PROMPTS). */
  templates?: readonly string[];
  /** Continue from the newest checkpoint in `output`. */
  resume?: boolean;
}

/** Trains a CLIP contrastively as the CLI's `train-clip` does; returns the fit result. */
export async function runClipTraining(o: ClipTrainOptions): Promise<FitResult> {
  const log = o.log ?? ((line: string) => console.error(line));
  const seed = o.seed ?? 0;
  manualSeed(seed);
  const data = openCaptionData(o.data, { valSpec: o.valData, onCorrupt: o.onCorrupt, seed });
  const model = buildModel<CLIP>(o.model);
  if (!(model instanceof CLIP)) throw new ArgumentError(`train-clip: ${o.model} is not an image–text (CLIP) model; tsvision models clip lists them`);
  if (o.pretrained) {
    await loadPretrained(model, o.pretrained);
    log(`loaded ${o.pretrained}`);
  }
  const image = imagePreprocess(model.pretrainedCfg)!;
  const tokenizer = await loadTokenizer(o.vocab ?? o.model);
  const transforms = clipTransforms(data, image);
  const batchSize = o.batchSize ?? 128;
  const epochs = o.epochs ?? 10;
  const accum = o.accum ?? 1;
  const trainLength = 'length' in data.train ? data.train.length : undefined;
  const dropLast = trainLength === undefined || trainLength >= batchSize * 2;
  const trainLoader = new DataLoader(data.train, { batchSize, shuffle: true, seed, dropLast, workers: 0, transform: transforms.train });
  const batchesPerEpoch = trainLength === undefined ? undefined : dropLast ? Math.floor(trainLength / batchSize) : Math.ceil(trainLength / batchSize);
  const lr = o.lr ?? 5e-4;
  const optimizer = createOptimizer('adamw', paramGroupsWeightDecay(model, o.weightDecay ?? 0.1), { lr, weightDecay: o.weightDecay ?? 0.1, betas: [0.9, 0.98], eps: 1e-6 });
  const { scheduler } = createScheduler('cosine', optimizer, {
    numEpochs: epochs,
    warmupEpochs: o.warmupEpochs ?? Math.min(1, epochs / 10),
    minLr: o.minLr ?? 0,
    // A stream's length is unknown until it ends: its schedule steps per epoch instead of per update.
    ...(batchesPerEpoch === undefined ? { stepOnEpochs: true } : { stepOnEpochs: false, updatesPerEpoch: Math.ceil(batchesPerEpoch / accum) }),
  });
  const evaluation = new ClipEvaluation(model, tokenizer, data, transforms.eval, o.templates ?? SHAPES_PROMPTS);
  const trainer = new Trainer({
    model,
    modelName: model.modelName,
    optimizer,
    scheduler,
    trainLoader,
    numClasses: 0,
    epochs,
    accumSteps: accum,
    clipGrad: o.clipGrad ?? null,
    amp: o.amp ?? null,
    objective: new ContrastiveObjective(model, tokenizer, o.amp === 'bf16' ? 'bfloat16' : 'float32'),
    onNonFinite: o.onNonFinite ?? 'stop',
    outputDir: o.output,
    checkpointEvery: o.checkpointEvery ?? null,
    maxSteps: o.maxSteps ?? null,
    callbacks: [logitScaleClamp(model), evaluation],
    args: { ...o, log: undefined, progressStream: undefined, lr, batchSize, epochs },
    log,
    progressStream: o.progressStream === undefined ? process.stderr : o.progressStream,
  });
  if (o.resume && existsSync(o.output)) trainer.resume(o.output);
  log(`training ${model.modelName} contrastively on ${o.data}: ${trainLength ?? 'streamed'} pairs, input ${image.inputSize.slice(1).join('x')}, ${epochs} epochs, batch ${batchSize}${accum > 1 ? ` (${accum} micro-batches of ${batchSize})` : ''}, lr ${lr}`);
  try {
    return await trainer.fit();
  } finally {
    await trainLoader.close();
  }
}

/** Recall@K of text→image retrieval: query i's own image (column i) among the K most similar. */
export function textToImageRecall(similarity: Tensor, ks: readonly number[]): number[] {
  const [n, m] = similarity.shape;
  const values = similarity.toArray() as Float32Array;
  const hits = ks.map(() => 0);
  for (let i = 0; i < n; ++i) {
    const own = values[i * m + i];
    let above = 0;
    for (let j = 0; j < m; ++j) if (values[i * m + j] > own) ++above;
    ks.forEach((k, q) => {
      if (above < k) ++hits[q];
    });
  }
  return hits.map((h) => h / n);
}

/**
 * The per-epoch evaluation of train-clip: zero-shot top-1/top-5 among every candidate class (the
 * record's top1/top5), top-1 among the held-out classes only (heldOutTop1), and text→image
 * recall@1/5/10 on held-out pairs.
 */
export class ClipEvaluation implements TrainCallback {
  constructor(
    private readonly model: Model<CLIP>,
    private readonly tokenizer: Tokenizer,
    private readonly data: CaptionData,
    private readonly transform: SampleTransform,
    private readonly templates: readonly string[],
    private readonly batchSize = 128,
  ) {}

  /** Evaluates the model in eval mode (the trainer restores training mode). */
  async onEvaluate(): Promise<Partial<EpochRecord>> {
    this.model.eval();
    const dtype = this.model.logitScale.dtype;
    const out: Partial<EpochRecord> = {};
    const zs = this.data.zeroShot;
    if (zs) {
      const { images, labels } = await this.embed(zs.images, dtype);
      const weights = zeroShotWeights(this.model, this.tokenizer, zs.classes, this.templates);
      const scores = noGrad(() => matmul(images, weights)).toArray() as Float32Array;
      const c = zs.classes.length;
      const heldOut = [...new Set(zs.labelIndex)];
      let top1 = 0;
      let top5 = 0;
      let heldOutTop1 = 0;
      for (let i = 0; i < labels.length; ++i) {
        const own = scores[i * c + zs.labelIndex[labels[i]]];
        let above = 0;
        for (let k = 0; k < c; ++k) if (scores[i * c + k] > own) ++above;
        if (above < 1) ++top1;
        if (above < 5) ++top5;
        if (heldOut.every((k) => scores[i * c + k] <= own)) ++heldOutTop1;
      }
      Object.assign(out, { top1: top1 / labels.length, top5: top5 / labels.length, heldOutTop1: heldOutTop1 / labels.length });
    }
    if (this.data.val) {
      const { images, texts } = await this.embed(this.data.val, dtype);
      const [r1, r5, r10] = textToImageRecall(noGrad(() => matmul(texts!, transpose(images, 0, 1))), [1, 5, 10]);
      Object.assign(out, { recallAt1: r1, recallAt5: r5, recallAt10: r10 });
    }
    return out;
  }

  // L2-normalised embeddings of a dataset's images (and captions, when it has them), and its labels, in order.
  private async embed(ds: Dataset, dtype: Tensor['dtype']): Promise<{ images: Tensor; texts: Tensor | null; labels: number[] }> {
    const images: Tensor[] = [];
    const texts: Tensor[] = [];
    const labels: number[] = [];
    for await (const b of new DataLoader(ds, { batchSize: this.batchSize, transform: this.transform })) {
      labels.push(...Array.from(b.labels.toArray() as BigInt64Array, Number));
      images.push(noGrad(() => l2Normalize(cast(this.model.encodeImage(cast(b.images, dtype)), 'float32'))));
      if (b.texts) texts.push(noGrad(() => l2Normalize(cast(this.model.encodeText(captionIds(this.tokenizer, b.texts!)), 'float32'))));
    }
    const join = (parts: Tensor[]) => (parts.length === 1 ? parts[0] : cat(parts, 0));
    return { images: join(images), texts: texts.length > 0 ? join(texts) : null, labels };
  }
}
