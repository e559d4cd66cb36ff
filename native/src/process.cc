// Process-wide memory and threading settings: huge pages for fresh buffers, freeing a buffer now,
// glibc's retention of freed memory, and the OpenMP thread count.
#include <omp.h>
#ifdef __linux__
#include <sys/mman.h>
#endif
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "common.h"

namespace tsv {

namespace {

// adviseHugePages(buffer): asks the kernel to back a fresh large buffer with 2 MiB pages, so
// first touch costs one fault per 2 MiB instead of per 4 KiB (the dominant cost of writing a
// new activation tensor). Only whole pages inside the buffer are advised; a no-op elsewhere.
Napi::Value AdviseHugePages(const Napi::CallbackInfo& info) {
#ifdef __linux__
  if (!info[0].IsArrayBuffer()) Fail("expected an ArrayBuffer");
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  const uintptr_t begin = reinterpret_cast<uintptr_t>(ab.Data());
  const uintptr_t end = begin + ab.ByteLength();
  const uintptr_t page = 4096;
  const uintptr_t first = (begin + page - 1) & ~(page - 1);
  const uintptr_t last = end & ~(page - 1);
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#endif
  return info.Env().Undefined();
}

// detachBuffer(ab): frees an ArrayBuffer's memory now (and drops it from V8's external-memory
// count) instead of at the next GC; every view of it then has length 0.
Napi::Value DetachBuffer(const Napi::CallbackInfo& info) {
  if (!info[0].IsArrayBuffer()) Fail("expected an ArrayBuffer");
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  if (!ab.IsDetached()) ab.Detach();
  return info.Env().Undefined();
}

// retainFreedMemory(on): large blocks come from malloc's heap, not fresh mmaps, and freed memory
// stays there. Tensor storage is malloc'd by V8 and freed at GC; without this, every big
// activation is a new mapping whose first touch page-faults (on this VM about 1 ms per MB,
// more than the conv that writes it) and whose release is an munmap on V8's sweeper thread.
// Off again puts glibc's default limits back; glibc's adaptive mmap threshold stays off once set.
Napi::Value RetainFreedMemory(const Napi::CallbackInfo& info) {
  if (info.Length() != 1 || !info[0].IsBoolean()) Fail("expected one boolean");
#ifdef __GLIBC__
  static bool retaining = false;
  const bool on = info[0].As<Napi::Boolean>().Value();
  if (on && !retaining) {
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  } else if (!on && retaining) {
    constexpr int kGlibcMmapMax = 65536, kGlibcTrimThreshold = 128 * 1024;
    mallopt(M_MMAP_MAX, kGlibcMmapMax);
    mallopt(M_TRIM_THRESHOLD, kGlibcTrimThreshold);
  }
  retaining = on;
#endif
  return info.Env().Undefined();
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  int n = info[0].As<Napi::Number>().Int32Value();
  if (n < 1) Fail("thread count must be >= 1, got " + std::to_string(n));
  omp_set_num_threads(n);
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

}  // namespace

void RegisterProcess(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "adviseHugePages", AdviseHugePages);
  Export(env, exports, "retainFreedMemory", RetainFreedMemory);
  Export(env, exports, "detachBuffer", DetachBuffer);
  Export(env, exports, "setNumThreads", SetNumThreads);
  Export(env, exports, "getNumThreads", GetNumThreads);
}

}  // namespace tsv
