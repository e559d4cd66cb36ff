/** tsvision: vision and vision-language models with inference and training on Node.js. */
export * from './errors.ts';
export * from './tensor/index.ts';
export * as nn from './nn/index.ts';
