/** Datasets: the Dataset interfaces, the procedural `shapes` and `shapes-captions`, ImageFolder, CIFAR binaries and WebDataset shards. */
export { checkIndex, deriveSeed, uniforms, type Dataset, type IterableDataset, type OnError, type Sample } from './types.ts';
export { SHAPE_KINDS, SHAPES_DEFAULT_SIDE, SHAPES_DEFAULT_SIZES, ShapesDataset, shapes, type ShapesOptions, type ShapesSplit } from './shapes.ts';
export { DatasetError, IMAGE_EXTENSIONS, ImageFolder, type ImageFolderOptions, type SampleError } from './image-folder.ts';
export { CIFAR10_CLASSES, CifarDataset, cifar10, cifar100, type Cifar100Options, type CifarOptions } from './cifar.ts';
export { IMAGE_KEYS, CAPTION_KEYS, CaptionPairs, ImageCaptionTable, webDatasetCaptions, webDatasetPairs, type ImageCaptionTableOptions } from './captions.ts';
export { WebDataset, readTar, splitKey, tarSamples, type RawSample, type TarEntry, type WebDatasetOptions } from './webdataset.ts';
export {
  CAPTION_COLOURS, CAPTION_SHAPES, COLOUR_NAMES, SHAPES_CAPTIONS_DEFAULT_SIZES, ShapesCaptions, ShapesZeroShot, heldOutPairs, shapesCaptions, shapesZeroShot,
  type CaptionColour, type CaptionDataset, type CaptionSample, type ShapesCaptionsOptions, type ShapesCaptionsSplit, type ShapesSceneOptions, type ShapesZeroShotOptions,
} from './shapes-captions.ts';
export { SHAPE_MASKS, shapeMask, type Frame, type ShapePlacement } from './shape-masks.ts';
