/**
 * A strided view over storage. `Tensor` satisfies this interface directly. `meta` packs
 * the view so the addon reads it in one step: [offset, dtypeId, ndim, ...shape, ...strides]
 * (offset and strides in elements; dtypeId is DTYPE_ID in src/tensor/dtype.ts).
 */
export interface NativeTensor {
  readonly buffer: ArrayBuffer;
  readonly meta: Float64Array;
}

export interface NativeCore {
  /** Advises the kernel to back a fresh large buffer with huge pages (Linux; a no-op elsewhere). */
  adviseHugePages(buffer: ArrayBuffer): void;
  /**
   * Makes glibc serve large blocks from its heap and keep freed memory for reuse (no mmap/munmap per
   * tensor), or (false) puts its default limits back. Set through configure({ retainFreedMemory }).
   */
  retainFreedMemory(on: boolean): void;
  /** Detaches an ArrayBuffer, freeing its memory now rather than at the next GC. */
  detachBuffer(buffer: ArrayBuffer): void;
  /** The class native errors are created from. */
  setErrorClass(ctor: new (message: string) => Error): void;
  /** OpenMP threads for the kernels; set through configure({ threads }). */
  setNumThreads(n: number): void;
  /** OpenMP threads the kernels use now. */
  getNumThreads(): number;
  /**
   * Whether this CPU's oneDNN has bf16 kernels (AVX-512 and later). Where it has none, the
   * oneDNN-backed kernels compute bf16 tensors in f32 and round the results to bf16.
   */
  oneDnnHasBf16(): boolean;
  /** dst[i] = cast(src[i]) over dst's shape; src may broadcast through zero strides. */
  copy(src: NativeTensor, dst: NativeTensor): void;
  /** Fills contiguous dst with value (converted to dst's dtype). */
  fill(dst: NativeTensor, value: number): void;
}
