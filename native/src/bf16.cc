// The bf16 fallback: on CPUs whose oneDNN has no bf16 kernels, a oneDNN-backed kernel sees f32
// copies of its bf16 tensors and its outputs are rounded back to bf16 (see ExportOneDnn).
#include "bf16.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "addon.h"
#include "view.h"

namespace tsv {

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

// A bf16 NativeTensor with its storage swapped for an f32 copy, shared by every argument on the
// same storage.
Napi::Object WithF32Storage(Napi::Object tensor, std::vector<F32Shadow>& shadows) {
  Napi::Env env = tensor.Env();
  Napi::Array keys = Instance(env).tensorKeys.Value();
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

namespace {
// oneDnnHasBf16(): whether oneDNN runs bf16 primitives on this CPU (else ExportOneDnn emulates them).
Napi::Value OneDnnHasBf16Kernel(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), OneDnnHasBf16()); }
}  // namespace

void RegisterBf16(Napi::Env env, Napi::Object exports) { Export(env, exports, "oneDnnHasBf16", OneDnnHasBf16Kernel); }

}  // namespace tsv
