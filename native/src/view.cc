// Tensor views: dtypes, reading NativeTensor objects and dims lists, cache keys.
#include "view.h"

#include <stdexcept>

#include "runtime.h"

namespace tsv {

namespace {

struct KernelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

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

bool IsNullish(Napi::Value value) {
  const napi_valuetype type = value.Type();
  return type == napi_null || type == napi_undefined;
}

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
  Napi::Object obj = value.As<Napi::Object>();
  Napi::Value buffer = obj.Get(kTensorBuffer);
  if (!buffer.IsArrayBuffer()) Fail(std::string(what) + " has no storage buffer");
  Napi::ArrayBuffer ab = buffer.As<Napi::ArrayBuffer>();
  View v;
  v.base = static_cast<uint8_t*>(ab.Data());
  v.bytes = ab.ByteLength();
  if (ab.IsDetached()) Fail(std::string(what) + " was disposed (its storage is released)");
  // meta: Float64Array [offset, dtypeId, ndim, ...shape, ...strides] (Tensor.meta).
  Napi::Value metaValue = obj.Get(kTensorMeta);
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

bool TensorDType(Napi::Value value, DType* dtype) {
  if (!value.IsObject()) return false;
  Napi::Object obj = value.As<Napi::Object>();
  Napi::Value buffer = obj.Get(kTensorBuffer);
  Napi::Value meta = obj.Get(kTensorMeta);
  if (!buffer.IsArrayBuffer() || buffer.As<Napi::ArrayBuffer>().IsDetached()) return false;
  if (!meta.IsTypedArray() || meta.As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) return false;
  Napi::Float64Array m = meta.As<Napi::Float64Array>();
  if (m.ElementLength() < 3) return false;
  *dtype = static_cast<DType>(static_cast<int>(m[1]));
  return true;
}

Options::Options(const Napi::CallbackInfo& info, const char* op) : op_(op) {
  if (info.Length() != 1 || !info[0].IsObject() || info[0].IsArray())
    Fail(std::string("expected one options object, got ") + std::to_string(info.Length()) + " arguments");
  object_ = info[0].As<Napi::Object>();
}

View Options::Tensor(const char* field) const { return ReadView(Get(field), op_, field); }

bool Options::OptionalTensor(const char* field, View* out) const {
  Napi::Value v = Get(field);
  if (IsNullish(v)) return false;
  *out = ReadView(v, op_, field);
  return true;
}

Dims Options::List(const char* field) const { return ReadDims(Get(field), op_, field); }

// Each reader asks for a field's type once: every N-API call costs tens of nanoseconds.
double Options::Number(const char* field) const { return Number(field, std::nullopt); }

double Options::Number(const char* field, std::optional<double> fallback) const {
  Napi::Value v = Get(field);
  const napi_valuetype type = v.Type();
  if (fallback && (type == napi_undefined || type == napi_null)) return *fallback;
  if (type != napi_number) Fail(std::string(field) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

bool Options::Flag(const char* field) const {
  Napi::Value v = Get(field);
  const napi_valuetype type = v.Type();
  if (type == napi_undefined) return false;
  if (type != napi_boolean) Fail(std::string(field) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string Options::Name(const char* field) const {
  Napi::Value v = Get(field);
  const napi_valuetype type = v.Type();
  if (type == napi_undefined || type == napi_null) return "";
  if (type != napi_string) Fail(std::string(field) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
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

}  // namespace tsv
