/** tsvision: vision and vision-language models with inference and training on Node.js. */
export * from './errors.ts';
export * from './tensor/index.ts';
export * as nn from './nn/index.ts';
export * from './io/safetensors.ts';
export * from './io/hub.ts';
export * from './io/image.ts';
export * from './data/transforms.ts';
export * from './models/index.ts';
export * from './tasks/pretrained.ts';
export * from './data/labels.ts';
export * from './tasks/classify.ts';
export * from './tasks/infer.ts';
export * from './train/index.ts';
export * from './data/augment.ts';
export * from './data/mixup.ts';
export * from './data/datasets/index.ts';
export * from './data/loader.ts';
