/** Filled in as the pool kernels land. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface NativePool {}
