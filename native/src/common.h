// Shared plumbing for every kernel family: tensor views read from JS, the oneDNN
// engine and stream, the primitive cache, typed errors and function registration.
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstring>
#include <unordered_map>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <dnnl.hpp>

namespace tsv {

// Numeric codes shared with src/tensor/dtype.ts (DTYPE_ID).
enum class DType : int { F32 = 0, BF16 = 1, I32 = 2, I64 = 3, U8 = 4, Bool = 5 };

size_t ElemSize(DType dt);
const char* DTypeName(DType dt);
// The oneDNN data type for a dtype; fails naming `op` when oneDNN has none (int64).
dnnl::memory::data_type ToDnnl(DType dt, const char* op);

using Dims = std::vector<int64_t>;

// A strided view over storage, as a Tensor presents itself to the addon
// (fields buffer and meta; see NativeTensor in native/types/core.d.ts).
struct View {
  uint8_t* base = nullptr;
  size_t bytes = 0;
  int64_t offset = 0;  // in elements
  Dims shape;
  Dims strides;  // in elements
  DType dtype = DType::F32;

  void* data() const { return base + offset * ElemSize(dtype); }
  template <class T>
  T* ptr() const { return reinterpret_cast<T*>(data()); }
  int ndim() const { return static_cast<int>(shape.size()); }
  int64_t numel() const;
  bool contiguous() const;
  // oneDNN memory descriptor with this view's dims and strides (dtype overridable).
  dnnl::memory::desc desc(const char* op) const;
  dnnl::memory mem(const char* op) const;
};

[[noreturn]] void Fail(const std::string& message);

// Reads a NativeTensor object; `op` and `what` name the argument in error messages.
View ReadView(Napi::Value value, const char* op, const char* what);
bool IsNullish(Napi::Value value);
Dims ReadDims(Napi::Value value, const char* op, const char* what);
std::string DimsKey(const Dims& d);
std::string ViewKey(const View& v);
// A float's exact bits as a cache-key part: two values that print alike must not share a primitive.
std::string FloatKey(float v);

dnnl::engine& Engine();
dnnl::stream& Stream();

// Process-wide primitive cache keyed by a string that encodes shapes, strides,
// dtypes and attributes. Creation is the expensive part of a oneDNN call.
template <class P>
P& CachedPrimitive(const std::string& key, const std::function<P()>& make);

void* CacheLookup(const std::string& key);
void* CacheInsert(const std::string& key, std::shared_ptr<void> value);

template <class P>
P& CachedPrimitive(const std::string& key, const std::function<P()>& make) {
  if (void* found = CacheLookup(key)) return *static_cast<P*>(found);
  return *static_cast<P*>(CacheInsert(key, std::make_shared<P>(make())));
}

// A weight reordered to a primitive's layout, kept across calls in a JS holder { buffer?: ArrayBuffer }
// that the caller drops when the weight changes. The buffer starts with the layout's desc, so a
// primitive that wants another layout (a new input shape) repacks instead of misreading. Returns the
// packed data; `toPacked` reorders `user` (`weight`'s data) to `packed`. A bf16 weight under an f32
// `user` desc (bf16 on a CPU without bf16 kernels, see ExportOneDnn) is widened first: oneDNN's own
// bf16-to-f32 reorder into a blocked layout is scalar code (80 ms for one of ViT-B's 2304×768 weights).
void* PackedWeights(Napi::Object holder, const dnnl::memory::desc& user, const dnnl::memory::desc& packed, const dnnl::reorder& toPacked,
                    const View& weight);

// The same weight's layout may also be something other than a oneDNN reorder's: PackedBuffer
// keys the cache by `layout` and fills a new payload with `fill`.
void* PackedBuffer(Napi::Object holder, const dnnl::memory::desc& layout, const std::function<void(void*)>& fill);

// Grow-only 64-byte-aligned buffers, one per slot and thread, for reordered operands, scratchpads
// and transformed tiles. Kernel calls are synchronous, so a thread never needs a slot twice at once.
constexpr int kScratchSlots = 8;
void* ScratchBuffer(int slot, size_t bytes);

// Executes a primitive on the shared stream and waits.
void Run(const dnnl::primitive& p, const std::unordered_map<int, dnnl::memory>& args);

using Kernel = Napi::Value (*)(const Napi::CallbackInfo&);
// Adds `name` to exports; oneDNN and C++ errors thrown inside become NativeError("[name] ...").
void Export(Napi::Env env, Napi::Object exports, const char* name, Kernel fn);

// Whether this CPU's oneDNN has bf16 kernels: oneDNN 2.x needs AVX-512 for them; before it,
// every bf16 primitive is unimplemented.
bool OneDnnHasBf16();

// to[i] = from[i] widened from bf16, for i < n (threaded when n is large).
void WidenBf16(const uint16_t* from, float* to, int64_t n);

// Export for a kernel built on oneDNN primitives. Where oneDNN has no bf16 kernels, the kernel
// sees f32 copies of its bf16 tensor arguments (one copy per storage, so in-place and aliased
// calls keep their meaning) and every copy is rounded back to bf16 afterwards: bf16 data is
// computed in f32, as PyTorch does on such CPUs. `f32Args` are the argument positions that take
// f32 tensors beside bf16 data (per-channel scales); any other f32 tensor beside a bf16 one makes a
// mixed call, which reaches the kernel unchanged. `packedWeight`, when given, is the position of
// a weight and of its packing holder: a bf16 weight with a holder reaches the kernel as it is (no
// per-call copy of the largest operand), and the kernel packs it into its f32 layout once.
// Elsewhere it is Export.
struct PackedWeightArg {
  size_t weight, holder;
};
void ExportOneDnn(Napi::Env env, Napi::Object exports, const char* name, Kernel fn, std::vector<size_t> f32Args = {},
                  std::optional<PackedWeightArg> packedWeight = std::nullopt);

// One per kernel family file.
void RegisterCore(Napi::Env env, Napi::Object exports);
void RegisterMatmul(Napi::Env env, Napi::Object exports);
void RegisterEltwise(Napi::Env env, Napi::Object exports);
void RegisterBinary(Napi::Env env, Napi::Object exports);
void RegisterReduce(Napi::Env env, Napi::Object exports);
void RegisterConv(Napi::Env env, Napi::Object exports);
void RegisterPool(Napi::Env env, Napi::Object exports);
void RegisterNorm(Napi::Env env, Napi::Object exports);
void RegisterIndex(Napi::Env env, Napi::Object exports);
void RegisterResample(Napi::Env env, Napi::Object exports);
void RegisterRandom(Napi::Env env, Napi::Object exports);
void RegisterImage(Napi::Env env, Napi::Object exports);
void RegisterOptim(Napi::Env env, Napi::Object exports);
void RegisterWinograd(Napi::Env env, Napi::Object exports);

// bf16 <-> f32, round to nearest even, NaN kept quiet.
inline float Bf16ToF32(uint16_t v) {
  uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline uint16_t F32ToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

// Reads element i of a contiguous buffer of dtype dt as double / writes one.
double LoadAsDouble(const void* base, DType dt, int64_t i);
void StoreFromDouble(void* base, DType dt, int64_t i, double v);

}  // namespace tsv
