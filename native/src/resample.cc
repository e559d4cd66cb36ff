// Separable resampling along one dim of a contiguous tensor viewed as [outer, L, inner]:
//   out[o, j, i] = sum_k weight[j*K + k] * src[o, index[j*K + k], i]
// with a per-output-index tap list of fixed length K (index + weight). Nearest, linear and
// cubic interpolation and antialiased (PIL-style) resizing are all tap tables built by the
// tensor layer. The backward scatters grads back through the same taps; each output
// element of the grad is owned by one task and summed in a fixed order (deterministic).
#include <omp.h>

#include <algorithm>
#include <vector>

#include "common.h"

namespace tsv {

namespace {

template <class S> inline float Load(S v) { return static_cast<float>(v); }
template <> inline float Load<uint16_t>(uint16_t v) { return Bf16ToF32(v); }
template <class S> inline S Store(float v) { return static_cast<S>(v); }
template <> inline uint16_t Store<uint16_t>(float v) { return F32ToBf16(v); }

constexpr int64_t kChunk = 256;

struct Taps {
  const int32_t* index;
  const float* weight;
  int64_t count;  // K
};

struct Geometry {
  int64_t outer, inner, inLen, outLen;
};

// One row of the innermost-dim case: a gather-dot per output element. kTaps > 0 fixes the
// tap count at compile time so the common kernels (nearest 1, linear 2, cubic 4) unroll.
template <int kTaps, class S>
void GatherRow(const S* row, S* out, int64_t outLen, const Taps& t) {
  const int64_t count = kTaps > 0 ? kTaps : t.count;
  for (int64_t j = 0; j < outLen; ++j) {
    const int32_t* index = t.index + j * count;
    const float* weight = t.weight + j * count;
    float acc = 0.f;
    for (int64_t k = 0; k < count; ++k) acc += weight[k] * Load(row[index[k]]);
    out[j] = Store<S>(acc);
  }
}

template <int kTaps, class S>
void GatherRows(const S* src, S* dst, const Geometry& g, const Taps& t) {
#pragma omp parallel for schedule(static) if (g.outer * g.outLen * t.count > (1 << 15))
  for (int64_t o = 0; o < g.outer; ++o) GatherRow<kTaps>(src + o * g.inLen, dst + o * g.outLen, g.outLen, t);
}

template <class S>
void Forward(const S* src, S* dst, const Geometry& g, const Taps& t) {
  if (g.inner == 1) {
    switch (t.count) {
      case 1: return GatherRows<1>(src, dst, g, t);
      case 2: return GatherRows<2>(src, dst, g, t);
      case 4: return GatherRows<4>(src, dst, g, t);
      default: return GatherRows<0>(src, dst, g, t);
    }
  }
  const int64_t chunks = (g.inner + kChunk - 1) / kChunk;
  const int64_t jobs = g.outer * g.outLen * chunks;
#pragma omp parallel for schedule(static) if (jobs * std::min(g.inner, kChunk) * t.count > (1 << 15))
  for (int64_t job = 0; job < jobs; ++job) {
    const int64_t c = job % chunks;
    const int64_t j = (job / chunks) % g.outLen;
    const int64_t o = job / (chunks * g.outLen);
    const int64_t i0 = c * kChunk;
    const int64_t n = std::min(kChunk, g.inner - i0);
    float acc[kChunk];
    for (int64_t i = 0; i < n; ++i) acc[i] = 0.f;
    const S* base = src + o * g.inLen * g.inner + i0;
    for (int64_t k = 0; k < t.count; ++k) {
      const float w = t.weight[j * t.count + k];
      const S* row = base + static_cast<int64_t>(t.index[j * t.count + k]) * g.inner;
      for (int64_t i = 0; i < n; ++i) acc[i] += w * Load(row[i]);
    }
    S* out = dst + (o * g.outLen + j) * g.inner + i0;
    for (int64_t i = 0; i < n; ++i) out[i] = Store<S>(acc[i]);
  }
}

// The innermost-dim case of the backward: each row scatters into an f32 row of the grad.
template <int kTaps, class S>
void ScatterRows(const S* gradOut, S* gradIn, const Geometry& g, const Taps& t) {
  const int64_t count = kTaps > 0 ? kTaps : t.count;
  const bool parallel = g.outer > 1 && g.outer * g.outLen * count > (1 << 15);
  // One f32 row per thread, allocated here: nothing may throw inside the region.
  std::vector<float> scratch(static_cast<size_t>(g.inLen * (parallel ? omp_get_max_threads() : 1)));
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t o = 0; o < g.outer; ++o) {
    float* acc = scratch.data() + g.inLen * omp_get_thread_num();
    std::fill(acc, acc + g.inLen, 0.f);
    const S* grow = gradOut + o * g.outLen;
    for (int64_t j = 0; j < g.outLen; ++j) {
      const float v = Load(grow[j]);
      const int32_t* index = t.index + j * count;
      const float* weight = t.weight + j * count;
      for (int64_t k = 0; k < count; ++k) acc[index[k]] += weight[k] * v;
    }
    S* out = gradIn + o * g.inLen;
    for (int64_t r = 0; r < g.inLen; ++r) out[r] = Store<S>(acc[r]);
  }
}

template <class S>
void Backward(const S* gradOut, S* gradIn, const Geometry& g, const Taps& t) {
  if (g.inner == 1) {
    switch (t.count) {
      case 1: return ScatterRows<1>(gradOut, gradIn, g, t);
      case 2: return ScatterRows<2>(gradOut, gradIn, g, t);
      case 4: return ScatterRows<4>(gradOut, gradIn, g, t);
      default: return ScatterRows<0>(gradOut, gradIn, g, t);
    }
  }
  const int64_t chunks = (g.inner + kChunk - 1) / kChunk;
  const int64_t jobs = g.outer * chunks;
  const bool parallel = jobs > 1 && jobs * std::min(g.inner, kChunk) * g.outLen * t.count > (1 << 15);
  // One f32 [inLen, chunk] slab per thread, allocated here: nothing may throw inside the region.
  const int64_t slab = g.inLen * std::min(g.inner, kChunk);
  std::vector<float> scratch(static_cast<size_t>(slab * (parallel ? omp_get_max_threads() : 1)));
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t job = 0; job < jobs; ++job) {
    const int64_t c = job % chunks;
    const int64_t o = job / chunks;
    const int64_t i0 = c * kChunk;
    const int64_t n = std::min(kChunk, g.inner - i0);
    float* acc = scratch.data() + slab * omp_get_thread_num();
    std::fill(acc, acc + g.inLen * n, 0.f);
    const S* gbase = gradOut + o * g.outLen * g.inner + i0;
    for (int64_t j = 0; j < g.outLen; ++j) {
      const S* grow = gbase + j * g.inner;
      for (int64_t k = 0; k < t.count; ++k) {
        const float w = t.weight[j * t.count + k];
        float* arow = acc + static_cast<int64_t>(t.index[j * t.count + k]) * n;
        for (int64_t i = 0; i < n; ++i) arow[i] += w * Load(grow[i]);
      }
    }
    S* out = gradIn + o * g.inLen * g.inner + i0;
    for (int64_t r = 0; r < g.inLen; ++r)
      for (int64_t i = 0; i < n; ++i) out[r * g.inner + i] = Store<S>(acc[r * n + i]);
  }
}

// Reads and checks (src, dim, index, weight, taps, dst) where src has the resampled dim of
// length inLen and dst of length outLen; every other dim agrees.
void ReadCall(const Napi::CallbackInfo& info, const char* op, const char* srcName, const char* dstName, bool srcIsOut,
              View& src, View& dst, Geometry& g, Taps& t) {
  src = ReadView(info[0], op, srcName);
  const int64_t dim = info[1].As<Napi::Number>().Int64Value();
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    Fail("index must be an Int32Array");
  if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    Fail("weight must be a Float32Array");
  Napi::Int32Array index = info[2].As<Napi::Int32Array>();
  Napi::Float32Array weight = info[3].As<Napi::Float32Array>();
  t.count = info[4].As<Napi::Number>().Int64Value();
  dst = ReadView(info[5], op, dstName);

  if (src.dtype != DType::F32 && src.dtype != DType::BF16)
    Fail(std::string(srcName) + " must be float32 or bfloat16, got " + DTypeName(src.dtype));
  if (dst.dtype != src.dtype) Fail(std::string(dstName) + " has dtype " + DTypeName(dst.dtype) + ", expected " + DTypeName(src.dtype));
  if (!src.contiguous() || !dst.contiguous()) Fail(std::string(srcName) + " and " + dstName + " must be contiguous");
  if (src.ndim() != dst.ndim()) Fail(std::string(srcName) + " and " + dstName + " must have the same rank");
  if (dim < 0 || dim >= src.ndim()) Fail("dim " + std::to_string(dim) + " is out of range for rank " + std::to_string(src.ndim()));
  for (int d = 0; d < src.ndim(); ++d) {
    if (d != dim && src.shape[d] != dst.shape[d])
      Fail(std::string(srcName) + " [" + DimsKey(src.shape) + "] and " + dstName + " [" + DimsKey(dst.shape) +
           "] differ outside dim " + std::to_string(dim));
  }
  const View& in = srcIsOut ? dst : src;
  const View& out = srcIsOut ? src : dst;
  g.outer = 1;
  g.inner = 1;
  for (int d = 0; d < dim; ++d) g.outer *= src.shape[d];
  for (int d = static_cast<int>(dim) + 1; d < src.ndim(); ++d) g.inner *= src.shape[d];
  g.inLen = in.shape[dim];
  g.outLen = out.shape[dim];
  if (t.count < 1) Fail("taps must be >= 1, got " + std::to_string(t.count));
  const int64_t entries = g.outLen * t.count;
  if (static_cast<int64_t>(index.ElementLength()) != entries || static_cast<int64_t>(weight.ElementLength()) != entries)
    Fail("index and weight must hold " + std::to_string(g.outLen) + " x " + std::to_string(t.count) + " = " +
         std::to_string(entries) + " entries, got " + std::to_string(index.ElementLength()) + " and " +
         std::to_string(weight.ElementLength()));
  t.index = index.Data();
  t.weight = weight.Data();
  for (int64_t e = 0; e < entries; ++e) {
    if (t.index[e] < 0 || t.index[e] >= g.inLen)
      Fail("index[" + std::to_string(e) + "] = " + std::to_string(t.index[e]) + " is outside 0.." + std::to_string(g.inLen - 1));
  }
}

// resample(src, dim, index, weight, taps, out)
Napi::Value Resample(const Napi::CallbackInfo& info) {
  View src, dst;
  Geometry g;
  Taps t;
  ReadCall(info, "resample", "src", "out", false, src, dst, g, t);
  if (dst.numel() == 0) return info.Env().Undefined();
  if (src.dtype == DType::F32) Forward(src.ptr<float>(), dst.ptr<float>(), g, t);
  else Forward(src.ptr<uint16_t>(), dst.ptr<uint16_t>(), g, t);
  return info.Env().Undefined();
}

// resampleBackward(gradOut, dim, index, weight, taps, gradIn)
Napi::Value ResampleBackward(const Napi::CallbackInfo& info) {
  View gradOut, gradIn;
  Geometry g;
  Taps t;
  ReadCall(info, "resampleBackward", "gradOut", "gradIn", true, gradOut, gradIn, g, t);
  if (gradIn.numel() == 0) return info.Env().Undefined();
  if (gradOut.dtype == DType::F32) Backward(gradOut.ptr<float>(), gradIn.ptr<float>(), g, t);
  else Backward(gradOut.ptr<uint16_t>(), gradIn.ptr<uint16_t>(), g, t);
  return info.Env().Undefined();
}

}  // namespace

void RegisterResample(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "resample", Resample);
  Export(env, exports, "resampleBackward", ResampleBackward);
}

}  // namespace tsv
