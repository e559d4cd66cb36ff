/** Filled in as the index kernels land. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface NativeIndex {}
