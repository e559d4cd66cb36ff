/** The trainer's callbacks: the interface and the standard ones (progress, checkpoints, metrics, Ctrl-C, EMA). */
export * from './types.ts';
export * from './progress.ts';
export * from './checkpoint.ts';
export * from './metrics.ts';
export * from './interrupt.ts';
export * from './ema.ts';
