/** The nn layer: Module, Parameter, layers mirroring torch.nn, and init functions. */
export { Module, type StateDict, type LoadStateDictResult, type BufferOptions } from './module.ts';
export { Parameter } from './parameter.ts';
export * as init from './init.ts';
export { type FactoryOptions } from './layers/common.ts';
export * from './layers/linear.ts';
export * from './layers/conv.ts';
export * from './layers/norm.ts';
export * from './layers/containers.ts';
export * from './layers/dropout.ts';
export * from './layers/embedding.ts';
export * from './layers/activation.ts';
export * from './layers/attention.ts';
export * from './layers/padding.ts';
export * from './layers/std-conv.ts';
export * from './layers/pool-same.ts';
export * from './layers/norm-act.ts';
export * from './layers/conv-bn-act.ts';
