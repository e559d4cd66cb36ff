/** Filled in as the resample kernels land. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface NativeResample {}
