export * from './optim/index.ts';
export * from './clip.ts';
export * from './ema.ts';
