export * from './optim/index.ts';
export * from './clip.ts';
export * from './ema.ts';
export * from './scheduler.ts';
export * from './losses.ts';
