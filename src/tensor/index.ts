/** The tensor layer: Tensor, creation, random, autograd, and the functional ops. */
export { Tensor, Storage, contiguousStrides, numelOf, type TypedArray, type NestedArray } from './tensor.ts';
export * from './dtype.ts';
export * from './creation.ts';
export { Generator, defaultGenerator, manualSeed, type GeneratorState } from './random.ts';
export { noGrad, enableGrad, isGradEnabled, type BackwardOptions, type GradNode } from './autograd.ts';
export * from './ops/elementwise.ts';
export * from './ops/activation.ts';
export * from './ops/reduce.ts';
export * from './ops/shape.ts';
export * from './ops/index.ts';
export * from './ops/linalg.ts';
export * from './ops/conv.ts';
export * from './ops/pool.ts';
export * from './ops/norm.ts';
export * from './ops/attention.ts';
export * from './ops/resample.ts';
export { native } from './native.ts';
export { profile, startProfile, isProfiling, Profiler, ProfileReport, type OpStat, type ProfileOptions } from './profiler.ts';
