/** Filled in as the eltwise kernels land. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface NativeEltwise {}
