// Tensor views as the addon reads them from JS: dtypes, the strided View over a storage, the
// readers for a kernel's arguments (NativeTensor objects, dims lists, options objects) and the
// string keys that name shapes in the primitive cache. Storage itself is a JS ArrayBuffer: V8
// frees it during GC, which napi finalizers (deferred to the event loop in Node 20) would not do
// inside a synchronous loop.
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstring>
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

// Throws the error a kernel reports; Export turns it into NativeError("[name] message").
[[noreturn]] void Fail(const std::string& message);

// NativeTensor's fields. Reading a property by name is faster through N-API than by a cached key.
constexpr const char* kTensorBuffer = "buffer";
constexpr const char* kTensorMeta = "meta";

// Reads a NativeTensor object; `op` and `what` name the argument in error messages.
View ReadView(Napi::Value value, const char* op, const char* what);
bool IsNullish(Napi::Value value);
Dims ReadDims(Napi::Value value, const char* op, const char* what);
// The dtype of `value` when it is a live NativeTensor (a float64 view descriptor over an attached buffer).
bool TensorDType(Napi::Value value, DType* dtype);

// A kernel's options object, its one argument: tensors, dims lists and scalars by field name. A kernel
// with more than six arguments takes them this way (native/index.d.ts). Each field is read once.
class Options {
 public:
  Options(const Napi::CallbackInfo& info, const char* op);
  Napi::Value Get(const char* field) const { return object_.Get(field); }
  View Tensor(const char* field) const;
  // Reads an optional tensor into `out`; false (and `out` untouched) when the field is absent or null.
  bool OptionalTensor(const char* field, View* out) const;
  Dims List(const char* field) const;
  double Number(const char* field) const;
  // A number that may be absent or null, then `fallback` (when given).
  double Number(const char* field, std::optional<double> fallback) const;
  // A boolean that may be absent (false).
  bool Flag(const char* field) const;
  // A string that may be absent or null (""), naming a choice.
  std::string Name(const char* field) const;

 private:
  Napi::Object object_;
  const char* op_;
};

std::string DimsKey(const Dims& d);
std::string ViewKey(const View& v);
// A float's exact bits as a cache-key part: two values that print alike must not share a primitive.
std::string FloatKey(float v);

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

// Writes element i of a contiguous buffer of dtype dt from a double.
void StoreFromDouble(void* base, DType dt, int64_t i, double v);

}  // namespace tsv
