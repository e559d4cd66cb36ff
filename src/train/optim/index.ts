/** Optimizers and parameter groups. */
export * from './optimizer.ts';
export * from './sgd.ts';
export * from './adam.ts';
export * from './adafactor.ts';
export * from './lamb.ts';
export * from './param-groups.ts';
export * from './create.ts';
