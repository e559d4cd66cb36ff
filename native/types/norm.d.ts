/** Filled in as the norm kernels land. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface NativeNorm {}
