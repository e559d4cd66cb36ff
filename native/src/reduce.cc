// Reductions over the middle axis of a contiguous [outer, R, inner] block:
// out[o, i] = reduce_r src[o, r, i]. The tensor layer permutes and reshapes any set of
// reduced dims into this form. Sums accumulate in double.
#include <cmath>
#include <limits>

#include "common.h"

namespace tsv {

namespace {

// Codes shared with src/tensor/ops/reduce.ts (REDUCE_OP).
enum Op : int { Sum, Mean, Max, Min, Prod, ArgMax, ArgMin };

template <class S> inline double Get(const S* p, int64_t i) { return static_cast<double>(p[i]); }
template <> inline double Get<uint16_t>(const uint16_t* p, int64_t i) { return Bf16ToF32(p[i]); }

template <class S>
void ReduceTyped(int op, const S* src, const View& out, int64_t* indices, int64_t outer, int64_t R, int64_t inner) {
  void* dst = out.data();
  const DType odt = out.dtype;
  const int64_t blocks = (inner + 255) / 256;
#pragma omp parallel for schedule(static) if (outer * R * inner > (1 << 15))
  for (int64_t job = 0; job < outer * blocks; ++job) {
    const int64_t o = job / blocks;
    const int64_t i0 = (job % blocks) * 256;
    const int64_t n = std::min<int64_t>(256, inner - i0);
    double acc[256];
    int64_t arg[256];
    const bool isSum = op == Sum || op == Mean, isProd = op == Prod;
    const bool wantMax = op == Max || op == ArgMax;
    for (int64_t k = 0; k < n; ++k) {
      acc[k] = isSum ? 0.0 : isProd ? 1.0 : (wantMax ? -INFINITY : INFINITY);
      arg[k] = 0;
    }
    const S* base = src + o * R * inner + i0;
    for (int64_t r = 0; r < R; ++r) {
      const S* row = base + r * inner;
      if (isSum) {
        for (int64_t k = 0; k < n; ++k) acc[k] += Get(row, k);
      } else if (isProd) {
        for (int64_t k = 0; k < n; ++k) acc[k] *= Get(row, k);
      } else {
        for (int64_t k = 0; k < n; ++k) {
          const double v = Get(row, k);
          if (std::isnan(acc[k])) continue;  // NaN propagates and keeps its index
          if (std::isnan(v) || (wantMax ? v > acc[k] : v < acc[k]) || r == 0) { acc[k] = v; arg[k] = r; }
        }
      }
    }
    for (int64_t k = 0; k < n; ++k) {
      const int64_t at = o * inner + i0 + k;
      if (op == Mean) acc[k] = R > 0 ? acc[k] / static_cast<double>(R) : NAN;
      if (op != ArgMax && op != ArgMin) StoreFromDouble(dst, odt, at, acc[k]);
      else reinterpret_cast<int64_t*>(dst)[at] = arg[k];
      if (indices != nullptr) indices[at] = arg[k];
    }
  }
}

// reduce({ op, src, outer, reduced, inner, out, indices? }): src viewed as [outer, reduced, inner].
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  const Options o(info, "reduce");
  const int op = static_cast<int>(o.Number("op"));
  View src = o.Tensor("src");
  const int64_t outer = static_cast<int64_t>(o.Number("outer"));
  const int64_t R = static_cast<int64_t>(o.Number("reduced"));
  const int64_t inner = static_cast<int64_t>(o.Number("inner"));
  View out = o.Tensor("out");
  int64_t* indices = nullptr;
  View idx;
  if (o.OptionalTensor("indices", &idx)) {
    if (idx.dtype != DType::I64 || !idx.contiguous() || idx.numel() != outer * inner) Fail("indices must be contiguous int64 of out's size");
    indices = idx.ptr<int64_t>();
  }
  if (op < Sum || op > ArgMin) Fail("unknown reduce op code " + std::to_string(op));
  if (!src.contiguous() || src.numel() != outer * R * inner) Fail("src must be contiguous with outer*reduced*inner elements");
  if (!out.contiguous() || out.numel() != outer * inner) Fail("out must be contiguous with outer*inner elements");
  if ((op == ArgMax || op == ArgMin) && out.dtype != DType::I64) Fail("argmax/argmin write int64");
  if (outer * inner == 0) return info.Env().Undefined();
  if (R == 0 && op != Sum && op != Mean && op != Prod) Fail("cannot take max/min/argmax over an empty dim");
  switch (src.dtype) {
    case DType::F32: ReduceTyped(op, src.ptr<float>(), out, indices, outer, R, inner); break;
    case DType::BF16: ReduceTyped(op, src.ptr<uint16_t>(), out, indices, outer, R, inner); break;
    case DType::I32: ReduceTyped(op, src.ptr<int32_t>(), out, indices, outer, R, inner); break;
    case DType::I64: ReduceTyped(op, src.ptr<int64_t>(), out, indices, outer, R, inner); break;
    case DType::U8: case DType::Bool: ReduceTyped(op, src.ptr<uint8_t>(), out, indices, outer, R, inner); break;
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterReduce(Napi::Env env, Napi::Object exports) { Export(env, exports, "reduce", Reduce); }

}  // namespace tsv
