// The bf16 fallback: on CPUs whose oneDNN has no bf16 kernels, a oneDNN-backed kernel sees f32
// copies of its bf16 tensors and its outputs are rounded back to bf16 (see ExportOneDnn).
#include "bf16.h"

#include <algorithm>
#include <cstring>
#include <string>

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
  Napi::ArrayBuffer ab = tensor.Get(kTensorBuffer).As<Napi::ArrayBuffer>();
  Napi::Float64Array meta = tensor.Get(kTensorMeta).As<Napi::Float64Array>();
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
  view.Set(kTensorBuffer, shadow->copy);
  view.Set(kTensorMeta, f32Meta);
  return view;
}

// A bf16 tensor of a call: argument `arg` itself, or its field `field` (an options object).
struct Bf16Slot {
  size_t arg;
  Napi::Value field;  // empty for the argument itself
};

bool IsOptionsObject(Napi::Value v) {
  return v.IsObject() && !v.IsArray() && !v.IsTypedArray() && !v.IsArrayBuffer() && !v.IsFunction();
}

bool IsOneOf(Napi::Value key, const std::vector<std::string>& names) {
  const std::string name = key.As<Napi::String>().Utf8Value();
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Collects the call's bf16 tensors into `slots`; false when the call must reach the kernel
// unchanged: it has none, or it mixes them with f32 data (an f32 tensor that is not one of the
// kernel's f32 fields). The first f32 tensor, or an options object's data field, decides an f32
// call, so those pay little here.
bool FindBf16(const Napi::CallbackInfo& info, const Bf16Fallback& spec, std::vector<Bf16Slot>* slots) {
  for (size_t i = 0; i < info.Length(); ++i) {
    DType dtype;
    if (TensorDType(info[i], &dtype)) {
      if (dtype == DType::F32) return false;
      if (dtype == DType::BF16) slots->push_back({i, Napi::Value()});
      continue;
    }
    if (!IsOptionsObject(info[i])) continue;
    Napi::Object options = info[i].As<Napi::Object>();
    if (!spec.dataField.empty() && !(TensorDType(options.Get(spec.dataField.c_str()), &dtype) && dtype == DType::BF16)) return false;
    const bool packing = !spec.packedHolder.empty() && options.Get(spec.packedHolder.c_str()).IsObject();
    Napi::Array keys = options.GetPropertyNames();
    for (uint32_t k = 0; k < keys.Length(); ++k) {
      Napi::Value key = keys.Get(k);
      if (!TensorDType(options.Get(key), &dtype)) continue;
      if (dtype == DType::F32 && !IsOneOf(key, spec.f32Fields)) return false;
      if (dtype == DType::BF16 && !(packing && key.As<Napi::String>().Utf8Value() == spec.packedWeight)) slots->push_back({i, key});
    }
  }
  return !slots->empty();
}

Napi::Object ShallowCopy(Napi::Object from) {
  Napi::Object to = Napi::Object::New(from.Env());
  Napi::Array keys = from.GetPropertyNames();
  for (uint32_t k = 0; k < keys.Length(); ++k) {
    Napi::Value key = keys.Get(k);
    to.Set(key, from.Get(key));
  }
  return to;
}

// Calls `direct` with the tensors of `slots` swapped for f32 copies of their storages (in copies of
// the options objects that hold them), then rounds the copies back into the bf16 storages.
Napi::Value CallInF32(const Napi::CallbackInfo& info, const Napi::FunctionReference& direct, const std::vector<Bf16Slot>& slots) {
  std::vector<napi_value> args(info.Length());
  for (size_t i = 0; i < info.Length(); ++i) args[i] = info[i];
  std::vector<bool> copied(info.Length(), false);
  std::vector<F32Shadow> shadows;
  for (const Bf16Slot& slot : slots) {
    if (slot.field.IsEmpty()) {
      args[slot.arg] = WithF32Storage(info[slot.arg].As<Napi::Object>(), shadows);
      continue;
    }
    if (!copied[slot.arg]) args[slot.arg] = ShallowCopy(info[slot.arg].As<Napi::Object>());
    copied[slot.arg] = true;
    Napi::Object options(info.Env(), args[slot.arg]);
    options.Set(slot.field, WithF32Storage(options.Get(slot.field).As<Napi::Object>(), shadows));
  }
  Napi::Value result = direct.Call(info.This(), args);
  for (F32Shadow& s : shadows)
    NarrowToBf16(static_cast<const float*>(s.copy.Data()), static_cast<uint16_t*>(s.original.Data()), static_cast<int64_t>(s.copy.ByteLength() / 4));
  return result;
}

}  // namespace

void ExportOneDnn(Napi::Env env, Napi::Object exports, const char* name, Kernel fn, Bf16Fallback fallback) {
  Export(env, exports, name, fn);
  if (OneDnnHasBf16()) return;
  // The kernel as exported, for calls whose arguments are swapped: a CallbackInfo cannot be built
  // from C++, so those go through JS once more. Process-lifetime: kernels live as long as the addon.
  auto* direct = new Napi::FunctionReference(Napi::Persistent(exports.Get(name).As<Napi::Function>()));
  std::string label(name);
  auto emulated = [direct, fn, label, fallback](const Napi::CallbackInfo& info) -> Napi::Value {
    std::vector<Bf16Slot> slots;
    if (!FindBf16(info, fallback, &slots)) return Invoke(fn, label, info);
    return CallInF32(info, *direct, slots);
  };
  exports.Set(name, Napi::Function::New(env, emulated, name));
}

namespace {
// oneDnnHasBf16(): whether oneDNN runs bf16 primitives on this CPU (else ExportOneDnn emulates them).
Napi::Value OneDnnHasBf16Kernel(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), OneDnnHasBf16()); }
}  // namespace

void RegisterBf16(Napi::Env env, Napi::Object exports) { Export(env, exports, "oneDnnHasBf16", OneDnnHasBf16Kernel); }

}  // namespace tsv
