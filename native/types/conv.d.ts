/** Filled in as the conv kernels land. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface NativeConv {}
