/** Datasets: the Dataset interfaces, the procedural `shapes`, ImageFolder, CIFAR binaries and WebDataset shards. */
export { checkIndex, deriveSeed, uniforms, type Dataset, type IterableDataset, type OnError, type Sample } from './types.ts';
export { SHAPE_KINDS, SHAPES_DEFAULT_SIDE, SHAPES_DEFAULT_SIZES, ShapesDataset, shapes, type ShapesOptions, type ShapesSplit } from './shapes.ts';
export { DatasetError, IMAGE_EXTENSIONS, ImageFolder, type ImageFolderOptions, type SampleError } from './image-folder.ts';
export { CIFAR10_CLASSES, CifarDataset, cifar10, cifar100, type Cifar100Options, type CifarOptions } from './cifar.ts';
export { WebDataset, readTar, splitKey, tarSamples, type RawSample, type TarEntry, type WebDatasetOptions } from './webdataset.ts';
