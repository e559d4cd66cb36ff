/**
 * The model contract every registered model follows, whatever its modality: a task, named
 * inputs and outputs with their shapes and dtypes (the input spec), per-modality preprocessing,
 * pretrained configs, and the key layouts its checkpoints come in. `infer`, the generic registry
 * test, the server and the CLI read this contract; none of them assumes "pixels in, logits out".
 */
import type { Module, StateDict } from '../nn/module.ts';
import type { DType } from '../tensor/dtype.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** What a model is for (the Hugging Face pipeline names where one exists). */
export type ModelTask =
  | 'image-classification'
  | 'image-features'
  | 'image-text-embedding'
  | 'vision-language'
  | 'semantic-segmentation'
  | 'video-classification'
  | 'volume-segmentation';

/** One dimension of a tensor spec: a fixed size, or a name whose size is free but equal wherever the name appears. */
export type SpecDim = number | string;

/** A named input or output tensor. */
export interface TensorSpec {
  name: string;
  /** Shape of one sample; tensors carry a batch dimension N in front of it. */
  shape: readonly SpecDim[];
  dtype: DType;
  description: string;
  /** An input the model runs without, or an output it writes only for some inputs. */
  optional?: boolean;
  /** Name of the leading batch dimension (default 'N'); tensors with different names may differ in batch size (CLIP's images and texts). */
  batchDim?: string;
  /** Integer inputs: every value lies in [min, max). */
  range?: readonly [number, number];
}

/** A built model's named inputs and outputs. */
export interface ModelSpec {
  task: ModelTask;
  inputs: readonly TensorSpec[];
  outputs: readonly TensorSpec[];
  /** A size for every named dimension: the model's own (its built image size) or a typical one (a text length). */
  sizes: Readonly<Record<string, number>>;
  /** Named dimensions that must be a multiple of a size (a patch size with dynamic image sizes). */
  multipleOf?: Readonly<Record<string, number>>;
}

/** Named tensors in or out of a model. */
export type NamedTensors = Map<string, Tensor>;

/** Resampling used by a model's eval preprocessing. */
export type Interpolation = 'bilinear' | 'bicubic' | 'nearest';

/** How an image becomes pixel_values (timm's data config). */
export interface ImagePreprocessCfg {
  /** [C, H, W] at which the model is evaluated. */
  inputSize: [number, number, number];
  /** Size timm evaluates at when it differs from the training size. */
  testInputSize?: [number, number, number];
  /** timm resizes the shorter side to floor(H / cropPct), then center-crops H. */
  cropPct: number;
  testCropPct?: number;
  cropMode?: 'center' | 'squash' | 'border';
  interpolation: Interpolation;
  /** One value per channel. */
  mean: readonly number[];
  std: readonly number[];
}

/** How a video becomes a clip of frames [T, C, H, W]: frame sampling, then each frame as an image. */
export interface VideoPreprocessCfg {
  numFrames: number;
  /** Frames skipped between two sampled frames, plus one. */
  frameStride: number;
  frame: ImagePreprocessCfg;
}

/** How a medical volume becomes [C, D, H, W]: resampling, intensity scaling, region of interest. */
export interface VolumePreprocessCfg {
  /** [D, H, W] of the sliding-window region the model sees. */
  roiSize: [number, number, number];
  /** Voxel spacing in mm the volume is resampled to. */
  spacing?: [number, number, number];
  /** Intensities in [aMin, aMax] map linearly to [bMin, bMax] (MONAI ScaleIntensityRanged), clipped when `clip`. */
  intensity?: { aMin: number; aMax: number; bMin: number; bMax: number; clip: boolean };
}

/** How text becomes input_ids. */
export interface TextPreprocessCfg {
  tokenizer: 'clip-bpe' | 'wordpiece';
  /** Tokens per sequence, special tokens included. */
  contextLength: number;
  lowercase?: boolean;
  /** Hub repo holding the tokenizer files (vocab.json, merges.txt) when the weights repo (hubId) has none. */
  vocabHubId?: string;
}

/** Preprocessing per modality; a model names only those it reads. */
export interface PreprocessCfg {
  image?: ImagePreprocessCfg;
  video?: VideoPreprocessCfg;
  volume?: VolumePreprocessCfg;
  text?: TextPreprocessCfg;
}

/** Weight source, head and preprocessing of one pretrained variant (timm's PretrainedCfg). */
export interface PretrainedCfg {
  /** Hugging Face hub repo holding `model.safetensors` (+ `config.json`), e.g. 'timm/resnet50.tv_in1k'. */
  hubId?: string;
  /** Layout of the checkpoint's keys, a key of the entry's `keyLayouts`; the family's native layout when absent. */
  keyLayout?: string;
  /** Classes of the pretrained head (0: no head). */
  numClasses: number;
  /** Dotted name of the first conv, adapted when a model is built for other input channels. */
  firstConv?: string;
  /** Dotted name(s) of the classifier head, replaced when the class count differs. */
  classifier?: string | readonly string[];
  license?: string;
  /** Label set of the head, e.g. 'imagenet-1k'. */
  labelSet?: string;
  preprocess: PreprocessCfg;
}

/** Options every model factory accepts (families add their own). */
export interface CreateModelOptions {
  /** Classes of the head; 0 builds the model without a head (features only). */
  numClasses?: number;
  inChans?: number;
  /** Image size the model is built for (position embeddings, attention windows). */
  imgSize?: number;
  dropRate?: number;
  dropPathRate?: number;
  /** Every convolution's Winograd choice at inference, instead of the process's (configure's convWinograd). */
  convWinograd?: boolean | 'always';
}

/** A pure function from another checkpoint layout's keys to the family's own. */
export type KeyRemapper = (sd: StateDict) => StateDict;

/** What the registry knows of a model kind: its task, its spec once built, and its forward on named tensors. */
export interface ModelContract<M extends Module = Module> {
  task: ModelTask;
  /** The named inputs and outputs of a built model. */
  spec(model: M, cfg: PretrainedCfg): ModelSpec;
  /** Runs the model on named inputs (already checked against the spec) and returns its named outputs. */
  forwardNamed(model: M, inputs: NamedTensors): NamedTensors;
}

/** One registered variant. */
export interface ModelEntry<M extends Module = Module> {
  /** Architecture name, e.g. 'resnet50'. */
  name: string;
  /** Family file that defines it, e.g. 'resnet'. */
  family: string;
  /** Learnable parameters with the default head (the reference's count; verified by test/models/registry.test.ts). */
  paramCount: number;
  /** Builds the model; config values come from the family's variant table. */
  create(options: CreateModelOptions): M;
  /** Pretrained configs by tag; the first one is the default tag. */
  pretrained: Record<string, PretrainedCfg>;
  /** Remappers from other checkpoint layouts by layout name; a pretrained cfg's keyLayout picks one. */
  keyLayouts?: Record<string, KeyRemapper>;
  /** Adapts a checkpoint (in the family's layout) to a model built differently, e.g. position embeddings for another image size (timm's checkpoint_filter_fn). */
  filterCheckpoint?(sd: StateDict, model: M): StateDict;
  contract: ModelContract<M>;
}

/** The image preprocessing of a cfg, or null when the model reads no images. */
export function imagePreprocess(cfg: PretrainedCfg): ImagePreprocessCfg | null {
  return cfg.preprocess.image ?? cfg.preprocess.video?.frame ?? null;
}

/** The classifier parameter prefixes of a cfg, as a list. */
export function classifierNames(cfg: PretrainedCfg): readonly string[] {
  const c = cfg.classifier;
  return c === undefined ? [] : typeof c === 'string' ? [c] : c;
}

/** Whether a dotted state-dict key belongs to one of these modules ('head' holds 'head.weight', not 'head_dist.weight'). */
export function isKeyUnder(key: string, modules: readonly string[]): boolean {
  return modules.some((m) => key === m || key.startsWith(`${m}.`));
}

/** A spec dimension list as users read it, the batch first: [N, 3, 224, 224]. */
export function formatSpecShape(shape: readonly SpecDim[], batchDim = 'N'): string {
  return `[${[batchDim, ...shape].join(', ')}]`;
}

/** One tensor spec as users read it: pixel_values [N, 3, H, W] float32. */
export function formatTensorSpec(t: TensorSpec): string {
  return `${t.name} ${formatSpecShape(t.shape, t.batchDim)} ${t.dtype}${t.optional ? ' (optional)' : ''}`;
}

/** A spec's inputs and outputs in one line each. */
export function formatSpec(spec: ModelSpec): string {
  return `inputs: ${spec.inputs.map(formatTensorSpec).join(', ')}; outputs: ${spec.outputs.map(formatTensorSpec).join(', ')}`;
}
