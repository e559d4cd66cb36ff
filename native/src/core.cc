// Views, errors, the primitive cache, strided copy with dtype conversion, fill.
// Storage itself is a JS ArrayBuffer: V8 frees it during GC, which napi finalizers
// (deferred to the event loop in Node 20) would not do inside a synchronous loop.
#include <omp.h>
#ifdef __linux__
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#endif

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "common.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include "strided.h"

namespace tsv {

namespace {

struct KernelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct InstanceData {
  Napi::FunctionReference errorClass;
  // Property names of NativeTensor, kept as interned JS strings (Node 20 cannot reference a string directly).
  Napi::Reference<Napi::Array> keys;
};

InstanceData& Instance(Napi::Env env) { return *env.GetInstanceData<InstanceData>(); }

Napi::Error MakeError(Napi::Env env, const std::string& message) {
  InstanceData& data = Instance(env);
  if (!data.errorClass.IsEmpty()) {
    Napi::Object err = data.errorClass.New({Napi::String::New(env, message)});
    return Napi::Error(env, err);
  }
  return Napi::Error::New(env, message);
}

}  // namespace

void Fail(const std::string& message) { throw KernelError(message); }

size_t ElemSize(DType dt) {
  switch (dt) {
    case DType::F32: case DType::I32: return 4;
    case DType::BF16: return 2;
    case DType::I64: return 8;
    case DType::U8: case DType::Bool: return 1;
  }
  Fail("unknown dtype id " + std::to_string(static_cast<int>(dt)));
}

const char* DTypeName(DType dt) {
  switch (dt) {
    case DType::F32: return "float32";
    case DType::BF16: return "bfloat16";
    case DType::I32: return "int32";
    case DType::I64: return "int64";
    case DType::U8: return "uint8";
    case DType::Bool: return "bool";
  }
  return "?";
}

dnnl::memory::data_type ToDnnl(DType dt, const char* op) {
  using dt_t = dnnl::memory::data_type;
  switch (dt) {
    case DType::F32: return dt_t::f32;
    case DType::BF16: return dt_t::bf16;
    case DType::I32: return dt_t::s32;
    case DType::U8: case DType::Bool: return dt_t::u8;
    case DType::I64: break;
  }
  Fail(std::string(op) + ": dtype " + DTypeName(dt) + " is not supported by this kernel");
}

int64_t View::numel() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

bool View::contiguous() const {
  int64_t expected = 1;
  for (int i = ndim() - 1; i >= 0; --i) {
    if (shape[i] != 1 && strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

dnnl::memory::desc View::desc(const char* op) const {
  // oneDNN wants at least one dim; a scalar is a 1-element vector.
  if (shape.empty()) return dnnl::memory::desc({1}, ToDnnl(dtype, op), dnnl::memory::dims{1});
  return dnnl::memory::desc(shape, ToDnnl(dtype, op), strides);
}

dnnl::memory View::mem(const char* op) const { return dnnl::memory(desc(op), Engine(), data()); }

bool IsNullish(Napi::Value value) { return value.IsNull() || value.IsUndefined(); }

Dims ReadDims(Napi::Value value, const char* op, const char* what) {
  if (!value.IsArray()) Fail(std::string(what) + " must be an array of integers");
  Napi::Array arr = value.As<Napi::Array>();
  Dims out(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value v = arr.Get(i);
    if (!v.IsNumber()) Fail(std::string(what) + "[" + std::to_string(i) + "] is not a number");
    out[i] = v.As<Napi::Number>().Int64Value();
  }
  return out;
}

View ReadView(Napi::Value value, const char* op, const char* what) {
  if (!value.IsObject()) Fail(std::string(what) + " must be a tensor");
  Napi::Env env = value.Env();
  Napi::Array keys = Instance(env).keys.Value();
  Napi::Object obj = value.As<Napi::Object>();
  Napi::Value buffer = obj.Get(keys.Get(0u));
  if (!buffer.IsArrayBuffer()) Fail(std::string(what) + " has no storage buffer");
  Napi::ArrayBuffer ab = buffer.As<Napi::ArrayBuffer>();
  View v;
  v.base = static_cast<uint8_t*>(ab.Data());
  v.bytes = ab.ByteLength();
  if (ab.IsDetached()) Fail(std::string(what) + " was disposed (its storage is released)");
  // meta: Float64Array [offset, dtypeId, ndim, ...shape, ...strides] (Tensor.meta).
  Napi::Value metaValue = obj.Get(keys.Get(1u));
  if (!metaValue.IsTypedArray()) Fail(std::string(what) + " has no view descriptor");
  Napi::Float64Array meta = metaValue.As<Napi::Float64Array>();
  const size_t len = meta.ElementLength();
  const double* m = meta.Data();
  if (len < 3) Fail(std::string(what) + ": malformed view descriptor");
  const int nd = static_cast<int>(m[2]);
  if (nd < 0 || len != static_cast<size_t>(3 + 2 * nd)) Fail(std::string(what) + ": malformed view descriptor");
  v.offset = static_cast<int64_t>(m[0]);
  const int dt = static_cast<int>(m[1]);
  if (dt < 0 || dt > static_cast<int>(DType::Bool)) Fail(std::string(what) + ": unknown dtype id " + std::to_string(dt));
  v.dtype = static_cast<DType>(dt);
  v.shape.resize(nd);
  v.strides.resize(nd);
  for (int i = 0; i < nd; ++i) {
    v.shape[i] = static_cast<int64_t>(m[3 + i]);
    v.strides[i] = static_cast<int64_t>(m[3 + nd + i]);
  }
  // Bounds: the furthest element reachable must lie inside the buffer.
  int64_t lo = v.offset, hi = v.offset;
  bool empty = false;
  for (int i = 0; i < nd; ++i) {
    if (v.shape[i] == 0) empty = true;
    int64_t span = (v.shape[i] - 1) * v.strides[i];
    if (span < 0) lo += span; else hi += span;
  }
  if (!empty && (lo < 0 || (hi + 1) * static_cast<int64_t>(ElemSize(v.dtype)) > static_cast<int64_t>(v.bytes)))
    Fail(std::string(what) + ": view reaches outside its storage");
  return v;
}

std::string DimsKey(const Dims& d) {
  std::string s;
  for (int64_t x : d) { s += std::to_string(x); s += ','; }
  return s;
}

std::string ViewKey(const View& v) {
  return std::to_string(static_cast<int>(v.dtype)) + ":" + DimsKey(v.shape) + "/" + DimsKey(v.strides) + ";";
}

std::string FloatKey(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return std::to_string(bits);
}

dnnl::engine& Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& Stream() {
  static thread_local dnnl::stream stream(Engine());
  return stream;
}

namespace {
std::mutex cacheMutex;
std::unordered_map<std::string, std::shared_ptr<void>> cache;
constexpr size_t kCacheCapacity = 8192;
}  // namespace

void* CacheLookup(const std::string& key) {
  std::lock_guard<std::mutex> lock(cacheMutex);
  auto it = cache.find(key);
  return it == cache.end() ? nullptr : it->second.get();
}

void* CacheInsert(const std::string& key, std::shared_ptr<void> value) {
  std::lock_guard<std::mutex> lock(cacheMutex);
  // Shapes in a training or serving loop repeat; a full cache means shapes churn, so start over.
  if (cache.size() >= kCacheCapacity) cache.clear();
  auto [it, inserted] = cache.emplace(key, std::move(value));
  return it->second.get();
}

void Run(const dnnl::primitive& p, const std::unordered_map<int, dnnl::memory>& args) {
  p.execute(Stream(), args);
  Stream().wait();
}

namespace {
// oneDNN 2.6's f32 matmul kernel (gemm:jit) corrupts the heap when a signal handler runs on one of
// its threads mid-call: V8's sampling profiler (`node --cpu-prof`) signals the JS thread every
// millisecond, and a loop of 256×768×768 matmuls under it aborted with "corrupted size vs.
// prev_size" (a C++ loop with a SIGPROF timer does the same). So kernels run with asynchronous
// signals blocked on the calling thread, which receives them when the kernel returns; OpenMP's worker
// threads, created inside the first kernel, inherit the blocked mask and never take a
// process-directed signal. Faults (SIGSEGV and the like) stay unblocked.
class SignalsDeferred {
 public:
  SignalsDeferred() {
    static const sigset_t deferred = []() {
      sigset_t set;
      sigfillset(&set);
      for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) sigdelset(&set, fault);
      return set;
    }();
    pthread_sigmask(SIG_BLOCK, &deferred, &previous_);
  }
  ~SignalsDeferred() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  SignalsDeferred(const SignalsDeferred&) = delete;
  SignalsDeferred& operator=(const SignalsDeferred&) = delete;

 private:
  sigset_t previous_;
};

// Runs a kernel, turning oneDNN and C++ errors into NativeError("[label] ...").
Napi::Value Invoke(Kernel fn, const std::string& label, const Napi::CallbackInfo& info) {
  const SignalsDeferred deferred;
  try {
    return fn(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const dnnl::error& e) {
    throw MakeError(info.Env(), "[" + label + "] oneDNN: " + e.what() + " (status " + std::to_string(e.status) + ")");
  } catch (const std::exception& e) {
    throw MakeError(info.Env(), "[" + label + "] " + e.what());
  }
}
}  // namespace

void Export(Napi::Env env, Napi::Object exports, const char* name, Kernel fn) {
  std::string label(name);
  exports.Set(name, Napi::Function::New(env, [fn, label](const Napi::CallbackInfo& info) { return Invoke(fn, label, info); }, name));
}

void WidenBf16(const uint16_t* from, float* to, int64_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) to[i] = Bf16ToF32(from[i]);
}

bool OneDnnHasBf16() {
  static const bool has = []() {
    try {
      const dnnl::memory::desc square({2, 2}, dnnl::memory::data_type::bf16, dnnl::memory::format_tag::ab);
      dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(square, square, square), Engine());
      return true;
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return has;
}

namespace {

// An f32 copy of a bf16 storage, for the length of one emulated call.
struct F32Shadow {
  Napi::ArrayBuffer original;
  Napi::ArrayBuffer copy;
};

void NarrowToBf16(const float* from, uint16_t* to, int64_t n) {
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) to[i] = F32ToBf16(from[i]);
}

// The dtype of `value` when it is a live NativeTensor (a float64 view descriptor over an attached buffer).
bool TensorDType(Napi::Value value, DType* dtype) {
  if (!value.IsObject()) return false;
  Napi::Array keys = Instance(value.Env()).keys.Value();
  Napi::Object obj = value.As<Napi::Object>();
  Napi::Value buffer = obj.Get(keys.Get(0u));
  Napi::Value meta = obj.Get(keys.Get(1u));
  if (!buffer.IsArrayBuffer() || buffer.As<Napi::ArrayBuffer>().IsDetached()) return false;
  if (!meta.IsTypedArray() || meta.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) return false;
  Napi::Float64Array m = meta.As<Napi::Float64Array>();
  if (m.ElementLength() < 3) return false;
  *dtype = static_cast<DType>(static_cast<int>(m[1]));
  return true;
}

// A bf16 NativeTensor with its storage swapped for an f32 copy, shared by every argument on the
// same storage.
Napi::Object WithF32Storage(Napi::Object tensor, std::vector<F32Shadow>& shadows) {
  Napi::Env env = tensor.Env();
  Napi::Array keys = Instance(env).keys.Value();
  Napi::ArrayBuffer ab = tensor.Get(keys.Get(0u)).As<Napi::ArrayBuffer>();
  Napi::Float64Array meta = tensor.Get(keys.Get(1u)).As<Napi::Float64Array>();
  F32Shadow* shadow = nullptr;
  for (F32Shadow& s : shadows)
    if (s.original.Data() == ab.Data()) shadow = &s;
  if (shadow == nullptr) {
    const int64_t n = static_cast<int64_t>(ab.ByteLength() / 2);
    Napi::ArrayBuffer copy = Napi::ArrayBuffer::New(env, static_cast<size_t>(n) * 4);
    WidenBf16(static_cast<const uint16_t*>(ab.Data()), static_cast<float*>(copy.Data()), n);
    shadows.push_back({ab, copy});
    shadow = &shadows.back();
  }
  Napi::Float64Array f32Meta = Napi::Float64Array::New(env, meta.ElementLength());
  std::memcpy(f32Meta.Data(), meta.Data(), meta.ElementLength() * sizeof(double));
  f32Meta[1] = static_cast<double>(DType::F32);
  Napi::Object view = Napi::Object::New(env);
  view.Set(keys.Get(0u), shadow->copy);
  view.Set(keys.Get(1u), f32Meta);
  return view;
}

}  // namespace

void ExportOneDnn(Napi::Env env, Napi::Object exports, const char* name, Kernel fn, std::vector<size_t> f32Args,
                  std::optional<PackedWeightArg> packedWeight) {
  Export(env, exports, name, fn);
  if (OneDnnHasBf16()) return;
  // The kernel as exported, for calls whose arguments are swapped: a CallbackInfo cannot be built
  // from C++, so those go through JS once more. Process-lifetime: kernels live as long as the addon.
  auto* direct = new Napi::FunctionReference(Napi::Persistent(exports.Get(name).As<Napi::Function>()));
  std::string label(name);
  exports.Set(name, Napi::Function::New(
                        env,
                        [direct, fn, label, f32Args, packedWeight](const Napi::CallbackInfo& info) -> Napi::Value {
                          const bool packing = packedWeight && packedWeight->holder < info.Length() && info[packedWeight->holder].IsObject();
                          std::vector<size_t> bf16Args;
                          bool mixed = false;
                          for (size_t i = 0; i < info.Length(); ++i) {
                            DType dtype;
                            if (!TensorDType(info[i], &dtype)) continue;
                            if (dtype == DType::BF16 && !(packing && i == packedWeight->weight)) bf16Args.push_back(i);
                            const bool f32Arg = std::find(f32Args.begin(), f32Args.end(), i) != f32Args.end();
                            if (dtype == DType::F32 && !f32Arg) mixed = true;
                          }
                          // f32 calls run directly; a call mixing bf16 and f32 data too, so the
                          // kernel's own dtype checks answer it.
                          if (bf16Args.empty() || mixed) return Invoke(fn, label, info);
                          std::vector<napi_value> args(info.Length());
                          for (size_t i = 0; i < info.Length(); ++i) args[i] = info[i];
                          std::vector<F32Shadow> shadows;
                          for (size_t i : bf16Args) args[i] = WithF32Storage(info[i].As<Napi::Object>(), shadows);
                          Napi::Value result = direct->Call(info.This(), args);
                          for (F32Shadow& s : shadows)
                            NarrowToBf16(static_cast<const float*>(s.copy.Data()), static_cast<uint16_t*>(s.original.Data()),
                                         static_cast<int64_t>(s.copy.ByteLength() / 4));
                          return result;
                        },
                        name));
}

double LoadAsDouble(const void* base, DType dt, int64_t i) {
  switch (dt) {
    case DType::F32: return static_cast<const float*>(base)[i];
    case DType::BF16: return Bf16ToF32(static_cast<const uint16_t*>(base)[i]);
    case DType::I32: return static_cast<const int32_t*>(base)[i];
    case DType::I64: return static_cast<double>(static_cast<const int64_t*>(base)[i]);
    case DType::U8: case DType::Bool: return static_cast<const uint8_t*>(base)[i];
  }
  return 0;
}

void StoreFromDouble(void* base, DType dt, int64_t i, double v) {
  switch (dt) {
    case DType::F32: static_cast<float*>(base)[i] = static_cast<float>(v); break;
    case DType::BF16: static_cast<uint16_t*>(base)[i] = F32ToBf16(static_cast<float>(v)); break;
    case DType::I32: static_cast<int32_t*>(base)[i] = static_cast<int32_t>(v); break;
    case DType::I64: static_cast<int64_t*>(base)[i] = static_cast<int64_t>(v); break;
    case DType::U8: static_cast<uint8_t*>(base)[i] = static_cast<uint8_t>(static_cast<int64_t>(v)); break;
    case DType::Bool: static_cast<uint8_t*>(base)[i] = v != 0 ? 1 : 0; break;
  }
}

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

// retainFreedMemory(): large blocks come from malloc's heap, not fresh mmaps, and freed memory
// stays there. Tensor storage is malloc'd by V8 and freed at GC; without this, every big
// activation is a new mapping whose first touch page-faults (on this VM about 1 ms per MB,
// more than the conv that writes it) and whose release is an munmap on V8's sweeper thread.
Napi::Value RetainFreedMemory(const Napi::CallbackInfo& info) {
#ifdef __GLIBC__
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  return info.Env().Undefined();
}

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  Instance(info.Env()).errorClass = Napi::Persistent(info[0].As<Napi::Function>());
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

// ---- strided copy with conversion -----------------------------------------

// Element types by dtype; bf16 is stored as uint16 and converted through float.
struct Bf16 { uint16_t bits; };

template <class T> struct Io;
template <> struct Io<float> { using S = float; static double get(const S* p) { return *p; } static void put(S* p, double v) { *p = static_cast<float>(v); } };
template <> struct Io<Bf16> { using S = uint16_t; static double get(const S* p) { return Bf16ToF32(*p); } static void put(S* p, double v) { *p = F32ToBf16(static_cast<float>(v)); } };
template <> struct Io<int32_t> { using S = int32_t; static double get(const S* p) { return *p; } static void put(S* p, double v) { *p = static_cast<int32_t>(v); } };
template <> struct Io<int64_t> { using S = int64_t; static double get(const S* p) { return static_cast<double>(*p); } static void put(S* p, double v) { *p = static_cast<int64_t>(v); } };
template <> struct Io<uint8_t> { using S = uint8_t; static double get(const S* p) { return *p; } static void put(S* p, double v) { *p = static_cast<uint8_t>(static_cast<int64_t>(v)); } };
struct BoolTag {};
template <> struct Io<BoolTag> { using S = uint8_t; static double get(const S* p) { return *p != 0; } static void put(S* p, double v) { *p = v != 0 ? 1 : 0; } };

template <class SrcT, class DstT>
void CopyTyped(const View& src, const View& dst) {
  using S = typename Io<SrcT>::S;
  using D = typename Io<DstT>::S;
  StridedLayout<2> layout = CollapseDims<2>(dst.shape, {&src.strides, &dst.strides});
  // A short innermost run (NCHW -> NHWC of a 3-channel image: runs of 3) makes per-row overhead the
  // cost; looping over the next, long dim innermost instead writes with a small stride and is fast.
  const size_t nd = layout.shape.size();
  if (nd >= 2 && layout.inner() < 16 && layout.shape[nd - 2] >= 256) {
    std::swap(layout.shape[nd - 1], layout.shape[nd - 2]);
    for (Dims& st : layout.strides) std::swap(st[nd - 1], st[nd - 2]);
  }
  const int64_t si = layout.innerStride(0), di = layout.innerStride(1);
  const S* sp = src.ptr<S>();
  D* dp = dst.ptr<D>();
  ForEachChunk(layout, [&](const std::array<int64_t, 2>& at, int64_t begin, int64_t end) {
    const S* s = sp + at[0];
    D* o = dp + at[1];
    if constexpr (std::is_same_v<SrcT, DstT>) {
      if (si == 1 && di == 1) {
        std::memcpy(o + begin, s + begin, (end - begin) * sizeof(S));
        return;
      }
      for (int64_t i = begin; i < end; ++i) o[i * di] = s[i * si];
    } else {
      for (int64_t i = begin; i < end; ++i) Io<DstT>::put(o + i * di, Io<SrcT>::get(s + i * si));
    }
  });
}

template <class SrcT>
void CopyFrom(const View& src, const View& dst) {
  switch (dst.dtype) {
    case DType::F32: return CopyTyped<SrcT, float>(src, dst);
    case DType::BF16: return CopyTyped<SrcT, Bf16>(src, dst);
    case DType::I32: return CopyTyped<SrcT, int32_t>(src, dst);
    case DType::I64: return CopyTyped<SrcT, int64_t>(src, dst);
    case DType::U8: return CopyTyped<SrcT, uint8_t>(src, dst);
    case DType::Bool: return CopyTyped<SrcT, BoolTag>(src, dst);
  }
}

// copy(src, dst): dst[i] = cast(src[i]) over dst's shape; src may broadcast via zero strides.
Napi::Value Copy(const Napi::CallbackInfo& info) {
  View src = ReadView(info[0], "copy", "src");
  View dst = ReadView(info[1], "copy", "dst");
  if (src.shape != dst.shape) Fail("shapes differ: src " + DimsKey(src.shape) + " dst " + DimsKey(dst.shape));
  if (dst.numel() == 0) return info.Env().Undefined();
  switch (src.dtype) {
    case DType::F32: CopyFrom<float>(src, dst); break;
    case DType::BF16: CopyFrom<Bf16>(src, dst); break;
    case DType::I32: CopyFrom<int32_t>(src, dst); break;
    case DType::I64: CopyFrom<int64_t>(src, dst); break;
    case DType::U8: CopyFrom<uint8_t>(src, dst); break;
    case DType::Bool: CopyFrom<BoolTag>(src, dst); break;
  }
  return info.Env().Undefined();
}

template <class T>
void FillTyped(const View& dst, double value) {
  using S = typename Io<T>::S;
  S v;
  Io<T>::put(&v, value);
  S* p = dst.ptr<S>();
  const int64_t n = dst.numel();
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) p[i] = v;
}

// fill(dst, value): dst must be contiguous.
Napi::Value Fill(const Napi::CallbackInfo& info) {
  View dst = ReadView(info[0], "fill", "dst");
  if (!dst.contiguous()) Fail("dst must be contiguous");
  double value = info[1].As<Napi::Number>().DoubleValue();
  switch (dst.dtype) {
    case DType::F32: FillTyped<float>(dst, value); break;
    case DType::BF16: FillTyped<Bf16>(dst, value); break;
    case DType::I32: FillTyped<int32_t>(dst, value); break;
    case DType::I64: FillTyped<int64_t>(dst, value); break;
    case DType::U8: FillTyped<uint8_t>(dst, value); break;
    case DType::Bool: FillTyped<BoolTag>(dst, value); break;
  }
  return info.Env().Undefined();
}

}  // namespace

namespace {
// oneDnnHasBf16(): whether oneDNN runs bf16 primitives on this CPU (else ExportOneDnn emulates them).
Napi::Value OneDnnHasBf16Kernel(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), OneDnnHasBf16()); }
}  // namespace

void RegisterCore(Napi::Env env, Napi::Object exports) {
  InstanceData* data = new InstanceData();
  Napi::Array keys = Napi::Array::New(env, 2);
  const char* names[] = {"buffer", "meta"};
  for (uint32_t i = 0; i < 2; ++i) keys.Set(i, Napi::String::New(env, names[i]));
  data->keys = Napi::Persistent(keys);
  env.SetInstanceData<InstanceData>(data);
  Export(env, exports, "setErrorClass", SetErrorClass);
  Export(env, exports, "adviseHugePages", AdviseHugePages);
  Export(env, exports, "retainFreedMemory", RetainFreedMemory);
  Export(env, exports, "detachBuffer", DetachBuffer);
  Export(env, exports, "setNumThreads", SetNumThreads);
  Export(env, exports, "getNumThreads", GetNumThreads);
  Export(env, exports, "oneDnnHasBf16", OneDnnHasBf16Kernel);
  Export(env, exports, "copy", Copy);
  Export(env, exports, "fill", Fill);
}

// ---- packed weights ----------------------------------------------------------------

namespace {
constexpr size_t kPackHeader = (sizeof(dnnl_memory_desc_t) + 63) / 64 * 64;

uint8_t* AlignedPayload(void* base) {
  const uintptr_t p = reinterpret_cast<uintptr_t>(base) + kPackHeader;
  return reinterpret_cast<uint8_t*>((p + 63) / 64 * 64);
}
}  // namespace

void* ScratchBuffer(int slot, size_t bytes) {
  struct Buf { void* ptr = nullptr; size_t bytes = 0; ~Buf() { std::free(ptr); } };
  static thread_local Buf bufs[kScratchSlots];
  Buf& b = bufs[slot];
  if (b.bytes < bytes) {
    std::free(b.ptr);
    b.bytes = 0;
    b.ptr = std::aligned_alloc(64, ((bytes + 63) / 64) * 64);
    if (b.ptr == nullptr) Fail("out of memory allocating " + std::to_string(bytes) + " bytes of kernel scratch");
    b.bytes = bytes;
  }
  return b.ptr;
}

void* PackedBuffer(Napi::Object holder, const dnnl::memory::desc& layout, const std::function<void(void*)>& fill) {
  Napi::Value cached = holder.Get("buffer");
  if (cached.IsArrayBuffer()) {
    Napi::ArrayBuffer ab = cached.As<Napi::ArrayBuffer>();
    if (!ab.IsDetached() && ab.ByteLength() >= kPackHeader + 64 + layout.get_size()) {
      dnnl::memory::desc stored;
      std::memcpy(&stored.data, ab.Data(), sizeof(stored.data));
      if (stored == layout) return AlignedPayload(ab.Data());
    }
  }
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(holder.Env(), kPackHeader + 64 + layout.get_size());
  std::memcpy(ab.Data(), &layout.data, sizeof(layout.data));
  uint8_t* payload = AlignedPayload(ab.Data());
  fill(payload);
  holder.Set("buffer", ab);
  return payload;
}

void* PackedWeights(Napi::Object holder, const dnnl::memory::desc& user, const dnnl::memory::desc& packed, const dnnl::reorder& toPacked,
                    const View& weight) {
  return PackedBuffer(holder, packed, [&](void* payload) {
    void* userData = weight.data();
    std::vector<float> widened;
    if (weight.dtype == DType::BF16 && user.data_type() == dnnl::memory::data_type::f32) {
      int64_t span = 1;  // elements from the first to the last the view reaches
      for (int i = 0; i < weight.ndim(); ++i) span += (weight.shape[i] - 1) * weight.strides[i];
      widened.resize(static_cast<size_t>(span));
      WidenBf16(weight.ptr<uint16_t>(), widened.data(), span);
      userData = widened.data();
    }
    dnnl::stream& s = Stream();
    dnnl::memory from(user, Engine(), userData), to(packed, Engine(), payload);
    toPacked.execute(s, from, to);
    s.wait();
  });
}

}  // namespace tsv
